// torch.nn.functional.triplet_margin_loss: max(0, margin + d(a, p) - d(a, n)) with
// d(u, v) = ||u - v + eps||_p (pairwise_distance); with `swap`, d(a, n) becomes
// min(d(a, n), d(p, n)) (a tie shares the gradient, as torch.min). The hinge passes the
// gradient where its argument >= 0; a distance of 0 passes none (PyTorch's norm backward).

fn p_power(v: f32) -> f32 {
    let a = abs(v);
    if params.p == 2.0 {
        return a * a;
    }
    if params.p == 1.0 {
        return a;
    }
    return pow(a, params.p);
}

fn p_root(s: f32) -> f32 {
    if params.p == 2.0 {
        return sqrt(s);
    }
    if params.p == 1.0 {
        return s;
    }
    return pow(s, 1.0 / params.p);
}

// d ||v||_p / d v_k = sign(v) (|v| / d)^(p-1) for the distance d = s^(1/p), taken as
// (|v|^p / s)^(1 - 1/p): one power of a ratio of the same powers, so that a row of one value
// gives exactly ±1 where pow is approximate (llvmpipe's is to about 1e-4).
fn d_norm(v: f32, d: f32, s: f32) -> f32 {
    if d == 0.0 {
        return 0.0;
    }
    if params.p == 2.0 {
        return v / d;
    }
    if params.p == 1.0 {
        return sign(v);
    }
    return sign(v) * pow(p_power(v) / s, 1.0 - 1.0 / params.p);
}

@compute @workgroup_size(WGR)
fn triplet_margin(@builtin(global_invocation_id) gid: vec3<u32>) {
    let r = row_of(gid);
    if r >= params.rows {
        return;
    }
    let a0 = params.a_off + r * params.dim;
    let p0 = params.b_off + r * params.dim;
    let n0 = params.c_off + r * params.dim;
    let eps = params.eps;
    // Summed in blocks of 32 (each block's sum then added to the total): the loss is a
    // difference of two distances, so their rounding is all of a small loss's error, and a
    // row of 1,000 added one by one lost 1e-3 of a loss of 50. (Kahan's compensation is
    // folded away by llvmpipe's compiler.)
    var sums = vec3<f32>(0.0);
    var block = vec3<f32>(0.0);
    for (var k = 0u; k < params.dim; k++) {
        let a = load_a(a0 + k);
        let p = load_b(p0 + k);
        let n = load_c(n0 + k);
        block += vec3<f32>(p_power(a - p + eps), p_power(a - n + eps), p_power(p - n + eps));
        if (k & 31u) == 31u {
            sums += block;
            block = vec3<f32>(0.0);
        }
    }
    sums += block;
    let s_ap = sums.x;
    let s_an = sums.y;
    let s_pn = sums.z;
    let d_ap = p_root(s_ap);
    let d_an = p_root(s_an);
    let d_pn = p_root(s_pn);
    // How the negative distance's gradient splits between d(a, n) and d(p, n).
    var w_an = 1.0;
    var w_pn = 0.0;
    var d_neg = d_an;
    if params.swap != 0u {
        if d_pn < d_an {
            w_an = 0.0;
            w_pn = 1.0;
            d_neg = d_pn;
        } else if d_pn == d_an {
            w_an = 0.5;
            w_pn = 0.5;
        }
    }
    let t = params.margin + d_ap - d_neg;
    losses[params.row_offset + r] = hinge(t);
    if !GRAD {
        return;
    }
    let g = select(0.0, params.scale, t >= 0.0);
    for (var k = 0u; k < params.dim; k++) {
        let a = load_a(a0 + k);
        let p = load_b(p0 + k);
        let n = load_c(n0 + k);
        let g_ap = d_norm(a - p + eps, d_ap, s_ap);
        let g_an = w_an * d_norm(a - n + eps, d_an, s_an);
        let g_pn = w_pn * d_norm(p - n + eps, d_pn, s_pn);
        let i = r * params.dim + k;
        put_a(params.ga_off + i, g * (g_ap - g_an));
        put_b(params.gb_off + i, g * (-g_ap - g_pn));
        put_c(params.gc_off + i, g * (g_an + g_pn));
    }
}
