//! One billion elements, on the adapter's own limits: far past one storage binding (128 MiB
//! on the software adapters), so the loss runs in chunks whose partial sums one reduction
//! combines. bf16 keeps each input (2 GB) under the software adapters' 2 GiB buffer limit; an
//! f32 billion needs an adapter whose buffers reach 4 GB. A file of its own, so that no other
//! test holds memory beside its 4 GB.

mod common;
use wgpu_loss::half::bf16;
use wgpu_loss::*;

#[test]
fn mse_over_a_billion_bf16_elements() {
    let dev = common::device();
    let n = 1_000_000_000;
    // Periodic data, so the f64 reference is one period's sum times the periods; y differs
    // in the last period, so a chunk summed twice or skipped changes the result.
    let period = 1000;
    let x_block: Vec<bf16> = (0..period)
        .map(|i| bf16::from_f32((i as f32 - 500.0) / 64.0))
        .collect();
    let x = Tensor::from_slice(dev, &x_block.repeat(n / period), &[n]).unwrap();
    let mut y_data = vec![bf16::from_f32(0.25); n];
    y_data[n - period..].fill(bf16::from_f32(-3.0));
    let y = Tensor::from_slice(dev, &y_data, &[n]).unwrap();
    drop(y_data);
    assert!(x.buffer().size() > 8 * dev.max_binding_size());

    let sq = |yv: f64| -> f64 {
        x_block
            .iter()
            .map(|v| (v.to_f64() - yv).powi(2))
            .sum::<f64>()
    };
    let want = sq(0.25) * (n / period - 1) as f64 + sq(-3.0);
    let sum = MseLoss::new()
        .reduction(Reduction::Sum)
        .forward(&x, &y)
        .unwrap();
    let mean = MseLoss::new().forward(&x, &y).unwrap();
    let [sum, mean] = [sum, mean].map(|t| t.to_vec::<f32>().unwrap()[0] as f64);
    approx::assert_relative_eq!(sum, want, max_relative = 1e-5);
    approx::assert_relative_eq!(mean, want / n as f64, max_relative = 1e-5);
}
