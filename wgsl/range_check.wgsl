// BCE's check of its inputs, as PyTorch's: every probability and every target must lie in
// [0, 1] ("all elements of input should be between 0 and 1"). The first element outside (by
// index; at one index the probability before the target) is recorded in `status`, a word the
// host zeroed, as u32::MAX - (2 index + which), which = 0 for the probability and 1 for the
// target, with an atomicMax; the host reports it when the result is read. Indices from
// 2^31 - 2 on are recorded as 2^31 - 2, so that the word never wraps to 0. NaN passes the check
// (its loss is NaN), unlike PyTorch, which refuses it too.

@group(0) @binding(8) var<storage, read_write> status: array<atomic<u32>>;

const LAST_FLAGGED: u32 = 0x7ffffffeu;

fn outside_unit4(v: vec4<f32>) -> vec4<bool> {
    return (v < vec4<f32>(0.0)) | (v > vec4<f32>(1.0));
}

// Checks the probabilities `x` and targets `y` of vec4 `i`; lanes past the end are not valid.
fn check_range4(i: u32, x: vec4<f32>, y: vec4<f32>, valid: vec4<bool>) {
    let bad_x = outside_unit4(x) & valid;
    let bad = bad_x | (outside_unit4(y) & valid);
    if !any(bad) {
        return;
    }
    for (var k = 0u; k < 4u; k++) {
        if bad[k] {
            let index = min(params.first + 4u * i + k, LAST_FLAGGED);
            let which = select(1u, 0u, bad_x[k]);
            atomicMax(&status[0], 0xffffffffu - (2u * index + which));
            return;
        }
    }
}
