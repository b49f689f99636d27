// Positive-class weights of BCE with logits: f32, of a shape broadcast to the input's, each
// element reading its weight at `pw_index` (broadcast.wgsl).

@group(0) @binding(7) var<storage, read> pos_weight: array<f32>;

// The positive-class weights of the four elements of vec4 i.
fn pos_weight4(i: u32) -> vec4<f32> {
    let e = element4(i);
    return vec4<f32>(
        pos_weight[pw_index(e.x)],
        pos_weight[pw_index(e.y)],
        pos_weight[pw_index(e.z)],
        pos_weight[pw_index(e.w)],
    );
}
