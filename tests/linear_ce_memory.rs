//! The linear cross-entropy never holds the batch's logits: on a software adapter, where
//! device memory is process memory, one `forward_with_grad` at [4096 × 64] × [32000 × 64]
//! (500 MiB of f32 logits, as much again for their gradient) raises the process's peak
//! resident memory by less than an eighth of the logits, and the loss alone by less than a
//! 64th. Alone in its binary, so that no other test's memory counts.

mod common;

use common::{Rng, device};
use wgpu_loss::{DeviceType, LinearCrossEntropyLoss, Tensor};

/// `VmHWM` (peak resident) or `VmRSS` of this process, in bytes.
fn status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"));
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("a number of kB");
    kib * 1024
}

#[test]
#[cfg(target_os = "linux")]
fn peak_memory_stays_far_below_the_logits() {
    let dev = device();
    assert_eq!(
        dev.info().device_type,
        DeviceType::Cpu,
        "device memory is process memory on a software adapter only"
    );
    let (n, h, v) = (4096, 64, 32_000);
    let mut rng = Rng::new(1);
    let hidden = Tensor::from_slice(dev, &rng.vec(n * h, -1.0, 1.0), &[n, h]).unwrap();
    let classifier = Tensor::from_slice(dev, &rng.vec(v * h, -1.0, 1.0), &[v, h]).unwrap();
    let labels: Vec<u32> = (0..n).map(|_| rng.below(v as u32)).collect();
    let labels = Tensor::from_slice(dev, &labels, &[n]).unwrap();
    // Pipelines compiled (their memory is not the call's) by small calls first.
    let small = Tensor::from_slice(dev, &[0.5f32; 64], &[1, 64]).unwrap();
    let one = Tensor::from_slice(dev, &[3u32], &[1]).unwrap();
    let (l, _) = LinearCrossEntropyLoss::new()
        .forward_with_grad(&small, &classifier, &one)
        .unwrap();
    l.to_vec::<f32>().unwrap();
    let l = LinearCrossEntropyLoss::new()
        .forward(&small, &classifier, &one)
        .unwrap();
    l.to_vec::<f32>().unwrap();
    let logits = (n * v * 4) as u64;
    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    // Linux resets the peak to the current resident size on "5".
    let peak_rise = |call: &dyn Fn()| {
        std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak");
        let before = status_bytes("VmRSS:");
        call();
        status_bytes("VmHWM:").saturating_sub(before)
    };
    // The loss alone keeps its logits on chip: a partial per row and band of tiles, 2 MiB.
    // First, so that no buffer the pool kept from the other call serves it.
    let raised = peak_rise(&|| {
        let loss = LinearCrossEntropyLoss::new()
            .forward(&hidden, &classifier, &labels)
            .unwrap();
        assert!(loss.to_vec::<f32>().unwrap()[0].is_finite());
    });
    eprintln!(
        "the loss alone raised the peak by {:.1} MiB ({:.1}x less than the logits)",
        mib(raised),
        logits as f64 / raised.max(1) as f64
    );
    assert!(raised < logits / 64, "peak raised by {raised} bytes");
    let raised = peak_rise(&|| {
        let (loss, _grads) = LinearCrossEntropyLoss::new()
            .forward_with_grad(&hidden, &classifier, &labels)
            .unwrap();
        assert!(loss.to_vec::<f32>().unwrap()[0].is_finite());
    });
    eprintln!(
        "with the gradients, peak raised by {:.1} MiB; the logits alone are {:.1} MiB ({:.1}x)",
        mib(raised),
        mib(logits),
        logits as f64 / raised.max(1) as f64
    );
    assert!(raised < logits / 8, "peak raised by {raised} bytes");
}
