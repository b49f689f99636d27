// torch.nn.functional.multilabel_margin_loss: per row of scores `x` [C] and targets `y` [C]
// (i32 class indices, ended by the first -1), Σ_{j before the -1} Σ_{i not a target}
// max(0, 1 - x[y_j] + x_i) / C. Three passes over a dispatch's rows keep every invocation
// within C loop iterations (Mesa's loop budget), whatever the number of targets:
// `multilabel_margin_mask` (one invocation per row) counts in `mask` how often each class is
// listed, and flags in `status` a target outside -1..C (PyTorch checks every value of the
// row); `multilabel_margin` (one per score) writes its score's part of the row's sum to
// `parts` and its gradient; `multilabel_margin_sum` (one per row) adds the parts in order. A
// target listed twice counts twice, as in PyTorch's loops. `mask` and `parts` hold the
// dispatch's rows from 0; `y_off` is the targets' element offset in their window. A NaN score
// gives a NaN loss and gradient (PyTorch's `z > 0` test drops it).

@group(0) @binding(11) var<storage, read_write> mask: array<u32>;
@group(0) @binding(12) var<storage, read_write> parts: array<f32>;

fn target_at(i: u32) -> i32 {
    return bitcast<i32>(y_data[params.y_off + i]);
}

@compute @workgroup_size(WGR)
fn multilabel_margin_mask(@builtin(global_invocation_id) gid: vec3<u32>) {
    let r = row_of(gid);
    if r >= params.rows {
        return;
    }
    let base = r * params.dim;
    var listing = true;
    for (var k = 0u; k < params.dim; k++) {
        let t = target_at(base + k);
        if t < -1 || t >= i32(params.dim) {
            atomicMax(&status[0], 0xffffffffu - ((params.row_offset + r) * params.dim + k));
            return;
        }
        listing = listing && t >= 0;
        if listing {
            mask[base + u32(t)] += 1u;
        }
    }
}

// How the hinge `z` moves the count of active pairs: one more when positive, NaN when NaN.
fn pair_slope(z: f32) -> f32 {
    return select(select(0.0, 1.0, z > 0.0), z, is_nan(z));
}

@compute @workgroup_size(WGR)
fn multilabel_margin(@builtin(global_invocation_id) gid: vec3<u32>) {
    let e = gid.x;
    if e >= params.rows * params.dim {
        return;
    }
    let c = e % params.dim;
    let base = e - c;
    let x0 = params.a_off + base;
    let xc = load_a(x0 + c);
    var part = 0.0;
    var slope = 0.0;
    if mask[e] == 0u {
        // A non-target: its hinge against each listed target.
        for (var k = 0u; k < params.dim; k++) {
            let t = target_at(base + k);
            if t < 0 || t >= i32(params.dim) {
                break;
            }
            let z = 1.0 - load_a(x0 + u32(t)) + xc;
            if z > 0.0 || is_nan(z) {
                part += z;
            }
            slope += pair_slope(z);
        }
    } else {
        // A target: minus its active pairs with the non-targets, once per time it is listed.
        for (var i = 0u; i < params.dim; i++) {
            if mask[base + i] == 0u {
                slope -= pair_slope(1.0 - xc + load_a(x0 + i));
            }
        }
        slope *= f32(mask[e]);
    }
    parts[e] = part;
    if GRAD {
        put_a(params.ga_off + e, slope * params.scale / f32(params.dim));
    }
}

@compute @workgroup_size(WGR)
fn multilabel_margin_sum(@builtin(global_invocation_id) gid: vec3<u32>) {
    let r = row_of(gid);
    if r >= params.rows {
        return;
    }
    var s = 0.0;
    for (var c = 0u; c < params.dim; c++) {
        s += parts[r * params.dim + c];
    }
    losses[params.row_offset + r] = s / f32(params.dim);
}
