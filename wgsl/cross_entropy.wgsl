// Cross-entropy on logits with integer class labels, and the negative log-likelihood on
// log-probabilities with the same options.
//
// Logits have shape [N, C, D] (D = 1 for [N, C]): a row is one (n, d) pair, its C values lie
// D apart. Per row, with lse computed stably in one pass (`softmax_stats.wgsl`):
//   loss = (1 - eps) * w[y] * (lse - x[y]) + eps / C * (W log1p(r) - sum_c w[c] (x[c] - m))
// where w are the class weights (all 1 when unweighted), W their sum (summed on the GPU, along
// the row, as `centered_push`'s A), eps the label smoothing,
// m the row maximum and lse = m + log1p(r); the sum relative to m (`centered_push`) keeps
// every digit at large logits, where W lse - sum_c w[c] x[c] cancels.
// Rows whose label is the ignore_index contribute nothing. Labels outside 0..C are recorded
// in `status` (as u32::MAX minus the lowest bad row: an atomicMax over a zeroed word) and
// the row is skipped, so the host can report an error.
// Gradient per row: g_c = s * ((1 - eps) w[y] (p_c - [c = y]) + eps / C (W p_c - w[c])),
// p = softmax(x), W = sum_c w[c], s the gradient scale (1/denominator for a mean).
//
// With class-probability targets t [N, C, D] instead of labels, q = (1 - eps) t + eps / C,
// A = sum_c w[c] q_c and D = sum_c w[c] q_c (x_c - m):
//   loss = sum_c w[c] q_c (lse - x_c) = A log1p(r) - D,   g_c = s * (A p_c - w[c] q_c).
//
// The module is composed (src/kernels/class_rows.rs) from this driver and parts that define:
//   load_logits, load_targets   logits (binding 1) and probability targets (9), f32 or halves
//   weight_of                   class weights (`class_weight.wgsl`, binding 3, or 1)
//   store_out, WRITE_OUT        the per-row loss (`rows_out.wgsl`, binding 6, or none)
//   store_grad, WRITE_GRAD      the gradient (`rows_grad.wgsl`, binding 7, or none)
//   grad_scale                  its scale: the uniform's, or 1 / scale_in[0] (binding 4)
// so a binding exists only in the modules that use it.
//
// Rows are summed in tiles of `span` rows, one partial sum per tile, so the result does not
// depend on the grid (src/kernels/plan.rs, `Tiling`).
// Entry points: `ce_rows` gives each row to a whole workgroup (large C), `ce_small` gives
// each row to one invocation (small C); `ce_probs_rows` and `ce_probs_small` do the same with
// probability targets; `nll_rows` reads log-probabilities (one invocation per row);
// `ce_denominator` sums w[y] over the rows that count (the mean's denominator, needed before
// a weighted mean's gradient can be written).

struct ClassParams {
    rows: u32,           // N * D
    classes: u32,        // C
    inner: u32,          // D
    ignore_index: i32,
    smoothing: f32,      // eps (used when SMOOTHED)
    grad_scale: f32,     // s, unless the scale comes from scale_in
    partial_base: u32,   // first slot of this dispatch in `partials`
    partial_count: u32,  // slots per half of `partials` (losses, then denominators)
    row_offset: u32,     // index of this chunk's first row in the whole tensor
    divisor: f32,        // FINAL without MEAN_BY_WEIGHT: the reduction's divisor
    span: u32,           // rows in a tile
    tiles: u32,          // tiles in this chunk: ceil(rows / span)
}

// The call's options, fixed when the pipeline is built, so the compiler drops every branch
// a call does not take.
override HAS_IGNORE: bool = false;        // skip rows labelled ignore_index
override SMOOTHED: bool = false;          // label smoothing > 0
override FINAL: bool = false;             // one workgroup in all: write the result itself
override MEAN_BY_WEIGHT: bool = false;    // FINAL: divide by the rows' summed weights
// A row per invocation: each invocation writes its own sums of a tile (WG slots per tile)
// instead of the workgroup reducing them: no barrier inside the loop over tiles, which a
// software adapter runs as a coroutine, slowly.
override LANE_PARTIALS: bool = false;

@group(0) @binding(0) var<uniform> params: ClassParams;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(5) var<storage, read_write> partials: array<f32>;
@group(0) @binding(8) var<storage, read_write> status: array<atomic<u32>>;

