//! Linear cross-entropy against the materialised path on the same adapter in the same
//! process, `hidden [N, H] · classifier [V, H]ᵀ`:
//! - loss and the three gradients, by `LinearCrossEntropyLoss` (chunks of tokens; the logits
//!   never whole) or by `Matmul` writing the `[N, V]` logits, `cross_entropy` with its
//!   gradient, and the two gradient matmuls;
//! - the loss alone, by `LinearCrossEntropyLoss::forward` (tiles of logits folded on chip) or
//!   by the logits matmul and `cross_entropy`;
//! - loss and gradients with Cut Cross-Entropy's gradient filter (`filter_eps` 2⁻¹²) or
//!   without, on a peaked softmax (asked for by name only: `-- filter`).
//!
//! `cargo bench --bench linear_ce` (both cases, both tables), or name a case or a table:
//! `cargo bench --bench linear_ce -- 128256 alone`. Reports the median time per call over
//! `WGPU_LOSS_REPS` calls (default 3) after one untimed call, the rise in the process's peak
//! resident memory during that first call (Linux: device memory is process memory on a
//! software adapter; on a GPU only the host's share shows; both paths are warmed up on a small
//! vocabulary first, so their pipelines' compilation is not counted, and the inputs are
//! uploaded before it), the memory each path allocates by construction, and GFLOP/s. The
//! memory ratio divides the materialised path's rise by the linear CE's rise or, where that is
//! less (memory the process already held served it), by what it allocates.

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

/// Loss and the three gradients by `module`; returns the loss.
fn with_grads(dev: &Device, module: LinearCrossEntropyLoss, inputs: [&Tensor; 3]) -> f32 {
    let [hidden, classifier, labels] = inputs;
    let (loss, grads) = module
        .forward_with_grad(hidden, classifier, labels)
        .unwrap();
    let loss = loss.to_vec::<f32>().unwrap()[0];
    wait(dev);
    drop(grads);
    loss
}

