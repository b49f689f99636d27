//! Edge cases where the losses once departed from PyTorch, each against the value PyTorch
//! returns (worked out from its source, cited at each test) or an f64 reference: smooth L1
//! at tiny betas, NaN in and out of every element-wise loss, cross-entropy on rows of `-inf`
//! logits, BCE's refusal of values outside [0, 1], and infinities in KL divergence, BCE with
//! logits and class weights.

mod common;
use common::*;
use wgpu_loss::half::{bf16, f16};
use wgpu_loss::*;

fn read(t: &Tensor) -> Vec<f32> {
    t.to_vec::<f32>().unwrap()
}

/// Loss per element (reduction none) and gradient of a mean, read back.
fn none_and_grad<L>(loss: &L, x: &Tensor, y: &Tensor) -> (Vec<f32>, Vec<f32>)
where
    for<'a> L: Loss<Inputs<'a> = (&'a Tensor, &'a Tensor), Grads = Tensor>,
{
    let (l, g) = loss.forward_with_grad((x, y)).unwrap();
    (read(&l), read(&g))
}

/// `a` and `b` agree bit for bit, NaN matching any NaN.
fn same(a: f32, b: f32) -> bool {
    (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits() || (a == 0.0 && b == 0.0)
}

fn assert_same(got: &[f32], want: &[f32], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(same(g, w), "{what}[{i}]: got {g}, want {w} (all: {got:?})");
    }
}

// ---------------------------------------------------------------- 1. smooth L1, tiny beta

/// PyTorch's smooth L1 in f64: `0.5 z² / beta` where `z = |d| < beta`, else `z - 0.5 beta`;
/// gradient `d / beta` there, else `sign(d)` (aten/src/ATen/native/cpu/BinaryOpsKernel.cpp
/// `smooth_l1_kernel`, PointwiseOpsKernel.cpp `smooth_l1_backward_cpu_kernel`).
fn smooth_l1_ref(d: f64, beta: f64) -> (f64, f64) {
    let z = d.abs();
    if z < beta {
        (0.5 * z * z / beta, d / beta)
    } else {
        (z - 0.5 * beta, d.signum() * f64::from(d != 0.0))
    }
}

#[test]
fn smooth_l1_at_tiny_betas_is_l1_not_infinite() {
    // Was [inf; 4]: Huber(delta = beta) times 1 / beta, which overflows f32.
    let d = [1.0f32, -2.0, 0.5, 3.0];
    let x = upload(&d, &[4]);
    let y = upload(&[0.0; 4], &[4]);
    for beta in [1e-40f32, 1e-30, 1e-8] {
        let m = SmoothL1Loss::new().beta(beta);
        let (l, g) = none_and_grad(&m.reduction(Reduction::None), &x, &y);
        // PyTorch: |d| - 0.5 beta = [1, 2, 0.5, 3] in f32, gradient sign(d).
        assert_same(&l, &[1.0, 2.0, 0.5, 3.0], &format!("loss, beta {beta:e}"));
        assert_same(
            &g,
            &[1.0, -1.0, 1.0, 1.0],
            &format!("gradient, beta {beta:e}"),
        );
        let mean = scalar(&m.forward(&x, &y).unwrap());
        assert_eq!(mean, 1.625, "mean, beta {beta:e}");
    }
}

#[test]
fn smooth_l1_matches_an_f64_reference_at_every_beta() {
    let mut rng = Rng::new(501);
    let n = 4099;
    let x = rng.vec(n, -3.0, 3.0);
    let mut y = rng.vec(n, -3.0, 3.0);
    y[..64].copy_from_slice(&x[..64]); // d = 0: the kink of beta = 0
    for (i, v) in y[64..128].iter_mut().enumerate() {
        *v = x[64 + i] - 1e-9 * (i as f32 - 32.0); // |d| around the tiny betas
    }
    let (px, py) = (upload(&x, &[n]), upload(&y, &[n]));
    for beta in [0.0f32, 1e-40, 1e-30, 1e-8, 1e-3, 0.5, 1.0, 2.5] {
        let m = SmoothL1Loss::new().beta(beta);
        let (l, g) = none_and_grad(&m.reduction(Reduction::None), &px, &py);
        // The f64 reference of the f32 difference, at the beta the GPU sees (a subnormal
        // beta acts as 0).
        let b = if beta < f32::MIN_POSITIVE {
            0.0
        } else {
            beta as f64
        };
        let refs: Vec<(f64, f64)> = x
            .iter()
            .zip(&y)
            .map(|(&a, &c)| smooth_l1_ref((a - c) as f64, b))
            .collect();
        let want_l: Vec<f64> = refs.iter().map(|r| r.0).collect();
        let want_g: Vec<f64> = refs.iter().map(|r| r.1).collect();
        assert_all_close(&l, &want_l, 1e-6, 1e-30);
        assert_all_close(&g, &want_g, 1e-6, 1e-30);
        let (mean, gm) = m.forward_with_grad(&px, &py).unwrap();
        assert!(
            rel_err(scalar(&mean), common::mean(&want_l)) < 1e-6,
            "beta {beta}"
        );
        let want_gm: Vec<f64> = want_g.iter().map(|v| v / n as f64).collect();
        assert_all_close(&read(&gm), &want_gm, 1e-6, 1e-30);
    }
}

