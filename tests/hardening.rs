//! Long-job hardening: many threads on one device, bitwise determinism, no growth over
//! 10,000 calls, NaN and infinity propagation, a lost device.

mod common;
use common::*;
use wgpu_loss::*;

/// Bits of every output of a fixed set of calls, for comparing runs.
fn fingerprint(dev: &Device, seed: u64) -> Vec<u32> {
    let mut rng = Rng::new(seed);
    let n = 10_007;
    let x = rng.vec(n, -3.0, 3.0);
    let y = rng.vec(n, 0.0, 1.0);
    let (rows, classes) = (301, 100);
    let logits = rng.vec(rows * classes, -8.0, 8.0);
    let labels: Vec<u32> = (0..rows).map(|_| rng.below(classes as u32)).collect();
    let t = |d: &[f32], s: &[usize]| Tensor::from_slice(dev, d, s).unwrap();
    let (px, py) = (t(&x, &[n]), t(&y, &[n]));
    let lt = Tensor::from_slice(dev, &labels, &[rows]).unwrap();
    let mut out = Vec::new();
    let mut push = |v: Vec<f32>| out.extend(v.iter().map(|f| f.to_bits()));
    push(
        mse_loss(&px, &py, Reduction::Mean)
            .unwrap()
            .to_vec()
            .unwrap(),
    );
    push(
        binary_cross_entropy_with_logits(&px, &py, Reduction::Sum)
            .unwrap()
            .to_vec()
            .unwrap(),
    );
    let (l, g) = CrossEntropyLoss::new()
        .label_smoothing(0.1)
        .forward_with_grad(&t(&logits, &[rows, classes]), &lt)
        .unwrap();
    push(l.to_vec().unwrap());
    push(g.to_vec().unwrap());
    out
}

#[test]
fn results_are_bitwise_identical_over_100_runs() {
    let first = fingerprint(device(), 80);
    for run in 1..100 {
        assert!(fingerprint(device(), 80) == first, "run {run} differs");
    }
}

#[test]
fn eight_threads_sharing_one_device_match_one_thread() {
    let dev = device();
    let mut rng = Rng::new(81);
    let n = 4_099;
    let x = rng.vec(n, -2.0, 2.0);
    let y = rng.vec(n, -2.0, 2.0);
    let (px, py) = (upload(&x, &[n]), upload(&y, &[n]));
    let want: Vec<u32> = (0..8)
        .map(|k| {
            let loss = HuberLoss::new()
                .delta(0.25 * (k + 1) as f32)
                .forward(&px, &py)
                .unwrap();
            scalar(&loss).to_bits()
        })
        .collect();
    std::thread::scope(|s| {
        for (k, &bits) in want.iter().enumerate() {
            let (px, py) = (px.clone(), py.clone());
            s.spawn(move || {
                let huber = HuberLoss::new().delta(0.25 * (k + 1) as f32);
                for i in 0..1000 {
                    let got = huber.forward(&px, &py).unwrap().to_vec::<f32>().unwrap()[0];
                    assert_eq!(got.to_bits(), bits, "thread {k}, call {i}");
                }
            });
        }
    });
    // The device still works for everyone afterwards.
    assert!(fingerprint(dev, 82).len() > 1);
}

fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

#[test]
fn ten_thousand_calls_do_not_grow_memory() {
    // A device of its own, so other tests' tensors do not count.
    let dev = Device::new().unwrap();
    let t = |d: &[f32], s: &[usize]| Tensor::from_slice(&dev, d, s).unwrap();
    let x = t(&[0.5; 3000], &[1000, 3]);
    let labels = Tensor::from_slice(&dev, &[1u32; 1000], &[1000]).unwrap();
    let call = || {
        let (l, g) = CrossEntropyLoss::new()
            .forward_with_grad(&x, &labels)
            .unwrap();
        l.to_vec::<f32>().unwrap();
        drop(g);
        mse_loss(&x, &x, Reduction::None)
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
    };
    for _ in 0..100 {
        call();
    }
    let counters = || dev.wgpu_device().get_internal_counters().hal;
    let (buffers, memory, rss) = (
        counters().buffers.read(),
        counters().buffer_memory.read(),
        resident_bytes(),
    );
    for _ in 0..10_000 {
        call();
    }
    dev.wgpu_device()
        .poll(wgpu::PollType::wait_indefinitely())
        .unwrap();
    let (buffers_after, memory_after) =
        (counters().buffers.read(), counters().buffer_memory.read());
    let rss_after = resident_bytes();
    eprintln!(
        "live buffers {buffers} -> {buffers_after}, buffer memory {memory} -> {memory_after}, \
         resident {} -> {} MiB",
        rss >> 20,
        rss_after >> 20
    );
    assert!(
        buffers > 0,
        "wgpu's counters are off: the test would prove nothing"
    );
    assert!(
        buffers_after <= buffers + 8,
        "buffers grew from {buffers} to {buffers_after}"
    );
    assert!(
        memory_after <= memory + (1 << 20),
        "GPU memory grew from {memory} to {memory_after}"
    );
    assert!(
        rss_after < rss + (64 << 20),
        "host memory grew by {} MiB",
        (rss_after - rss) >> 20
    );
}

