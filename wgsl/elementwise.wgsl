// Driver for the element-wise losses (MSE, L1, Huber, smooth L1, BCE, BCE with logits, KL
// divergence, soft margin, log-cosh, hinge embedding, hinge, Poisson NLL, sigmoid focal).
//
// The module is composed (src/kernels/elementwise.rs) from this driver and parts that define:
//   load_x, load_y, load_w   the inputs x (binding 1), y (2) and weights w (3), as vec4<f32>
//                            (`input_*.wgsl`; `weight_broadcast.wgsl` for weights of another
//                            shape; `input_one.wgsl` where there are no weights)
//   pos_weight4              positive-class weights (`pos_weight.wgsl`, binding 7, or 1)
//   w_index, pw_index        where broadcast weights are found (`broadcast.wgsl`, always)
//   store_out, WRITE_OUT     the per-element loss (`elementwise_out.wgsl`, binding 5, or none)
//   load_z                   a third input z (binding 9) of the losses of three inputs
//                            (margin ranking's second input, Gaussian NLL's variance), or 1
//   store_grad, WRITE_grad   the gradient in x (`grad_*.wgsl`, binding 6, or `grad_none.wgsl`)
//   store_grad2, WRITE_grad2 the gradient in z (`grad_*.wgsl`, binding 10, or none)
//   check_range4             BCE's check that probabilities and targets lie in [0, 1]
//                            (`range_check.wgsl`, binding 8, or `range_check_none.wgsl`)
// so a binding exists only in the modules that use it. The loss file defines, on four
// elements at a time:
//   fn loss4(x: vec4<f32>, y: vec4<f32>, z: vec4<f32>, pw: vec4<f32>) -> vec4<f32>   the per-element loss
//   fn grad4(x: vec4<f32>, y: vec4<f32>, z: vec4<f32>, pw: vec4<f32>) -> vec4<f32>   its derivative in x
// where pw are the elements' positive-class weights (BCE with logits; 1 when unset); it may
// read `params` and call the NaN helpers below.
// One pass reads x and y once, as vec4, in tiles of `span` vec4s taken in a grid-stride
// loop over tiles; it writes, as asked, the per-element loss, the gradient, and one partial
// sum per tile for `finalize` (or, when the whole input is one tile, the result itself).
// A tile is summed in a fixed order whatever the grid (plan.rs, `Tiling`).
// Tensors are padded to a multiple of four elements; lanes past `n` count as zero.

struct ElementwiseParams {
    n: u32,           // number of elements
    n4: u32,          // number of vec4 = ceil(n / 4)
    partial_base: u32,// first slot of this dispatch in `partials`
    grad_scale: f32,  // 1 / the reduction's divisor (1 for none and sum)
    delta: f32,       // Huber's delta, smooth L1's beta, hinge embedding's margin
    eps: f32,         // Poisson and Gaussian NLL's eps
    alpha: f32,       // sigmoid focal loss's alpha (negative: none)
    gamma: f32,       // sigmoid focal loss's gamma
    divisor: f32,     // FINAL: the reduction's divisor
    first: u32,       // index of its first element, at most 2^31 - 2 (range_check.wgsl)
    span: u32,        // vec4s in a tile
    tiles: u32,       // tiles in this chunk: ceil(n4 / span)
    origin: u32,      // index of its first element where weights broadcast (broadcast.wgsl)
    // How broadcast weights (w_) and positive-class weights (pw_) map to elements: per run
    // of dimensions, div, mod and stride (broadcast.wgsl).
    w_div0: u32, w_div1: u32, w_div2: u32,
    w_mod0: u32, w_mod1: u32, w_mod2: u32,
    w_stride0: u32, w_stride1: u32, w_stride2: u32,
    pw_div0: u32, pw_div1: u32, pw_div2: u32,
    pw_mod0: u32, pw_mod1: u32, pw_mod2: u32,
    pw_stride0: u32, pw_stride1: u32, pw_stride2: u32,
}

