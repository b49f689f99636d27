// Poisson negative log-likelihood, PyTorch's poisson_nll_loss, for rates x and counts y:
//   LOG_INPUT (x is log λ):  exp(x) - y x,              derivative exp(x) - y
//   else (x is λ):           x - y log(x + eps),        derivative 1 - y / (x + eps)
// with eps = params.eps; FULL adds Stirling's term y log y - y + log(2 π y) / 2 where y > 1
// (no derivative in x).

fn stirling4(y: vec4<f32>) -> vec4<f32> {
    let s = y * log(y) - y + 0.5 * log(6.283185307179586 * y);
    return select(vec4<f32>(0.0), s, y > vec4<f32>(1.0));
}

fn loss4(x: vec4<f32>, y: vec4<f32>, z: vec4<f32>, pw: vec4<f32>) -> vec4<f32> {
    var l: vec4<f32>;
    if LOG_INPUT {
        l = exp(x) - y * x;
    } else {
        l = x - y * log(x + params.eps);
    }
    if FULL {
        l += stirling4(y);
    }
    return l;
}

fn grad4(x: vec4<f32>, y: vec4<f32>, z: vec4<f32>, pw: vec4<f32>) -> vec4<f32> {
    if LOG_INPUT {
        return exp(x) - y;
    }
    return 1.0 - y / (x + params.eps);
}