/// Loss and the three gradients by `LinearCrossEntropyLoss`.
fn fused(dev: &Device, hidden: &Tensor, classifier: &Tensor, labels: &Tensor) -> f32 {
    with_grads(
        dev,
        LinearCrossEntropyLoss::new(),
        [hidden, classifier, labels],
    )
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

/// The same with Cut Cross-Entropy's gradient filter at 2⁻¹².
fn fused_filtered(dev: &Device, hidden: &Tensor, classifier: &Tensor, labels: &Tensor) -> f32 {
    let module = LinearCrossEntropyLoss::new().filter_eps(2f32.powi(-12));
    with_grads(dev, module, [hidden, classifier, labels])
}

/// The loss alone by `LinearCrossEntropyLoss::forward`.
fn fused_loss(dev: &Device, hidden: &Tensor, classifier: &Tensor, labels: &Tensor) -> f32 {
    let loss = LinearCrossEntropyLoss::new()
        .forward(hidden, classifier, labels)
        .unwrap();
    let loss = loss.to_vec::<f32>().unwrap()[0];
    wait(dev);
    loss
}

/// The loss alone by the materialised path: the logits, then cross-entropy.
fn materialised_loss(dev: &Device, hidden: &Tensor, classifier: &Tensor, labels: &Tensor) -> f32 {
    let logits = Matmul::new()
        .transpose_b(true)
        .forward(hidden, classifier)
        .unwrap();
    let loss = CrossEntropyLoss::new().forward(&logits, labels).unwrap();
    let loss = loss.to_vec::<f32>().unwrap()[0];
    wait(dev);
    loss
}

/// `[n, h]`, `[v, h]` and `n` labels.
/// The classifier's entries lie in `[-w, w]`: logits of standard deviation about `5.3 w` at
/// H = 256.
fn inputs(dev: &Device, (n, h, v): (usize, usize, usize), w: f32) -> (Tensor, Tensor, Tensor) {
    let hidden = Tensor::from_slice(dev, &data(n * h, -1.0, 1.0, 1), &[n, h]).unwrap();
    let classifier = Tensor::from_slice(dev, &data(v * h, -w, w, 2), &[v, h]).unwrap();
    let labels: Vec<u32> = (0..n).map(|i| (i * 7919 % v) as u32).collect();
    let labels = Tensor::from_slice(dev, &labels, &[n]).unwrap();
    // The uploads wait in the queue until a submission; on a software adapter the copy is
    // what first touches the inputs' pages, so flush it here, not in the first measured call
    // (that counted the classifier, 125 MiB at V = 128,256, as the call's memory).
    dev.wgpu_queue().submit([]);
    wait(dev);
    (hidden, classifier, labels)
}

/// One comparison of the two paths.
struct Row {
    case: String,
    fused: (f64, u64),
    materialised: (f64, u64),
    fused_alloc: u64,
    materialised_alloc: u64,
    /// Of the linear CE and of the materialised path.
    gflops: (f64, f64),
    loss_diff: f64,
}

type Path = fn(&Device, &Tensor, &Tensor, &Tensor) -> f32;

/// The classifier's scale of the first two tables: logits of standard deviation about 1, a
/// softmax spread over the vocabulary (an untrained head).
const SPREAD: f32 = 0.2;
/// The filter's table: logits of standard deviation about 10, a softmax on a few classes
/// (as a trained head's), where most of the gradient is below 2⁻¹². With a spread softmax the
/// filter skips nearly nothing: at 32,000 classes about 0.7% of the entries stay above 2⁻¹²,
/// so almost every 64 × 16 slice holds one.
const PEAKED: f32 = 2.0;

/// Times both paths on one case: the median of `reps` calls after a first that gives the
/// memory. Returns their times and memory, and the two losses' relative difference.
fn compare(
    dev: &Device,
    (n, h, v): (usize, usize, usize),
    w: f32,
    (fused, materialised): (Path, Path),
    reps: usize,
) -> ((f64, u64), (f64, u64), f64) {
    // Both paths once on a small vocabulary first: their pipelines' compilation (about
    // 48 MiB on lavapipe, once per process) is then not counted as the call's memory, and
    // none of their buffers is of the measured calls' sizes, so none comes pooled.
    let (small_h, small_c, small_l) = inputs(dev, (64, h, 1000), w);
    fused(dev, &small_h, &small_c, &small_l);
    materialised(dev, &small_h, &small_c, &small_l);
    let (hidden, classifier, labels) = inputs(dev, (n, h, v), w);
    let mut losses = [0.0f32; 2];
    let mut rows = [(0.0, 0); 2];
    for (i, path) in [fused, materialised].into_iter().enumerate() {
        let mut call = || losses[i] = path(dev, &hidden, &classifier, &labels);
        let (_, memory) = measure(&mut call);
        let t = (0..reps).map(|_| measure(&mut call).0).collect();
        rows[i] = (median(t), memory);
    }
    let diff = (losses[0] - losses[1]).abs() as f64 / losses[1].abs() as f64;
    (rows[0], rows[1], diff)
}

/// Prints a table of rows comparing path `a` (`Row::fused`) with path `b`.
fn print(title: &str, (a, b): (&str, &str), rows: Vec<Row>) {
    if rows.is_empty() {
        return;
    }
    println!("\n{title}\n");
    println!(
        "| case | {a} / call | {b} / call | time ratio | peak rise: {a} | {b} | memory ratio | allocated: {a} | {b} | GFLOP/s: {a} | {b} | loss rel. diff |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {:.2} s | {:.2} s | {:.2}x | {:.1} MiB | {:.0} MiB | {:.1}x | {:.1} MiB | {:.0} MiB | {:.2} | {:.2} | {:.0e} |",
            r.case,
            r.fused.0,
            r.materialised.0,
            r.fused.0 / r.materialised.0,
            mib(r.fused.1),
            mib(r.materialised.1),
            r.materialised.1 as f64 / r.fused.1.max(r.fused_alloc) as f64,
            mib(r.fused_alloc),
            mib(r.materialised_alloc),
            r.gflops.0,
            r.gflops.1,
            r.loss_diff,
        );
    }
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
    let tables = ["grads", "alone", "filter"];
    // A table named runs; none named, all but the filter's.
    let none_named = !args.iter().any(|a| tables.contains(&a.as_str()));
    let wanted = |t: &str| (none_named && t != "filter") || args.iter().any(|a| a == t);
    let cases: Vec<&String> = args
        .iter()
        .filter(|a| !tables.contains(&a.as_str()))
        .collect();
    let (mut with_grads, mut alone, mut filtered) = (Vec::new(), Vec::new(), Vec::new());
    for (n, h, v) in [(4096, 256, 32_000), (1024, 256, 128_256)] {
        let case = format!("[{n} x {h}] x [{v} x {h}]");
        if !(cases.is_empty() || cases.iter().any(|a| case.contains(a.as_str()))) {
            continue;
        }
        let logits = 4 * (n * v) as u64;
        let flops = 2.0 * (n * v * h) as f64;
        // With the gradients: a chunk's logits (whole tiles of tokens in 32 MiB), the two
        // gradients, the row losses.
        let scratch = (32u64 << 20) / (v as u64 * 4) / 64 * 64 * v as u64 * 4;
        let grads = 4 * (n * h + v * h) as u64;
        let with_grads_alloc = scratch + grads + 8 * n as u64;
        if wanted("grads") {
            eprintln!("{case}: loss and gradients");
            let (fused_row, materialised_row, diff) =
                compare(&dev, (n, h, v), SPREAD, (fused, materialised), reps);
            with_grads.push(Row {
                case: case.clone(),
                fused: fused_row,
                materialised: materialised_row,
                fused_alloc: with_grads_alloc,
                materialised_alloc: 2 * logits + grads,
                // Three products of the logits' size: the logits and the two gradients.
                gflops: (
                    3.0 * flops / fused_row.0 / 1e9,
                    3.0 * flops / materialised_row.0 / 1e9,
                ),
                loss_diff: diff,
            });
        }
        if wanted("filter") {
            eprintln!("{case}: the gradient filter");
            let (filtered_row, plain_row, diff) =
                compare(&dev, (n, h, v), PEAKED, (fused_filtered, fused), reps);
            filtered.push(Row {
                case: case.clone(),
                fused: filtered_row,
                materialised: plain_row,
                fused_alloc: with_grads_alloc,
                materialised_alloc: with_grads_alloc,
                gflops: (
                    3.0 * flops / filtered_row.0 / 1e9,
                    3.0 * flops / plain_row.0 / 1e9,
                ),
                loss_diff: diff,
            });
        }
        if wanted("alone") {
            eprintln!("{case}: the loss alone");
            let (fused_row, materialised_row, diff) = compare(
                &dev,
                (n, h, v),
                SPREAD,
                (fused_loss, materialised_loss),
                reps,
            );
            // A partial (16 bytes) per token and band of 16 tiles of 64 classes, and the
            // losses; against the logits and the losses.
            let partials = 16 * n as u64 * v.div_ceil(64 * 16) as u64;
            alone.push(Row {
                case,
                fused: fused_row,
                materialised: materialised_row,
                fused_alloc: partials + 12 * n as u64,
                materialised_alloc: logits + 8 * n as u64,
                gflops: (flops / fused_row.0 / 1e9, flops / materialised_row.0 / 1e9),
                loss_diff: diff,
            });
        }
    }
    println!("\nadapter: {}", dev.info());
    let paths = ("linear CE", "materialised");
    let title = "Loss and the three gradients (GFLOP/s of the three products)";
    print(title, paths, with_grads);
    print(
        "The loss alone (GFLOP/s of the logits' product)",
        paths,
        alone,
    );
    let title =
        "The gradient filter, filter_eps 2^-12, peaked softmax (GFLOP/s of the three products)";
    print(title, ("filtered", "unfiltered"), filtered);
}
