// The example's own kernel: one SGD step, w -= lr * g, on f32 buffers.

struct Step {
    n: u32,
    lr: f32,
}

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read_write> w: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;

@compute @workgroup_size(64)
fn sgd(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = id.y * 65535u * 64u + id.x;
    if i < step.n {
        w[i] -= step.lr * g[i];
    }
}
