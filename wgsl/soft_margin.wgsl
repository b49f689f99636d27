// Soft margin loss, PyTorch's soft_margin_loss: log(1 + exp(-y x)) = softplus(-y x), for
// targets y of 1 or -1 (any y is taken as it comes, as PyTorch does).
// Derivative: -y sigmoid(-y x).

fn loss4(x: vec4<f32>, y: vec4<f32>, z: vec4<f32>, pw: vec4<f32>) -> vec4<f32> {
    return softplus4(-y * x);
}

fn grad4(x: vec4<f32>, y: vec4<f32>, z: vec4<f32>, pw: vec4<f32>) -> vec4<f32> {
    return -y * sigmoid4(-y * x);
}
