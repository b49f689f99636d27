//! Throughput of the losses against a plain single-threaded CPU loop run in the same process
//! on the same data, so the ratio holds on a noisy machine.
//!
//! `cargo bench --bench losses` (all cases), or name cases: `cargo bench --bench losses -- mse`.
//! Each timed call is the loss forward plus reading the scalar back (a full round trip).
//! Criterion measures both sides; at the end a Markdown table gives the median time per call,
//! GB/s (bytes the loss must read), elements/s and the ratio CPU time / GPU time (above 1:
//! the GPU is faster). Where the adapter has timestamp queries, the kernel columns give the
//! GPU time of the call's passes alone (`Device::time_kernels`), without submission and
//! readback.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput};
use wgpu_loss::half::{bf16, f16};
use wgpu_loss::{Device, DeviceOptions, Element, Grid, Reduction, Tensor};

/// Median seconds per call of each (case, side), from criterion's own samples.
static SAMPLES: Mutex<BTreeMap<(String, &'static str), Vec<f64>>> = Mutex::new(BTreeMap::new());

fn record(case: &str, side: &'static str, iters: u64, mut call: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        call();
    }
    keep(case, side, start.elapsed(), iters)
}

/// Keeps one criterion sample: `took` for `iters` calls.
fn keep(case: &str, side: &'static str, took: Duration, iters: u64) -> Duration {
    SAMPLES
        .lock()
        .unwrap()
        .entry((case.to_string(), side))
        .or_default()
        .push(took.as_secs_f64() / iters as f64);
    took
}

/// Pseudo-random f32 in [lo, hi) (SplitMix64), fast enough for 128M values.
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

fn cpu_mse(x: &[f32], y: &[f32]) -> f32 {
    x.iter().zip(y).map(|(a, b)| (a - b) * (a - b)).sum::<f32>() / x.len() as f32
}

fn cpu_bce(p: &[f32], y: &[f32]) -> f32 {
    let total: f32 = p
        .iter()
        .zip(y)
        .map(|(&p, &y)| -(y * p.ln().max(-100.0) + (1.0 - y) * (1.0 - p).ln().max(-100.0)))
        .sum();
    total / p.len() as f32
}

fn cpu_ce(x: &[f32], labels: &[u32], classes: usize) -> f32 {
    let total: f32 = x
        .chunks(classes)
        .zip(labels)
        .map(|(row, &y)| {
            let m = row.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
            let s: f32 = row.iter().map(|&v| (v - m).exp()).sum();
            m + s.ln() - row[y as usize]
        })
        .sum();
    total / labels.len() as f32
}

struct Case {
    name: String,
    elements: usize,
    bytes: u64,
}

/// The mean of `f` over `n` terms, accumulated in f64: the check of both sides' results (the
/// plain f32 loop drifts by 1e-3 at 1M elements and by 10% at 16M).
fn mean64(n: usize, f: impl Fn(usize) -> f64) -> f64 {
    (0..n).map(f).sum::<f64>() / n as f64
}

/// MSE in f64, the reference of both sides.
fn mse64(x: &[f32], y: &[f32]) -> f64 {
    mean64(x.len(), |i| (x[i] as f64 - y[i] as f64).powi(2))
}

/// Cross-entropy of `[labels.len() x classes]` logits in f64, with a stable log-sum-exp.
fn ce64(x: &[f32], labels: &[u32], classes: usize) -> f64 {
    mean64(labels.len(), |r| {
        let row = &x[r * classes..][..classes];
        let m = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
        let s: f64 = row.iter().map(|&v| (v as f64 - m).exp()).sum();
        m + s.ln() - row[labels[r] as usize] as f64
    })
}

/// The scalar a loss call returned, read back.
fn scalar(loss: wgpu_loss::Result<Tensor>) -> f32 {
    loss.unwrap().to_vec::<f32>().unwrap()[0]
}

