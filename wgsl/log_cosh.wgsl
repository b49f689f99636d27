// Log-cosh loss, MLX's log_cosh_loss: log(cosh(d)), d = x - y; derivative tanh(d).
// MLX computes logaddexp(d, -d) - log 2, which loses a small loss's digits (about d^2 / 2,
// the difference of two numbers near log 2); here, for a = |d|:
//   a < 1:    log1p(2 sinh(a/2)^2), sinh by its series (relative error under 1e-8)
//   else:     a + log1p(exp(-2a)) - log 2 (the loss is above 0.43: little cancellation)
// and tanh(a) by its series below 0.1, else 1 - 2 / (exp(2a) + 1).

fn log_cosh(a: f32) -> f32 {
    if a < 1.0 {
        let t = 0.5 * a;
        let t2 = t * t;
        let s = t * (1.0 + t2 / 6.0 * (1.0 + t2 / 20.0 * (1.0 + t2 / 42.0)));
        return log1p(2.0 * s * s);
    }
    return (a - 0.6931471805599453) + log1p(exp(-2.0 * a));
}

fn tanh_abs(a: f32) -> f32 {
    if a < 0.1 {
        let a2 = a * a;
        return a * (1.0 - a2 * (1.0 / 3.0 - a2 * (2.0 / 15.0 - a2 * (17.0 / 315.0))));
    }
    return 1.0 - 2.0 / (exp(2.0 * a) + 1.0);
}

fn loss4(x: vec4<f32>, y: vec4<f32>, z: vec4<f32>, pw: vec4<f32>) -> vec4<f32> {
    let a = abs(x - y);
    let l = vec4<f32>(log_cosh(a.x), log_cosh(a.y), log_cosh(a.z), log_cosh(a.w));
    return keep_nan4(l, a);
}

fn grad4(x: vec4<f32>, y: vec4<f32>, z: vec4<f32>, pw: vec4<f32>) -> vec4<f32> {
    let d = x - y;
    let a = abs(d);
    let t = vec4<f32>(tanh_abs(a.x), tanh_abs(a.y), tanh_abs(a.z), tanh_abs(a.w));
    return sign_or_nan4(d) * t;
}
