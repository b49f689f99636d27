// A tiled matrix product in f32: c = a · b (or c += a · b) over one block of the output.
//
// Each workgroup of 64 invocations computes a 64 × 64 tile of c; each invocation an 8 × 8
// block of it, in registers. The k dimension is walked in steps of 16: both operands' slices
// are staged in workgroup memory as vec4s (four rows of a, four columns of b), read once per
// step by the 8 invocations that share them. An operand may be stored either way round
// (`a_rs`, `a_cs`: element (i, k) of a lies at `a_off + i * a_rs + k * a_cs` in its binding);
// the loads follow its contiguous dimension so that neighbouring invocations read
// neighbouring elements. `load_a` and `load_b` (from `scalar_*.wgsl`) widen f16 and bf16.
//
// Loops per invocation: 21 per step of 16 along k, so a block of k = 16,384 stays under Mesa's
// loop budget (the planner splits longer ones and adds the blocks up with `accumulate`).

struct MatmulParams {
    m: u32,
    n: u32,
    k: u32,
    a_off: u32,
    a_rs: u32,
    a_cs: u32,
    b_off: u32,
    b_rs: u32,
    b_cs: u32,
    c_off: u32,
    c_rs: u32,
    tiles_n: u32,
    tile_base: u32,
    accumulate: u32,
}

const TILE: u32 = 64u;
const STEP: u32 = 16u;

@group(0) @binding(0) var<uniform> params: MatmulParams;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

// a_tile[k * 16 + r]: rows 4r .. 4r + 3 of the tile at step index k; b_tile likewise columns.
var<workgroup> a_tile: array<vec4<f32>, 256>;
var<workgroup> b_tile: array<vec4<f32>, 256>;

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

fn store(i: u32, j: u32, v: f32) {
    if i < params.m && j < params.n {
        let at = params.c_off + i * params.c_rs + j;
        if params.accumulate != 0u {
            c[at] += v;
        } else {
            c[at] = v;
        }
    }
}

fn store_row(i: u32, j: u32, v: vec4<f32>) {
    store(i, j, v.x);
    store(i, j + 1u, v.y);
    store(i, j + 2u, v.z);
    store(i, j + 3u, v.w);
}

// 64 invocations, each an 8 × 8 block of the tile: a software adapter runs a workgroup's
// invocations in turn between barriers, so fewer of them doing more work each measured faster
// there, and a GPU keeps the 64 sums in registers.
@compute @workgroup_size(64)
fn matmul(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) group: vec3<u32>) {
    let tile = group.x + params.tile_base;
    let row0 = (tile / params.tiles_n) * TILE;
    let col0 = (tile % params.tiles_n) * TILE;
    // The loads: 256 vec4s of each operand per step, four per invocation, as (step index,
    // group of four) with the step index fastest where the operand is contiguous along k
    // (neighbouring invocations then read neighbouring elements), the group fastest otherwise.
    let a_k_fast = params.a_cs == 1u;
    let b_k_fast = params.b_rs == 1u;
    // The invocation's 8 × 8 block: rows 8ty .. 8ty + 7, columns 8tx .. 8tx + 7.
    let tx = lid % 8u;
    let ty = lid / 8u;
    // Indexed by constants only, so that it stays in registers.
    var acc: array<vec4<f32>, 16>;
    for (var k0 = 0u; k0 < params.k; k0 += STEP) {
        for (var e = 0u; e < 4u; e++) {
            let slot = lid + 64u * e;
            let ak = select(slot / 16u, slot % 16u, a_k_fast);
            let ar = select(slot % 16u, slot / 16u, a_k_fast);
            let ai = row0 + 4u * ar;
            let ka = k0 + ak;
            a_tile[ak * 16u + ar] = vec4<f32>(a_at(ai, ka), a_at(ai + 1u, ka), a_at(ai + 2u, ka), a_at(ai + 3u, ka));
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
    let i = row0 + 8u * ty;
    let j = col0 + 8u * tx;
    store_row(i + 0u, j, acc[0]);
    store_row(i + 0u, j + 4u, acc[1]);
    store_row(i + 1u, j, acc[2]);
    store_row(i + 1u, j + 4u, acc[3]);
    store_row(i + 2u, j, acc[4]);
    store_row(i + 2u, j + 4u, acc[5]);
    store_row(i + 3u, j, acc[6]);
    store_row(i + 3u, j + 4u, acc[7]);
    store_row(i + 4u, j, acc[8]);
    store_row(i + 4u, j + 4u, acc[9]);
    store_row(i + 5u, j, acc[10]);
    store_row(i + 5u, j + 4u, acc[11]);
    store_row(i + 6u, j, acc[12]);
    store_row(i + 6u, j + 4u, acc[13]);
    store_row(i + 7u, j, acc[14]);
    store_row(i + 7u, j + 4u, acc[15]);
}
