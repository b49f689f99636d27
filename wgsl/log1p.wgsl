// log(1 + r) for r >= 0 without losing the digits of a small r. WGSL has no log1p, and its
// log is only accurate to 2^-21 absolute near 1 (llvmpipe's is no better), which is all of a
// small loss. Below r = 1: log1p(r) = 2 atanh(z), z = r / (2 + r) <= 1/3, by its odd series
// (truncation error < z^17 / 17, under 1e-9 relative).
fn log1p(r: f32) -> f32 {
    if r >= 1.0 {
        return log(1.0 + r);
    }
    let z = r / (2.0 + r);
    let z2 = z * z;
    var series = 1.0 / 15.0;
    series = series * z2 + 1.0 / 13.0;
    series = series * z2 + 1.0 / 11.0;
    series = series * z2 + 1.0 / 9.0;
    series = series * z2 + 1.0 / 7.0;
    series = series * z2 + 1.0 / 5.0;
    series = series * z2 + 1.0 / 3.0;
    series = series * z2 + 1.0;
    return 2.0 * z * series;
}
