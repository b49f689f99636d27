// Huber loss with threshold delta = params.delta, scaled by params.scale:
//   0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta);   d = x - y
// Huber is scale = 1; smooth L1 with threshold b is Huber with delta = b, scale = 1/b.
// Derivative: d where |d| < delta, else delta sign(d); times the scale.

fn loss4(x: vec4<f32>, y: vec4<f32>, pw: vec4<f32>) -> vec4<f32> {
    let d = x - y;
    let a = abs(d);
    let delta = params.delta;
    return params.scale * select(delta * (a - 0.5 * delta), 0.5 * d * d, a < vec4<f32>(delta));
}

fn grad4(x: vec4<f32>, y: vec4<f32>, pw: vec4<f32>) -> vec4<f32> {
    let d = x - y;
    let delta = params.delta;
    return params.scale * select(delta * sign(d), d, abs(d) < vec4<f32>(delta));
}
