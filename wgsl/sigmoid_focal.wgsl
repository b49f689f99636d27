// Sigmoid focal loss, torchvision's sigmoid_focal_loss with alpha = params.alpha and
// gamma = params.gamma, on logits x and targets y in [0, 1]:
//   ce = BCE with logits (softplus form, bce_logits.wgsl), p = sigmoid(x),
//   p_t = p y + (1 - p)(1 - y),  loss = a_t ce (1 - p_t)^gamma,
//   a_t = alpha y + (1 - alpha)(1 - y) where alpha >= 0, else 1.
// Derivative (torchvision's autograd): a_t ((p - y)(1 - p_t)^gamma
//   - ce gamma (1 - p_t)^(gamma - 1) p (1 - p)(2 y - 1)), the second term 0 at gamma = 0.
// Powers follow PyTorch's `**` (torch_pow): a confident logit (|x| > 88) makes 1 - p_t
// exactly 0, where WGSL's pow is undefined.

// q^g as PyTorch's `**`: 1 at g = 0 (even 0^0), 0 at q = 0 for g > 0 (WGSL's pow is undefined
// there), a negative q (targets outside [0, 1]) to an integer power by its sign, else NaN.
fn torch_pow(q: f32, g: f32) -> f32 {
    if g == 0.0 {
        return 1.0;
    }
    if q == 0.0 {
        // 0^-g: +inf, made from g's bits so no compiler folds it into a constant (the
        // browser's refuses an infinite constant).
        return select(0.0, bitcast<f32>(0x7f800000u | (bitcast<u32>(g) & 0u)), g < 0.0);
    }
    if q > 0.0 {
        return pow(q, g);
    }
    let r = pow(-q, g);
    if g == floor(g) {
        return select(r, -r, g - 2.0 * floor(0.5 * g) == 1.0);
    }
    return sqrt(q);  // NaN, as PyTorch's negative base to a fractional power
}

fn torch_pow4(q: vec4<f32>, g: f32) -> vec4<f32> {
    return vec4<f32>(torch_pow(q.x, g), torch_pow(q.y, g), torch_pow(q.z, g), torch_pow(q.w, g));
}

fn alpha_t4(y: vec4<f32>) -> vec4<f32> {
    let alpha = params.alpha;
    return select(vec4<f32>(1.0), alpha * y + (1.0 - alpha) * (1.0 - y), alpha >= 0.0);
}

// (1 - p_t), from sigmoid(x) and sigmoid(-x) so neither end rounds to 0 early.
fn one_minus_pt4(x: vec4<f32>, y: vec4<f32>) -> vec4<f32> {
    return sigmoid4(-x) * y + sigmoid4(x) * (1.0 - y);
}

fn loss4(x: vec4<f32>, y: vec4<f32>, z: vec4<f32>, pw: vec4<f32>) -> vec4<f32> {
    let ce = (1.0 - y) * softplus4(x) + y * softplus4(-x);
    return alpha_t4(y) * ce * torch_pow4(one_minus_pt4(x, y), params.gamma);
}

fn grad4(x: vec4<f32>, y: vec4<f32>, z: vec4<f32>, pw: vec4<f32>) -> vec4<f32> {
    let gamma = params.gamma;
    let p = sigmoid4(x);
    let q = one_minus_pt4(x, y);
    let ce = (1.0 - y) * softplus4(x) + y * softplus4(-x);
    var g = (p - y) * torch_pow4(q, gamma);
    if gamma != 0.0 {
        g -= ce * gamma * torch_pow4(q, gamma - 1.0) * p * sigmoid4(-x) * (2.0 * y - 1.0);
    }
    return alpha_t4(y) * g;
}
