// torch.nn.functional.multi_margin_loss: Σ_{c ≠ y} max(0, margin - x_y + x_c)^p · w_y / C
// (p = 1 or 2). The gradient in x_c is p · z^(p-1) · w_y / C where z = margin - x_y + x_c > 0
// (none at z = 0, as PyTorch's kernels), in x_y minus their sum. A NaN score gives a NaN loss
// (PyTorch's `z > 0` test drops it). A label outside 0..C is flagged in `status`.

fn margin_term(z: f32) -> f32 {
    return select(z, z * z, params.p == 2.0);
}

fn margin_slope(z: f32) -> f32 {
    return select(1.0, 2.0 * z, params.p == 2.0);
}

@compute @workgroup_size(WGR)
fn multi_margin(@builtin(global_invocation_id) gid: vec3<u32>) {
    let r = row_of(gid);
    if r >= params.rows {
        return;
    }
    let row = params.row_offset + r;
    let x0 = params.a_off + r * params.dim;
    let y = y_data[row];
    // A negative i32 label reads as a u32 of at least 2^31.
    let valid = y < params.dim;
    if !valid {
        atomicMax(&status[0], 0xffffffffu - row);
    }
    let t = min(y, params.dim - 1u);
    let xy = load_a(x0 + t);
    let w = select(0.0, weight_of(t), valid) / f32(params.dim);
    var loss = 0.0;
    for (var c = 0u; c < params.dim; c++) {
        let z = params.margin - xy + load_a(x0 + c);
        if c != t && (z > 0.0 || is_nan(z)) {
            loss += margin_term(z);
        }
    }
    losses[row] = loss * w;
    if !GRAD {
        return;
    }
    let g = w * params.scale;
    var total = 0.0;
    for (var c = 0u; c < params.dim; c++) {
        let z = params.margin - xy + load_a(x0 + c);
        var gc = 0.0;
        if c != t && (z > 0.0 || is_nan(z)) {
            gc = g * margin_slope(z);
        }
        total += gc;
        put_a(params.ga_off + r * params.dim + c, gc);
    }
    put_a(params.ga_off + r * params.dim + t, -total);
}
