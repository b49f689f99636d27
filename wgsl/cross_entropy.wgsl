// Categorical cross-entropy on logits [rows, classes] with integer class labels [rows].
//
// Per row, with lse = log(sum_c exp(x_c)) computed stably in one pass (running maximum m,
// running sum of exp(x - m), see `Stats`):
//   loss = (1 - eps) * w[y] * (lse - x[y]) + eps / C * (sum_c w[c] * lse - sum_c w[c] * x[c])
// where w are the class weights (all 1 when unweighted) and eps the label smoothing.
// Rows whose label is the ignore_index contribute nothing. Labels outside 0..C are recorded
// (lowest bad row) in `status` and the row is skipped, so the host can report an error.
// Gradient per row: g_c = s * ((1 - eps) w[y] (p_c - [c = y]) + eps / C (W p_c - w[c])),
// p = softmax(x), W = sum_c w[c], s the gradient scale (1/denominator for a mean).
//
// Two entry points share this math: `ce_rows` gives each row to a whole workgroup (large C),
// `ce_small` gives each row to one invocation (small C).

struct CeParams {
    rows: u32,
    classes: u32,
    flags: u32,          // WRITE_OUT | WRITE_GRAD | WEIGHTED | HAS_IGNORE | SCALE_FROM_BUFFER
    ignore_index: i32,
    smoothing: f32,      // eps
    grad_scale: f32,     // s, unless SCALE_FROM_BUFFER: then 1 / scale_in[0]
    weight_total: f32,   // W
    partial_base: u32,   // first slot of this dispatch in `partials`
    partial_count: u32,  // slots per half of `partials` (losses, then denominators)
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

const WRITE_OUT: u32 = 1u;
const WRITE_GRAD: u32 = 2u;
const WEIGHTED: u32 = 4u;
const HAS_IGNORE: u32 = 8u;
const SCALE_FROM_BUFFER: u32 = 16u;

// Below every finite f32: the running maximum's start, so exp(start - m) is 0 and -inf logits
// give exp(-inf) = 0 rather than exp(-inf + inf) = NaN.
const LOWEST: f32 = -3.4028235e38;

@group(0) @binding(0) var<uniform> params: CeParams;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read> class_weight: array<f32>;
@group(0) @binding(4) var<storage, read> scale_in: array<f32>;
@group(0) @binding(5) var<storage, read_write> partials: array<f32>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;
@group(0) @binding(7) var<storage, read_write> grad: array<f32>;
@group(0) @binding(8) var<storage, read_write> status: array<atomic<u32>>;

fn has(flag: u32) -> bool {
    return (params.flags & flag) != 0u;
}

fn weight_of(c: u32) -> f32 {
    if has(WEIGHTED) {
        return class_weight[c];
    }
    return 1.0;
}

// The row's class, or -1 when the row is ignored or its label is out of range (recorded).
fn target_of(row: u32) -> i32 {
    let raw = labels[row];
    if has(HAS_IGNORE) && bitcast<i32>(raw) == params.ignore_index {
        return -1;
    }
    // A negative i32 label reads as a u32 of at least 2^31, so one test covers both ends.
    if raw >= params.classes {
        atomicMin(&status[0], row);
        return -1;
    }
    return i32(raw);
}

fn grad_scale() -> f32 {
    if has(SCALE_FROM_BUFFER) {
        return 1.0 / scale_in[0];
    }
    return params.grad_scale;
}

// Statistics of a row, or of the part of it one invocation read: its maximum `m` and
// `r` = sum of exp(x - m) over every element but one occurrence of the maximum. Keeping the
// maximum's own 1 out of `r` lets lse = m + log1p(r) keep full relative precision when one
// class dominates (a confident prediction, loss near 0), where m + log(1 + r) would round
// the loss to a multiple of 6e-8.
struct Stats {
    m: f32,
    r: f32,
}

fn stats_start() -> Stats {
    return Stats(LOWEST, 0.0);
}

// Adds element v with one exp: exp(-|v - m|) is exp(v - m) below the maximum and
// exp(m - v) (the rescale of r and of the old maximum's 1) above it.
fn stats_push(s: Stats, v: f32) -> Stats {
    let e = exp(-abs(v - s.m));
    return Stats(max(s.m, v), select(s.r + e, (s.r + 1.0) * e, v > s.m));
}

// log(1 + r) for r >= 0 without losing the digits of a small r. WGSL has no log1p, and its
// log is only accurate to 2^-21 absolute near 1 (llvmpipe's is no better), which is all of a
// small loss. Below r = 1: log1p(r) = 2 atanh(z), z = r / (2 + r) <= 1/3, by its odd series
// (truncation error < z^17 / 17, under 1e-9 relative).
fn log1p(r: f32) -> f32 {
    if r >= 1.0 {
        return log(1.0 + r);
    }
    let z = r / (2.0 + r);
    let z2 = z * z;
    var series = 1.0 / 15.0;
    series = series * z2 + 1.0 / 13.0;
    series = series * z2 + 1.0 / 11.0;
    series = series * z2 + 1.0 / 9.0;
    series = series * z2 + 1.0 / 7.0;
    series = series * z2 + 1.0 / 5.0;
    series = series * z2 + 1.0 / 3.0;
    series = series * z2 + 1.0;
    return 2.0 * z * series;
}

// Loss of one row with target `t` (negative: skipped), given its maximum and log1p(r).
fn row_loss(row: u32, t: i32, m: f32, log1p_r: f32, sum_wx: f32) -> f32 {
    if t < 0 {
        return 0.0;
    }
    let y = u32(t);
    let eps = params.smoothing;
    var l = (1.0 - eps) * weight_of(y) * ((m - logits[row * params.classes + y]) + log1p_r);
    if eps > 0.0 {
        l += eps / f32(params.classes) * (params.weight_total * (m + log1p_r) - sum_wx);
    }
    return l;
}

// Gradient of one element: `c` of row with target `t`, given the row's lse.
fn grad_at(c: u32, v: f32, t: i32, lse: f32, scale: f32) -> f32 {
    if t < 0 {
        return 0.0;
    }
    let p = exp(v - lse);
    let eps = params.smoothing;
    let onehot = select(0.0, 1.0, c == u32(t));
    var g = (1.0 - eps) * weight_of(u32(t)) * (p - onehot);
    if eps > 0.0 {
        g += eps / f32(params.classes) * (params.weight_total * p - weight_of(c));
    }
    return scale * g;
}

fn denominator_of(t: i32) -> f32 {
    if t < 0 {
        return 0.0;
    }
    return weight_of(u32(t));
}

// One workgroup per row, rows in a grid-stride loop.
@compute @workgroup_size(WG)
fn ce_rows(ids: Ids) {
    let classes = params.classes;
    let scale = grad_scale();
    var loss_acc = 0.0;
    var den_acc = 0.0;
    for (var row = ids.wg.x; row < params.rows; row += ids.nwg.x) {
        let base = row * classes;
        var st = stats_start();
        var sum_wx = 0.0;
        for (var c = ids.lid; c < classes; c += WG) {
            let v = logits[base + c];
            st = stats_push(st, v);
            if params.smoothing > 0.0 {
                sum_wx += weight_of(c) * v;
            }
        }
        // Merge the invocations' statistics: the invocations holding the row maximum keep
        // their r and count one tie each; the others rescale r + 1 to the row maximum.
        let m = workgroup_max(st.m, ids);
        let top = st.m == m;
        let part = select((st.r + 1.0) * exp(st.m - m), st.r, top);
        let sums = workgroup_sum(vec4<f32>(part, select(0.0, 1.0, top), sum_wx, 0.0), ids);
        let log1p_r = log1p(sums.x + (sums.y - 1.0));
        let t = target_of(row);
        if has(WRITE_GRAD) {
            let lse = m + log1p_r;
            for (var c = ids.lid; c < classes; c += WG) {
                grad[base + c] = grad_at(c, logits[base + c], t, lse, scale);
            }
        }
        if ids.lid == 0u {
            let l = row_loss(row, t, m, log1p_r, sums.z);
            loss_acc += l;
            den_acc += denominator_of(t);
            if has(WRITE_OUT) {
                out[row] = l;
            }
        }
    }
    if ids.lid == 0u {
        partials[params.partial_base + ids.wg.x] = loss_acc;
        partials[params.partial_count + params.partial_base + ids.wg.x] = den_acc;
    }
}

// One invocation per row, rows in a grid-stride loop; the workgroup then sums its rows.
@compute @workgroup_size(WG)
fn ce_small(ids: Ids) {
    let classes = params.classes;
    let scale = grad_scale();
    var loss_acc = 0.0;
    var den_acc = 0.0;
    let stride = ids.nwg.x * WG;
    for (var row = ids.wg.x * WG + ids.lid; row < params.rows; row += stride) {
        let base = row * classes;
        var st = stats_start();
        var sum_wx = 0.0;
        for (var c = 0u; c < classes; c++) {
            let v = logits[base + c];
            st = stats_push(st, v);
            if params.smoothing > 0.0 {
                sum_wx += weight_of(c) * v;
            }
        }
        let log1p_r = log1p(st.r);
        let t = target_of(row);
        if has(WRITE_GRAD) {
            let lse = st.m + log1p_r;
            for (var c = 0u; c < classes; c++) {
                grad[base + c] = grad_at(c, logits[base + c], t, lse, scale);
            }
        }
        let l = row_loss(row, t, st.m, log1p_r, sum_wx);
        loss_acc += l;
        den_acc += denominator_of(t);
        if has(WRITE_OUT) {
            out[row] = l;
        }
    }
    let total = workgroup_sum(vec4<f32>(loss_acc, den_acc, 0.0, 0.0), ids);
    if ids.lid == 0u {
        partials[params.partial_base + ids.wg.x] = total.x;
        partials[params.partial_count + params.partial_base + ids.wg.x] = total.y;
    }
}
