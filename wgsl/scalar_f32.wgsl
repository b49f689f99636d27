// An f32 input read one element at a time (cross-entropy's logits and probability targets).
// Its name and binding are filled in when the module is composed.

@group(0) @binding(BINDING) var<storage, read> NAME_data: array<f32>;

fn load_NAME(i: u32) -> f32 {
    return NAME_data[i];
}