// ---------------------------------------------------------------- 2. NaN in, NaN out

/// A loss with its options: per-element loss and gradient of `(input, target)`.
type Run = dyn Fn(&Tensor, &Tensor) -> (Vec<f32>, Vec<f32>);

#[test]
fn nan_in_gives_nan_loss_and_gradient_like_pytorch() {
    let (xv, yv) = ([0.25f32, f32::NAN, 0.75, 0.5], [0.5f32, 0.5, 0.25, 0.0]);
    let (x, y) = (upload(&xv, &[4]), upload(&yv, &[4]));
    let (xn, yn) = (upload(&yv, &[4]), upload(&xv, &[4])); // NaN in the target instead
    let r = Reduction::None;
    let losses: Vec<(&str, Box<Run>)> = vec![
        (
            "mse",
            Box::new(move |a, b| none_and_grad(&MseLoss::new().reduction(r), a, b)),
        ),
        (
            "l1",
            Box::new(move |a, b| none_and_grad(&L1Loss::new().reduction(r), a, b)),
        ),
        (
            "huber",
            Box::new(move |a, b| none_and_grad(&HuberLoss::new().reduction(r), a, b)),
        ),
        (
            "huber delta 0.1",
            Box::new(move |a, b| none_and_grad(&HuberLoss::new().delta(0.1).reduction(r), a, b)),
        ),
        (
            "smooth_l1",
            Box::new(move |a, b| none_and_grad(&SmoothL1Loss::new().reduction(r), a, b)),
        ),
        (
            "smooth_l1 beta 0",
            Box::new(move |a, b| none_and_grad(&SmoothL1Loss::new().beta(0.0).reduction(r), a, b)),
        ),
        (
            "bce",
            Box::new(move |a, b| none_and_grad(&BceLoss::new().reduction(r), a, b)),
        ),
        (
            "bce_with_logits",
            Box::new(move |a, b| none_and_grad(&BceWithLogitsLoss::new().reduction(r), a, b)),
        ),
        (
            "kl_div",
            Box::new(|a, b| none_and_grad(&KlDivLoss::new().reduction(KlReduction::None), a, b)),
        ),
        (
            "kl_div log_target",
            Box::new(|a, b| {
                let kl = KlDivLoss::new().log_target(true);
                none_and_grad(&kl.reduction(KlReduction::None), a, b)
            }),
        ),
    ];
    for (name, run) in &losses {
        // NaN input.
        let (l, g) = run(&x, &y);
        assert!(l[1].is_nan(), "{name}: loss {l:?}");
        assert!(l[0].is_finite() && l[2].is_finite(), "{name}: loss {l:?}");
        match *name {
            // torch.sign(NaN) is 0 (`(0 < a) - (a < 0)`, aten/src/ATen/native/cpu/
            // UnaryOpsKernel.cpp sign_kernel; pytorch/pytorch#41245), and l1_loss is
            // abs(x - y), whose derivative is grad * sgn(x - y): 0.
            "l1" => assert_eq!(g[1], 0.0, "{name}: gradient {g:?}"),
            // kl_div's derivative in the input is -target whatever the input (autograd of
            // xlogy(t, t) - t * input).
            "kl_div" => assert_eq!(g[1], -0.5, "{name}: gradient {g:?}"),
            "kl_div log_target" => assert_eq!(g[1], -(0.5f32.exp()), "{name}: gradient {g:?}"),
            _ => assert!(g[1].is_nan(), "{name}: gradient {g:?}"),
        }
        assert!(
            g[0].is_finite() && g[2].is_finite(),
            "{name}: gradient {g:?}"
        );
        // NaN target: NaN loss and gradient for every loss (l1: sign(NaN) = 0 again).
        let (l, g) = run(&xn, &yn);
        assert!(l[1].is_nan(), "{name}, NaN target: loss {l:?}");
        match *name {
            "l1" => assert_eq!(g[1], 0.0, "{name}, NaN target: gradient {g:?}"),
            _ => assert!(g[1].is_nan(), "{name}, NaN target: gradient {g:?}"),
        }
    }
}

