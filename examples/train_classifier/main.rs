//! Trains a softmax classifier on a synthetic data set, on the GPU: the example's own WGSL
//! kernels make the logits and take the SGD step, wgpu-loss gives the cross-entropy and its
//! gradient. Only the loss is read back, every few epochs.
//!
//! `cargo run --release --example train_classifier`

mod model;

fn main() -> Result<(), wgpu_loss::Error> {
    let dev = wgpu_loss::Device::new()?;
    println!("adapter: {}", dev.info());
    let data = model::Data::synthetic(4096, 9, 5, 7);
    let report = model::train(&dev, &data, 300, 0.05, 25)?;
    for (epoch, loss) in &report.losses {
        println!("epoch {epoch:4}  cross-entropy {loss:.6}");
    }
    println!(
        "accuracy {:.1}% on {} samples",
        100.0 * report.accuracy,
        data.n
    );
    Ok(())
}
