// softplus(z) = log(1 + e^z) = max(z, 0) + log1p(e^-|z|), exact for small results (log1p
// from log1p.wgsl), and the logistic sigmoid, for the losses on logits.

fn softplus4(z: vec4<f32>) -> vec4<f32> {
    let e = exp(-abs(z));
    return max(z, vec4<f32>(0.0)) + vec4<f32>(log1p(e.x), log1p(e.y), log1p(e.z), log1p(e.w));
}

fn sigmoid4(z: vec4<f32>) -> vec4<f32> {
    return 1.0 / (1.0 + exp(-z));
}
