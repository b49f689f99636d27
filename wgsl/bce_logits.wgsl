// Binary cross-entropy on logits x, targets y, positive-class weight pw (1 when unset),
// in PyTorch's stable form:
//   (1 - y) x + lw (log1p(exp(-|x|)) + max(-x, 0)),   lw = 1 + (pw - 1) y
// Derivative: (1 - y) - lw sigmoid(-x), which is sigmoid(x) - y when pw = 1.

fn log1p4(v: vec4<f32>) -> vec4<f32> {
    return vec4<f32>(log1p(v.x), log1p(v.y), log1p(v.z), log1p(v.w));
}

fn loss4(x: vec4<f32>, y: vec4<f32>, pw: vec4<f32>) -> vec4<f32> {
    let lw = 1.0 + (pw - 1.0) * y;
    return (1.0 - y) * x + lw * (log1p4(exp(-abs(x))) + max(-x, vec4<f32>(0.0)));
}

fn grad4(x: vec4<f32>, y: vec4<f32>, pw: vec4<f32>) -> vec4<f32> {
    let lw = 1.0 + (pw - 1.0) * y;
    return (1.0 - y) - lw / (1.0 + exp(x));
}
