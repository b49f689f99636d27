// Hinge loss, MLX's hinge_loss: max(0, 1 - x y) for targets y of 1 or -1.
// Derivative: -y where 1 - x y > 0, else 0 (0 at the kink, where MLX's maximum takes its
// first argument's side too). NaN in gives NaN out.

fn loss4(x: vec4<f32>, y: vec4<f32>, z: vec4<f32>, pw: vec4<f32>) -> vec4<f32> {
    let m = 1.0 - x * y;
    return keep_nan4(max(m, vec4<f32>(0.0)), m);
}

fn grad4(x: vec4<f32>, y: vec4<f32>, z: vec4<f32>, pw: vec4<f32>) -> vec4<f32> {
    let m = 1.0 - x * y;
    return keep_nan4(select(vec4<f32>(0.0), -y, m > vec4<f32>(0.0)), m);
}