fn bench_case(
    dev: &Device,
    c: &mut Criterion,
    case: Case,
    want: f64,
    mut gpu: impl FnMut() -> f32,
    mut cpu: impl FnMut() -> f32,
) {
    let (g, plain) = (gpu(), cpu());
    let (err, cpu_err) = ((g as f64 - want) / want, (plain as f64 - want) / want);
    assert!(err.abs() < 1e-5, "{}: GPU {g} vs f64 {want}", case.name);
    ERRORS.lock().unwrap().push((err.abs(), cpu_err.abs()));
    let mut group = c.benchmark_group(&case.name);
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(measurement_time())
        .throughput(Throughput::Bytes(case.bytes));
    let name = case.name.clone();
    group.bench_function("wgpu-loss", |b| {
        b.iter_custom(|iters| {
            record(&name, "gpu", iters, || {
                black_box(gpu());
            })
        })
    });
    group.bench_function("cpu", |b| {
        b.iter_custom(|iters| {
            record(&name, "cpu", iters, || {
                black_box(cpu());
            })
        })
    });
    // Where the adapter has timestamp queries: the same calls, timed by the GPU's clock
    // (each waits for its passes, so the round trip above runs untimed).
    if dev.time_kernels(true) {
        group.bench_function("kernel", |b| {
            b.iter_custom(|iters| {
                let before = dev.kernel_time();
                for _ in 0..iters {
                    black_box(gpu());
                }
                keep(&name, "kernel", dev.kernel_time() - before, iters)
            })
        });
        dev.time_kernels(false);
    }
    group.finish();
    CASES.lock().unwrap().push(case);
}

/// Criterion's measurement time per function: `WGPU_LOSS_BENCH_MS` milliseconds, for quick
/// sweeps, else 2 s.
fn measurement_time() -> Duration {
    let ms = std::env::var("WGPU_LOSS_BENCH_MS")
        .ok()
        .and_then(|v| v.parse().ok());
    Duration::from_millis(ms.unwrap_or(2000))
}

static CASES: Mutex<Vec<Case>> = Mutex::new(Vec::new());
/// Relative error against f64 of (wgpu-loss, the CPU loop), per case.
static ERRORS: Mutex<Vec<(f64, f64)>> = Mutex::new(Vec::new());

const SIZES: [(&str, usize); 6] = [
    ("4", 4),
    ("1K", 1 << 10),
    ("64K", 1 << 16),
    ("1M", 1 << 20),
    ("16M", 1 << 24),
    ("64M", 1 << 26),
];

/// A loss added for PyTorch's and MLX's names: the call, and its per-element formula in f64
/// (the reference) and in f32 (the plain CPU loop).
type Pointwise = (
    &'static str,
    fn(&Tensor, &Tensor, Reduction) -> wgpu_loss::Result<Tensor>,
    fn(f64, f64) -> f64,
    fn(f32, f32) -> f32,
);

