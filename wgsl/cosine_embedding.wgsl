// torch.nn.functional.cosine_embedding_loss: cos = a·b / sqrt((|a|² + 1e-12)(|b|² + 1e-12));
// 1 - cos where y = 1, max(0, cos - margin) where y = -1, 0 for any other y (as PyTorch).
// The gradient in `a` is dcos · (b / denom - cos · a / |a|²), in `b` likewise; the hinge
// passes it where cos - margin >= 0 (PyTorch's clamp_min subgradient).

@compute @workgroup_size(WGR)
fn cosine_embedding(@builtin(global_invocation_id) gid: vec3<u32>) {
    let r = row_of(gid);
    if r >= params.rows {
        return;
    }
    let a0 = params.a_off + r * params.dim;
    let b0 = params.b_off + r * params.dim;
    var dot = 0.0;
    var m1 = 1e-12;
    var m2 = 1e-12;
    for (var k = 0u; k < params.dim; k++) {
        let x = load_a(a0 + k);
        let z = load_b(b0 + k);
        dot += x * z;
        m1 += x * x;
        m2 += z * z;
    }
    let denom = sqrt(m1 * m2);
    let cos = dot / denom;
    let y = target_of(params.row_offset + r);
    var loss = 0.0;
    var dcos = 0.0;
    if y == 1.0 {
        loss = 1.0 - cos;
        dcos = -1.0;
    } else if y == -1.0 {
        let t = cos - params.margin;
        loss = hinge(t);
        dcos = select(0.0, 1.0, t >= 0.0);
    }
    losses[params.row_offset + r] = loss;
    if !GRAD {
        return;
    }
    let g = dcos * params.scale;
    for (var k = 0u; k < params.dim; k++) {
        let x = load_a(a0 + k);
        let z = load_b(b0 + k);
        put_a(params.ga_off + r * params.dim + k, g * (z / denom - cos * x / m1));
        put_b(params.gb_off + r * params.dim + k, g * (x / denom - cos * z / m2));
    }
}
