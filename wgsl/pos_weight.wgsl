// Positive-class weights of BCE with logits: one per index of the input's last dimension.

@group(0) @binding(7) var<storage, read> pos_weight: array<f32>;

// The positive-class weights of the four elements of vec4 i.
fn pos_weight4(i: u32) -> vec4<f32> {
    let base = params.class_offset + 4u * i;
    let c = params.classes;
    return vec4<f32>(
        pos_weight[base % c],
        pos_weight[(base + 1u) % c],
        pos_weight[(base + 2u) % c],
        pos_weight[(base + 3u) % c],
    );
}
