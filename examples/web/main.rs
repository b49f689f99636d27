//! wgpu-loss in a web page: the seed losses and a few training steps of a tiny classifier,
//! computed by the browser's WebGPU and written into the page.
//!
//! Build and serve (see README.md, "In the browser"):
//! ```text
//! cargo build --release --example web --target wasm32-unknown-unknown
//! wasm-bindgen --target web --out-dir examples/web/pkg \
//!     target/wasm32-unknown-unknown/release/examples/web.wasm
//! python3 -m http.server -d examples/web 8000   # then open http://localhost:8000
//! ```
#![cfg(target_arch = "wasm32")]

use wasm_bindgen::prelude::*;
use wgpu_loss::*;

/// Appends a line to the page's `<pre id="out">` (and to the console).
fn show(line: &str) {
    web_sys::console::log_1(&line.into());
    let out = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("out"));
    if let Some(out) = out {
        out.append_with_str_1(&format!("{line}\n")).ok();
    }
}

#[wasm_bindgen(start)]
fn start() {
    wasm_bindgen_futures::spawn_local(async {
        if let Err(e) = run().await {
            show(&format!("error: {e}"));
        }
    });
}

async fn run() -> Result<(), Error> {
    let dev = Device::new_async().await?;
    show(&format!("adapter: {}", dev.info()));

    let pred = Tensor::from_slice(&dev, &[2.5f32, 0.5, 2.1, 1.9], &[4])?;
    let target = Tensor::from_slice(&dev, &[3.0f32, 0.0, 2.0, 2.0], &[4])?;
    let mse = mse_loss(&pred, &target, Reduction::Mean)?
        .to_vec_async::<f32>()
        .await?[0];
    show(&format!(
        "mse_loss (mean)      = {mse:.6}   (expected 0.13)"
    ));

    let logits = Tensor::from_slice(&dev, &[1.2f32, 0.9, 0.1, 0.4, 1.5, 1.1], &[2, 3])?;
    let labels = Tensor::from_slice(&dev, &[0u32, 2], &[2])?;
    let ce = cross_entropy(&logits, &labels, Reduction::Mean)?;
    let ce = ce.to_vec_async::<f32>().await?[0];
    show(&format!(
        "cross_entropy (mean) = {ce:.6} (expected 0.912035)"
    ));

    train(&dev).await
}

/// Softmax regression on three Gaussian blobs in the plane: the logits X W + b on the CPU
/// (the model is tiny), the cross-entropy and its gradient on the GPU, then a step of
/// gradient descent with dW = X^T dL/dlogits.
async fn train(dev: &Device) -> Result<(), Error> {
    const N: usize = 96;
    const C: usize = 3;
    let centres = [(-2.0f32, 0.0f32), (2.0, 1.0), (0.0, -2.5)];
    let mut seed = 1u32;
    let mut noise = move || {
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5
    };
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for i in 0..N {
        let (cx, cy) = centres[i % C];
        x.push([cx + 4.0 * noise(), cy + 4.0 * noise()]);
        y.push((i % C) as u32);
    }
    let labels = Tensor::from_slice(dev, &y, &[N])?;
    let (mut w, mut b) = ([[0.0f32; C]; 2], [0.0f32; C]);
    let loss_fn = CrossEntropyLoss::new();
    for step in 0..=30 {
        let logits: Vec<f32> = x
            .iter()
            .flat_map(|p| (0..C).map(move |c| (p, c)))
            .map(|(p, c)| p[0] * w[0][c] + p[1] * w[1][c] + b[c])
            .collect();
        let logits = Tensor::from_slice(dev, &logits, &[N, C])?;
        let (loss, grad) = loss_fn.forward_with_grad(&logits, &labels)?;
        let mut read = Tensor::read_many_async::<f32>(&[&loss, &grad]).await?;
        let (g, loss) = (read.pop().unwrap_or_default(), read[0][0]);
        let correct = g
            .chunks(C)
            .zip(&y)
            // With the mean's 1/N, the label's gradient is (p_y - 1) / N: p_y > 1/2 is right.
            .filter(|(row, label)| row[**label as usize] * N as f32 + 1.0 > 0.5)
            .count();
        if step % 5 == 0 {
            show(&format!(
                "step {step:2}: loss {loss:.4}, p(label) > 1/2 for {correct}/{N}"
            ));
        }
        let lr = 0.5;
        for (p, row) in x.iter().zip(g.chunks(C)) {
            for c in 0..C {
                w[0][c] -= lr * p[0] * row[c];
                w[1][c] -= lr * p[1] * row[c];
                b[c] -= lr * row[c];
            }
        }
    }
    Ok(())
}
