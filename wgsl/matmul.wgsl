// A tiled matrix product in f32: c = a · b (or c += a · b) over one block of the output, one
// 64 × 64 tile of c per workgroup (`matmul_tile.wgsl`).
//
// Loops per invocation: 25 per step of 16 along k, so a block of k = 16,384 stays under Mesa's
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
    skip_zero: u32,
}

@group(0) @binding(0) var<uniform> params: MatmulParams;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

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

@compute @workgroup_size(64)
fn matmul(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) group: vec3<u32>) {
    let tile = group.x + params.tile_base;
    let row0 = (tile / params.tiles_n) * TILE;
    let col0 = (tile % params.tiles_n) * TILE;
    let acc = tile_product(lid, row0, col0);
    let i = row0 + 8u * (lid / 8u);
    let j = col0 + 8u * (lid % 8u);
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
