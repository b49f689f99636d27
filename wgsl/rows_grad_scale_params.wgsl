// The gradient's scale is known on the host: the uniform's `grad_scale`.

fn grad_scale() -> f32 {
    return params.grad_scale;
}