// Index of class 0 of a row; class c lies at row_base(row) + c * params.inner.
fn row_base(row: u32) -> u32 {
    let n = row / params.inner;
    return n * params.classes * params.inner + (row - n * params.inner);
}

// The row's class, or -1 when the row is ignored or its label is out of range (recorded).
fn target_of(row: u32) -> i32 {
    let raw = labels[row];
    if HAS_IGNORE && bitcast<i32>(raw) == params.ignore_index {
        return -1;
    }
    // A negative i32 label reads as a u32 of at least 2^31, so one test covers both ends.
    if raw >= params.classes {
        atomicMax(&status[0], 0xffffffffu - (params.row_offset + row));
        return -1;
    }
    return i32(raw);
}

fn denominator_of(t: i32) -> f32 {
    if t < 0 {
        return 0.0;
    }
    return weight_of(u32(t));
}

// Loss of one row with target `t` (negative: skipped), from its merged statistics.
// `wx` is (W, sum_c w[c] (x_c - m)) (`centered_push`), used when SMOOTHED.
fn row_loss(base: u32, t: i32, m: f32, log1p_r: f32, wx: vec2<f32>) -> f32 {
    if t < 0 {
        return 0.0;
    }
    let y = u32(t);
    let eps = params.smoothing;
    var l = (1.0 - eps) * weight_of(y) * ((m - load_logits(base + y * params.inner)) + log1p_r);
    if SMOOTHED {
        l += eps / f32(params.classes) * (wx.x * log1p_r - wx.y);
    }
    return l;
}

// softmax of element v of a row with maximum m: (v - m) first, which is exact where v is
// near m, as v - lse is not when |lse| is large (1e4 + 0.69 keeps 3 digits of the 0.69).
fn softmax_at(v: f32, m: f32, log1p_r: f32) -> f32 {
    return exp((v - m) - log1p_r);
}

// Gradient of one element: class `c` of a row with target `t`, given the row's statistics
// and W (used when SMOOTHED).
fn grad_at(c: u32, v: f32, t: i32, m: f32, log1p_r: f32, w_total: f32, scale: f32) -> f32 {
    if t < 0 {
        return 0.0;
    }
    let p = softmax_at(v, m, log1p_r);
    let eps = params.smoothing;
    let onehot = select(0.0, 1.0, c == u32(t));
    var g = (1.0 - eps) * weight_of(u32(t)) * (p - onehot);
    if SMOOTHED {
        g += eps / f32(params.classes) * (w_total * p - weight_of(c));
    }
    return scale * g;
}

// The sums of tile `tile` of this chunk, or the result where the whole input is one tile.
fn write_partials(tile: u32, loss: f32, den: f32) {
    if FINAL {
        partials[0] = loss / select(params.divisor, den, MEAN_BY_WEIGHT);
        return;
    }
    partials[params.partial_base + tile] = loss;
    partials[params.partial_count + params.partial_base + tile] = den;
}

// The sums of one invocation (`lid`) over tile `tile` of this chunk (LANE_PARTIALS).
fn write_lane_partials(tile: u32, lid: u32, loss: f32, den: f32) {
    let slot = (params.partial_base + tile) * WG + lid;
    partials[slot] = loss;
    partials[params.partial_count + slot] = den;
}

// A row-per-invocation entry's tile is done: with LANE_PARTIALS each invocation writes its
// sums (and keeps them, for FINAL), else the workgroup adds them into the tile's partial.
// Returns what the invocation keeps. Call from uniform control flow.
fn end_tile(ids: Ids, tile: u32, loss: f32, den: f32) -> vec2<f32> {
    if LANE_PARTIALS {
        if !FINAL {
            write_lane_partials(tile, ids.lid, loss, den);
        }
    } else {
        let total = workgroup_sum(vec4<f32>(loss, den, 0.0, 0.0), ids);
        if ids.lid == 0u {
            write_partials(tile, total.x, total.y);
        }
    }
    return vec2<f32>(loss, den);
}

// After the loop over tiles, with LANE_PARTIALS and one tile in all: the workgroup adds its
// invocations' sums of that tile into the result. Call from uniform control flow.
fn end_tiles(ids: Ids, kept: vec2<f32>) {
    if LANE_PARTIALS && FINAL {
        let total = workgroup_sum(vec4<f32>(kept, 0.0, 0.0), ids);
        if ids.lid == 0u {
            write_partials(0u, total.x, total.y);
        }
    }
}

