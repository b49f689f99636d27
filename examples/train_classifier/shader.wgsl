// The classifier's own kernels: a linear layer and its SGD step. The loss and its gradient
// come from wgpu-loss. X is [N, F] (the last feature is a constant 1, so W's last row is the
// bias), W is [F, C], logits and their gradient G are [N, C].

struct Dims {
    n: u32,
    f: u32,
    c: u32,
    lr: f32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> logits: array<f32>;
@group(0) @binding(4) var<storage, read> g: array<f32>;

// logits = X W, one invocation per (sample, class).
@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = id.x;
    if i >= dims.n * dims.c {
        return;
    }
    let row = i / dims.c;
    let col = i % dims.c;
    var acc = 0.0;
    for (var k = 0u; k < dims.f; k++) {
        acc += x[row * dims.f + k] * w[k * dims.c + col];
    }
    logits[i] = acc;
}

// W -= lr * X^T G, one invocation per weight.
@compute @workgroup_size(64)
fn sgd(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = id.x;
    if i >= dims.f * dims.c {
        return;
    }
    let k = i / dims.c;
    let col = i % dims.c;
    var acc = 0.0;
    for (var row = 0u; row < dims.n; row++) {
        acc += x[row * dims.f + k] * g[row * dims.c + col];
    }
    w[i] -= dims.lr * acc;
}
