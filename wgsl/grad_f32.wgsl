// The gradient of an element-wise loss as f32, four elements at a time. Its binding is filled
// in when the module is composed.

const WRITE_GRAD: bool = true;

@group(0) @binding(BINDING) var<storage, read_write> grad: array<vec4<f32>>;

fn store_grad(i: u32, g: vec4<f32>) {
    grad[i] = g;
}
