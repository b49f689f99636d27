// Gaussian negative log-likelihood, PyTorch's gaussian_nll_loss, for means x, targets y and
// variances z: with v = max(z, eps) (eps = params.eps; PyTorch clamps without a gradient),
//   (log v + (x - y)^2 / v) / 2,  plus log(2 pi) / 2 where FULL.
// Derivatives: (x - y) / v in x, and (1 / v - (x - y)^2 / v^2) / 2 in z (through the clamp
// as if it were not there, as PyTorch's no-grad clamp).

fn loss4(x: vec4<f32>, y: vec4<f32>, z: vec4<f32>, pw: vec4<f32>) -> vec4<f32> {
    let v = keep_nan4(max(z, vec4<f32>(params.eps)), z);
    let d = x - y;
    var l = 0.5 * (log(v) + d * d / v);
    if FULL {
        l += 0.9189385332046727;
    }
    return l;
}

fn grad4(x: vec4<f32>, y: vec4<f32>, z: vec4<f32>, pw: vec4<f32>) -> vec4<f32> {
    let v = keep_nan4(max(z, vec4<f32>(params.eps)), z);
    return (x - y) / v;
}

fn grad4_z(x: vec4<f32>, y: vec4<f32>, z: vec4<f32>, pw: vec4<f32>) -> vec4<f32> {
    let v = keep_nan4(max(z, vec4<f32>(params.eps)), z);
    let d = (x - y) / v;
    return 0.5 * (1.0 / v - d * d);
}