/// One row per added element-wise loss at 16M elements, x in (0, 1), y in [0, 1).
fn pointwise_benches(c: &mut Criterion, dev: &Device, filter: &dyn Fn(&str) -> bool) {
    let losses: [Pointwise; 6] = [
        (
            "soft_margin",
            wgpu_loss::soft_margin_loss,
            |x, y| (-y * x).exp().ln_1p(),
            |x, y| (-y * x).exp().ln_1p(),
        ),
        (
            "log_cosh",
            wgpu_loss::log_cosh_loss,
            |x, y| (x - y).cosh().ln(),
            |x, y| (x - y).cosh().ln(),
        ),
        (
            "hinge_embedding",
            wgpu_loss::hinge_embedding_loss,
            |x, y| x + (1.0 - x).max(0.0) * f64::from(y != 1.0),
            |x, y| x + (1.0 - x).max(0.0) * f32::from(u8::from(y != 1.0)),
        ),
        (
            "hinge",
            wgpu_loss::hinge_loss,
            |x, y| (1.0 - x * y).max(0.0),
            |x, y| (1.0 - x * y).max(0.0),
        ),
        (
            "poisson_nll",
            wgpu_loss::poisson_nll_loss,
            |x, y| x.exp() - y * x,
            |x, y| x.exp() - y * x,
        ),
        (
            "sigmoid_focal",
            wgpu_loss::sigmoid_focal_loss,
            |x, y| {
                let p = 1.0 / (1.0 + (-x).exp());
                let ce = x.max(0.0) - x * y + (-x.abs()).exp().ln_1p();
                let q = p * (1.0 - y) + (1.0 - p) * y;
                (0.25 * y + 0.75 * (1.0 - y)) * ce * q * q
            },
            |x, y| {
                let p = 1.0 / (1.0 + (-x).exp());
                let ce = x.max(0.0) - x * y + (-x.abs()).exp().ln_1p();
                let q = p * (1.0 - y) + (1.0 - p) * y;
                (0.25 * y + 0.75 * (1.0 - y)) * ce * q * q
            },
        ),
    ];
    let n = 1 << 24;
    let names: Vec<String> = losses.iter().map(|l| format!("{}/16M", l.0)).collect();
    if !names.iter().any(|name| filter(name)) {
        return;
    }
    let x = data(n, 0.001, 0.999, 1);
    let y = data(n, 0.0, 1.0, 2);
    let (tx, ty) = (
        Tensor::from_slice(dev, &x, &[n]).unwrap(),
        Tensor::from_slice(dev, &y, &[n]).unwrap(),
    );
    for ((_, gpu, f64_loss, f32_loss), name) in losses.into_iter().zip(names) {
        if !filter(&name) {
            continue;
        }
        let want = mean64(n, |i| f64_loss(x[i] as f64, y[i] as f64));
        let case = Case {
            name,
            elements: n,
            bytes: 8 * n as u64,
        };
        let read = || scalar(gpu(&tx, &ty, Reduction::Mean));
        let cpu = || x.iter().zip(&y).map(|(&a, &b)| f32_loss(a, b)).sum::<f32>() / n as f32;
        bench_case(dev, c, case, want, read, cpu);
    }
}

fn benches(c: &mut Criterion, dev: &Device, filter: &dyn Fn(&str) -> bool) {
    for (label, n) in SIZES {
        let (name_mse, name_bce) = (format!("mse/{label}"), format!("bce/{label}"));
        if !filter(&name_mse) && !filter(&name_bce) {
            continue;
        }
        let x = data(n, 0.001, 0.999, 1);
        let y = data(n, 0.0, 1.0, 2);
        let (tx, ty) = (
            Tensor::from_slice(dev, &x, &[n]).unwrap(),
            Tensor::from_slice(dev, &y, &[n]).unwrap(),
        );
        let bytes = 8 * n as u64;
        if filter(&name_mse) {
            let read = || scalar(wgpu_loss::mse_loss(&tx, &ty, Reduction::Mean));
            let want = mse64(&x, &y);
            bench_case(
                dev,
                c,
                Case {
                    name: name_mse,
                    elements: n,
                    bytes,
                },
                want,
                read,
                || cpu_mse(&x, &y),
            );
        }
        if filter(&name_bce) {
            let read = || scalar(wgpu_loss::binary_cross_entropy(&tx, &ty, Reduction::Mean));
            let want = mean64(n, |i| {
                let (p, t) = (x[i] as f64, y[i] as f64);
                -(t * p.ln() + (1.0 - t) * (1.0 - p).ln())
            });
            bench_case(
                dev,
                c,
                Case {
                    name: name_bce,
                    elements: n,
                    bytes,
                },
                want,
                read,
                || cpu_bce(&x, &y),
            );
        }
    }
    pointwise_benches(c, dev, filter);
    let mut ce_cases: Vec<(String, usize, usize)> = SIZES
        .iter()
        .map(|&(label, n)| (format!("ce/{label}"), n / n.min(1024), n.min(1024)))
        .collect();
    ce_cases.push(("ce/1024x32000".into(), 1024, 32_000));
    ce_cases.push(("ce/4096x32000".into(), 4096, 32_000));
    ce_cases.push(("ce/1024x128256".into(), 1024, 128_256));
    for (name, rows, classes) in ce_cases {
        if !filter(&name) {
            continue;
        }
        let x = data(rows * classes, -10.0, 10.0, 3);
        let labels: Vec<u32> = (0..rows).map(|i| (i * 7919 % classes) as u32).collect();
        let logits = Tensor::from_slice(dev, &x, &[rows, classes]).unwrap();
        let lab = Tensor::from_slice(dev, &labels, &[rows]).unwrap();
        let read = || scalar(wgpu_loss::cross_entropy(&logits, &lab, Reduction::Mean));
        let case = Case {
            name,
            elements: rows * classes,
            bytes: 4 * (rows * classes + rows) as u64,
        };
        let want = ce64(&x, &labels, classes);
        bench_case(dev, c, case, want, read, || cpu_ce(&x, &labels, classes));
    }
}