// The call's options, fixed when the pipeline is built, so the compiler drops every branch
// a call does not take (on llvmpipe that made MSE a quarter faster than runtime flags).
override LOG_TARGET: bool = false;   // KL divergence: targets are log-probabilities
override FINAL: bool = false;        // one tile in all: write sum / divisor to partials[0]
// Each invocation writes its own sum of a tile (WG partials per tile) instead of the
// workgroup reducing the tile: no barrier inside the loop over tiles, which a software
// adapter runs as a coroutine at a third of the speed.
override LANE_PARTIALS: bool = false;
override LOG_INPUT: bool = false;    // Poisson NLL: the input is log(rate)
override FULL: bool = false;         // Poisson NLL: Stirling's term; Gaussian NLL: log(2 pi) / 2

@group(0) @binding(0) var<uniform> params: ElementwiseParams;
@group(0) @binding(4) var<storage, read_write> partials: array<f32>;

// Whether each lane is NaN, read from its bits: WGSL leaves sign(NaN), min and max of NaN
// undefined, and a compiler that assumes no NaN may fold the float test v != v to false.
fn is_nan4(v: vec4<f32>) -> vec4<bool> {
    return (bitcast<vec4<u32>>(v) & vec4<u32>(0x7fffffffu)) > vec4<u32>(0x7f800000u);
}

// `value`, or v where v is NaN: puts back a NaN that max or min may have dropped.
fn keep_nan4(value: vec4<f32>, v: vec4<f32>) -> vec4<f32> {
    return select(value, v, is_nan4(v));
}

// sign(v) (0 at 0), and NaN where v is NaN.
fn sign_or_nan4(v: vec4<f32>) -> vec4<f32> {
    return select(sign(v), v, is_nan4(v));
}

@compute @workgroup_size(WG)
fn elementwise(ids: Ids, group: Group) {
    let span = params.span;
    var last = vec4<f32>(0.0);
    for (var t = group.id.x; t < params.tiles; t += group.count.x) {
        var acc = vec4<f32>(0.0);
        let end = min((t + 1u) * span, params.n4);
        for (var i = t * span + ids.lid; i < end; i += WG) {
            let xi = load_x(i);
            let yi = load_y(i);
            let base = 4u * i;
            let valid = vec4<u32>(base, base + 1u, base + 2u, base + 3u) < vec4<u32>(params.n);
            check_range4(i, xi, yi, valid);
            let zi = load_z(i);
            let weight = load_w(i);
            let pw = pos_weight4(i);
            let l = select(vec4<f32>(0.0), weight * loss4(xi, yi, zi, pw), valid);
            acc += l;
            if WRITE_OUT {
                store_out(i, l);
            }
            if WRITE_grad {
                store_grad(i, select(vec4<f32>(0.0), (params.grad_scale * weight) * grad4(xi, yi, zi, pw), valid));
            }
            if WRITE_grad2 {
                store_grad2(i, select(vec4<f32>(0.0), (params.grad_scale * weight) * grad4_z(xi, yi, zi, pw), valid));
            }
        }
        if LANE_PARTIALS {
            if !FINAL {
                partials[(params.partial_base + t) * WG + ids.lid] = (acc.x + acc.y) + (acc.z + acc.w);
            }
            last = acc;
        } else {
            let total = workgroup_sum(acc, ids);
            if ids.lid == 0u {
                let sum = (total.x + total.y) + (total.z + total.w);
                if FINAL {
                    partials[0] = sum / params.divisor;
                } else {
                    partials[params.partial_base + t] = sum;
                }
            }
        }
    }
    // One tile in all: its invocations' sums, reduced once the loop is over.
    if LANE_PARTIALS && FINAL {
        let total = workgroup_sum(last, ids);
        if ids.lid == 0u {
            partials[0] = ((total.x + total.y) + (total.z + total.w)) / params.divisor;
        }
    }
}
