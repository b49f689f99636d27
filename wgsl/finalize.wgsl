// Second pass of every reduction: one workgroup sums the per-workgroup partial sums that the
// first pass wrote, and divides by the mean's denominator.
//
// partials[0 .. count]           loss sums, one per workgroup of the first pass
// partials[count .. 2 * count]   denominator sums (weighted means only)
// result[0] = sum(loss sums) / (has_denom ? sum(denominator sums) : divisor)

struct FinalizeParams {
    count: u32,
    has_denom: u32,
    divisor: f32,
}

@group(0) @binding(0) var<uniform> fparams: FinalizeParams;
@group(0) @binding(1) var<storage, read> fpartials: array<f32>;
@group(0) @binding(2) var<storage, read_write> result: array<f32>;

@compute @workgroup_size(WG)
fn finalize(ids: Ids) {
    var num = 0.0;
    var den = 0.0;
    for (var i = ids.lid; i < fparams.count; i += WG) {
        num += fpartials[i];
        if fparams.has_denom != 0u {
            den += fpartials[fparams.count + i];
        }
    }
    let total = workgroup_sum(vec4<f32>(num, den, 0.0, 0.0), ids);
    if ids.lid == 0u {
        result[0] = total.x / select(fparams.divisor, total.y, fparams.has_denom != 0u);
    }
}
