//! The crate through its async API alone, as a browser runs it: in headless Chromium's WebGPU
//! (SwiftShader) under `wasm-bindgen-test` (`.ci/web-test`), and natively as ordinary tests
//! driven by `pollster`, so the same checks hold on every adapter.
//!
//! Every shader variant of the tree reduction path (WebGPU has no subgroups in wgpu 30) is
//! compiled, and every loss runs with and without its gradient, in each reduction and element
//! type, against an f64 reference computed here.

use wgpu_loss::half::{bf16, f16};
use wgpu_loss::*;

/// An async test body, registered as a browser test on wasm32 and as a blocking test natively.
macro_rules! both {
    ($name:ident) => {
        #[cfg(target_arch = "wasm32")]
        #[wasm_bindgen_test::wasm_bindgen_test]
        async fn $name() {
            bodies::$name().await;
        }
        #[cfg(not(target_arch = "wasm32"))]
        #[test]
        fn $name() {
            pollster::block_on(bodies::$name());
        }
    };
}

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// Prints a line where the test runner shows it (the browser's console on the web).
macro_rules! say {
    ($($t:tt)*) => {{
        #[cfg(target_arch = "wasm32")]
        wasm_bindgen_test::console_log!($($t)*);
        #[cfg(not(target_arch = "wasm32"))]
        println!($($t)*);
    }};
}

both!(adapter_is_reported);
both!(every_shader_variant_compiles);
both!(elementwise_losses_match_f64);
both!(row_losses_match_f64);
both!(a_bad_label_is_an_error);
both!(ctc_matches_closed_forms);
both!(linear_cross_entropy_matches_f64);
both!(row_wise_losses_match_closed_forms);

/// Milliseconds since some fixed instant, for timings printed by the tests.
fn now_ms() -> f64 {
    #[cfg(target_arch = "wasm32")]
    return js_sys::Date::now();
    #[cfg(not(target_arch = "wasm32"))]
    {
        use std::time::{SystemTime, UNIX_EPOCH};
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64() * 1e3)
    }
}

/// A small deterministic generator of uniform values.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    fn vec(&mut self, n: usize, lo: f64, hi: f64) -> Vec<f32> {
        (0..n)
            .map(|_| (lo + (hi - lo) * self.next()) as f32)
            .collect()
    }

    fn below(&mut self, n: u32) -> u32 {
        ((self.next() * n as f64) as u32).min(n - 1)
    }
}

const DTYPES: [DType; 3] = [DType::F32, DType::F16, DType::BF16];

/// `data` on the device as `dtype`, and the values it holds there, widened to f64.
fn upload(dev: &Device, data: &[f32], dtype: DType, shape: &[usize]) -> (Tensor, Vec<f64>) {
    match dtype {
        DType::F16 => {
            let h: Vec<f16> = data.iter().map(|&v| f16::from_f32(v)).collect();
            let t = Tensor::from_slice(dev, &h, shape).expect("upload");
            (t, h.iter().map(|v| v.to_f64()).collect())
        }
        DType::BF16 => {
            let h: Vec<bf16> = data.iter().map(|&v| bf16::from_f32(v)).collect();
            let t = Tensor::from_slice(dev, &h, shape).expect("upload");
            (t, h.iter().map(|v| v.to_f64()).collect())
        }
        _ => {
            let t = Tensor::from_slice(dev, data, shape).expect("upload");
            (t, data.iter().map(|&v| v as f64).collect())
        }
    }
}

/// A tensor's values, read with the async API and widened to f64.
async fn read(t: &Tensor) -> Vec<f64> {
    match t.dtype() {
        DType::F16 => t
            .to_vec_async::<f16>()
            .await
            .expect("read")
            .iter()
            .map(|v| v.to_f64())
            .collect(),
        DType::BF16 => t
            .to_vec_async::<bf16>()
            .await
            .expect("read")
            .iter()
            .map(|v| v.to_f64())
            .collect(),
        _ => t
            .to_vec_async::<f32>()
            .await
            .expect("read")
            .iter()
            .map(|&v| v as f64)
            .collect(),
    }
}

/// One unit in the last place of `dtype`, relative.
fn ulp(dtype: DType) -> f64 {
    match dtype {
        DType::F16 => 1.0 / 1024.0,
        DType::BF16 => 1.0 / 128.0,
        _ => 1.0 / 8_388_608.0,
    }
}

