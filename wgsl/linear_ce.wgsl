// The cross-entropy rows of a linear cross-entropy (see `kernels/linear_ce.rs`): one chunk of
// tokens' logits, `[rows, classes]` in f32, made by `matmul.wgsl` and never the whole batch's.
//
// `lce_count` counts the rows that count (labels not `ignore_index`) for the mean, and flags
// the first label outside 0..classes in `status` (as cross-entropy does). `lce_rows` takes one
// row per workgroup: adds the bias and applies the softcap `c · tanh(z / c)` in place, then
// finds the row's log-sum-exp and loss (`row_loss`, `linear_ce_math.wgsl`) and, with `grad`,
// overwrites the row with the gradient in the pre-softcap logits
//     (softmax · (1 + 2 z_loss lse) - (1 - ε) onehot(y) - ε / classes) · scale · (1 - (z / c)²),
// 0 for a row that does not count. `scale` is 1 / (rows that count) for a mean, else 1. With
// the gradient filter on, entries of magnitude below `filter_eps · scale` are written as 0.

struct LceParams {
    rows: u32,
    row_offset: u32,
    classes: u32,
    tokens: u32,
    ignore_index: i32,
    has_ignore: u32,
    smoothing: f32,
    softcap: f32,
    z_loss: f32,
    grad: u32,
    mean: u32,
    counts: u32,
    neg_inf: f32,
    filter_eps: f32,
}

@group(0) @binding(0) var<uniform> params: LceParams;
@group(0) @binding(1) var<storage, read> labels: array<u32>;
@group(0) @binding(2) var<storage, read_write> logits: array<f32>;
@group(0) @binding(3) var<storage, read_write> losses: array<f32>;
@group(0) @binding(4) var<storage, read_write> status: array<atomic<u32>>;
@group(0) @binding(5) var<storage, read_write> count: array<f32>;

@compute @workgroup_size(WG)
fn lce_count(ids: Ids) {
    var n = 0.0;
    for (var r = ids.lid; r < params.tokens; r += WG) {
        let t = target_of(r);
        if t == -2 {
            atomicMax(&status[0], 0xffffffffu - r);
        }
        if t >= 0 {
            n += 1.0;
        }
    }
    let total = workgroup_sum(vec4<f32>(n, 0.0, 0.0, 0.0), ids);
    if ids.lid == 0u {
        count[0] = total.x;
    }
}

@compute @workgroup_size(WG)
fn lce_rows(ids: Ids, group: Group) {
    let r = group.id.x;
    let row = params.row_offset + r;
    let base = r * params.classes;
    let t = target_of(row);
    var m = params.neg_inf;
    for (var c = ids.lid; c < params.classes; c += WG) {
        let z = capped(logits[base + c] + load_bias(c));
        logits[base + c] = z;
        m = max(m, z);
    }
    // The label's logit is read below by invocation 0, written above by another.
    storageBarrier();
    let mx = workgroup_max(m, ids);
    // Every term relative to the row's maximum: at logits of 1e4 the loss, a difference of
    // numbers that large, keeps its digits.
    var s = 0.0;
    var centered = 0.0;
    for (var c = ids.lid; c < params.classes; c += WG) {
        let d = logits[base + c] - mx;
        s += exp(d);
        centered += d;
    }
    let sums = workgroup_sum(vec4<f32>(s, centered, 0.0, 0.0), ids);
    let log_s = log(sums.x);
    let lse = mx + log_s;
    let eps = params.smoothing;
    let classes = f32(params.classes);
    if ids.lid == 0u {
        var loss = 0.0;
        if t >= 0 {
            loss = row_loss(mx, log_s, logits[base + u32(t)], sums.y);
        }
        losses[row] = loss;
        if params.counts != 0u {
            losses[params.tokens + row] = select(0.0, 1.0, t >= 0);
        }
    }
    if params.grad == 0u {
        return;
    }
    let scale = select(1.0, 1.0 / count[0], params.mean != 0u);
    let z_term = 2.0 * params.z_loss * lse;
    for (var c = ids.lid; c < params.classes; c += WG) {
        let z = logits[base + c];
        let p = exp(z - lse);
        let onehot = select(0.0, 1.0, i32(c) == t);
        // Grouped so that the big terms cancel first: exactly 0 for a certain prediction.
        var g = ((p - onehot) + p * z_term + eps * (onehot - 1.0 / classes)) * scale;
        if params.softcap != 0.0 {
            let tz = z / params.softcap;
            g *= 1.0 - tz * tz;
        }
        // The gradient filter: an entry below filter_eps (before the scale) is 0, and the
        // products skip slices of zeros.
        let negligible = abs(g) < params.filter_eps * scale;
        logits[base + c] = select(0.0, g, t >= 0 && !negligible);
    }
}