#[test]
fn nan_gradients_survive_half_precision() {
    let xv = [0.25f32, f32::NAN, 3.0, -3.0];
    let y = upload(&[0.0; 4], &[4]);
    let want = [0.25, f32::NAN, 1.0, -1.0];
    let x16: Vec<f16> = xv.iter().map(|&v| f16::from_f32(v)).collect();
    let x = Tensor::from_slice(device(), &x16, &[4]).unwrap();
    let (_, g) = HuberLoss::new()
        .reduction(Reduction::Sum)
        .forward_with_grad(&x, &y)
        .unwrap();
    let g: Vec<f32> = g
        .to_vec::<f16>()
        .unwrap()
        .iter()
        .map(|v| v.to_f32())
        .collect();
    assert_same(&g, &want, "huber f16");
    let xb: Vec<bf16> = xv.iter().map(|&v| bf16::from_f32(v)).collect();
    let x = Tensor::from_slice(device(), &xb, &[4]).unwrap();
    let (_, g) = SmoothL1Loss::new()
        .beta(0.5)
        .reduction(Reduction::Sum)
        .forward_with_grad(&x, &y)
        .unwrap();
    let g: Vec<f32> = g
        .to_vec::<bf16>()
        .unwrap()
        .iter()
        .map(|v| v.to_f32())
        .collect();
    assert_same(&g, &[0.5, f32::NAN, 1.0, -1.0], "smooth l1 bf16");
}

// ---------------------------------------------------------------- 3. rows of -inf logits

/// Cross-entropy of a row in f64 as PyTorch computes it (aten/src/ATen/native/LossNLL.cpp):
/// log_softmax (NaN throughout a row of -inf alone: -inf - max = -inf + inf), then
/// `-logp[label]`, or `-sum(q logp)` for probability targets `q` (0 * -inf = NaN there too).
/// The gradient is log_softmax's backward, `g - exp(logp) sum(g)`, of `g = -onehot` or `-q`:
/// NaN throughout a row of -inf alone.
fn ce_ref64(row: &[f32], q: &[f32]) -> (f64, Vec<f64>) {
    let m = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
    let s: f64 = row.iter().map(|&v| (v as f64 - m).exp()).sum();
    let logp: Vec<f64> = row.iter().map(|&v| (v as f64 - m) - s.ln()).collect();
    let loss = -logp
        .iter()
        .zip(q)
        .map(|(lp, &t)| lp * t as f64)
        .sum::<f64>();
    let total: f64 = q.iter().map(|&t| t as f64).sum();
    let grad = logp
        .iter()
        .zip(q)
        .map(|(lp, &t)| lp.exp() * total - t as f64)
        .collect();
    (loss, grad)
}

/// Checks losses `l` and gradients `g` of rows of `classes` against `want` (per row).
fn check_against(l: &[f32], g: &[f32], want: &[(f64, Vec<f64>)], classes: usize, what: &str) {
    for (r, (wl, wg)) in want.iter().enumerate() {
        if wl.is_nan() {
            assert!(l[r].is_nan(), "{what} row {r}: loss {}", l[r]);
        } else {
            assert_all_close(&l[r..r + 1], &[*wl], 1e-6, 1e-6);
        }
        let gr = &g[r * classes..(r + 1) * classes];
        for (c, (&got, &w)) in gr.iter().zip(wg).enumerate() {
            let ok = match w.is_nan() {
                true => got.is_nan(),
                false => approx::relative_eq!(got as f64, w, epsilon = 1e-7, max_relative = 1e-5),
            };
            assert!(ok, "{what} row {r} class {c}: gradient {got}, want {w}");
        }
    }
}

