// Per-element weights of a shape broadcast to the input's: f32, bound whole, each element
// reading its weight at `w_index` (broadcast.wgsl).

@group(0) @binding(3) var<storage, read> w_data: array<f32>;

fn load_w(i: u32) -> vec4<f32> {
    let e = element4(i);
    return vec4<f32>(
        w_data[w_index(e.x)],
        w_data[w_index(e.y)],
        w_data[w_index(e.z)],
        w_data[w_index(e.w)],
    );
}