/// CTC's forward recursion in log space, one sequence after another: the plain CPU side of
/// the CTC rows, in `T` (f32 when `f` is, f64 for the reference).
fn cpu_ctc<F>(lp: &[F], shape: (usize, usize, usize), targets: &[u32], len: usize) -> F
where
    F: Copy + PartialOrd + std::ops::Add<Output = F> + std::ops::Sub<Output = F>,
    F: std::ops::Div<Output = F> + Exp + From<u16>,
{
    let (time, batch, classes) = shape;
    let neg_inf = F::NEG_INF;
    let log_add = |a: F, b: F| {
        let (hi, lo) = if a > b { (a, b) } else { (b, a) };
        if hi == neg_inf {
            hi
        } else {
            hi + (lo - hi).exp().ln_1p()
        }
    };
    let states = 2 * len + 1;
    let mut total = F::from(0);
    let (mut prev, mut next) = (vec![neg_inf; states], vec![neg_inf; states]);
    for n in 0..batch {
        let label = |s: usize| {
            if s.is_multiple_of(2) {
                0
            } else {
                targets[n * len + s / 2] as usize
            }
        };
        let at = |t: usize, s: usize| lp[(t * batch + n) * classes + label(s)];
        prev.fill(neg_inf);
        prev[0] = at(0, 0);
        prev[1] = at(0, 1);
        for t in 1..time {
            for s in 0..states {
                let mut a = prev[s];
                if s >= 1 {
                    a = log_add(a, prev[s - 1]);
                }
                if s >= 2 && label(s) != label(s - 2) {
                    a = log_add(a, prev[s - 2]);
                }
                next[s] = a + at(t, s);
            }
            std::mem::swap(&mut prev, &mut next);
        }
        let ll = log_add(prev[states - 1], prev[states - 2]);
        total = total + (F::from(0) - ll) / F::from(len as u16);
    }
    total / F::from(batch as u16)
}

/// exp, log1p and -inf for the two float types of [`cpu_ctc`].
trait Exp {
    const NEG_INF: Self;
    fn exp(self) -> Self;
    fn ln_1p(self) -> Self;
}

impl Exp for f32 {
    const NEG_INF: f32 = f32::NEG_INFINITY;
    fn exp(self) -> f32 {
        f32::exp(self)
    }
    fn ln_1p(self) -> f32 {
        f32::ln_1p(self)
    }
}

impl Exp for f64 {
    const NEG_INF: f64 = f64::NEG_INFINITY;
    fn exp(self) -> f64 {
        f64::exp(self)
    }
    fn ln_1p(self) -> f64 {
        f64::ln_1p(self)
    }
}

/// The arithmetic of the row-wise CPU loops, in f32 or f64.
trait Real:
    Copy
    + PartialOrd
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
    + std::ops::Neg<Output = Self>
{
    fn of(v: f64) -> Self;
    fn sqrt(self) -> Self;
    fn abs(self) -> Self;
    fn exp(self) -> Self;
    fn ln_1p(self) -> Self;
    fn max(self, other: Self) -> Self;
}