fn check_rows(logits: &[f32], labels: &[u32], classes: usize) {
    let rows = labels.len();
    let lt = upload(logits, &[rows, classes]);
    let yt = Tensor::from_slice(device(), labels, &[rows]).unwrap();
    let mut q = vec![0.0f32; rows * classes];
    for (r, &y) in labels.iter().enumerate() {
        q[r * classes + y as usize] = 1.0;
    }
    let want: Vec<(f64, Vec<f64>)> = logits
        .chunks(classes)
        .zip(q.chunks(classes))
        .map(|(row, q)| ce_ref64(row, q))
        .collect();
    let ce = CrossEntropyLoss::new().reduction(Reduction::None);
    let what = format!("[{rows}, {classes}] labels");
    let (l, g) = ce.forward_with_grad(&lt, &yt).unwrap();
    // With labels a -inf logit off the label costs nothing (NLL reads logp[label] alone).
    let labels_want: Vec<(f64, Vec<f64>)> = want
        .iter()
        .zip(logits.chunks(classes))
        .zip(labels)
        .map(|(((wl, wg), row), &y)| {
            let all_neg_inf = row.iter().all(|&v| v == f32::NEG_INFINITY);
            let m = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
            let s: f64 = row.iter().map(|&v| (v as f64 - m).exp()).sum();
            let nll = (m + s.ln()) - row[y as usize] as f64;
            (if all_neg_inf { *wl } else { nll }, wg.clone())
        })
        .collect();
    check_against(&read(&l), &read(&g), &labels_want, classes, &what);
    // One-hot probability targets take the `ce_probs_*` entry points.
    let (l, g) = ce
        .forward_with_grad(&lt, &upload(&q, &[rows, classes]))
        .unwrap();
    let what = format!("[{rows}, {classes}] probabilities");
    check_against(&read(&l), &read(&g), &want, classes, &what);
}

#[test]
fn a_row_of_neg_inf_logits_gives_nan_like_pytorch_one_invocation_per_row() {
    let ninf = f32::NEG_INFINITY;
    // Was loss inf, gradient [-1, 0] for row 0.
    let logits = [
        ninf, ninf, // all -inf: NaN
        1e4, -1e4, // exact: loss 2e4 on label 1
        ninf, 2.0, // some -inf: the finite class has probability 1
        0.5, ninf, // label on the finite class: loss 0
    ];
    check_rows(&logits, &[0, 1, 1, 0], 2);
    check_rows(&[ninf, -1e4, 0.0, 1e4], &[0, 1], 2); // -inf label: loss inf, gradient -1
    // A +inf logit: NaN row in PyTorch (inf - max = NaN) whatever the label; was loss inf
    // and gradient [NaN, -1] with the label off the +inf class.
    let inf = f32::INFINITY;
    check_rows(&[inf, 0.0, 1.0, inf, inf, inf, 3.0, 4.0], &[1, 0, 1, 1], 2);
    let lt = upload(&logits, &[4, 2]);
    let yt = Tensor::from_slice(device(), &[0u32, 1, 1, 0], &[4]).unwrap();
    assert!(scalar(&cross_entropy(&lt, &yt, Reduction::Mean).unwrap()).is_nan());
    let smoothed = CrossEntropyLoss::new()
        .label_smoothing(0.1)
        .reduction(Reduction::None);
    // Smoothing adds -eps/C sum(logp): +inf for a row with a -inf logit, as in PyTorch.
    let l = read(&smoothed.forward(&lt, &yt).unwrap());
    assert_same(
        &l,
        &[f32::NAN, 19_000.0, f32::INFINITY, f32::INFINITY],
        "smoothed",
    );
}

#[test]
fn a_row_of_neg_inf_logits_gives_nan_like_pytorch_one_workgroup_per_row() {
    let classes = 5000;
    let mut rng = Rng::new(502);
    let mut logits = vec![f32::NEG_INFINITY; 2 * classes];
    let second = rng.vec(classes, -8.0, 8.0);
    logits[classes..].copy_from_slice(&second);
    for c in (classes..2 * classes).step_by(7) {
        logits[c] = f32::NEG_INFINITY;
    }
    logits[classes + 4321] = 1e4;
    logits[classes + 17] = -1e4;
    check_rows(&logits, &[3, 4321], classes);
    // A lone finite logit among -inf, in the last invocation's share of the row; a +inf.
    let mut lone = vec![f32::NEG_INFINITY; 2 * classes];
    lone[2 * classes - 1] = -3.0;
    lone[classes / 2] = f32::INFINITY;
    check_rows(&lone, &[0, 4999], classes);
}

