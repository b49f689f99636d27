// One 64 × 64 tile of a product a · b in f32, for `matmul.wgsl` and `linear_ce_tiles.wgsl`.
//
// The 64 invocations of a workgroup each compute an 8 × 8 block of the tile, in registers.
// The k dimension is walked in steps of 16: both operands' slices are staged in workgroup
// memory as vec4s (four rows of a, four columns of b), read once per step by the 8 invocations
// that share them. An operand may be stored either way round (`a_rs`, `a_cs`: element (i, k)
// of a lies at `a_off + i * a_rs + k * a_cs` in its binding); the loads follow its contiguous
// dimension so that neighbouring invocations read neighbouring elements. `load_a` and `load_b`
// (from `scalar_*.wgsl`) widen f16 and bf16. The module's uniform `params` has the fields
// `m, n, k` (the block's sizes), the six of the views and `skip_zero`.
//
// With `skip_zero`, a step whose 64 × 16 slice of a is all 0 adds nothing and is skipped:
// b's slice is not loaded and no product is made (a linear cross-entropy's gradient filter
// writes such zeros). It drops a NaN or an infinity of b that only zeros of a would meet.
//
// Loops per invocation: 25 per step of 16 along k (`STEP_LOOPS`).

const TILE: u32 = 64u;
const STEP: u32 = 16u;

// a_tile[k * 16 + r]: rows 4r .. 4r + 3 of the tile at step index k; b_tile likewise columns.
var<workgroup> a_tile: array<vec4<f32>, 256>;
var<workgroup> b_tile: array<vec4<f32>, 256>;
// The last step (counted from 1) in which an invocation loaded a value of a other than 0, set
// to 0 when a call starts (workgroup memory is not zeroed: see `gpu/pipelines.rs`). Every
// invocation that writes it in a step writes the same number.
var<workgroup> a_live: u32;

// Out of the block reads element 0 and gives 0: no branch, for the SIMD lanes of a software
// adapter.
fn a_at(i: u32, k: u32) -> f32 {
    let inside = i < params.m && k < params.k;
    let v = load_a(select(0u, params.a_off + i * params.a_rs + k * params.a_cs, inside));
    return select(0.0, v, inside);
}

fn b_at(k: u32, j: u32) -> f32 {
    let inside = k < params.k && j < params.n;
    let v = load_b(select(0u, params.b_off + k * params.b_rs + j * params.b_cs, inside));
    return select(0.0, v, inside);
}

// The invocation's 8 × 8 block of the tile from (row0, col0): rows 8 (lid / 8) + r, columns
// 8 (lid % 8) + 4h + (0 .. 3) in element 2r + h. 64 invocations, each doing much: a software
// adapter runs a workgroup's invocations in turn between barriers, so fewer of them doing more
// work each measured faster there, and a GPU keeps the 64 sums in registers. Call from uniform
// control flow; workgroup memory is free again when it returns.
fn tile_product(lid: u32, row0: u32, col0: u32) -> array<vec4<f32>, 16> {
    // The loads: 256 vec4s of each operand per step, four per invocation, as (step index,
    // group of four) with the step index fastest where the operand is contiguous along k
    // (neighbouring invocations then read neighbouring elements), the group fastest otherwise.
    let a_k_fast = params.a_cs == 1u;
    let b_k_fast = params.b_rs == 1u;
    let tx = lid % 8u;
    let ty = lid / 8u;
    // Indexed by constants only, so that it stays in registers.
    var acc: array<vec4<f32>, 16>;
    if params.skip_zero != 0u {
        if lid == 0u {
            a_live = 0u;
        }
        workgroupBarrier();
    }
    for (var k0 = 0u; k0 < params.k; k0 += STEP) {
        var live = false;
        for (var e = 0u; e < 4u; e++) {
            let slot = lid + 64u * e;
            let ak = select(slot / 16u, slot % 16u, a_k_fast);
            let ar = select(slot % 16u, slot / 16u, a_k_fast);
            let ai = row0 + 4u * ar;
            let ka = k0 + ak;
            let a = vec4<f32>(a_at(ai, ka), a_at(ai + 1u, ka), a_at(ai + 2u, ka), a_at(ai + 3u, ka));
            a_tile[ak * 16u + ar] = a;
            live = live || any(a != vec4<f32>(0.0));
        }
        var go = true;
        if params.skip_zero != 0u {
            let step = k0 / STEP + 1u;
            if live {
                a_live = step;
            }
            go = workgroupUniformLoad(&a_live) == step;
            // Every invocation has read it before any writes the next step's.
            workgroupBarrier();
        }
        if !go {
            continue;
        }
        for (var e = 0u; e < 4u; e++) {
            let slot = lid + 64u * e;
            let bk = select(slot / 16u, slot % 16u, b_k_fast);
            let bc = select(slot % 16u, slot / 16u, b_k_fast);
            let bj = col0 + 4u * bc;
            let kb = k0 + bk;
            b_tile[bk * 16u + bc] = vec4<f32>(b_at(kb, bj), b_at(kb, bj + 1u), b_at(kb, bj + 2u), b_at(kb, bj + 3u));
        }
        workgroupBarrier();
        for (var k = 0u; k < STEP; k++) {
            let a0 = a_tile[k * 16u + 2u * ty];
            let a1 = a_tile[k * 16u + 2u * ty + 1u];
            let b0 = b_tile[k * 16u + 2u * tx];
            let b1 = b_tile[k * 16u + 2u * tx + 1u];
            acc[0] += a0.x * b0;
            acc[1] += a0.x * b1;
            acc[2] += a0.y * b0;
            acc[3] += a0.y * b1;
            acc[4] += a0.z * b0;
            acc[5] += a0.z * b1;
            acc[6] += a0.w * b0;
            acc[7] += a0.w * b1;
            acc[8] += a1.x * b0;
            acc[9] += a1.x * b1;
            acc[10] += a1.y * b0;
            acc[11] += a1.y * b1;
            acc[12] += a1.z * b0;
            acc[13] += a1.z * b1;
            acc[14] += a1.w * b0;
            acc[15] += a1.w * b1;
        }
        workgroupBarrier();
    }
    return acc;
}
