// Binary cross-entropy on logits x, targets y, positive-class weight pw (1 when unset):
//   (1 - y) softplus(x) + pw y softplus(-x),   softplus(z) = max(z, 0) + log1p(exp(-|z|))
// This is PyTorch's (1 - y) x + (1 + (pw - 1) y) softplus(-x), rearranged into two
// non-negative terms: PyTorch's form cancels (-30 + 30.0000000000000936 = 0 in f32) where
// this one keeps every digit of a small loss.
// Derivative: (1 - y) sigmoid(x) - pw y sigmoid(-x), which is sigmoid(x) - y when pw = 1.
// Infinite logits give what PyTorch's form gives: at x = -inf its (1 - y) x + inf is NaN for
// every y (this form would give +inf for y > 0), so the loss is NaN there; at x = +inf both
// give +inf for y < 1 and NaN (0 * inf) for y = 1. The derivative is finite at both.
// softplus4 and sigmoid4 come from softplus.wgsl.

fn loss4(x: vec4<f32>, y: vec4<f32>, z: vec4<f32>, pw: vec4<f32>) -> vec4<f32> {
    let l = (1.0 - y) * softplus4(x) + pw * y * softplus4(-x);
    // A NaN made from x's bits (x | quiet NaN): WGSL has no NaN constant.
    let nan = bitcast<vec4<f32>>(bitcast<vec4<u32>>(x) | vec4<u32>(0x7fc00000u));
    return select(l, nan, x < vec4<f32>(-0x1.fffffep+127f));
}

fn grad4(x: vec4<f32>, y: vec4<f32>, z: vec4<f32>, pw: vec4<f32>) -> vec4<f32> {
    return (1.0 - y) * sigmoid4(x) - pw * y * sigmoid4(-x);
}