// ---------------------------------------------------------------- 4. BCE outside [0, 1]

fn bce_error(p: &Tensor, y: &Tensor) -> Error {
    let (l, g) = BceLoss::new().forward_with_grad(p, y).unwrap();
    let err = l.to_vec::<f32>().unwrap_err();
    // The gradient is as wrong as its loss: reading it fails the same way.
    let grad_read = match g.dtype() {
        DType::F16 => g.to_vec::<f16>().map(drop),
        DType::BF16 => g.to_vec::<bf16>().map(drop),
        _ => g.to_vec::<f32>().map(drop),
    };
    assert_eq!(grad_read.unwrap_err(), err);
    err
}

#[test]
fn bce_refuses_probabilities_outside_0_1_like_pytorch() {
    // Were 100 and -0.693: PyTorch raises "all elements of input should be between 0 and 1"
    // (aten/src/ATen/native/Loss.cpp binary_cross_entropy_out_cpu; CUDA_KERNEL_ASSERT in
    // cuda/Loss.cu), and checks targets the same way.
    let ones = upload(&[1.0; 4], &[4]);
    let err = bce_error(&upload(&[0.5, -0.5, 0.25, 2.0], &[4]), &ones);
    assert_eq!(
        err,
        Error::ValueOutOfRange {
            what: "input",
            index: 1,
            value: -0.5
        }
    );
    assert_eq!(
        err.to_string(),
        "input value -0.5 at index 1 is outside [0, 1]"
    );
    let err = bce_error(&upload(&[0.5, 0.5, 0.25, 2.0], &[4]), &ones);
    assert_eq!(
        err,
        Error::ValueOutOfRange {
            what: "input",
            index: 3,
            value: 2.0
        }
    );
    // Targets too; the first bad element by index, the probability first at one index.
    let p = upload(&[0.5, 0.5, -1.0, 0.5], &[4]);
    let err = bce_error(&p, &upload(&[0.0, 1.5, 3.0, 1.0], &[4]));
    assert_eq!(
        err,
        Error::ValueOutOfRange {
            what: "target",
            index: 1,
            value: 1.5
        }
    );
    let err = bce_error(&p, &upload(&[0.0, 1.0, 3.0, 1.0], &[4]));
    assert!(
        matches!(
            err,
            Error::ValueOutOfRange {
                what: "input",
                index: 2,
                ..
            }
        ),
        "{err}"
    );
    // Every reduction, weighted or not, and a read of several tensors at once.
    let p = upload(&[0.5, 1.0000001], &[2]);
    let y = upload(&[1.0, 1.0], &[2]);
    let w = upload(&[2.0, 2.0], &[2]);
    for r in [Reduction::None, Reduction::Mean, Reduction::Sum] {
        for bce in [BceLoss::new(), BceLoss::new().weight(w.clone())] {
            let l = bce.reduction(r).forward(&p, &y).unwrap();
            assert!(matches!(
                Tensor::read_many::<f32>(&[&l]),
                Err(Error::ValueOutOfRange { index: 1, .. })
            ));
        }
    }
    // The bounds themselves and NaN pass: NaN gives a NaN loss (PyTorch refuses NaN too;
    // see README.md).
    let p = upload(&[0.0, 1.0, -0.0, f32::NAN], &[4]);
    let l = read(
        &BceLoss::new()
            .reduction(Reduction::None)
            .forward(&p, &ones)
            .unwrap(),
    );
    assert_eq!(&l[..3], &[100.0, 0.0, 100.0]);
    assert!(l[3].is_nan());
    // BCE with logits takes any real number.
    let x = upload(&[-5.0, 7.0], &[2]);
    assert!(scalar(&binary_cross_entropy_with_logits(&x, &y, Reduction::Sum).unwrap()).is_finite());
}

