//! Linear cross-entropy against the materialised path on the same adapter in the same
//! process: loss and the three gradients of `hidden [N, H] · classifier [V, H]ᵀ`, either by
//! `LinearCrossEntropyLoss` (chunks of tokens; the logits never whole) or by `Matmul` writing
//! the `[N, V]` logits, `cross_entropy` with its gradient, and the two gradient matmuls.
//!
//! `cargo bench --bench linear_ce` (both cases), or name one: `cargo bench --bench
//! linear_ce -- 128256`. Reports the median time per call over `WGPU_LOSS_REPS` calls
//! (default 3) after one untimed call, the rise in the process's peak resident memory during
//! that first call (Linux: device memory is process memory on a software adapter; on a GPU
//! only the host's share shows; both paths are warmed up on a small vocabulary first, so their
//! pipelines' compilation is not counted, and the inputs are uploaded before it), the memory
//! each path allocates by construction, and the logits matmul's GFLOP/s.

use std::time::Instant;

use wgpu_loss::{CrossEntropyLoss, Device, LinearCrossEntropyLoss, Matmul, Tensor};

/// Pseudo-random f32 in [lo, hi) (SplitMix64).
fn data(n: usize, lo: f32, hi: f32, seed: u64) -> Vec<f32> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let z = (s ^ (s >> 31)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            lo + (hi - lo) * ((z >> 40) as f32 / (1u64 << 24) as f32)
        })
        .collect()
}

/// `VmRSS` or `VmHWM` of this process in bytes (0 where /proc is missing).
fn status_bytes(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with(field))?.to_string();
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .map_or(0, |kib| kib * 1024)
}

/// Runs `call` once, returning its seconds and how far it raised the peak resident memory.
fn measure(call: &mut dyn FnMut()) -> (f64, u64) {
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let before = status_bytes("VmRSS:");
    let start = Instant::now();
    call();
    let took = start.elapsed().as_secs_f64();
    let raised = match reset {
        true => status_bytes("VmHWM:").saturating_sub(before),
        false => 0,
    };
    (took, raised)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1 << 20) as f64
}

fn wait(dev: &Device) {
    dev.wgpu_device()
        .poll(wgpu_loss::wgpu::PollType::wait_indefinitely())
        .expect("poll");
}

/// Loss and the three gradients by `LinearCrossEntropyLoss`; returns the loss.
fn fused(dev: &Device, hidden: &Tensor, classifier: &Tensor, labels: &Tensor) -> f32 {
    let (loss, grads) = LinearCrossEntropyLoss::new()
        .forward_with_grad(hidden, classifier, labels)
        .unwrap();
    let loss = loss.to_vec::<f32>().unwrap()[0];
    wait(dev);
    drop(grads);
    loss
}

/// The same by the materialised path: the logits, cross-entropy's gradient, two matmuls.
fn materialised(dev: &Device, hidden: &Tensor, classifier: &Tensor, labels: &Tensor) -> f32 {
    let logits = Matmul::new()
        .transpose_b(true)
        .forward(hidden, classifier)
        .unwrap();
    let (loss, dlogits) = CrossEntropyLoss::new()
        .forward_with_grad(&logits, labels)
        .unwrap();
    drop(logits);
    let dh = wgpu_loss::matmul(&dlogits, classifier).unwrap();
    let dw = Matmul::new()
        .transpose_a(true)
        .forward(&dlogits, hidden)
        .unwrap();
    let loss = loss.to_vec::<f32>().unwrap()[0];
    wait(dev);
    drop((dh, dw));
    loss
}

/// `[n, h]`, `[v, h]` and `n` labels.
fn inputs(dev: &Device, n: usize, h: usize, v: usize) -> (Tensor, Tensor, Tensor) {
    let hidden = Tensor::from_slice(dev, &data(n * h, -1.0, 1.0, 1), &[n, h]).unwrap();
    let classifier = Tensor::from_slice(dev, &data(v * h, -0.2, 0.2, 2), &[v, h]).unwrap();
    let labels: Vec<u32> = (0..n).map(|i| (i * 7919 % v) as u32).collect();
    let labels = Tensor::from_slice(dev, &labels, &[n]).unwrap();
    // The uploads wait in the queue until a submission; on a software adapter the copy is
    // what first touches the inputs' pages, so flush it here, not in the first measured call
    // (that counted the classifier, 125 MiB at V = 128,256, as the call's memory).
    dev.wgpu_queue().submit([]);
    wait(dev);
    (hidden, classifier, labels)
}

