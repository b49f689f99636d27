// Binary cross-entropy on probabilities p = x, targets y:
//   -(y log p + (1 - y) log(1 - p)), each log clamped at -100 as PyTorch does, so p = 0 and
//   p = 1 give finite losses.
// Derivative (p - y) / max(p (1 - p), 1e-12), PyTorch's clamp of the denominator.

fn loss4(x: vec4<f32>, y: vec4<f32>) -> vec4<f32> {
    let log_p = max(log(x), vec4<f32>(-100.0));
    let log_1mp = max(log(1.0 - x), vec4<f32>(-100.0));
    return -(y * log_p + (1.0 - y) * log_1mp);
}

fn grad4(x: vec4<f32>, y: vec4<f32>) -> vec4<f32> {
    return (x - y) / max(x * (1.0 - x), vec4<f32>(1e-12));
}
