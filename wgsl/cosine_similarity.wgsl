// MLX's cosine_similarity_loss: a·b / max(|a| |b|, eps). Its gradient in `a` is
// b / den - loss · a / |a|² where |a| |b| > eps, b / eps where the floor holds; `b` likewise.

@compute @workgroup_size(WGR)
fn cosine_similarity(@builtin(global_invocation_id) gid: vec3<u32>) {
    let r = row_of(gid);
    if r >= params.rows {
        return;
    }
    let a0 = params.a_off + r * params.dim;
    let b0 = params.b_off + r * params.dim;
    var dot = 0.0;
    var m1 = 0.0;
    var m2 = 0.0;
    for (var k = 0u; k < params.dim; k++) {
        let x = load_a(a0 + k);
        let z = load_b(b0 + k);
        dot += x * z;
        m1 += x * x;
        m2 += z * z;
    }
    let norms = sqrt(m1) * sqrt(m2);
    let floored = !(norms > params.eps);
    let den = select(norms, params.eps, floored);
    let loss = dot / den;
    losses[params.row_offset + r] = loss;
    if !GRAD {
        return;
    }
    let s = params.scale;
    for (var k = 0u; k < params.dim; k++) {
        let x = load_a(a0 + k);
        let z = load_b(b0 + k);
        var ga = z / den;
        var gb = x / den;
        if !floored {
            ga -= loss * x / m1;
            gb -= loss * z / m2;
        }
        put_a(params.ga_off + r * params.dim + k, s * ga);
        put_b(params.gb_off + r * params.dim + k, s * gb);
    }
}
