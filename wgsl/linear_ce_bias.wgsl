// A linear cross-entropy's bias and its gradient: `dbias[c] += Σ_rows grad[row, c]` over one
// chunk of rows (the chunks add up in order: no atomics, the same bits every run).

@group(0) @binding(7) var<storage, read_write> dbias: array<f32>;

@compute @workgroup_size(WG)
// Builtins taken one by one, not as `Ids`: an entry that reads the subgroup builtins without a
// subgroup operation translates to GLSL that lacks the subgroup extension.
fn lce_bias(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let c = wid.x * WG + lid;
    if c >= params.classes {
        return;
    }
    var s = 0.0;
    for (var r = 0u; r < params.rows; r++) {
        s += logits[r * params.classes + c];
    }
    dbias[c] += s;
}
