//! Misuse and device faults come back as `Error`s: never a panic, an abort, or a silent
//! wrong number. Each test is a reproduction of a failure found by trying the crate as a
//! hostile user would.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::Rng;
use wgpu_loss::half::f16;
use wgpu_loss::{
    CrossEntropyLoss, DType, Device, DeviceOptions, Error, MseLoss, Reduction, Tensor,
    cross_entropy, mse_loss, wgpu,
};

const USAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);

fn buffer(dev: &Device, bytes: u64) -> wgpu::Buffer {
    dev.wgpu_device().create_buffer(&wgpu::BufferDescriptor {
        label: Some("caller's"),
        size: bytes,
        usage: USAGE,
        mapped_at_creation: false,
    })
}

/// A failure part-way through a call must not pop wgpu's error scopes out of order (wgpu
/// panics then): f16 logits with a tiny binding limit went through that path.
#[test]
fn a_tiny_binding_limit_with_half_logits_works() {
    let dev = Device::with_options(DeviceOptions::new().max_binding_size(32)).unwrap();
    let logits = Tensor::from_slice(&dev, &[f16::from_f32(0.5); 4], &[4, 1]).unwrap();
    let labels = Tensor::from_slice(&dev, &[0u32; 4], &[4]).unwrap();
    let (loss, grad) = CrossEntropyLoss::new()
        .forward_with_grad(&logits, &labels)
        .unwrap();
    assert_eq!(loss.to_vec::<f32>().unwrap(), vec![0.0]);
    assert_eq!(grad.to_vec::<f16>().unwrap(), vec![f16::ZERO; 4]);
}

/// Shapes whose bytes overflow are refused, not wrapped round to a small size.
#[test]
fn byte_counts_that_overflow_are_errors() {
    let dev = common::device();
    assert_eq!(Tensor::required_bytes(&[1 << 62], DType::F32), u64::MAX);
    assert_eq!(
        Tensor::required_bytes(&[usize::MAX, 2], DType::F16),
        u64::MAX
    );
    let err = Tensor::from_buffer(dev, buffer(dev, 16), &[1 << 62], DType::F32).unwrap_err();
    assert!(matches!(err, Error::Shape(_)), "{err}");
    let err = Tensor::from_buffer(dev, buffer(dev, 16), &[1 << 61, 8], DType::BF16).unwrap_err();
    assert!(matches!(err, Error::Shape(_)), "{err}");
    let err = Tensor::from_slice::<f32>(dev, &[], &[1 << 62, 4]).unwrap_err();
    assert!(matches!(err, Error::Shape(_)), "{err}");
}

/// Reading after the caller destroyed its own device, or the buffer behind a tensor, is an
/// error: not a panic in the caller's error handler, and not zeros.
#[test]
fn destroyed_devices_and_buffers_are_errors() {
    let ours = Device::new().unwrap();
    let (d, q) = (ours.wgpu_device().clone(), ours.wgpu_queue().clone());
    let theirs = Device::from_wgpu(d.clone(), q);
    let x = Tensor::from_slice(&theirs, &[1.0f32, 2.0], &[2]).unwrap();
    let b = buffer(&theirs, 16);
    theirs
        .wgpu_queue()
        .write_buffer(&b, 0, bytemuck::cast_slice(&[1.0f32; 4]));
    let wrapped = Tensor::from_buffer(&theirs, b.clone(), &[4], DType::F32).unwrap();
    b.destroy();
    assert!(
        wrapped.to_vec::<f32>().is_err(),
        "a destroyed buffer read as data"
    );

    d.destroy();
    let read = mse_loss(&x, &x, Reduction::Sum).and_then(|l| l.to_vec::<f32>());
    assert!(read.is_err(), "{read:?}");
}

/// A device destroyed while another thread records: every call of that thread returns, with
/// a value or an error.
#[test]
fn a_device_destroyed_while_another_thread_records_is_an_error() {
    for trial in 0..4 {
        let dev = Device::new().unwrap();
        let mut rng = Rng::new(trial);
        let logits = Tensor::from_slice(&dev, &rng.vec(64 * 100, -3.0, 3.0), &[64, 100]).unwrap();
        let labels: Vec<u32> = (0..64).map(|_| rng.below(100)).collect();
        let labels = Tensor::from_slice(&dev, &labels, &[64]).unwrap();
        let started = Arc::new(AtomicBool::new(false));
        let worker = {
            let started = started.clone();
            std::thread::spawn(move || {
                for _ in 0..50 {
                    started.store(true, Ordering::Release);
                    let loss = CrossEntropyLoss::new().forward_with_grad(&logits, &labels);
                    let _ = loss.and_then(|(l, _)| l.to_vec::<f32>());
                }
            })
        };
        while !started.load(Ordering::Acquire) {
            std::thread::yield_now();
        }
        std::thread::sleep(std::time::Duration::from_millis(2 * trial));
        dev.wgpu_device().destroy();
        assert!(worker.join().is_ok(), "the recording thread panicked");
    }
}

