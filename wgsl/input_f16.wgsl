// An f16 input of an element-wise loss: two halves per u32, four elements (two words) at a
// time, widened to f32. Works on every adapter (no SHADER_F16 needed). Its name and binding
// are filled in when the module is composed (one copy per input).


@group(0) @binding(BINDING) var<storage, read> NAME_data: array<vec2<u32>>;

fn load_NAME(i: u32) -> vec4<f32> {
    let w = NAME_data[i];
    return vec4<f32>(unpack2x16float(w.x), unpack2x16float(w.y));
}
