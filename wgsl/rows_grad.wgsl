// The gradient of cross-entropy and NLL, always f32: two invocations must not both write
// halves of one word, so for half logits the host converts it afterwards (`convert.wgsl`).
// Its scale is the uniform's `grad_scale` (1 / a known divisor), or with
// `rows_grad_scale_buffer.wgsl` 1 / a sum computed by an earlier pass.

const WRITE_GRAD: bool = true;

@group(0) @binding(7) var<storage, read_write> grad: array<f32>;

fn store_grad(i: u32, g: f32) {
    grad[i] = g;
}