#[test]
fn bce_range_errors_name_the_element_in_chunks_and_halves() {
    // 1,024 f32 per binding: the bad element lies in the eighth chunk.
    let small = Device::with_options(DeviceOptions::new().max_binding_size(4096)).unwrap();
    let n = 10_003;
    let mut rng = Rng::new(503);
    let mut p = rng.vec(n, 0.0, 1.0);
    let y = rng.vec(n, 0.0, 1.0);
    p[7_001] = 1.25;
    p[9_999] = -3.0;
    for dev in [&small, device()] {
        let t = |v: &[f32]| Tensor::from_slice(dev, v, &[n]).unwrap();
        let l = BceLoss::new().forward(&t(&p), &t(&y)).unwrap();
        assert_eq!(
            l.to_vec::<f32>().unwrap_err(),
            Error::ValueOutOfRange {
                what: "input",
                index: 7_001,
                value: 1.25
            }
        );
        let mut yb = y.clone();
        yb[10_002] = -0.5;
        let l = BceLoss::new()
            .reduction(Reduction::None)
            .forward(&t(&rng.vec(n, 0.0, 1.0)), &t(&yb))
            .unwrap();
        assert_eq!(
            l.to_vec::<f32>().unwrap_err(),
            Error::ValueOutOfRange {
                what: "target",
                index: 10_002,
                value: -0.5
            }
        );
    }
    // f16 and bf16: the value is read back from its half of a word, at odd and even indices.
    for bad in [6usize, 9] {
        let mut ph = [0.5f32; 11];
        ph[bad] = 1.5;
        let y = upload(&[0.5; 11], &[11]);
        let h: Vec<f16> = ph.iter().map(|&v| f16::from_f32(v)).collect();
        let b: Vec<bf16> = ph.iter().map(|&v| bf16::from_f32(v)).collect();
        let ph16 = Tensor::from_slice(device(), &h, &[11]).unwrap();
        let pb16 = Tensor::from_slice(device(), &b, &[11]).unwrap();
        let want = Error::ValueOutOfRange {
            what: "input",
            index: bad as u64,
            value: 1.5,
        };
        assert_eq!(bce_error(&ph16, &y), want);
        assert_eq!(bce_error(&pb16, &y), want);
        // Targets in the input's own precision.
        let yh = Tensor::from_slice(device(), &h, &[11]).unwrap();
        let ok: Vec<f16> = vec![f16::from_f32(0.25); 11];
        let ok = Tensor::from_slice(device(), &ok, &[11]).unwrap();
        assert_eq!(
            bce_error(&ok, &yh),
            Error::ValueOutOfRange {
                what: "target",
                index: bad as u64,
                value: 1.5,
            }
        );
    }
}

// ---------------------------------------------------------------- 5. infinities

#[test]
fn kl_div_with_target_0_follows_pytorchs_xlogy() {
    // PyTorch: xlogy(t, t) - t * input (aten/src/ATen/native/Loss.cpp kl_div): where t = 0,
    // 0 - 0 * input, which is NaN for an infinite or NaN input and 0 otherwise; derivative -t.
    let ninf = f32::NEG_INFINITY;
    let x = upload(&[ninf, f32::NAN, -2.0, f32::INFINITY, ninf, -1.0], &[6]);
    let y = upload(&[0.0, 0.0, 0.0, 0.0, 0.5, 0.5], &[6]);
    let kl = KlDivLoss::new().reduction(KlReduction::None);
    let (l, g) = none_and_grad(&kl, &x, &y);
    let inf = f32::INFINITY;
    assert_same(
        &l[..5],
        &[f32::NAN, f32::NAN, 0.0, f32::NAN, inf],
        "kl loss",
    );
    let want = 0.5 * (0.5f64.ln() + 1.0); // p (log p - x), unchanged
    assert_all_close(&l[5..], &[want], 1e-6, 1e-7);
    assert_same(&g, &[-0.0, -0.0, -0.0, -0.0, -0.5, -0.5], "kl gradient");
    assert!(scalar(&kl_div(&x, &y, KlReduction::Sum).unwrap()).is_nan());
    // log_target: exp(t) (t - input); t = -inf gives 0 * NaN or 0 * -inf: NaN, as in PyTorch.
    let lt = upload(&[ninf, ninf, 0.0], &[3]);
    let xt = upload(&[ninf, 0.0, ninf], &[3]);
    let kl = KlDivLoss::new()
        .log_target(true)
        .reduction(KlReduction::None);
    let (l, g) = none_and_grad(&kl, &xt, &lt);
    assert_same(
        &l,
        &[f32::NAN, f32::NAN, f32::INFINITY],
        "kl log_target loss",
    );
    assert_same(&g, &[-0.0, -0.0, -1.0], "kl log_target gradient");
}