/// Spacing of `dtype`'s subnormals: below its normal range precision is absolute.
fn tiny(dtype: DType) -> f64 {
    match dtype {
        DType::F16 => 5.96e-8,
        DType::BF16 => 9.2e-41,
        _ => 1.4e-45,
    }
}

/// `got` against `want`, each element within a few roundings of `dtype` plus a small share of
/// the largest value (sums of f32 terms).
fn assert_close(got: &[f64], want: &[f64], dtype: DType, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let scale = want.iter().fold(0.0f64, |m, w| m.max(w.abs()));
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let tol = 2.0 * (ulp(dtype) * w.abs() + tiny(dtype)) + 2e-6 * scale;
        assert!(
            (g - w).abs() <= tol,
            "{what}: [{i}] {g} vs {w} (tolerance {tol:.1e})"
        );
    }
}

/// The reduction of per-element losses `l`, and how each element's gradient is scaled.
fn reduce(l: &[f64], reduction: Reduction, count: usize) -> (Vec<f64>, f64) {
    let sum: f64 = l.iter().sum();
    match reduction {
        Reduction::None => (l.to_vec(), 1.0),
        Reduction::Sum => (vec![sum], 1.0),
        Reduction::Mean => (vec![sum / count as f64], 1.0 / count as f64),
    }
}

/// A loss called with a reduction on two inputs, with its gradient (`true`) or without.
type Call = fn(Reduction, &Tensor, &Tensor, bool) -> Result<(Tensor, Option<Tensor>)>;

/// An element-wise loss: its name, the ranges of its two inputs, its f64 value and derivative
/// in the first input, and the call under test.
struct Elementwise {
    name: &'static str,
    x: (f64, f64),
    y: (f64, f64),
    loss: fn(f64, f64) -> f64,
    grad: fn(f64, f64) -> f64,
    call: Call,
}

/// `forward`, or `forward_with_grad` when `grad`, of a built loss.
macro_rules! run {
    ($loss:expr, $x:expr, $y:expr, $grad:expr) => {{
        let loss = $loss;
        match $grad {
            true => loss.forward_with_grad($x, $y).map(|(l, g)| (l, Some(g))),
            false => loss.forward($x, $y).map(|l| (l, None)),
        }
    }};
}

