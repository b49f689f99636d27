// Hinge embedding loss, PyTorch's hinge_embedding_loss with margin = params.delta:
//   x where y != -1, plus max(0, margin - x) where y != 1
// (so x for y = 1 and max(0, margin - x) for y = -1; both for any other y, as PyTorch).
// Derivative: 1 where y != -1, plus -1 where y != 1 and margin - x >= 0: at the kink
// x = margin PyTorch's clamp_min passes the gradient, so the subgradient there is -1.
// A NaN x gives a NaN loss (WGSL's max may drop a NaN: it is put back) and PyTorch's
// gradient, which stays finite: 1 where y != -1, and clamp_min's 0 (NaN >= 0 is false).

fn loss4(x: vec4<f32>, y: vec4<f32>, z: vec4<f32>, pw: vec4<f32>) -> vec4<f32> {
    let zero = vec4<f32>(0.0);
    let m = params.delta - x;
    let hinge = keep_nan4(max(m, zero), m);
    return select(zero, x, y != vec4<f32>(-1.0)) + select(zero, hinge, y != vec4<f32>(1.0));
}

fn grad4(x: vec4<f32>, y: vec4<f32>, z: vec4<f32>, pw: vec4<f32>) -> vec4<f32> {
    let zero = vec4<f32>(0.0);
    let m = params.delta - x;
    let own = select(zero, vec4<f32>(1.0), y != vec4<f32>(-1.0));
    let hinge = select(zero, vec4<f32>(-1.0), (y != vec4<f32>(1.0)) & (m >= zero));
    return own + hinge;
}