#[test]
fn bce_with_logits_at_infinite_logits_follows_pytorch() {
    // PyTorch: (1 - y) x - log_sigmoid(x) (aten/src/ATen/native/Loss.cpp
    // binary_cross_entropy_with_logits; log_sigmoid(-inf) = -inf): at x = -inf,
    // (1 - y)(-inf) + inf is NaN for every y; at x = +inf, (1 - y) inf - 0 is inf for y < 1 and
    // NaN for y = 1. The derivative sigmoid(x) - y is finite.
    let (inf, ninf) = (f32::INFINITY, f32::NEG_INFINITY);
    let x = upload(&[ninf, ninf, ninf, inf, inf, inf], &[6]);
    let y = upload(&[1.0, 0.5, 0.0, 0.0, 0.5, 1.0], &[6]);
    let bce = BceWithLogitsLoss::new().reduction(Reduction::Sum);
    let (l, g) = bce.forward_with_grad(&x, &y).unwrap();
    assert!(scalar(&l).is_nan());
    assert_same(
        &read(&g),
        &[-1.0, -0.5, 0.0, 1.0, 0.5, 0.0],
        "bce logits gradient",
    );
    let none = bce.reduction(Reduction::None).forward(&x, &y).unwrap();
    assert_same(
        &read(&none),
        &[f32::NAN, f32::NAN, f32::NAN, inf, inf, f32::NAN],
        "bce logits loss",
    );
    // Large finite logits stay exact (tests/catalogue.rs checks the digits).
    let big = upload(&[-1e30, 1e30], &[2]);
    let l = BceWithLogitsLoss::new()
        .reduction(Reduction::None)
        .forward(&big, &upload(&[1.0, 0.0], &[2]))
        .unwrap();
    assert_same(&read(&l), &[1e30, 1e30], "bce logits at ±1e30");
}

#[test]
fn cross_entropy_with_infinite_class_weights() {
    // PyTorch: log_softmax, then nll_loss with weights (aten/src/ATen/native/LossNLL.cpp):
    // loss -w[y] logp[y] per row, the mean divided by sum(w[y]); the gradient is
    // log_softmax's backward of g = -w[y] onehot (/ sum(w[y]) for the mean):
    // g_c - p_c sum(g). With w[0] = inf and row 0 labelled 0:
    let inf = f32::INFINITY;
    let logits = upload(&[2.0, 0.5, -1.0, 0.0, 1.0, 3.0], &[2, 3]);
    let labels = Tensor::from_slice(device(), &[0u32, 2], &[2]).unwrap();
    let w = upload(&[inf, 1.0, 1.0], &[3]);
    let row1 = ce_ref64(&[0.0, 1.0, 3.0], &[0.0, 0.0, 1.0]);
    let ce = CrossEntropyLoss::new().weight(w);
    // None and sum: loss inf for row 0, as in PyTorch. Its gradient is inf on the other
    // classes (PyTorch: 0 - p inf = inf) and -inf on the label, where PyTorch's
    // -inf - p (-inf) is NaN: a documented difference (README.md).
    let (l, g) = none_and_grad(&ce.clone().reduction(Reduction::None), &logits, &labels);
    assert_same(&l[..1], &[inf], "none, row 0");
    assert_all_close(&l[1..], &[row1.0], 1e-6, 1e-7);
    assert_same(&g[..3], &[-inf, inf, inf], "none gradient, row 0");
    assert_all_close(&g[3..], &row1.1, 1e-5, 1e-7);
    let sum = ce
        .clone()
        .reduction(Reduction::Sum)
        .forward(&logits, &labels);
    assert_eq!(scalar(&sum.unwrap()), inf);
    // Mean: inf / inf = NaN, and a gradient of NaN in row 0 and (-1 / inf) 0 in row 1, as in
    // PyTorch.
    let (l, g) = ce.clone().forward_with_grad(&logits, &labels).unwrap();
    assert!(scalar(&l).is_nan());
    assert_same(
        &read(&g),
        &[f32::NAN, f32::NAN, f32::NAN, 0.0, 0.0, 0.0],
        "mean gradient",
    );
    // Label smoothing adds eps/C sum_c w_c (lse - x_c): PyTorch gives +inf per row, the
    // one-pass form W lse - sum_c w_c x_c gives inf - inf = NaN (README.md); the gradient
    // (NaN on the infinite class, inf elsewhere) is PyTorch's.
    let smoothed = ce.label_smoothing(0.1).reduction(Reduction::None);
    let (l, g) = none_and_grad(&smoothed, &logits, &labels);
    assert!(l.iter().all(|v| v.is_nan()), "{l:?}");
    assert_same(
        &g,
        &[f32::NAN, inf, inf, f32::NAN, inf, inf],
        "smoothed gradient",
    );
}