macro_rules! real {
    ($t:ty) => {
        impl Real for $t {
            fn of(v: f64) -> Self {
                v as $t
            }
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            fn exp(self) -> Self {
                <$t>::exp(self)
            }
            fn ln_1p(self) -> Self {
                <$t>::ln_1p(self)
            }
            fn max(self, other: Self) -> Self {
                <$t>::max(self, other)
            }
        }
    };
}
real!(f32);
real!(f64);

/// One row's loss of a row-wise family, generic over f32 (the CPU loop) and f64 (the
/// reference): `a`, `b`, `c` rows of `D` values, `y` the row's ±1 target or label.
fn row_loss<F: Real>(kind: &str, a: &[F], b: &[F], c: &[F], y: usize) -> F {
    let zero = F::of(0.0);
    let one = F::of(1.0);
    let dot = |u: &[F], v: &[F]| u.iter().zip(v).fold(zero, |s, (&p, &q)| s + p * q);
    match kind {
        "cosine_embedding" => {
            let eps = F::of(1e-12);
            let cos = dot(a, b) / ((dot(a, a) + eps) * (dot(b, b) + eps)).sqrt();
            if y == 1 { one - cos } else { cos.max(zero) }
        }
        "cosine_similarity" => dot(a, b) / (dot(a, a).sqrt() * dot(b, b).sqrt()).max(F::of(1e-8)),
        "triplet_margin" => {
            let eps = F::of(1e-6);
            let d = |u: &[F], v: &[F]| {
                u.iter()
                    .zip(v)
                    .fold(zero, |s, (&p, &q)| s + (p - q + eps) * (p - q + eps))
                    .sqrt()
            };
            (one + d(a, b) - d(a, c)).max(zero)
        }
        "multi_margin" => {
            let xy = a[y];
            let s = a
                .iter()
                .enumerate()
                .filter(|&(k, _)| k != y)
                .fold(zero, |s, (_, &x)| s + (one - xy + x).max(zero));
            s / F::of(a.len() as f64)
        }
        // `b` marks the targets (1) among the classes.
        "multilabel_margin" => {
            let half = F::of(0.5);
            let mut s = zero;
            for (&xj, _) in a.iter().zip(b).filter(|&(_, &t)| t > half) {
                for (&xi, _) in a.iter().zip(b).filter(|&(_, &t)| t < half) {
                    s = s + (one - xj + xi).max(zero);
                }
            }
            s / F::of(a.len() as f64)
        }
        _ => {
            let sp = |x: F| x.max(zero) + (-x.abs()).exp().ln_1p();
            let s = a
                .iter()
                .zip(b)
                .fold(zero, |s, (&x, &t)| s + t * sp(-x) + (one - t) * sp(x));
            s / F::of(a.len() as f64)
        }
    }
}

