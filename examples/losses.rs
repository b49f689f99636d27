//! The main job: open the best adapter, compute the losses on it, print them.
//!
//! `cargo run --release --example losses` (pick the API with `WGPU_BACKEND=vulkan` or `gl`).

use wgpu_loss::half::bf16;
use wgpu_loss::*;

fn main() -> Result<(), Error> {
    let dev = Device::new()?;
    println!("adapter: {}", dev.info());
    println!("subgroup reduction: {}", dev.uses_subgroups());
    let scalar = |t: Tensor| -> Result<f32, Error> { Ok(t.to_vec::<f32>()?[0]) };

    let pred = Tensor::from_slice(&dev, &[2.5f32, 0.5, 2.1, 1.9], &[4])?;
    let target = Tensor::from_slice(&dev, &[3.0f32, 0.0, 2.0, 2.0], &[4])?;
    let mse = scalar(mse_loss(&pred, &target, Reduction::Mean)?)?;
    println!("mse_loss (mean)                     = {mse:.6}   (expected 0.13)");

    let logits = Tensor::from_slice(&dev, &[1.2f32, 0.9, 0.1, 0.4, 1.5, 1.1], &[2, 3])?;
    let labels = Tensor::from_slice(&dev, &[0u32, 2], &[2])?;
    let ce = scalar(cross_entropy(&logits, &labels, Reduction::Mean)?)?;
    println!("cross_entropy (mean)                = {ce:.6} (expected 0.912035)");

    let probs = Tensor::from_slice(&dev, &[0.9f32, 0.2], &[2])?;
    let y = Tensor::from_slice(&dev, &[1.0f32, 0.0], &[2])?;
    let bce = scalar(binary_cross_entropy(&probs, &y, Reduction::Sum)?)?;
    println!("binary_cross_entropy (sum)          = {bce:.6} (expected 0.328504)");

    println!(
        "l1_loss (mean)                      = {:.6}",
        scalar(l1_loss(&pred, &target, Reduction::Mean)?)?
    );
    println!(
        "huber_loss (mean, delta 1)          = {:.6}",
        scalar(huber_loss(&pred, &target, Reduction::Mean)?)?
    );
    let bcel = binary_cross_entropy_with_logits(&pred, &probs_like(&dev)?, Reduction::Mean)?;
    println!("binary_cross_entropy_with_logits    = {:.6}", scalar(bcel)?);
    let smoothed = CrossEntropyLoss::new().label_smoothing(0.1);
    let (loss, grad) = smoothed.forward_with_grad(&logits, &labels)?;
    println!(
        "cross_entropy (smoothing 0.1)       = {:.6}, gradient {:?}",
        scalar(loss)?,
        grad.to_vec::<f32>()?
    );
    let half_logits: Vec<bf16> = [1.2f32, 0.9, 0.1, 0.4, 1.5, 1.1]
        .map(bf16::from_f32)
        .to_vec();
    let half = Tensor::from_slice(&dev, &half_logits, &[2, 3])?;
    println!(
        "cross_entropy (bf16 logits)         = {:.6}",
        scalar(cross_entropy(&half, &labels, Reduction::Mean)?)?
    );
    // The same logits as hidden states [2, 3] times an identity classifier [3, 3].
    let eye = Tensor::from_slice(
        &dev,
        &[1.0f32, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
        &[3, 3],
    )?;
    let lce = scalar(linear_cross_entropy(
        &logits,
        &eye,
        &labels,
        Reduction::Mean,
    )?)?;
    println!("linear_cross_entropy (mean)         = {lce:.6} (expected 0.912035)");
    // Timed before the first call: the grid this device's passes use.
    if let Some(calibration) = dev.calibration() {
        println!("{calibration}");
    }
    Ok(())
}

/// Targets in [0, 1] for the logits loss.
fn probs_like(dev: &Device) -> Result<Tensor, Error> {
    Tensor::from_slice(dev, &[1.0f32, 0.0, 1.0, 1.0], &[4])
}
