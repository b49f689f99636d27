// An f16 input read one element at a time: two halves per u32, widened to f32. Works on every
// adapter (no SHADER_F16 needed). Its name and binding are filled in when the module is
// composed.

@group(0) @binding(BINDING) var<storage, read> NAME_data: array<u32>;

fn load_NAME(i: u32) -> f32 {
    return unpack2x16float(NAME_data[i >> 1u])[i & 1u];
}
