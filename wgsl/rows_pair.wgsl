// Row-wise losses over rows of `dim` values, one invocation per row (rows of embeddings or
// of class scores; see `kernels/row_pairs.rs`). The float inputs `a`, `b`, `c` share one
// precision (`load_a` …); each row's loss goes to `losses[row_offset + r]` and, in a gradient
// variant, each input's gradient to the f32 `grad_a` … (`put_a` …). `*_off` are the element
// offsets of the dispatch's first row in each binding's window (`y_off` in the targets' window,
// where a loss has one target per score).

struct RowParams {
    rows: u32,
    dim: u32,
    row_offset: u32,
    a_off: u32,
    b_off: u32,
    c_off: u32,
    ga_off: u32,
    gb_off: u32,
    gc_off: u32,
    margin: f32,
    p: f32,
    eps: f32,
    swap: u32,
    scale: f32,
    has_weight: u32,
    y_int: u32,
    y_off: u32,
}

@group(0) @binding(0) var<uniform> params: RowParams;
@group(0) @binding(4) var<storage, read> y_data: array<u32>;
@group(0) @binding(5) var<storage, read> weight: array<f32>;
@group(0) @binding(6) var<storage, read_write> losses: array<f32>;
@group(0) @binding(10) var<storage, read_write> status: array<atomic<u32>>;

const WGR: u32 = 64u;

// The dispatch's row of this invocation (1-D grid of at most 65,535 workgroups).
fn row_of(gid: vec3<u32>) -> u32 {
    return gid.x;
}

// The ±1 target of a row: f32, or i32 (`y_int`).
fn target_of(row: u32) -> f32 {
    let w = y_data[row];
    return select(bitcast<f32>(w), f32(bitcast<i32>(w)), params.y_int != 0u);
}

// By its bits: a compiler may fold `z != z` to false, or a comparison with NaN into `max`.
fn is_nan(z: f32) -> bool {
    return (bitcast<u32>(z) & 0x7fffffffu) > 0x7f800000u;
}

// max(t, 0) that keeps a NaN (WGSL's max may drop it).
fn hinge(t: f32) -> f32 {
    if is_nan(t) {
        return t;
    }
    return max(t, 0.0);
}

fn softplus(x: f32) -> f32 {
    return max(x, 0.0) + log1p(exp(-abs(x)));
}

fn weight_of(c: u32) -> f32 {
    if params.has_weight == 0u {
        return 1.0;
    }
    return weight[c];
}