/// The row-wise losses at 16M values: `[262144, 64]` rows (of embeddings, or of class
/// scores), forward with mean reduction, against the same loop on the CPU.
fn row_benches(c: &mut Criterion, dev: &Device, filter: &dyn Fn(&str) -> bool) {
    let kinds = [
        "cosine_embedding",
        "cosine_similarity",
        "triplet_margin",
        "multi_margin",
        "multilabel_soft_margin",
        "multilabel_margin",
    ];
    let (n, d) = (1 << 18, 64);
    if !kinds.iter().any(|k| filter(&format!("{k}/16M"))) {
        return;
    }
    let a = data(n * d, -1.0, 1.0, 11);
    let b = data(n * d, -1.0, 1.0, 12);
    let c3 = data(n * d, -1.0, 1.0, 13);
    let targets: Vec<f32> = b.iter().map(|&v| f32::from(u8::from(v > 0.0))).collect();
    let labels: Vec<u32> = (0..n).map(|i| (i * 7919 % d) as u32).collect();
    let signs: Vec<f32> = (0..n)
        .map(|i| if i % 3 == 0 { -1.0 } else { 1.0 })
        .collect();
    let t = |v: &[f32]| Tensor::from_slice(dev, v, &[n, d]).unwrap();
    let (ta, tb, tc, tt) = (t(&a), t(&b), t(&c3), t(&targets));
    // The classes `targets` marks, listed, ended by -1.
    let lists: Vec<i32> = targets
        .chunks(d)
        .flat_map(|row| {
            let mut l: Vec<i32> = (0..d as i32).filter(|&k| row[k as usize] > 0.5).collect();
            l.resize(d, -1);
            l
        })
        .collect();
    let tlists = Tensor::from_slice(dev, &lists, &[n, d]).unwrap();
    let ty = Tensor::from_slice(dev, &signs, &[n]).unwrap();
    let tl = Tensor::from_slice(dev, &labels, &[n]).unwrap();
    let wide = |v: &[f32]| v.iter().map(|&x| x as f64).collect::<Vec<f64>>();
    let (a64, b64, c64, t64) = (wide(&a), wide(&b), wide(&c3), wide(&targets));
    for kind in kinds {
        let name = format!("{kind}/16M");
        if !filter(&name) {
            continue;
        }
        let second: (&[f32], &[f64]) = match kind {
            "multilabel_soft_margin" | "multilabel_margin" => (&targets, &t64),
            _ => (&b, &b64),
        };
        let y_of = |i: usize| match kind {
            "multi_margin" => labels[i] as usize,
            _ => usize::from(signs[i] == 1.0),
        };
        let rows = |i: usize| i * d..(i + 1) * d;
        let want = mean64(n, |i| {
            row_loss(
                kind,
                &a64[rows(i)],
                &second.1[rows(i)],
                &c64[rows(i)],
                y_of(i),
            )
        });
        let cpu = || {
            (0..n)
                .map(|i| row_loss(kind, &a[rows(i)], &second.0[rows(i)], &c3[rows(i)], y_of(i)))
                .sum::<f32>()
                / n as f32
        };
        let read = || {
            let m = Reduction::Mean;
            scalar(match kind {
                "cosine_embedding" => wgpu_loss::cosine_embedding_loss(&ta, &tb, &ty, m),
                "cosine_similarity" => wgpu_loss::cosine_similarity_loss(&ta, &tb, m),
                "triplet_margin" => wgpu_loss::triplet_margin_loss(&ta, &tb, &tc, m),
                "multi_margin" => wgpu_loss::multi_margin_loss(&ta, &tl, m),
                "multilabel_margin" => wgpu_loss::multilabel_margin_loss(&ta, &tlists, m),
                _ => wgpu_loss::multilabel_soft_margin_loss(&ta, &tt, m),
            })
        };
        let inputs = if kind == "triplet_margin" { 3 } else { 2 };
        let case = Case {
            name,
            elements: n * d,
            bytes: 4 * (inputs * n * d) as u64,
        };
        bench_case(dev, c, case, want, read, cpu);
    }
}

/// CTC at speech sizes: `[T, N, C]` log-probabilities (a log-softmax of random logits),
/// targets of `L` labels without the blank, mean reduction; the forward loss read back.
fn ctc_benches(c: &mut Criterion, dev: &Device, filter: &dyn Fn(&str) -> bool) {
    for (time, batch, classes, len) in [(500, 32, 32, 100), (1500, 16, 1000, 150)] {
        let name = format!("ctc/{time}x{batch}x{classes}");
        if !filter(&name) {
            continue;
        }
        let logits = data(time * batch * classes, -3.0, 3.0, 7);
        let lp64: Vec<f64> = logits
            .chunks(classes)
            .flat_map(|row| {
                let m = row.iter().fold(f32::MIN, |m, &v| m.max(v)) as f64;
                let lse = m + row.iter().map(|&v| (v as f64 - m).exp()).sum::<f64>().ln();
                row.iter().map(move |&v| v as f64 - lse)
            })
            .collect();
        let lp: Vec<f32> = lp64.iter().map(|&v| v as f32).collect();
        let targets: Vec<u32> = (0..batch * len)
            .map(|i| 1 + (i * 7919 % (classes - 1)) as u32)
            .collect();
        let lp_t = Tensor::from_slice(dev, &lp, &[time, batch, classes]).unwrap();
        let targets_t = Tensor::from_slice(dev, &targets, &[batch, len]).unwrap();
        let lengths = Tensor::from_slice(dev, &vec![time as u32; batch], &[batch]).unwrap();
        let target_lengths = Tensor::from_slice(dev, &vec![len as u32; batch], &[batch]).unwrap();
        let read = || {
            scalar(wgpu_loss::ctc_loss(
                &lp_t,
                &targets_t,
                &lengths,
                &target_lengths,
                Reduction::Mean,
            ))
        };
        let case = Case {
            name,
            elements: time * batch * classes,
            bytes: 4 * (time * batch * classes + batch * len) as u64,
        };
        let lp64: Vec<f64> = lp.iter().map(|&v| v as f64).collect();
        let shape = (time, batch, classes);
        let want = cpu_ctc(&lp64, shape, &targets, len);
        bench_case(dev, c, case, want, read, || {
            cpu_ctc(&lp, shape, &targets, len)
        });
    }
}

