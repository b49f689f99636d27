// The gradient's scale is 1 / the mean's denominator, summed by an earlier pass
// (`ce_denominator` and `finalize`) into `scale_in[0]`: the weights of the rows that count.

@group(0) @binding(4) var<storage, read> scale_in: array<f32>;

fn grad_scale() -> f32 {
    return 1.0 / scale_in[0];
}