/// Half-precision logits whose rows are not a multiple of the binding alignment, chunked:
/// chunk starts must be aligned for two-byte elements.
#[test]
fn half_logits_chunk_at_aligned_starts() {
    let mut rng = Rng::new(5);
    let (n, c) = (400, 3);
    let x = rng.vec(n * c, -4.0, 4.0);
    let labels: Vec<u32> = (0..n).map(|_| rng.below(c as u32)).collect();
    let halves: Vec<f16> = x.iter().map(|&v| f16::from_f32(v)).collect();
    let whole = common::device();
    let small = Device::with_options(DeviceOptions::new().max_binding_size(3936)).unwrap();
    let mut results = Vec::new();
    for dev in [whole, &small] {
        let logits = Tensor::from_slice(dev, &halves, &[n, c]).unwrap();
        let labels = Tensor::from_slice(dev, &labels, &[n]).unwrap();
        let ce = CrossEntropyLoss::new().reduction(Reduction::None);
        let (loss, grad) = ce.forward_with_grad(&logits, &labels).unwrap();
        results.push((loss.to_vec::<f32>().unwrap(), grad.to_vec::<f16>().unwrap()));
    }
    // Per-row losses and gradients do not depend on the chunking at all.
    assert_eq!(results[0], results[1]);
    let want: Vec<f64> = (0..n)
        .map(|r| {
            let row: Vec<f64> = (0..c).map(|k| halves[r * c + k].to_f64()).collect();
            let m = row.iter().cloned().fold(f64::MIN, f64::max);
            let lse = m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
            lse - row[labels[r] as usize]
        })
        .collect();
    for (got, want) in results[0].0.iter().zip(&want) {
        assert!(
            (*got as f64 - want).abs() <= 1e-5 * want.abs().max(1.0),
            "{got} vs {want}"
        );
    }
}

/// One sample larger than what the planner used to insist on (8 samples a chunk), but within
/// one binding: it is one chunk, not an error.
#[test]
fn one_large_sample_within_a_binding_is_computed() {
    let dev = common::device();
    let c = 5_000_000;
    let mut x = vec![0.0f32; c];
    x[123] = 2.0;
    let logits = Tensor::from_slice(dev, &x, &[1, c]).unwrap();
    let labels = Tensor::from_slice(dev, &[123u32], &[1]).unwrap();
    let loss = cross_entropy(&logits, &labels, Reduction::Mean).unwrap();
    let want = ((c - 1) as f64 + 2f64.exp()).ln() - 2.0;
    let got = loss.to_vec::<f32>().unwrap()[0] as f64;
    assert!((got - want).abs() < 1e-5 * want, "{got} vs {want}");
}

/// A loss recorded into the caller's encoder and read before that encoder is submitted is an
/// error (it read stale pooled memory before); after the submission it reads right.
#[test]
fn reading_before_the_callers_submission_is_an_error() {
    let dev = common::device();
    let x = Tensor::from_slice(dev, &[1.0f32, 1.0], &[2]).unwrap();
    let y = Tensor::from_slice(dev, &[0.0f32, 3.0], &[2]).unwrap();
    let mut encoder = dev
        .wgpu_device()
        .create_command_encoder(&Default::default());
    let mse = MseLoss::new().reduction(Reduction::Sum);
    let (loss, grad) = mse.record_with_grad(&mut encoder, &x, &y).unwrap();
    assert_eq!(loss.to_vec::<f32>(), Err(Error::NotSubmitted));
    assert_eq!(grad.to_vec::<f32>(), Err(Error::NotSubmitted));
    dev.wgpu_queue().submit([encoder.finish()]);
    assert_eq!(loss.to_vec::<f32>().unwrap(), vec![5.0]);
    assert_eq!(grad.to_vec::<f32>().unwrap(), vec![2.0, -4.0]);
}