// One workgroup per row: each tile's rows in turn, tiles in a grid-stride loop.
@compute @workgroup_size(WG)
fn ce_rows(ids: Ids, group: Group) {
    let classes = params.classes;
    let stride = params.inner;
    let scale = grad_scale();
    for (var tile = group.id.x; tile < params.tiles; tile += group.count.x) {
        var loss_acc = 0.0;
        var den_acc = 0.0;
        let end = min((tile + 1u) * params.span, params.rows);
        for (var row = tile * params.span; row < end; row++) {
            let base = row_base(row);
            var st = stats_start();
            var wx = vec2<f32>(0.0);
            for (var c = ids.lid; c < classes; c += WG) {
                let v = load_logits(base + c * stride);
                if SMOOTHED {
                    wx = centered_push(wx, st.m, max(st.m, v), weight_of(c), v);
                }
                st = stats_push(st, v);
            }
            let rs = workgroup_stats(st, wx, ids);
            let t = target_of(row);
            if WRITE_GRAD {
                for (var c = ids.lid; c < classes; c += WG) {
                    let i = base + c * stride;
                    store_grad(i, grad_at(c, load_logits(i), t, rs.m, rs.log1p_r, rs.extra.x, scale));
                }
            }
            if ids.lid == 0u {
                let l = row_loss(base, t, rs.m, rs.log1p_r, rs.extra);
                loss_acc += l;
                den_acc += denominator_of(t);
                if WRITE_OUT {
                    store_out(row, l);
                }
            }
        }
        if ids.lid == 0u {
            write_partials(tile, loss_acc, den_acc);
        }
    }
}

// One invocation per row: a tile's rows across the workgroup, which then sums them; tiles
// in a grid-stride loop.
@compute @workgroup_size(WG)
fn ce_small(ids: Ids, group: Group) {
    let classes = params.classes;
    let stride = params.inner;
    let scale = grad_scale();
    var kept = vec2<f32>(0.0);
    for (var tile = group.id.x; tile < params.tiles; tile += group.count.x) {
        var loss_acc = 0.0;
        var den_acc = 0.0;
        let end = min((tile + 1u) * params.span, params.rows);
        for (var row = tile * params.span + ids.lid; row < end; row += WG) {
            let base = row_base(row);
            var st = stats_start();
            var wx = vec2<f32>(0.0);
            for (var c = 0u; c < classes; c++) {
                let v = load_logits(base + c * stride);
                if SMOOTHED {
                    wx = centered_push(wx, st.m, max(st.m, v), weight_of(c), v);
                }
                st = stats_push(st, v);
            }
            let log1p_r = row_log1p(st.r, st.m);
            let t = target_of(row);
            if WRITE_GRAD {
                for (var c = 0u; c < classes; c++) {
                    let i = base + c * stride;
                    store_grad(i, grad_at(c, load_logits(i), t, st.m, log1p_r, wx.x, scale));
                }
            }
            let l = row_loss(base, t, st.m, log1p_r, wx);
            loss_acc += l;
            den_acc += denominator_of(t);
            if WRITE_OUT {
                store_out(row, l);
            }
        }
        kept = end_tile(ids, tile, loss_acc, den_acc);
    }
    end_tiles(ids, kept);
}

// Negative log-likelihood: `logits` holds log-probabilities; loss = -w[y] * logp[y].
@compute @workgroup_size(WG)
fn nll_rows(ids: Ids, group: Group) {
    let scale = grad_scale();
    var kept = vec2<f32>(0.0);
    for (var tile = group.id.x; tile < params.tiles; tile += group.count.x) {
        var loss_acc = 0.0;
        var den_acc = 0.0;
        let end = min((tile + 1u) * params.span, params.rows);
        for (var row = tile * params.span + ids.lid; row < end; row += WG) {
            let base = row_base(row);
            let t = target_of(row);
            var l = 0.0;
            if t >= 0 {
                l = -weight_of(u32(t)) * load_logits(base + u32(t) * params.inner);
            }
            // The host zeroes the gradient before this pass: only the label's element is set.
            if WRITE_GRAD && t >= 0 {
                store_grad(base + u32(t) * params.inner, -scale * weight_of(u32(t)));
            }
            loss_acc += l;
            den_acc += denominator_of(t);
            if WRITE_OUT {
                store_out(row, l);
            }
        }
        kept = end_tile(ids, tile, loss_acc, den_acc);
    }
    end_tiles(ids, kept);
}

