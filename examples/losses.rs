//! The main job: open the best adapter, compute the seed losses on it, print them.
//!
//! `cargo run --release --example losses` (pick the API with `WGPU_BACKEND=vulkan` or `gl`).

use wgpu_loss::{Device, Reduction, Tensor};

fn main() -> Result<(), wgpu_loss::Error> {
    let dev = Device::new()?;
    println!("adapter: {}", dev.info());
    println!("subgroup reduction: {}", dev.uses_subgroups());

    let pred = Tensor::from_slice(&dev, &[2.5f32, 0.5, 2.1, 1.9], &[4])?;
    let target = Tensor::from_slice(&dev, &[3.0f32, 0.0, 2.0, 2.0], &[4])?;
    let mse = wgpu_loss::mse_loss(&pred, &target, Reduction::Mean)?.to_vec::<f32>()?[0];
    println!("mse_loss (mean)             = {mse:.6}   (expected 0.13)");

    let logits = Tensor::from_slice(&dev, &[1.2f32, 0.9, 0.1, 0.4, 1.5, 1.1], &[2, 3])?;
    let labels = Tensor::from_slice(&dev, &[0u32, 2], &[2])?;
    let ce = wgpu_loss::cross_entropy(&logits, &labels, Reduction::Mean)?.to_vec::<f32>()?[0];
    println!("cross_entropy (mean)        = {ce:.6} (expected 0.912035)");

    let probs = Tensor::from_slice(&dev, &[0.9f32, 0.2], &[2])?;
    let y = Tensor::from_slice(&dev, &[1.0f32, 0.0], &[2])?;
    let bce = wgpu_loss::binary_cross_entropy(&probs, &y, Reduction::Sum)?.to_vec::<f32>()?[0];
    println!("binary_cross_entropy (sum)  = {bce:.6} (expected 0.328504)");
    Ok(())
}
