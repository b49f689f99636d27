use wgpu_loss::{Device, Reduction, Tensor};
fn main() {
    let dev = Device::new().unwrap();
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap())
        .collect();
    let (rows, classes) = (args[0], args[1]);
    let mut s = 3u64;
    let x: Vec<f32> = (0..rows * classes)
        .map(|_| {
            s = s.wrapping_add(0x9E3779B97F4A7C15);
            let z = (s ^ (s >> 31)).wrapping_mul(0xBF58476D1CE4E5B9);
            -10.0 + 20.0 * ((z >> 40) as f32 / (1u64 << 24) as f32)
        })
        .collect();
    let labels: Vec<u32> = (0..rows).map(|i| (i * 7919 % classes) as u32).collect();
    let lt = Tensor::from_slice(&dev, &x, &[rows, classes]).unwrap();
    let lb = Tensor::from_slice(&dev, &labels, &[rows]).unwrap();
    let none = wgpu_loss::cross_entropy(&lt, &lb, Reduction::None)
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    let mut worst = (0.0f64, 0usize);
    for r in 0..rows {
        let row = &x[r * classes..][..classes];
        let m = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
        let s: f64 = row.iter().map(|&v| (v as f64 - m).exp()).sum();
        let want = m + s.ln() - row[labels[r] as usize] as f64;
        let e = (none[r] as f64 - want).abs();
        if e > worst.0 {
            worst = (e, r);
        }
        if e > 1e-3 {
            println!(
                "bad row {r}: got {} want {want} label {}",
                none[r], labels[r]
            );
        }
    }
    println!(
        "rows {rows} classes {classes}: worst abs err {:.3e} at row {}",
        worst.0, worst.1
    );
    let row = &x[worst.1 * classes..][..classes];
    let (m, r) = emulate(row);
    let mm = row.iter().fold(f64::NEG_INFINITY, |a, &v| a.max(v as f64));
    let s: f64 = row.iter().map(|&v| (v as f64 - mm).exp()).sum();
    println!(
        "emulated m {m} r {r}; f64 m {mm} s-1 {}; count of max {}",
        s - 1.0,
        row.iter().filter(|&&v| v as f64 == mm).count()
    );
}
#[allow(dead_code)]
pub fn emulate(row: &[f32]) -> (f32, f32) {
    let (mut m, mut r) = (-3.4028235e38f32, 0.0f32);
    for &v in row {
        let e = (-(v - m).abs()).exp();
        let nr = if v > m { (r + 1.0) * e } else { r + e };
        m = m.max(v);
        r = nr;
    }
    (m, r)
}
