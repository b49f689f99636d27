// Binary cross-entropy on probabilities p = x, targets y:
//   -(y log p + (1 - y) log(1 - p)), each log clamped at -100 as PyTorch does, so p = 0 and
//   p = 1 give finite losses.
// Derivative (p - y) / max(p (1 - p), 1e-12), PyTorch's clamp of the denominator.

// log(v), at least -100. The test is on v, not on log(v): `max(log(v), -100.0)`, or a select
// that compilers rewrite into one, may return -100 for a NaN v, and a NaN probability must
// give a NaN loss. Below the smallest normal f32 (where log(v) < -87.3) the result is -100,
// which differs from PyTorch only for subnormal v (PyTorch: log(v) down to -100).
fn clamped_log4(v: vec4<f32>) -> vec4<f32> {
    return select(log(v), vec4<f32>(-100.0), v < vec4<f32>(1.1754944e-38));
}

fn loss4(x: vec4<f32>, y: vec4<f32>, z: vec4<f32>, pw: vec4<f32>) -> vec4<f32> {
    return -(y * clamped_log4(x) + (1.0 - y) * clamped_log4(1.0 - x));
}

fn grad4(x: vec4<f32>, y: vec4<f32>, z: vec4<f32>, pw: vec4<f32>) -> vec4<f32> {
    let d = x * (1.0 - x);
    return (x - y) / select(d, vec4<f32>(1e-12), d < vec4<f32>(1e-12));
}
