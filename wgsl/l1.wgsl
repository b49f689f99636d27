// L1 (mean absolute error): |x - y|, derivative sign(x - y) (0 where x = y, as PyTorch).

fn loss4(x: vec4<f32>, y: vec4<f32>, pw: vec4<f32>) -> vec4<f32> {
    return abs(x - y);
}

fn grad4(x: vec4<f32>, y: vec4<f32>, pw: vec4<f32>) -> vec4<f32> {
    return sign(x - y);
}
