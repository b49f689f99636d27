// Class weights of cross-entropy and NLL: one per class.

@group(0) @binding(3) var<storage, read> class_weight: array<f32>;

fn weight_of(c: u32) -> f32 {
    return class_weight[c];
}
