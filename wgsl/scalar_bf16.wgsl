// A bf16 input read one element at a time: two bfloat16 per u32; a bf16 is the high half of
// an f32, so widening is a shift (or a mask) and a bitcast. Its name and binding are filled
// in when the module is composed.

@group(0) @binding(BINDING) var<storage, read> NAME_data: array<u32>;

fn load_NAME(i: u32) -> f32 {
    let w = NAME_data[i >> 1u];
    return bitcast<f32>(select(w & 0xffff0000u, w << 16u, (i & 1u) == 0u));
}