// Sum of w[y] over the rows that count, into the first half of `partials`.
@compute @workgroup_size(WG)
fn ce_denominator(ids: Ids, group: Group) {
    for (var tile = group.id.x; tile < params.tiles; tile += group.count.x) {
        var den_acc = 0.0;
        let end = min((tile + 1u) * params.span, params.rows);
        for (var row = tile * params.span + ids.lid; row < end; row += WG) {
            den_acc += denominator_of(target_of(row));
        }
        if LANE_PARTIALS {
            partials[(params.partial_base + tile) * WG + ids.lid] = den_acc;
        } else {
            let total = workgroup_sum(vec4<f32>(den_acc, 0.0, 0.0, 0.0), ids);
            if ids.lid == 0u {
                partials[params.partial_base + tile] = total.x;
            }
        }
    }
}

// Smoothed, weighted target of class c at element i: w[c] * ((1 - eps) t_i + eps / C).
fn target_weight(c: u32, i: u32) -> f32 {
    let eps = params.smoothing;
    return weight_of(c) * ((1.0 - eps) * load_targets(i) + eps / f32(params.classes));
}

// Loss of a row with probability targets from its statistics and its centred sum (A, D):
// sum_c w q (lse - x_c) = A log1p(r) - D.
fn probs_loss(log1p_r: f32, ad: vec2<f32>) -> f32 {
    return ad.x * log1p_r - ad.y;
}

// Probability targets, one workgroup per row.
@compute @workgroup_size(WG)
fn ce_probs_rows(ids: Ids, group: Group) {
    let classes = params.classes;
    let stride = params.inner;
    let scale = grad_scale();
    for (var tile = group.id.x; tile < params.tiles; tile += group.count.x) {
        var loss_acc = 0.0;
        let end = min((tile + 1u) * params.span, params.rows);
        for (var row = tile * params.span; row < end; row++) {
            let base = row_base(row);
            var st = stats_start();
            var ad = vec2<f32>(0.0);
            for (var c = ids.lid; c < classes; c += WG) {
                let i = base + c * stride;
                let v = load_logits(i);
                ad = centered_push(ad, st.m, max(st.m, v), target_weight(c, i), v);
                st = stats_push(st, v);
            }
            let rs = workgroup_stats(st, ad, ids);
            if WRITE_GRAD {
                for (var c = ids.lid; c < classes; c += WG) {
                    let i = base + c * stride;
                    let p = softmax_at(load_logits(i), rs.m, rs.log1p_r);
                    store_grad(i, scale * (rs.extra.x * p - target_weight(c, i)));
                }
            }
            if ids.lid == 0u {
                let l = probs_loss(rs.log1p_r, rs.extra);
                loss_acc += l;
                if WRITE_OUT {
                    store_out(row, l);
                }
            }
        }
        if ids.lid == 0u {
            write_partials(tile, loss_acc, 0.0);
        }
    }
}

// Probability targets, one invocation per row.
@compute @workgroup_size(WG)
fn ce_probs_small(ids: Ids, group: Group) {
    let classes = params.classes;
    let stride = params.inner;
    let scale = grad_scale();
    var kept = vec2<f32>(0.0);
    for (var tile = group.id.x; tile < params.tiles; tile += group.count.x) {
        var loss_acc = 0.0;
        let end = min((tile + 1u) * params.span, params.rows);
        for (var row = tile * params.span + ids.lid; row < end; row += WG) {
            let base = row_base(row);
            var st = stats_start();
            var ad = vec2<f32>(0.0);
            for (var c = 0u; c < classes; c++) {
                let i = base + c * stride;
                let v = load_logits(i);
                ad = centered_push(ad, st.m, max(st.m, v), target_weight(c, i), v);
                st = stats_push(st, v);
            }
            let log1p_r = row_log1p(st.r, st.m);
            if WRITE_GRAD {
                for (var c = 0u; c < classes; c++) {
                    let i = base + c * stride;
                    let p = softmax_at(load_logits(i), st.m, log1p_r);
                    store_grad(i, scale * (ad.x * p - target_weight(c, i)));
                }
            }
            let l = probs_loss(log1p_r, ad);
            loss_acc += l;
            if WRITE_OUT {
                store_out(row, l);
            }
        }
        kept = end_tile(ids, tile, loss_acc, 0.0);
    }
    end_tiles(ids, kept);
}