struct Row {
    case: String,
    fused: (f64, u64),
    materialised: (f64, u64),
    fused_alloc: u64,
    materialised_alloc: u64,
    matmul_gflops: f64,
    loss_diff: f64,
}

fn main() {
    let dev = Device::new().expect("no adapter for the benchmarks");
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let reps: usize = std::env::var("WGPU_LOSS_REPS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let mut rows = Vec::new();
    for (n, h, v) in [(4096, 256, 32_000), (1024, 256, 128_256)] {
        let case = format!("[{n} x {h}] x [{v} x {h}]");
        if !(args.is_empty() || args.iter().any(|a| case.contains(a.as_str()))) {
            continue;
        }
        // Both paths once on a small vocabulary first: their pipelines' compilation (about
        // 48 MiB on lavapipe, once per process) is then not counted as the call's memory,
        // and none of their buffers is of the measured calls' sizes, so none comes pooled.
        let (small_h, small_c, small_l) = inputs(&dev, 64, h, 1000);
        fused(&dev, &small_h, &small_c, &small_l);
        materialised(&dev, &small_h, &small_c, &small_l);
        let (hidden, classifier, labels) = inputs(&dev, n, h, v);
        let mut fused_loss = 0.0;
        let mut fused = || fused_loss = fused(&dev, &hidden, &classifier, &labels);
        let mut plain_loss = 0.0;
        let mut materialised = || plain_loss = materialised(&dev, &hidden, &classifier, &labels);
        let times = |call: &mut dyn FnMut()| {
            let (_, memory) = measure(call);
            let t = (0..reps).map(|_| measure(call).0).collect();
            (median(t), memory)
        };
        eprintln!("{case}: linear cross-entropy");
        let fused_row = times(&mut fused);
        eprintln!("{case}: materialised");
        let materialised_row = times(&mut materialised);
        let mut logits_only = || {
            let logits = Matmul::new()
                .transpose_b(true)
                .forward(&hidden, &classifier)
                .unwrap();
            wait(&dev);
            drop(logits);
        };
        let t = median((0..reps).map(|_| measure(&mut logits_only).0).collect());
        let scratch = (32u64 << 20) / (v as u64 * 4) / 64 * 64 * v as u64 * 4;
        let grads = 4 * (n * h + v * h) as u64;
        rows.push(Row {
            case,
            fused: fused_row,
            materialised: materialised_row,
            fused_alloc: scratch + grads + 8 * n as u64,
            materialised_alloc: 2 * 4 * (n * v) as u64 + grads,
            matmul_gflops: 2.0 * (n * v * h) as f64 / t / 1e9,
            loss_diff: (fused_loss - plain_loss).abs() as f64 / plain_loss.abs() as f64,
        });
    }
    println!("\nadapter: {}\n", dev.info());
    println!(
        "| case | linear CE / call | materialised / call | time ratio | peak rise: linear CE | materialised | memory ratio | allocated: linear CE | materialised | logits matmul GFLOP/s | loss rel. diff |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {:.2} s | {:.2} s | {:.2}x | {:.0} MiB | {:.0} MiB | {:.1}x | {:.0} MiB | {:.0} MiB | {:.2} | {:.0e} |",
            r.case,
            r.fused.0,
            r.materialised.0,
            r.fused.0 / r.materialised.0,
            mib(r.fused.1),
            mib(r.materialised.1),
            r.materialised.1 as f64 / r.fused.1.max(1) as f64,
            mib(r.fused_alloc),
            mib(r.materialised_alloc),
            r.matmul_gflops,
            r.loss_diff,
        );
    }
}
