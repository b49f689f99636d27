// Sigmoid focal loss, torchvision's sigmoid_focal_loss with alpha = params.alpha and
// gamma = params.gamma, on logits x and targets y in [0, 1]:
//   ce = BCE with logits (softplus form, bce_logits.wgsl), p = sigmoid(x),
//   p_t = p y + (1 - p)(1 - y),  loss = a_t ce (1 - p_t)^gamma,
//   a_t = alpha y + (1 - alpha)(1 - y) where alpha >= 0, else 1.
// Derivative (torchvision's autograd): a_t ((p - y)(1 - p_t)^gamma
//   - ce gamma (1 - p_t)^(gamma - 1) p (1 - p)(2 y - 1)), the second term 0 at gamma = 0.

fn alpha_t4(y: vec4<f32>) -> vec4<f32> {
    let alpha = params.alpha;
    return select(vec4<f32>(1.0), alpha * y + (1.0 - alpha) * (1.0 - y), alpha >= 0.0);
}

// (1 - p_t), from sigmoid(x) and sigmoid(-x) so neither end rounds to 0 early.
fn one_minus_pt4(x: vec4<f32>, y: vec4<f32>) -> vec4<f32> {
    return sigmoid4(-x) * y + sigmoid4(x) * (1.0 - y);
}

fn loss4(x: vec4<f32>, y: vec4<f32>, pw: vec4<f32>) -> vec4<f32> {
    let ce = (1.0 - y) * softplus4(x) + y * softplus4(-x);
    return alpha_t4(y) * ce * pow(one_minus_pt4(x, y), vec4<f32>(params.gamma));
}

fn grad4(x: vec4<f32>, y: vec4<f32>, pw: vec4<f32>) -> vec4<f32> {
    let gamma = params.gamma;
    let p = sigmoid4(x);
    let q = one_minus_pt4(x, y);
    let ce = (1.0 - y) * softplus4(x) + y * softplus4(-x);
    var g = (p - y) * pow(q, vec4<f32>(gamma));
    if gamma != 0.0 {
        g -= ce * gamma * pow(q, vec4<f32>(gamma - 1.0)) * p * sigmoid4(-x) * (2.0 * y - 1.0);
    }
    return alpha_t4(y) * g;
}
