// The loss of a linear cross-entropy without its logits in device memory (see
// `kernels/linear_ce_tiles.rs`): each tile of logits is made in registers (`matmul_tile.wgsl`)
// and folded there into running statistics of its rows, as Cut Cross-Entropy does on CUDA.
//
// `lce_tiles` takes one band of `band_tiles` column tiles of 64 rows per workgroup. An
// invocation keeps, for each of its 8 rows, the statistics of the logits z = capped(x · w +
// bias) of its columns seen so far: the maximum m, s = Σ exp(z - m), c = Σ (z - m) and the
// count n, as a vec4 (m, s, c, n); `merged` folds two such in a fixed order. At the band's end
// the 8 invocations that share a row hand theirs to one, which folds them in order and writes
// the band's partial. The label's logit is written by the one invocation whose column it is.
// `lce_merge` folds a row's partials in band order into its loss, so the bits depend on the
// shapes alone.
//
// Loops per invocation: band_tiles · (25 per step of 16 along k + 1) + 8; the planner keeps it
// under Mesa's loop budget.

struct LceTileParams {
    m: u32,
    n: u32,
    k: u32,
    a_off: u32,
    a_rs: u32,
    a_cs: u32,
    b_off: u32,
    b_rs: u32,
    b_cs: u32,
    // The dispatch's workgroups are (row tile, band) pairs from `group_base`, band fastest.
    group_base: u32,
    bands_n: u32,
    band_tiles: u32,
    // Bands of the whole vocabulary (a row's partials), and this block's first.
    bands: u32,
    band_base: u32,
    // The chunk's first token and this block's first class.
    row_offset: u32,
    col_offset: u32,
    classes: u32,
    tokens: u32,
    ignore_index: i32,
    has_ignore: u32,
    smoothing: f32,
    softcap: f32,
    z_loss: f32,
    counts: u32,
    neg_inf: f32,
    // Always 0: a band makes several tiles.
    skip_zero: u32,
}

@group(0) @binding(0) var<uniform> params: LceTileParams;
@group(0) @binding(3) var<storage, read> labels: array<u32>;
@group(0) @binding(4) var<storage, read_write> partials: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> label_logits: array<f32>;
@group(0) @binding(7) var<storage, read_write> losses: array<f32>;

// (m, s, c, n) of two sets of logits, folded. A side with no logits, or with the maximum, is
// not shifted: no -inf - -inf or 0 · -inf makes a NaN that the logits do not hold.
fn merged(a: vec4<f32>, b: vec4<f32>) -> vec4<f32> {
    let m = max(a.x, b.x);
    let da = select(a.x - m, 0.0, a.x == m);
    let db = select(b.x - m, 0.0, b.x == m);
    let s = a.y * exp(da) + b.y * exp(db);
    let c = (a.z + select(a.w * da, 0.0, a.w == 0.0)) + (b.z + select(b.w * db, 0.0, b.w == 0.0));
    return vec4<f32>(m, s, c, a.w + b.w);
}

fn capped4(z: vec4<f32>) -> vec4<f32> {
    return vec4<f32>(capped(z.x), capped(z.y), capped(z.z), capped(z.w));
}

// The statistics of one row's 8 logits in a tile, `x` and `y` (columns `j`, `j + 4`), where
// `vx` and `vy` say which columns exist.
fn tile_stats(x: vec4<f32>, y: vec4<f32>, vx: vec4<bool>, vy: vec4<bool>) -> vec4<f32> {
    let ninf = vec4<f32>(params.neg_inf);
    let top = max(select(ninf, x, vx), select(ninf, y, vy));
    let m = max(max(top.x, top.y), max(top.z, top.w));
    // A logit of -inf adds -inf to c and nothing to s, even where m is -inf too.
    let dx = select(x - m, ninf, x == ninf);
    let dy = select(y - m, ninf, y == ninf);
    let zero = vec4<f32>(0.0);
    let s = dot(select(zero, exp(dx), vx), vec4<f32>(1.0)) + dot(select(zero, exp(dy), vy), vec4<f32>(1.0));
    let c = dot(select(zero, dx, vx), vec4<f32>(1.0)) + dot(select(zero, dy, vy), vec4<f32>(1.0));
    let n = dot(select(zero, vec4<f32>(1.0), vx), vec4<f32>(1.0)) + dot(select(zero, vec4<f32>(1.0), vy), vec4<f32>(1.0));
    return vec4<f32>(m, s, c, n);
}

// One row of a tile: its logits from the products `x`, `y` of the block's columns
// `jl .. jl + 7` (`bx`, `by` their bias), folded into `st`; the label's logit written where its
// class is one of them.
fn fold_row(st: vec4<f32>, x: vec4<f32>, y: vec4<f32>, bx: vec4<f32>, by: vec4<f32>, jl: u32, t: i32, row: u32) -> vec4<f32> {
    let cols = vec4<u32>(0u, 1u, 2u, 3u) + jl;
    let vx = cols < vec4<u32>(params.n);
    let vy = cols + 4u < vec4<u32>(params.n);
    let zx = capped4(x + bx);
    let zy = capped4(y + by);
    let j = i32(params.col_offset + jl);
    if t >= j && t < j + 8 {
        let q = u32(t - j);
        label_logits[row] = select(zy[q & 3u], zx[q & 3u], q < 4u);
    }
    return merged(st, tile_stats(zx, zy, vx, vy));
}