/// Half-precision rows: MSE and cross-entropy on f16 and bf16 inputs (the CPU loop runs on
/// the same values in f32). GB/s counts the bytes actually read: 2 per half.
fn half_benches(c: &mut Criterion, dev: &Device, filter: &dyn Fn(&str) -> bool) {
    fn run<H: Element>(
        c: &mut Criterion,
        dev: &Device,
        filter: &dyn Fn(&str) -> bool,
        suffix: &str,
        convert: fn(f32) -> H,
    ) {
        for (label, n) in [("16M", 1usize << 24), ("64M", 1 << 26)] {
            let name = format!("mse/{label}/{suffix}");
            if !filter(&name) {
                continue;
            }
            let hx: Vec<H> = data(n, 0.001, 0.999, 1).into_iter().map(convert).collect();
            let hy: Vec<H> = data(n, 0.0, 1.0, 2).into_iter().map(convert).collect();
            let x: Vec<f32> = widen(&hx);
            let y: Vec<f32> = widen(&hy);
            let (tx, ty) = (
                Tensor::from_slice(dev, &hx, &[n]).unwrap(),
                Tensor::from_slice(dev, &hy, &[n]).unwrap(),
            );
            let read = || scalar(wgpu_loss::mse_loss(&tx, &ty, Reduction::Mean));
            let want = mse64(&x, &y);
            bench_case(
                dev,
                c,
                Case {
                    name,
                    elements: n,
                    bytes: 4 * n as u64,
                },
                want,
                read,
                || cpu_mse(&x, &y),
            );
        }
        for (rows, classes) in [(4096usize, 32_000usize), (1024, 128_256)] {
            let name = format!("ce/{rows}x{classes}/{suffix}");
            if !filter(&name) {
                continue;
            }
            let hx: Vec<H> = data(rows * classes, -10.0, 10.0, 3)
                .into_iter()
                .map(convert)
                .collect();
            let x: Vec<f32> = widen(&hx);
            let labels: Vec<u32> = (0..rows).map(|i| (i * 7919 % classes) as u32).collect();
            let logits = Tensor::from_slice(dev, &hx, &[rows, classes]).unwrap();
            let lab = Tensor::from_slice(dev, &labels, &[rows]).unwrap();
            let read = || scalar(wgpu_loss::cross_entropy(&logits, &lab, Reduction::Mean));
            let want = ce64(&x, &labels, classes);
            let case = Case {
                name,
                elements: rows * classes,
                bytes: (2 * rows * classes + 4 * rows) as u64,
            };
            bench_case(dev, c, case, want, read, || cpu_ce(&x, &labels, classes));
        }
    }
    run::<f16>(c, dev, filter, "f16", f16::from_f32);
    run::<bf16>(c, dev, filter, "bf16", bf16::from_f32);
}