fn kl_reduction(r: Reduction) -> KlReduction {
    match r {
        Reduction::None => KlReduction::None,
        Reduction::Mean => KlReduction::Mean,
        Reduction::Sum => KlReduction::Sum,
    }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn elementwise_cases() -> Vec<Elementwise> {
    vec![
        Elementwise {
            name: "mse",
            x: (-4.0, 4.0),
            y: (-4.0, 4.0),
            loss: |x, y| (x - y) * (x - y),
            grad: |x, y| 2.0 * (x - y),
            call: |r, x, y, g| run!(MseLoss::new().reduction(r), x, y, g),
        },
        Elementwise {
            name: "l1",
            x: (-4.0, 4.0),
            y: (-4.0, 4.0),
            loss: |x, y| (x - y).abs(),
            // sign(0) = 0 at the kink, as in PyTorch (halves round some pairs equal).
            grad: |x, y| if x == y { 0.0 } else { (x - y).signum() },
            call: |r, x, y, g| run!(L1Loss::new().reduction(r), x, y, g),
        },
        Elementwise {
            name: "huber(delta 1.5)",
            x: (-4.0, 4.0),
            y: (-4.0, 4.0),
            loss: |x, y| match (x - y).abs() {
                d if d < 1.5 => 0.5 * d * d,
                d => 1.5 * (d - 0.75),
            },
            grad: |x, y| (x - y).clamp(-1.5, 1.5),
            call: |r, x, y, g| run!(HuberLoss::new().delta(1.5).reduction(r), x, y, g),
        },
        Elementwise {
            name: "smooth_l1(beta 0.5)",
            x: (-4.0, 4.0),
            y: (-4.0, 4.0),
            loss: |x, y| match (x - y).abs() {
                d if d < 0.5 => d * d,
                d => d - 0.25,
            },
            grad: |x, y| ((x - y) / 0.5).clamp(-1.0, 1.0),
            call: |r, x, y, g| run!(SmoothL1Loss::new().beta(0.5).reduction(r), x, y, g),
        },
        Elementwise {
            name: "binary_cross_entropy",
            x: (0.01, 0.99),
            y: (0.0, 1.0),
            loss: |p, t| -(t * p.ln() + (1.0 - t) * (1.0 - p).ln()),
            grad: |p, t| (p - t) / (p * (1.0 - p)),
            call: |r, x, y, g| run!(BceLoss::new().reduction(r), x, y, g),
        },
        Elementwise {
            name: "binary_cross_entropy_with_logits",
            x: (-6.0, 6.0),
            y: (0.0, 1.0),
            loss: |x, t| x.max(0.0) - x * t + (-x.abs()).exp().ln_1p(),
            grad: |x, t| sigmoid(x) - t,
            call: |r, x, y, g| run!(BceWithLogitsLoss::new().reduction(r), x, y, g),
        },
        Elementwise {
            name: "kl_div",
            x: (-4.6, -0.01),
            y: (0.01, 1.0),
            loss: |logq, t| t * (t.ln() - logq),
            grad: |_, t| -t,
            call: |r, x, y, g| run!(KlDivLoss::new().reduction(kl_reduction(r)), x, y, g),
        },
    ]
}

/// A row-wise loss on `[rows, classes]` inputs: its name, the logits' range, whether its
/// targets are class probabilities (else labels), and the call under test.
struct Rows {
    name: &'static str,
    x: (f64, f64),
    probabilities: bool,
    /// The inputs are log-probabilities (NLL): loss -x[y], gradient -1 at y.
    log_probs: bool,
    call: Call,
}

fn row_cases() -> Vec<Rows> {
    vec![
        Rows {
            name: "cross_entropy",
            x: (-8.0, 8.0),
            probabilities: false,
            log_probs: false,
            call: |r, x, y, g| run!(CrossEntropyLoss::new().reduction(r), x, y, g),
        },
        Rows {
            name: "cross_entropy(probabilities)",
            x: (-8.0, 8.0),
            probabilities: true,
            log_probs: false,
            call: |r, x, y, g| run!(CrossEntropyLoss::new().reduction(r), x, y, g),
        },
        Rows {
            name: "nll",
            x: (-6.0, -0.01),
            probabilities: false,
            log_probs: true,
            call: |r, x, y, g| run!(NllLoss::new().reduction(r), x, y, g),
        },
    ]
}

/// Per-row losses and the gradient of their sum, in f64.
fn rows_reference(
    case: &Rows,
    x: &[f64],
    classes: usize,
    labels: &[u32],
    probs: &[f64],
) -> (Vec<f64>, Vec<f64>) {
    let mut losses = Vec::new();
    let mut grad = Vec::with_capacity(x.len());
    for (r, row) in x.chunks(classes).enumerate() {
        if case.log_probs {
            let y = labels[r] as usize;
            losses.push(-row[y]);
            grad.extend((0..classes).map(|c| if c == y { -1.0 } else { 0.0 }));
            continue;
        }
        let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let lse = m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
        let target: Vec<f64> = match case.probabilities {
            true => probs[r * classes..][..classes].to_vec(),
            false => (0..classes)
                .map(|c| if c == labels[r] as usize { 1.0 } else { 0.0 })
                .collect(),
        };
        let mass: f64 = target.iter().sum();
        losses.push(row.iter().zip(&target).map(|(v, t)| t * (lse - v)).sum());
        grad.extend(
            row.iter()
                .zip(&target)
                .map(|(v, t)| mass * (v - lse).exp() - t),
        );
    }
    (losses, grad)
}

mod bodies {
    use super::*;

    pub async fn adapter_is_reported() {
        let dev = Device::new_async().await.expect("a WebGPU adapter");
        say!(
            "adapter: {} (subgroups: {})",
            dev.info(),
            dev.uses_subgroups()
        );
        let x = Tensor::from_slice(&dev, &[1.0f32, 2.0, 3.0], &[3]).expect("upload");
        let y = Tensor::from_slice(&dev, &[1.5f32, 2.0, 2.5], &[3]).expect("upload");
        let mse = mse_loss(&x, &y, Reduction::Mean).expect("mse");
        let got = mse.to_vec_async::<f32>().await.expect("read")[0];
        assert!((got - 1.0 / 6.0).abs() < 1e-7, "mse {got}");
    }

    /// Every module goes through the browser's WGSL compiler (parsing, types, uniformity,
    /// constant ranges: where naga and the browser disagree); each distinct entry point is
    /// also built into a pipeline once (SwiftShader spends about half a second on each; the
    /// loss tests build the pipelines they run, with their real constants).
    pub async fn every_shader_variant_compiles() {
        let dev = Device::new_async().await.expect("an adapter");
        let device = dev.wgpu_device();
        let start = now_ms();
        let (mut modules, mut built) = (0, Vec::new());
        let mut failures = Vec::new();
        for v in shaders::variants()
            .into_iter()
            .filter(|v| !v.needs_subgroups)
        {
            let validation = device.push_error_scope(wgpu::ErrorFilter::Validation);
            let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(&v.name),
                source: wgpu::ShaderSource::Wgsl(v.source.as_str().into()),
            });
            modules += 1;
            for (entry, _) in &v.entry_points {
                if built.contains(entry) {
                    continue;
                }
                built.push(*entry);
                let _ = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                    label: Some(entry),
                    layout: None,
                    module: &module,
                    entry_point: Some(entry),
                    compilation_options: Default::default(),
                    cache: None,
                });
            }
            if let Some(e) = validation.pop().await {
                failures.push(format!("{}: {e}", v.name));
            }
        }
        say!(
            "compiled {modules} shader modules and {} pipelines ({}) in {:.0} ms",
            built.len(),
            built.join(", "),
            now_ms() - start
        );
        assert!(
            failures.is_empty(),
            "{} variants failed:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    pub async fn elementwise_losses_match_f64() {
        let dev = Device::new_async().await.expect("an adapter");
        let start = now_ms();
        let n = 1029;
        let mut rng = Rng(7);
        let mut runs = 0;
        for case in elementwise_cases() {
            let xs = rng.vec(n, case.x.0, case.x.1);
            let ys = rng.vec(n, case.y.0, case.y.1);
            for dtype in DTYPES {
                let (x, xd) = upload(&dev, &xs, dtype, &[n]);
                let (y, yd) = upload(&dev, &ys, dtype, &[n]);
                let l: Vec<f64> = xd
                    .iter()
                    .zip(&yd)
                    .map(|(&a, &b)| (case.loss)(a, b))
                    .collect();
                let g: Vec<f64> = xd
                    .iter()
                    .zip(&yd)
                    .map(|(&a, &b)| (case.grad)(a, b))
                    .collect();
                for reduction in [Reduction::None, Reduction::Mean, Reduction::Sum] {
                    let (want, scale) = reduce(&l, reduction, n);
                    for with_grad in [false, true] {
                        let what =
                            format!("{} {dtype:?} {reduction:?} grad {with_grad}", case.name);
                        let (loss, grad) = (case.call)(reduction, &x, &y, with_grad)
                            .unwrap_or_else(|e| panic!("{what}: {e}"));
                        // The loss is summed in f32 from values of the input's precision.
                        assert_close(&read(&loss).await, &want, DType::F32, &what);
                        if let Some(grad) = grad {
                            assert_eq!(grad.dtype(), dtype, "{what}: gradient type");
                            let want_g: Vec<f64> = g.iter().map(|v| v * scale).collect();
                            assert_close(&read(&grad).await, &want_g, dtype, &what);
                        }
                        runs += 1;
                    }
                }
            }
        }
        say!(
            "{runs} element-wise loss calls checked in {:.0} ms",
            now_ms() - start
        );
    }

    pub async fn row_losses_match_f64() {
        let dev = Device::new_async().await.expect("an adapter");
        let start = now_ms();
        let mut rng = Rng(11);
        let mut runs = 0;
        // Few classes (a row per invocation) and many (a row per workgroup).
        for (rows, classes) in [(37, 29), (3, 3001)] {
            let labels: Vec<u32> = (0..rows).map(|_| rng.below(classes as u32)).collect();
            let label_tensor = Tensor::from_slice(&dev, &labels, &[rows]).expect("labels");
            let raw = rng.vec(rows * classes, 0.0, 1.0);
            let probs: Vec<f32> = raw
                .chunks(classes)
                .flat_map(|r| {
                    let s: f32 = r.iter().sum();
                    r.iter().map(move |v| v / s).collect::<Vec<_>>()
                })
                .collect();
            for case in row_cases() {
                let xs = rng.vec(rows * classes, case.x.0, case.x.1);
                for dtype in DTYPES {
                    let shape = [rows, classes];
                    let (x, xd) = upload(&dev, &xs, dtype, &shape);
                    let (target, probs_d) = match case.probabilities {
                        true => upload(&dev, &probs, dtype, &shape),
                        false => (label_tensor.clone(), Vec::new()),
                    };
                    let (l, g) = rows_reference(&case, &xd, classes, &labels, &probs_d);
                    for reduction in [Reduction::None, Reduction::Mean, Reduction::Sum] {
                        let (want, scale) = reduce(&l, reduction, rows);
                        for with_grad in [false, true] {
                            let what = format!(
                                "{} [{rows}, {classes}] {dtype:?} {reduction:?} grad {with_grad}",
                                case.name
                            );
                            let (loss, grad) = (case.call)(reduction, &x, &target, with_grad)
                                .unwrap_or_else(|e| panic!("{what}: {e}"));
                            assert_close(&read(&loss).await, &want, DType::F32, &what);
                            if let Some(grad) = grad {
                                let want_g: Vec<f64> = g.iter().map(|v| v * scale).collect();
                                assert_close(&read(&grad).await, &want_g, dtype, &what);
                            }
                            runs += 1;
                        }
                    }
                }
            }
        }
        say!(
            "{runs} row-wise loss calls checked in {:.0} ms",
            now_ms() - start
        );
    }

    pub async fn ctc_matches_closed_forms() {
        let dev = Device::new_async().await.expect("an adapter");
        let u = |v: &[u32], shape: &[usize]| Tensor::from_slice(&dev, v, shape).expect("ints");
        for dtype in [DType::F32, DType::F16, DType::BF16] {
            // Two steps of uniform {blank, a}: the target "a" has the alignments "a a", "a -",
            // "- a", probability 3/4; "a" holds 2/3 of them at each step.
            let (lp, q) = upload(&dev, &[0.5f32.ln(); 4], dtype, &[2, 1, 2]);
            let (targets, lengths, target_lengths) =
                (u(&[1], &[1, 1]), u(&[2], &[1]), u(&[1], &[1]));
            // Every class has the stored log-probability q: each alignment has e^2q.
            let (q, p) = (q[0], q[0].exp());
            let nll = -(3.0f64.ln() + 2.0 * q);
            let g = [p - 1.0 / 3.0, p - 2.0 / 3.0, p - 1.0 / 3.0, p - 2.0 / 3.0];
            // One sequence of one label: every reduction gives the same.
            for reduction in [Reduction::None, Reduction::Mean, Reduction::Sum] {
                let (loss, grad) = CtcLoss::new()
                    .reduction(reduction)
                    .forward_with_grad(&lp, &targets, &lengths, &target_lengths)
                    .expect("recorded");
                assert_close(&read(&loss).await, &[nll], DType::F32, "ctc loss");
                assert_close(&read(&grad).await, &g, dtype, "ctc gradient");
            }
        }
        // "a a" needs a blank between its labels: impossible in two steps.
        let (lp, _) = upload(&dev, &[(1.0f32 / 3.0).ln(); 6], DType::F32, &[2, 3]);
        let loss = ctc_loss(
            &lp,
            &u(&[1, 1], &[2]),
            &u(&[2], &[]),
            &u(&[2], &[]),
            Reduction::Sum,
        )
        .expect("recorded");
        assert_eq!(read(&loss).await, vec![f64::INFINITY]);
        let blank = ctc_loss(
            &lp,
            &u(&[0, 1], &[2]),
            &u(&[2], &[]),
            &u(&[2], &[]),
            Reduction::Sum,
        )
        .expect("recorded");
        match blank.to_vec_async::<f32>().await {
            Err(e @ Error::BlankLabel { .. }) => say!("a blank label: {e}"),
            other => panic!("expected BlankLabel, got {other:?}"),
        }
    }

    pub async fn linear_cross_entropy_matches_f64() {
        let dev = Device::new_async().await.expect("an adapter");
        let (n, h, v) = (7, 5, 70);
        let mut rng = Rng(11);
        let labels: Vec<i32> = (0..n)
            .map(|i| {
                if i == 3 {
                    -100
                } else {
                    rng.below(v as u32) as i32
                }
            })
            .collect();
        let labels_t = Tensor::from_slice(&dev, &labels, &[n]).expect("labels");
        let (eps, cap, zl) = (0.1, 5.0, 1e-3);
        for dtype in DTYPES {
            let (hidden, hv) = upload(&dev, &rng.vec(n * h, -1.0, 1.0), dtype, &[n, h]);
            let (w, wv) = upload(&dev, &rng.vec(v * h, -1.0, 1.0), dtype, &[v, h]);
            let (bias, bv) = upload(&dev, &rng.vec(v, -1.0, 1.0), dtype, &[v]);
            // The reference: per-row losses and d logits, then the three gradients.
            let mut rows = vec![0.0; n];
            let mut dz = vec![0.0; n * v];
            for r in 0..n {
                if labels[r] < 0 {
                    continue;
                }
                let z: Vec<f64> = (0..v)
                    .map(|c| {
                        let dot: f64 = (0..h).map(|k| hv[r * h + k] * wv[c * h + k]).sum();
                        cap * ((dot + bv[c]) / cap).tanh()
                    })
                    .collect();
                let m = z.iter().cloned().fold(f64::MIN, f64::max);
                let lse = m + z.iter().map(|x| (x - m).exp()).sum::<f64>().ln();
                let y = labels[r] as usize;
                let mean_z = z.iter().sum::<f64>() / v as f64;
                rows[r] = lse - (1.0 - eps) * z[y] - eps * mean_z + zl * lse * lse;
                for c in 0..v {
                    let onehot = if c == y { 1.0 } else { 0.0 };
                    let p = (z[c] - lse).exp();
                    let g = p - onehot + 2.0 * zl * lse * p + eps * (onehot - 1.0 / v as f64);
                    dz[r * v + c] = g * (1.0 - (z[c] / cap).powi(2));
                }
            }
            let count = labels.iter().filter(|&&y| y >= 0).count();
            for reduction in [Reduction::None, Reduction::Mean, Reduction::Sum] {
                let (want, scale) = reduce(&rows, reduction, count);
                let (mut dh, mut dw, mut db) = (vec![0.0; n * h], vec![0.0; v * h], vec![0.0; v]);
                for r in 0..n {
                    for c in 0..v {
                        let g = dz[r * v + c] * scale;
                        db[c] += g;
                        for k in 0..h {
                            dh[r * h + k] += g * wv[c * h + k];
                            dw[c * h + k] += g * hv[r * h + k];
                        }
                    }
                }
                let module = LinearCrossEntropyLoss::new()
                    .reduction(reduction)
                    .bias(bias.clone())
                    .label_smoothing(eps as f32)
                    .softcap(cap as f32)
                    .z_loss(zl as f32);
                let (loss, grads) = module
                    .forward_with_grad(&hidden, &w, &labels_t)
                    .expect("recorded");
                // The loss alone comes from tiles folded on chip, another kernel.
                let alone = module.forward(&hidden, &w, &labels_t).expect("recorded");
                // The loss in f32 from half inputs; the gradients rounded to `dtype`.
                for loss in [&loss, &alone] {
                    let got = read(loss).await;
                    for (g, w) in got.iter().zip(&want) {
                        assert!(
                            (g - w).abs() <= 1e-5 * w.abs().max(1.0),
                            "linear CE loss {g} vs {w}"
                        );
                    }
                }
                assert_close(&read(&grads.hidden).await, &dh, dtype, "linear CE d hidden");
                assert_close(
                    &read(&grads.classifier).await,
                    &dw,
                    dtype,
                    "linear CE d classifier",
                );
                let db_got = read(grads.bias.as_ref().expect("a bias")).await;
                assert_close(&db_got, &db, dtype, "linear CE d bias");
            }
        }
        say!(
            "linear cross-entropy (loss alone, and with gradients): every dtype and reduction against f64"
        );
    }

    pub async fn row_wise_losses_match_closed_forms() {
        let dev = Device::new_async().await.expect("an adapter");
        let f = |v: &[f32], shape: &[usize]| Tensor::from_slice(&dev, v, shape).expect("floats");
        for dtype in DTYPES {
            let (x1, _) = upload(&dev, &[3.0, 4.0], dtype, &[1, 2]);
            let (x2, _) = upload(&dev, &[4.0, 3.0], dtype, &[1, 2]);
            // cos = 24 / 25.
            let sim = CosineSimilarityLoss::new()
                .forward(&x1, &x2)
                .expect("recorded");
            assert_close(&read(&sim).await, &[0.96], DType::F32, "cosine similarity");
            let y = f(&[-1.0], &[1]);
            let (emb, (g1, _)) = CosineEmbeddingLoss::new()
                .margin(0.5)
                .forward_with_grad(&x1, &x2, &y)
                .expect("recorded");
            assert_close(&read(&emb).await, &[0.46], DType::F32, "cosine embedding");
            // d cos / d x1 = x2 / 25 - cos x1 / 25.
            let g = [(4.0 - 0.96 * 3.0) / 25.0, (3.0 - 0.96 * 4.0) / 25.0];
            assert_close(&read(&g1).await, &g, dtype, "cosine embedding gradient");
            let (a, _) = upload(&dev, &[0.0, 0.0], dtype, &[2]);
            let (p, _) = upload(&dev, &[2.0, 0.0], dtype, &[2]);
            let (n, _) = upload(&dev, &[0.0, 1.0], dtype, &[2]);
            let (l, (ga, _, gn)) = TripletMarginLoss::new()
                .eps(0.0)
                .forward_with_grad(&a, &p, &n)
                .expect("recorded");
            assert_close(&read(&l).await, &[2.0], DType::F32, "triplet margin");
            assert_close(
                &read(&ga).await,
                &[-1.0, 1.0],
                dtype,
                "triplet anchor gradient",
            );
            assert_close(
                &read(&gn).await,
                &[0.0, -1.0],
                dtype,
                "triplet negative gradient",
            );
            let (x, _) = upload(&dev, &[0.125, 0.25, 0.5, 0.75], dtype, &[4]);
            let label = Tensor::from_slice(&dev, &[3u32], &[]).expect("label");
            let (l, g) = MultiMarginLoss::new()
                .reduction(Reduction::Sum)
                .forward_with_grad(&x, &label)
                .expect("recorded");
            assert_close(
                &read(&l).await,
                &[(0.375 + 0.5 + 0.75) / 4.0],
                DType::F32,
                "multi margin",
            );
            assert_close(
                &read(&g).await,
                &[0.25, 0.25, 0.25, -0.75],
                dtype,
                "multi margin gradient",
            );
            let (zeros, _) = upload(&dev, &[0.0, 0.0], dtype, &[1, 2]);
            let (t, _) = upload(&dev, &[1.0, 0.0], dtype, &[1, 2]);
            let (l, g) = MultilabelSoftMarginLoss::new()
                .forward_with_grad(&zeros, &t)
                .expect("recorded");
            assert_close(
                &read(&l).await,
                &[2f64.ln()],
                DType::F32,
                "multilabel soft margin",
            );
            assert_close(
                &read(&g).await,
                &[-0.25, 0.25],
                dtype,
                "multilabel gradient",
            );
            let lists = Tensor::from_slice(&dev, &[3i32, 0, -1, 1], &[4]).expect("targets");
            let (l, g) = MultilabelMarginLoss::new()
                .reduction(Reduction::Sum)
                .forward_with_grad(&x, &lists)
                .expect("recorded");
            // (0.5 + 0.75 + 1.125 + 1.375) / 4: targets 3 and 0 against classes 1 and 2.
            assert_close(&read(&l).await, &[0.9375], DType::F32, "multilabel margin");
            assert_close(
                &read(&g).await,
                &[-0.5, 0.5, 0.5, -0.5],
                dtype,
                "multilabel margin gradient",
            );
        }
        let bad = Tensor::from_slice(&dev, &[9u32], &[]).expect("label");
        let x = f(&[0.0, 1.0], &[2]);
        match MultiMarginLoss::new()
            .forward(&x, &bad)
            .expect("recorded")
            .to_vec_async::<f32>()
            .await
        {
            Err(e @ Error::LabelOutOfRange { .. }) => say!("a bad label: {e}"),
            other => panic!("expected LabelOutOfRange, got {other:?}"),
        }
    }

    pub async fn a_bad_label_is_an_error() {
        let dev = Device::new_async().await.expect("an adapter");
        let logits = Tensor::from_slice(&dev, &[0.5f32; 6], &[2, 3]).expect("logits");
        let labels = Tensor::from_slice(&dev, &[1u32, 7], &[2]).expect("labels");
        let loss = cross_entropy(&logits, &labels, Reduction::Mean).expect("recorded");
        match loss.to_vec_async::<f32>().await {
            Err(e @ Error::LabelOutOfRange { .. }) => say!("a bad label: {e}"),
            other => panic!("expected LabelOutOfRange, got {other:?}"),
        }
        // A mistake the device catches (reading an f32 tensor as u32) is an error too.
        assert!(matches!(
            loss.to_vec_async::<u32>().await,
            Err(Error::DType { .. })
        ));
    }
}
