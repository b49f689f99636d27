// Smooth L1 loss with threshold beta = params.delta, PyTorch's smooth_l1_loss:
//   0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta;   d = x - y
// Derivative: d / beta where |d| < beta, else sign(d) (NaN for a NaN d, as PyTorch's).
// Its own math, not Huber(delta = beta) / beta: 1 / beta overflows f32 below beta = 3e-39,
// and the linear part needs no division at all. beta = 0 (the host passes 0 for a subnormal
// beta too, which GPUs may flush to 0 in some operations and not others) never takes the
// quadratic branch: the L1 loss, gradient sign(d) with 0 at d = 0.

fn loss4(x: vec4<f32>, y: vec4<f32>, z: vec4<f32>, pw: vec4<f32>) -> vec4<f32> {
    let a = abs(x - y);
    let beta = params.delta;
    return select(a - 0.5 * beta, 0.5 * a * a / beta, a < vec4<f32>(beta));
}

fn grad4(x: vec4<f32>, y: vec4<f32>, z: vec4<f32>, pw: vec4<f32>) -> vec4<f32> {
    let d = x - y;
    let beta = params.delta;
    return select(sign_or_nan4(d), d / beta, abs(d) < vec4<f32>(beta));
}
