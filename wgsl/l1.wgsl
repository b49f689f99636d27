// L1 (mean absolute error): |x - y|, derivative sign(x - y): 0 where x = y, and 0 for a NaN
// difference too, as PyTorch's (its l1_loss is abs(x - y), whose derivative is torch.sign,
// (0 < d) - (d < 0)). WGSL leaves sign(NaN) undefined, so NaN is tested by its bits.

fn loss4(x: vec4<f32>, y: vec4<f32>, z: vec4<f32>, pw: vec4<f32>) -> vec4<f32> {
    return abs(x - y);
}

fn grad4(x: vec4<f32>, y: vec4<f32>, z: vec4<f32>, pw: vec4<f32>) -> vec4<f32> {
    let d = x - y;
    return select(sign(d), vec4<f32>(0.0), is_nan4(d));
}