// The bias of the block's columns `jl .. jl + 3`; 0 past the block. (Scalar selects: a select
// of integer vectors needs an extension in GLSL ES.)
fn bias_at(jl: u32) -> f32 {
    let ok = jl < params.n;
    return select(0.0, load_bias(select(0u, jl, ok) + params.col_offset), ok);
}

fn bias4(jl: u32) -> vec4<f32> {
    return vec4<f32>(bias_at(jl), bias_at(jl + 1u), bias_at(jl + 2u), bias_at(jl + 3u));
}

// The class of a row of the chunk, or -1 past its end.
fn chunk_target(i: u32) -> i32 {
    if i >= params.m {
        return -1;
    }
    return target_of(params.row_offset + i);
}

// Statistics of rows (8 ty + r, invocation tx) wait in a_tile, b_tile for the row's fold.
fn keep(rho: u32, tx: u32, st: vec4<f32>) {
    if rho < 32u {
        a_tile[rho * 8u + tx] = st;
    } else {
        b_tile[(rho - 32u) * 8u + tx] = st;
    }
}

fn kept(rho: u32, tx: u32) -> vec4<f32> {
    if rho < 32u {
        return a_tile[rho * 8u + tx];
    }
    return b_tile[(rho - 32u) * 8u + tx];
}

@compute @workgroup_size(64)
fn lce_tiles(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) group: vec3<u32>) {
    let g = group.x + params.group_base;
    let band = g % params.bands_n;
    let row0 = (g / params.bands_n) * TILE;
    let tiles_n = (params.n + TILE - 1u) / TILE;
    let first = band * params.band_tiles;
    let last = min(first + params.band_tiles, tiles_n);
    let tx = lid % 8u;
    let ty = lid / 8u;
    let i = row0 + 8u * ty;
    let t0 = chunk_target(i);
    let t1 = chunk_target(i + 1u);
    let t2 = chunk_target(i + 2u);
    let t3 = chunk_target(i + 3u);
    let t4 = chunk_target(i + 4u);
    let t5 = chunk_target(i + 5u);
    let t6 = chunk_target(i + 6u);
    let t7 = chunk_target(i + 7u);
    let none = vec4<f32>(params.neg_inf, 0.0, 0.0, 0.0);
    var s0 = none;
    var s1 = none;
    var s2 = none;
    var s3 = none;
    var s4 = none;
    var s5 = none;
    var s6 = none;
    var s7 = none;
    for (var tile = first; tile < last; tile++) {
        let col0 = tile * TILE;
        let acc = tile_product(lid, row0, col0);
        // The block's columns of the invocation's 8.
        let j = col0 + 8u * tx;
        let bx = bias4(j);
        let by = bias4(j + 4u);
        s0 = fold_row(s0, acc[0], acc[1], bx, by, j, t0, i);
        s1 = fold_row(s1, acc[2], acc[3], bx, by, j, t1, i + 1u);
        s2 = fold_row(s2, acc[4], acc[5], bx, by, j, t2, i + 2u);
        s3 = fold_row(s3, acc[6], acc[7], bx, by, j, t3, i + 3u);
        s4 = fold_row(s4, acc[8], acc[9], bx, by, j, t4, i + 4u);
        s5 = fold_row(s5, acc[10], acc[11], bx, by, j, t5, i + 5u);
        s6 = fold_row(s6, acc[12], acc[13], bx, by, j, t6, i + 6u);
        s7 = fold_row(s7, acc[14], acc[15], bx, by, j, t7, i + 7u);
    }
    keep(8u * ty, tx, s0);
    keep(8u * ty + 1u, tx, s1);
    keep(8u * ty + 2u, tx, s2);
    keep(8u * ty + 3u, tx, s3);
    keep(8u * ty + 4u, tx, s4);
    keep(8u * ty + 5u, tx, s5);
    keep(8u * ty + 6u, tx, s6);
    keep(8u * ty + 7u, tx, s7);
    workgroupBarrier();
    // Invocation lid folds row lid of the tile, from its 8 invocations in order.
    var st = none;
    for (var q = 0u; q < 8u; q++) {
        st = merged(st, kept(lid, q));
    }
    let row = row0 + lid;
    if row < params.m {
        partials[row * params.bands + params.band_base + band] = st;
    }
}

// One row of the chunk per invocation: its partials folded in band order, and its loss.
@compute @workgroup_size(64)
fn lce_merge(@builtin(global_invocation_id) id: vec3<u32>) {
    let r = id.x;
    if r >= params.m {
        return;
    }
    var st = vec4<f32>(params.neg_inf, 0.0, 0.0, 0.0);
    for (var b = 0u; b < params.bands; b++) {
        st = merged(st, partials[r * params.bands + b]);
    }
    let row = params.row_offset + r;
    let t = target_of(row);
    var loss = 0.0;
    if t >= 0 {
        loss = row_loss(st.x, log(st.y), label_logits[r], st.z);
    }
    losses[row] = loss;
    if params.counts != 0u {
        losses[params.tokens + row] = select(0.0, 1.0, t >= 0);
    }
}
