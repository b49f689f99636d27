// Margin ranking loss, PyTorch's margin_ranking_loss with margin = params.delta, for inputs
// x1 = x and x2 = z and targets y of 1 or -1:  max(0, -y (x1 - x2) + margin).
// Derivatives: -y in x1 and y in x2 where -y (x1 - x2) + margin >= 0 (PyTorch's clamp_min
// passes the gradient at the kink), else 0. A NaN input gives a NaN loss (put back where
// WGSL's max may drop it) and, as PyTorch's, a zero gradient (NaN >= 0 is false).

fn loss4(x: vec4<f32>, y: vec4<f32>, z: vec4<f32>, pw: vec4<f32>) -> vec4<f32> {
    let m = -y * (x - z) + params.delta;
    return keep_nan4(max(m, vec4<f32>(0.0)), m);
}

fn grad4(x: vec4<f32>, y: vec4<f32>, z: vec4<f32>, pw: vec4<f32>) -> vec4<f32> {
    let m = -y * (x - z) + params.delta;
    return select(vec4<f32>(0.0), -y, m >= vec4<f32>(0.0));
}

fn grad4_z(x: vec4<f32>, y: vec4<f32>, z: vec4<f32>, pw: vec4<f32>) -> vec4<f32> {
    return -grad4(x, y, z, pw);
}
