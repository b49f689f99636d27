// What both drivers of a linear cross-entropy share (`linear_ce.wgsl`, a chunk's stored logits;
// `linear_ce_tiles.wgsl`, logits made and folded on chip): a row's class, and the softcap.
// The module's uniform `params` has `classes`, `ignore_index`, `has_ignore` and `softcap`; its
// `labels` binding holds the call's labels.

// The class of a row of the call; -1 when ignored, -2 when out of range.
fn target_of(row: u32) -> i32 {
    let raw = labels[row];
    if params.has_ignore != 0u && bitcast<i32>(raw) == params.ignore_index {
        return -1;
    }
    // A negative i32 label reads as a u32 of at least 2^31, so one test covers both ends.
    if raw >= params.classes {
        return -2;
    }
    return i32(raw);
}

// tanh, accurate near 0 (where 1 - e^{-2|x|} cancels) and finite at ±inf.
fn tanh_of(x: f32) -> f32 {
    let a = abs(x);
    var t: f32;
    if a < 0.125 {
        let x2 = a * a;
        t = a * (1.0 + x2 * (-1.0 / 3.0 + x2 * (2.0 / 15.0 + x2 * (-17.0 / 315.0))));
    } else {
        let e = exp(-2.0 * a);
        t = (1.0 - e) / (1.0 + e);
    }
    return select(t, -t, x < 0.0);
}

fn capped(z: f32) -> f32 {
    if params.softcap == 0.0 {
        return z;
    }
    return params.softcap * tanh_of(z / params.softcap);
}

// A counted row's loss from its statistics: maximum `mx`, `log_s` = log Σ exp(z - mx), the
// label's logit `zt` and `centered` = Σ (z - mx):
//     lse - (1 - ε) z_y - ε mean(z) + z_loss · lse²   (each term relative to the row's max).
// Without smoothing the mean is left out rather than multiplied by 0: a logit of -inf (a class
// masked by its bias) makes it -inf, and PyTorch's loss stays finite.
fn row_loss(mx: f32, log_s: f32, zt: f32, centered: f32) -> f32 {
    let eps = params.smoothing;
    let lse = mx + log_s;
    var loss = log_s - (1.0 - eps) * (zt - mx);
    if eps != 0.0 {
        loss -= eps * (centered / f32(params.classes));
    }
    return loss + params.z_loss * lse * lse;
}
