// torch.nn.functional.multilabel_soft_margin_loss: per row
// (1 / C) Σ_c w_c (y_c softplus(-x_c) + (1 - y_c) softplus(x_c)), with the gradient
// w_c (σ(x_c) - y_c) / C in x.

@compute @workgroup_size(WGR)
fn multilabel_soft_margin(@builtin(global_invocation_id) gid: vec3<u32>) {
    let r = row_of(gid);
    if r >= params.rows {
        return;
    }
    let x0 = params.a_off + r * params.dim;
    let y0 = params.b_off + r * params.dim;
    let per_class = 1.0 / f32(params.dim);
    var loss = 0.0;
    for (var c = 0u; c < params.dim; c++) {
        let x = load_a(x0 + c);
        let y = load_b(y0 + c);
        loss += weight_of(c) * (y * softplus(-x) + (1.0 - y) * softplus(x));
    }
    losses[params.row_offset + r] = loss * per_class;
    if !GRAD {
        return;
    }
    let g = per_class * params.scale;
    for (var c = 0u; c < params.dim; c++) {
        let x = load_a(x0 + c);
        let y = load_b(y0 + c);
        let sig = 1.0 / (1.0 + exp(-x));
        put_a(params.ga_off + r * params.dim + c, g * weight_of(c) * (sig - y));
    }
}
