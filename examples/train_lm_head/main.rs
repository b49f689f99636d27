//! Trains a tiny language model's output head with the linear cross-entropy: the loss and the
//! gradients of the classifier and bias come from `LinearCrossEntropyLoss`, the SGD step from
//! the example's own kernel, in one submission per step; the `[tokens, vocabulary]` logits are
//! never made.
//!
//! `cargo run --release --example train_lm_head`

mod head;

fn main() -> Result<(), wgpu_loss::Error> {
    let dev = wgpu_loss::Device::new()?;
    println!("adapter: {}", dev.info());
    let data = head::Data::toy(512, 64, 32, 2000);
    let losses = head::train(&dev, &data, 60, 4.0)?;
    for (step, loss) in losses.iter().enumerate().step_by(10) {
        println!("step {step:3}  linear cross-entropy {loss:.4}");
    }
    println!(
        "step {:3}  linear cross-entropy {:.4}",
        losses.len() - 1,
        losses[losses.len() - 1]
    );
    Ok(())
}
