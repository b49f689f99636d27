// Huber loss with threshold delta = params.delta, PyTorch's huber_loss:
//   0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta);   d = x - y
// Derivative: d where |d| < delta, else delta sign(d) (NaN for a NaN d, as PyTorch's).

fn loss4(x: vec4<f32>, y: vec4<f32>, z: vec4<f32>, pw: vec4<f32>) -> vec4<f32> {
    let d = x - y;
    let a = abs(d);
    let delta = params.delta;
    return select(delta * (a - 0.5 * delta), 0.5 * d * d, a < vec4<f32>(delta));
}

fn grad4(x: vec4<f32>, y: vec4<f32>, z: vec4<f32>, pw: vec4<f32>) -> vec4<f32> {
    let d = x - y;
    let delta = params.delta;
    return select(delta * sign_or_nan4(d), d, abs(d) < vec4<f32>(delta));
}
