// A linear cross-entropy's bias and its gradient: `dbias[c] += Σ_rows grad[row, c]` over one
// chunk of rows (the chunks add up in order: no atomics, the same bits every run).

@group(0) @binding(7) var<storage, read_write> dbias: array<f32>;

@compute @workgroup_size(WG)
fn lce_bias(ids: Ids, group: Group) {
    let c = group.id.x * WG + ids.lid;
    if c >= params.classes {
        return;
    }
    var s = 0.0;
    for (var r = 0u; r < params.rows; r++) {
        s += logits[r * params.classes + c];
    }
    dbias[c] += s;
}
