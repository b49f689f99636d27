// Where an element of the input finds its weight, for weights of a shape broadcast to the
// input's (src/kernels/broadcast.rs): element `e` reads index Σ ((e / div) % mod) · stride
// over three runs of dimensions; an unused run has div = mod = 1 and stride 0.

fn broadcast_index(e: u32, div: vec3<u32>, modulus: vec3<u32>, stride: vec3<u32>) -> u32 {
    let parts = (vec3<u32>(e) / div) % modulus * stride;
    return parts.x + parts.y + parts.z;
}

// The weight (`weight_broadcast.wgsl`) of element `e`.
fn w_index(e: u32) -> u32 {
    return broadcast_index(
        e,
        vec3<u32>(params.w_div0, params.w_div1, params.w_div2),
        vec3<u32>(params.w_mod0, params.w_mod1, params.w_mod2),
        vec3<u32>(params.w_stride0, params.w_stride1, params.w_stride2),
    );
}

// The positive-class weight (`pos_weight.wgsl`) of element `e`.
fn pw_index(e: u32) -> u32 {
    return broadcast_index(
        e,
        vec3<u32>(params.pw_div0, params.pw_div1, params.pw_div2),
        vec3<u32>(params.pw_mod0, params.pw_mod1, params.pw_mod2),
        vec3<u32>(params.pw_stride0, params.pw_stride1, params.pw_stride2),
    );
}

// The indices in the whole input of the four elements of vec4 `i` of this chunk; lanes past
// the input's end repeat its last element (their loss is masked out).
fn element4(i: u32) -> vec4<u32> {
    let e = params.origin + 4u * i;
    let last = params.origin + params.n - 1u;
    return min(vec4<u32>(e, e + 1u, e + 2u, e + 3u), vec4<u32>(last));
}