#[test]
fn nan_and_infinity_propagate_like_pytorch() {
    let nan = upload(&[0.5, f32::NAN, 0.25, 0.75], &[4]);
    let ok = upload(&[0.5, 0.5, 0.5, 0.5], &[4]);
    let losses: Vec<(&str, Tensor)> = vec![
        ("mse", mse_loss(&nan, &ok, Reduction::Mean).unwrap()),
        ("l1", l1_loss(&nan, &ok, Reduction::Sum).unwrap()),
        ("huber", huber_loss(&nan, &ok, Reduction::Mean).unwrap()),
        (
            "smooth_l1",
            smooth_l1_loss(&nan, &ok, Reduction::Mean).unwrap(),
        ),
        (
            "bce",
            binary_cross_entropy(&nan, &ok, Reduction::Mean).unwrap(),
        ),
        (
            "bce_logits",
            binary_cross_entropy_with_logits(&nan, &ok, Reduction::Mean).unwrap(),
        ),
        ("kl_div", kl_div(&nan, &ok, KlReduction::Sum).unwrap()),
        ("mse target", mse_loss(&ok, &nan, Reduction::Mean).unwrap()),
    ];
    for (name, loss) in losses {
        assert!(
            scalar(&loss).is_nan(),
            "{name}: a NaN input must give a NaN loss"
        );
    }
    let logits = upload(&[0.5, f32::NAN, 0.25, 0.75], &[2, 2]);
    let labels = Tensor::from_slice(device(), &[0u32, 1], &[2]).unwrap();
    assert!(scalar(&cross_entropy(&logits, &labels, Reduction::Mean).unwrap()).is_nan());
    assert!(
        scalar(&nll_loss(&logits, &labels, Reduction::Mean).unwrap()).is_finite(),
        "NaN not at a label"
    );
    // Infinities: as PyTorch, an infinite error is an infinite loss.
    let inf = upload(&[f32::INFINITY, 0.0, 0.0, 0.0], &[4]);
    assert_eq!(
        scalar(&mse_loss(&inf, &ok, Reduction::Sum).unwrap()),
        f32::INFINITY
    );
    assert_eq!(
        scalar(&l1_loss(&inf, &ok, Reduction::Sum).unwrap()),
        f32::INFINITY
    );
    // +inf logit on the label: loss 0 - inf + inf = NaN in PyTorch too.
    let logits = upload(&[f32::INFINITY, 0.0], &[1, 2]);
    let zero = Tensor::from_slice(device(), &[0u32], &[1]).unwrap();
    assert!(scalar(&cross_entropy(&logits, &zero, Reduction::Mean).unwrap()).is_nan());
    // -inf on another class is fine: that class has probability 0.
    let logits = upload(&[1.0, f32::NEG_INFINITY], &[1, 2]);
    assert_eq!(
        scalar(&cross_entropy(&logits, &zero, Reduction::Mean).unwrap()),
        0.0
    );
}

#[test]
fn a_lost_device_gives_errors_not_panics() {
    let dev = Device::new().unwrap();
    let a = Tensor::from_slice(&dev, &[1.0f32; 8], &[8]).unwrap();
    let before = mse_loss(&a, &a, Reduction::Mean).unwrap();
    dev.wgpu_device().destroy();
    // wgpu reports the loss on its next poll: reading is the first thing to fail.
    let read = before.to_vec::<f32>();
    assert!(matches!(read, Err(Error::Gpu(_))), "{read:?}");
    let after = mse_loss(&a, &a, Reduction::Mean);
    assert!(
        matches!(after, Err(Error::Gpu(ref m)) if m.contains("lost")),
        "{after:?}"
    );
    assert!(matches!(
        Tensor::from_slice(&dev, &[1.0f32], &[1]),
        Err(Error::Gpu(_))
    ));
}
