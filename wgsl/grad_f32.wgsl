// The gradient of an element-wise loss as f32, four elements at a time. Its name (NAME: `grad`,
// `grad2`) and binding are filled in when the module is composed.

const WRITE_NAME: bool = true;

@group(0) @binding(BINDING) var<storage, read_write> NAME: array<vec4<f32>>;

fn store_NAME(i: u32, g: vec4<f32>) {
    NAME[i] = g;
}
