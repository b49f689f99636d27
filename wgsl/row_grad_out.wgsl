// One input's gradient, written in f32 (rounded to a half type by a later pass).

@group(0) @binding(BINDING) var<storage, read_write> grad_NAME: array<f32>;

fn put_NAME(i: u32, v: f32) {
    grad_NAME[i] = v;
}