/// Half values widened to f32 (through their bit patterns: `Element` has no arithmetic).
fn widen<H: Element>(v: &[H]) -> Vec<f32> {
    let bits: &[u16] = bytemuck::cast_slice(v);
    match std::any::type_name::<H>().contains("bf16") {
        true => bits.iter().map(|&b| bf16::from_bits(b).to_f32()).collect(),
        false => bits.iter().map(|&b| f16::from_bits(b).to_f32()).collect(),
    }
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn human_time(s: f64) -> String {
    match s {
        s if s < 1e-3 => format!("{:.1} µs", s * 1e6),
        s if s < 1.0 => format!("{:.2} ms", s * 1e3),
        s => format!("{s:.2} s"),
    }
}

fn main() {
    // WGPU_LOSS_GRID=items_per_invocation,max_workgroups overrides the grid, for tuning.
    let mut options = DeviceOptions::new();
    if let Ok(grid) = std::env::var("WGPU_LOSS_GRID") {
        let v: Vec<u32> = grid
            .split(',')
            .map(|p| p.trim().parse().expect("WGPU_LOSS_GRID=a,b"))
            .collect();
        options = options.grid(Grid {
            items_per_invocation: v[0],
            max_workgroups: v[1],
        });
    }
    let dev = Device::with_options(options).expect("no adapter for the benchmarks");
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let filter = |name: &str| args.is_empty() || args.iter().any(|a| name.contains(a.as_str()));
    let mut c = Criterion::default().without_plots();
    benches(&mut c, &dev, &filter);
    half_benches(&mut c, &dev, &filter);
    ctc_benches(&mut c, &dev, &filter);
    row_benches(&mut c, &dev, &filter);

    let samples = SAMPLES.lock().unwrap();
    println!(
        "\nadapter: {} (subgroups: {})",
        dev.info(),
        dev.uses_subgroups()
    );
    match dev.calibration() {
        Some(c) => println!("{c}\n"),
        None => println!("grid {:?}\n", dev.grid()),
    }
    println!(
        "| case | elements | wgpu-loss / call | GB/s | elements/s | kernel / call | kernel GB/s | CPU loop / call | CPU GB/s | CPU time / GPU time | rel. error GPU / CPU |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    let errors = ERRORS.lock().unwrap();
    let cases = CASES.lock().unwrap();
    for (case, (err, cpu_err)) in cases.iter().zip(errors.iter()) {
        let gpu = median(&samples[&(case.name.clone(), "gpu")]);
        let cpu = median(&samples[&(case.name.clone(), "cpu")]);
        let (kernel, kernel_rate) = match samples.get(&(case.name.clone(), "kernel")) {
            Some(k) => (
                human_time(median(k)),
                format!("{:.2}", case.bytes as f64 / median(k) / 1e9),
            ),
            None => ("n/a".into(), "n/a".into()),
        };
        println!(
            "| {} | {} | {} | {:.2} | {:.3e} | {kernel} | {kernel_rate} | {} | {:.2} | {:.2}x | {err:.0e} / {cpu_err:.0e} |",
            case.name,
            case.elements,
            human_time(gpu),
            case.bytes as f64 / gpu / 1e9,
            case.elements as f64 / gpu,
            human_time(cpu),
            case.bytes as f64 / cpu / 1e9,
            cpu / gpu
        );
    }
    // Half-precision rows against the f32 row of the same case.
    let halves: Vec<&Case> = cases.iter().filter(|c| c.name.ends_with("16")).collect();
    if !halves.is_empty() {
        println!("\n| case | time / call | f32 time / call | speed-up over f32 |");
        println!("|---|---|---|---|");
    }
    for case in halves {
        let base = case.name.rsplit_once('/').map_or("", |p| p.0).to_string();
        let (Some(h), Some(f)) = (
            samples.get(&(case.name.clone(), "gpu")),
            samples.get(&(base, "gpu")),
        ) else {
            continue;
        };
        let (h, f) = (median(h), median(f));
        println!(
            "| {} | {} | {} | {:.2}x |",
            case.name,
            human_time(h),
            human_time(f),
            f / h
        );
    }
}