#[test]
fn the_range_check_binding_exists_only_in_bce_modules() {
    // Declared in the contract (tests/contract.rs checks it against the WGSL): binding 8,
    // `status`, in the BCE variants and nowhere else of the element-wise family.
    let mut bce = 0;
    for v in shaders::variants() {
        let elementwise = [
            "mse_",
            "l1_",
            "huber_",
            "smoothl1_",
            "bce_",
            "bcelogits_",
            "kldiv_",
        ];
        if !elementwise.iter().any(|p| v.name.starts_with(p)) {
            continue;
        }
        let has_status = v
            .entry_points
            .iter()
            .any(|(_, layout)| layout.iter().any(|b| b.binding == 8 && b.name == "status"));
        assert_eq!(has_status, v.name.starts_with("bce_"), "{}", v.name);
        assert_eq!(v.source.contains("atomicMax"), has_status, "{}", v.name);
        bce += usize::from(has_status);
    }
    assert!(bce > 0);
}

/// Probability targets and label smoothing at logits near 1e4: the weighted sums of the
/// logits are kept relative to the row maximum, so the loss keeps float32's precision
/// (PyTorch in float32: 3e-7; the sums at the logits' magnitude lost up to 5e-3).
#[test]
fn probability_targets_and_smoothing_keep_precision_at_large_logits() {
    let mut rng = common::Rng::new(15);
    for (rows, classes, smoothing) in [(33, 2, 0.0), (257, 2, 0.1), (64, 300, 0.1), (3, 5000, 0.2)]
    {
        let x: Vec<f32> = (0..rows * classes)
            .map(|_| 1e4 + rng.uniform(-3.0, 3.0))
            .collect();
        let q: Vec<f32> = (0..rows)
            .flat_map(|_| {
                let raw: Vec<f32> = (0..classes).map(|_| rng.uniform(0.0, 1.0)).collect();
                let total: f32 = raw.iter().sum();
                raw.into_iter().map(move |v| v / total)
            })
            .collect();
        let labels: Vec<u32> = (0..rows).map(|_| rng.below(classes as u32)).collect();
        let logits = common::upload(&x, &[rows, classes]);
        let probs = common::upload(&q, &[rows, classes]);
        let labels_t = Tensor::from_slice(common::device(), &labels, &[rows]).unwrap();
        let ce = CrossEntropyLoss::new().label_smoothing(smoothing);
        // f64 references: lse per row, then the mean over rows.
        let eps = smoothing as f64;
        let (mut want_probs, mut want_labels) = (0.0f64, 0.0f64);
        for r in 0..rows {
            let row = &x[r * classes..(r + 1) * classes];
            let m = row.iter().fold(f64::MIN, |a, &v| a.max(v as f64));
            let lse = m + row.iter().map(|&v| (v as f64 - m).exp()).sum::<f64>().ln();
            let mut l = 0.0;
            for c in 0..classes {
                let t = (1.0 - eps) * q[r * classes + c] as f64 + eps / classes as f64;
                l += t * (lse - row[c] as f64);
            }
            want_probs += l / rows as f64;
            let smooth: f64 = row.iter().map(|&v| lse - v as f64).sum::<f64>() / classes as f64;
            let y = labels[r] as usize;
            want_labels += ((1.0 - eps) * (lse - row[y] as f64) + eps * smooth) / rows as f64;
        }
        for (target, want) in [(&probs, want_probs), (&labels_t, want_labels)] {
            let got = ce
                .forward(&logits, target)
                .unwrap()
                .to_vec::<f32>()
                .unwrap()[0] as f64;
            let rel = (got - want).abs() / want.abs();
            assert!(
                rel < 2e-6,
                "[{rows}, {classes}] eps {smoothing}: {got} vs {want} ({rel:e})"
            );
        }
    }
}
