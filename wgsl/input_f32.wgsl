// An f32 input of an element-wise loss, read four elements at a time. Its name and binding
// are filled in when the module is composed (one copy per input).


@group(0) @binding(BINDING) var<storage, read> NAME_data: array<vec4<f32>>;

fn load_NAME(i: u32) -> vec4<f32> {
    return NAME_data[i];
}
