// A bf16 input of an element-wise loss: two bfloat16 per u32, four elements (two words) at a
// time. A bf16 is the high half of an f32, so widening is a shift and a bitcast. Its name and
// binding are filled in when the module is composed (one copy per input).


@group(0) @binding(BINDING) var<storage, read> NAME_data: array<vec2<u32>>;

fn load_NAME(i: u32) -> vec4<f32> {
    let w = NAME_data[i];
    return bitcast<vec4<f32>>(vec4<u32>(w.x << 16u, w.x & 0xffff0000u, w.y << 16u, w.y & 0xffff0000u));
}
