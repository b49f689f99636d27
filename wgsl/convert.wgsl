// Rounds an f32 gradient to the input's half precision, once, four elements at a time:
// `store_grad` of `grad_f16.wgsl` or `grad_bf16.wgsl` (binding 6) does the rounding and
// packing.

struct ConvertParams {
    n4: u32,   // vec4s to convert
}

@group(0) @binding(0) var<uniform> cparams: ConvertParams;
@group(0) @binding(1) var<storage, read> source: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn convert(ids: Ids, group: Group) {
    for (var i = group.id.x * WG + ids.lid; i < cparams.n4; i += group.count.x * WG) {
        store_grad(i, source[i]);
    }
}
