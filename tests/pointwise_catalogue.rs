//! The element-wise losses added for PyTorch's and MLX's names: soft margin, log-cosh, hinge
//! embedding, hinge, Poisson NLL and sigmoid focal, and the two of three inputs, margin
//! ranking and Gaussian NLL (with their gradients in both inputs). Each against an f64 reference of its loss
//! and closed-form gradient at sizes from 1 to a million, its gradient against f64 central
//! differences, in half precision, at NaN and at its kinks, with its options refused where
//! invalid.

mod common;
use common::*;
use wgpu_loss::half::f16;
use wgpu_loss::*;

/// A loss called with a reduction on an input and a target: its loss and gradient.
type Call = Box<dyn Fn(Reduction, &Tensor, &Tensor) -> Result<(Tensor, Tensor)>>;

/// A loss: how to call it with a reduction, its f64 `(loss, derivative)` per element, and
/// the inputs and targets it is tested on.
struct Spec {
    name: &'static str,
    call: Call,
    f64: Box<dyn Fn(f64, f64) -> (f64, f64)>,
    x: (f32, f32),
    y: fn(&mut Rng) -> f32,
    /// The size of the terms whose difference is the loss, and the gradient, at `(x, y)`:
    /// what f32 rounding is relative to (the values themselves unless the formula cancels).
    terms: fn(f64, f64) -> (f64, f64),
}

/// No cancellation: the values themselves set the rounding.
fn own(_: f64, _: f64) -> (f64, f64) {
    (0.0, 0.0)
}

fn sign(rng: &mut Rng) -> f32 {
    if rng.below(2) == 0 { -1.0 } else { 1.0 }
}

fn softplus(z: f64) -> f64 {
    z.max(0.0) + (-z.abs()).exp().ln_1p()
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// torchvision's sigmoid focal loss and its derivative, in f64.
fn focal(x: f64, y: f64, alpha: f64, gamma: f64) -> (f64, f64) {
    let ce = (1.0 - y) * softplus(x) + y * softplus(-x);
    let p = sigmoid(x);
    let q = sigmoid(-x) * y + p * (1.0 - y);
    let a = if alpha >= 0.0 {
        alpha * y + (1.0 - alpha) * (1.0 - y)
    } else {
        1.0
    };
    let mut g = (p - y) * q.powf(gamma);
    if gamma != 0.0 {
        g -= ce * gamma * q.powf(gamma - 1.0) * p * (1.0 - p) * (2.0 * y - 1.0);
    }
    (a * ce * q.powf(gamma), a * g)
}

fn specs() -> Vec<Spec> {
    let stirling = |y: f64| {
        if y > 1.0 {
            y * y.ln() - y + 0.5 * (2.0 * std::f64::consts::PI * y).ln()
        } else {
            0.0
        }
    };
    vec![
        Spec {
            name: "soft_margin",
            call: Box::new(|r, x, y| SoftMarginLoss::new().reduction(r).forward_with_grad(x, y)),
            f64: Box::new(|x, y| (softplus(-y * x), -y * sigmoid(-y * x))),
            x: (-6.0, 6.0),
            y: sign,
            terms: own,
        },
        Spec {
            name: "log_cosh",
            call: Box::new(|r, x, y| LogCoshLoss::new().reduction(r).forward_with_grad(x, y)),
            f64: Box::new(|x, y| ((x - y).cosh().ln(), (x - y).tanh())),
            x: (-4.0, 4.0),
            y: |rng| rng.uniform(-4.0, 4.0),
            terms: own,
        },
        Spec {
            name: "hinge_embedding, margin 0.5",
            call: Box::new(|r, x, y| {
                HingeEmbeddingLoss::new()
                    .margin(0.5)
                    .reduction(r)
                    .forward_with_grad(x, y)
            }),
            f64: Box::new(|x, y| match y > 0.0 {
                true => (x, 1.0),
                false => ((0.5 - x).max(0.0), if x <= 0.5 { -1.0 } else { 0.0 }),
            }),
            x: (-2.0, 2.0),
            y: sign,
            terms: own,
        },
        Spec {
            name: "hinge",
            call: Box::new(|r, x, y| HingeLoss::new().reduction(r).forward_with_grad(x, y)),
            f64: Box::new(|x, y| {
                let m = 1.0 - x * y;
                (m.max(0.0), if m > 0.0 { -y } else { 0.0 })
            }),
            x: (-2.0, 2.0),
            y: sign,
            terms: own,
        },
        Spec {
            name: "poisson_nll",
            call: Box::new(|r, x, y| PoissonNllLoss::new().reduction(r).forward_with_grad(x, y)),
            f64: Box::new(|x, y| (x.exp() - y * x, x.exp() - y)),
            x: (-3.0, 3.0),
            y: |rng| rng.below(12) as f32,
            // exp(x) - y x and exp(x) - y cancel where exp(x) is near y x or y.
            terms: |x, y| (x.exp() + (y * x).abs(), x.exp() + y),
        },
        Spec {
            name: "poisson_nll, rates, full",
            call: Box::new(|r, x, y| {
                PoissonNllLoss::new()
                    .log_input(false)
                    .full(true)
                    .reduction(r)
                    .forward_with_grad(x, y)
            }),
            f64: Box::new(move |x, y| {
                let eps = 1e-8f32 as f64;
                (x - y * (x + eps).ln() + stirling(y), 1.0 - y / (x + eps))
            }),
            x: (0.1, 6.0),
            y: |rng| rng.below(12) as f32,
            terms: |x, y| {
                (
                    x + (y * x.ln()).abs() + y * y.max(1.0).ln() + y,
                    1.0 + y / x,
                )
            },
        },
        Spec {
            name: "sigmoid_focal",
            call: Box::new(|r, x, y| SigmoidFocalLoss::new().reduction(r).forward_with_grad(x, y)),
            f64: Box::new(|x, y| focal(x, y, 0.25, 2.0)),
            x: (-6.0, 6.0),
            y: |rng| rng.below(2) as f32,
            terms: own,
        },
        Spec {
            name: "sigmoid_focal, soft targets, alpha -1, gamma 1.5",
            call: Box::new(|r, x, y| {
                SigmoidFocalLoss::new()
                    .alpha(-1.0)
                    .gamma(1.5)
                    .reduction(r)
                    .forward_with_grad(x, y)
            }),
            f64: Box::new(|x, y| focal(x, y, -1.0, 1.5)),
            x: (-6.0, 6.0),
            y: |rng| rng.uniform(0.0, 1.0),
            terms: own,
        },
    ]
}

fn inputs(spec: &Spec, n: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut rng = Rng::new(seed);
    let x = rng.vec(n, spec.x.0, spec.x.1);
    let y = (0..n).map(|_| (spec.y)(&mut rng)).collect();
    (x, y)
}

#[test]
fn losses_and_gradients_match_f64_at_every_size() {
    for (k, spec) in specs().iter().enumerate() {
        let mut worst = 0.0f64;
        for n in [1, 3, 257, 1_000_003] {
            let (x, y) = inputs(spec, n, 1000 + k as u64);
            let (px, py) = (upload(&x, &[n]), upload(&y, &[n]));
            let pairs = || x.iter().zip(&y).map(|(&a, &b)| (a as f64, b as f64));
            let refs: Vec<(f64, f64)> = pairs().map(|(a, b)| (spec.f64)(a, b)).collect();
            // Rounding scales: each element's terms, or its own value.
            let scales: Vec<(f64, f64)> = pairs()
                .zip(&refs)
                .map(|((a, b), &(l, g))| {
                    let (tl, tg) = (spec.terms)(a, b);
                    (tl.max(l.abs()), tg.max(g.abs()))
                })
                .collect();
            let total: f64 = refs.iter().map(|r| r.0).sum();
            for r in [Reduction::Mean, Reduction::Sum] {
                let (l, g) = (spec.call)(r, &px, &py).unwrap();
                let divisor = if r == Reduction::Mean { n as f64 } else { 1.0 };
                let got = scalar(&l) as f64;
                let want = total / divisor;
                let scale = scales.iter().map(|s| s.0).sum::<f64>() / divisor;
                worst = worst.max((got - want).abs() / want.abs().max(1e-30));
                assert!(
                    (got - want).abs() <= 2e-6 * scale + 1e-30,
                    "{} [{n}] {r:?}: {got} vs {want}",
                    spec.name
                );
                let g = g.to_vec::<f32>().unwrap();
                for (i, (&gi, &(_, want))) in g.iter().zip(&refs).enumerate() {
                    let want = want / divisor;
                    assert!(
                        (gi as f64 - want).abs() <= (1e-5 * scales[i].1 + 1e-7) / divisor,
                        "{} [{n}] {r:?} gradient [{i}] at x {}, y {}: {gi} vs {want}",
                        spec.name,
                        x[i],
                        y[i]
                    );
                }
            }
            // Reduction none: each element's loss.
            let (l, _) = (spec.call)(Reduction::None, &px, &py).unwrap();
            for (i, (&li, &(want, _))) in l.to_vec::<f32>().unwrap().iter().zip(&refs).enumerate() {
                assert!(
                    (li as f64 - want).abs() <= 2e-6 * scales[i].0 + 1e-7,
                    "{} [{n}] none [{i}] at x {}, y {}: {li} vs {want}",
                    spec.name,
                    x[i],
                    y[i]
                );
            }
        }
        eprintln!(
            "{}: max relative error of a reduced loss vs f64 {worst:.1e}",
            spec.name
        );
    }
}

#[test]
fn gradients_match_central_differences_of_the_f64_loss() {
    for (k, spec) in specs().iter().enumerate() {
        let (x, y) = inputs(spec, 13, 2000 + k as u64);
        let (_, g) = (spec.call)(Reduction::Sum, &upload(&x, &[13]), &upload(&y, &[13])).unwrap();
        let g = g.to_vec::<f32>().unwrap();
        for i in 0..13 {
            let (xi, yi) = (x[i] as f64, y[i] as f64);
            let h = 1e-6 * xi.abs().max(1.0);
            let fd = ((spec.f64)(xi + h, yi).0 - (spec.f64)(xi - h, yi).0) / (2.0 * h);
            assert!(
                (g[i] as f64 - fd).abs() <= 1e-4 * fd.abs().max(1.0),
                "{} [{i}] at x {xi}, y {yi}: {} vs finite difference {fd}",
                spec.name,
                g[i]
            );
        }
    }
}

#[test]
fn half_inputs_give_the_f32_results_of_their_values() {
    for (k, spec) in specs().iter().enumerate() {
        let n = 1001;
        let (x, y) = inputs(spec, n, 3000 + k as u64);
        let xh: Vec<f16> = x.iter().map(|&v| f16::from_f32(v)).collect();
        let xr: Vec<f32> = xh.iter().map(|h| h.to_f32()).collect();
        let half = Tensor::from_slice(device(), &xh, &[n]).unwrap();
        let (py, pr) = (upload(&y, &[n]), upload(&xr, &[n]));
        let (lh, gh) = (spec.call)(Reduction::Sum, &half, &py).unwrap();
        let (lf, gf) = (spec.call)(Reduction::Sum, &pr, &py).unwrap();
        assert_eq!(scalar(&lh), scalar(&lf), "{}", spec.name);
        let gh = gh.to_vec::<f16>().unwrap();
        for (a, b) in gh.iter().zip(gf.to_vec::<f32>().unwrap()) {
            assert_eq!(*a, f16::from_f32(b), "{}", spec.name);
        }
    }
}

#[test]
fn nan_gives_nan_losses_and_pytorchs_gradients() {
    let nan = f32::NAN;
    let x = upload(&[nan, 0.5], &[2]);
    for spec in specs() {
        let y = if spec.name.starts_with("sigmoid") {
            [1.0, 0.0]
        } else {
            [1.0, -1.0]
        };
        let y = if spec.name.starts_with("poisson") {
            [3.0, 1.0]
        } else {
            y
        };
        let (l, g) = (spec.call)(Reduction::None, &x, &upload(&y, &[2])).unwrap();
        let (l, g) = (l.to_vec::<f32>().unwrap(), g.to_vec::<f32>().unwrap());
        assert!(l[0].is_nan() && l[1].is_finite(), "{}: {l:?}", spec.name);
        match spec.name.starts_with("hinge_embedding") {
            // PyTorch: where(y != -1, x, 0) passes 1, clamp_min's mask NaN >= 0 is false.
            true => assert_eq!(g[0], 1.0, "{}", spec.name),
            false => assert!(g[0].is_nan(), "{}: {g:?}", spec.name),
        }
        assert!(g[1].is_finite(), "{}: {g:?}", spec.name);
    }
}

#[test]
fn kinks_give_the_subgradients_pytorch_and_mlx_give() {
    // Hinge embedding at x = margin with y = -1: clamp_min passes the gradient, -1.
    let x = upload(&[1.0, 1.0, 0.0], &[3]);
    let y = upload(&[-1.0, 1.0, 0.5], &[3]);
    let (l, g) = HingeEmbeddingLoss::new()
        .reduction(Reduction::None)
        .forward_with_grad(&x, &y)
        .unwrap();
    assert_eq!(l.to_vec::<f32>().unwrap(), [0.0, 1.0, 1.0]);
    // y = 0.5 is neither 1 nor -1: PyTorch adds both terms, x + max(0, 1 - x).
    assert_eq!(g.to_vec::<f32>().unwrap(), [-1.0, 1.0, 0.0]);
    // MLX's hinge at x y = 1: 0.
    let (l, g) = HingeLoss::new()
        .forward_with_grad(&upload(&[1.0, -0.5], &[2]), &upload(&[1.0, -2.0], &[2]))
        .unwrap();
    assert_eq!(l.to_vec::<f32>().unwrap(), [0.0, 0.0]);
    assert_eq!(g.to_vec::<f32>().unwrap(), [0.0, 0.0]);
}

#[test]
fn focal_powers_follow_pytorch_at_confident_logits_and_odd_targets() {
    // |x| = 100: 1 - p_t is exactly 0 in f32; PyTorch's 0 ** 0 = 1 and 0 ** 1 = 0.
    let x = upload(&[100.0, -100.0], &[2]);
    let y = upload(&[1.0, 0.0], &[2]);
    for gamma in [0.0f32, 1.0, 2.0] {
        let focal = SigmoidFocalLoss::new().gamma(gamma);
        let (l, g) = focal.forward_with_grad(&x, &y).unwrap();
        let (l, g) = (l.to_vec::<f32>().unwrap(), g.to_vec::<f32>().unwrap());
        assert!(
            l.iter().chain(&g).all(|v| v.is_finite()),
            "gamma {gamma}: {l:?} {g:?}"
        );
        assert!(l.iter().all(|&v| v < 1e-30), "gamma {gamma}: {l:?}");
    }
    // A target outside [0, 1] to an integer gamma: PyTorch's (negative) ** 2, not NaN.
    let (x, y) = (-5.0f64, -1.0f64);
    let (want, _) = focal(x, y, 0.25, 2.0);
    let got = SigmoidFocalLoss::new()
        .forward(&upload(&[x as f32], &[1]), &upload(&[y as f32], &[1]))
        .unwrap()
        .to_vec::<f32>()
        .unwrap()[0] as f64;
    assert!((got - want).abs() <= 1e-5 * want.abs(), "{got} vs {want}");
}

#[test]
fn log_cosh_keeps_the_digits_of_small_differences() {
    let d = [1e-3f32, 1e-5, 0.3, -0.49, 0.5, 0.99, 1.0, 1.01, 20.0, 100.0];
    let (l, g) = LogCoshLoss::new()
        .forward_with_grad(&upload(&d, &[10]), &upload(&[0.0; 10], &[10]))
        .unwrap();
    for ((&di, li), gi) in d
        .iter()
        .zip(l.to_vec::<f32>().unwrap())
        .zip(g.to_vec::<f32>().unwrap())
    {
        let a = di as f64;
        let want = a.cosh().ln();
        assert!(
            ((li as f64) - want).abs() <= 2e-7 * want,
            "{di}: {li} vs {want}"
        );
        assert!(
            ((gi as f64) - a.tanh()).abs() <= 2e-7 * a.tanh().abs(),
            "{di}: {gi}"
        );
    }
}

#[test]
fn invalid_options_are_errors() {
    let x = upload(&[0.5; 4], &[4]);
    let bad: Vec<Result<Tensor>> = vec![
        HingeEmbeddingLoss::new()
            .margin(f32::INFINITY)
            .forward(&x, &x),
        PoissonNllLoss::new().eps(-1.0).forward(&x, &x),
        PoissonNllLoss::new().eps(f32::NAN).forward(&x, &x),
        SigmoidFocalLoss::new().gamma(-0.5).forward(&x, &x),
        SigmoidFocalLoss::new().gamma(f32::NAN).forward(&x, &x),
        SigmoidFocalLoss::new().alpha(1.5).forward(&x, &x),
    ];
    for err in bad {
        assert!(matches!(err, Err(Error::InvalidOption(_))), "{err:?}");
    }
    let labels = Tensor::from_slice(device(), &[1u32; 4], &[4]).unwrap();
    assert!(matches!(
        soft_margin_loss(&x, &labels, Reduction::Mean),
        Err(Error::DType { .. })
    ));
    assert!(matches!(
        hinge_loss(&x, &upload(&[1.0; 3], &[3]), Reduction::Mean),
        Err(Error::Shape(_))
    ));
}

// ------------------------------------------------------------ losses of three inputs

/// A loss of three tensors called with a reduction: its loss and gradients.
type Call3 =
    Box<dyn Fn(Reduction, &Tensor, &Tensor, &Tensor) -> Result<(Tensor, (Tensor, Tensor))>>;

/// A loss of three tensors `(a, b, c)`, with f64 `(loss, d/dx, d/dz)` of the kernel's roles:
/// for margin ranking `x = a`, `z = b`, target `c`; for Gaussian NLL `x = a`, target `b`,
/// `z = c`.
struct Spec3 {
    name: &'static str,
    call: Call3,
    /// `(x, target, z)` to `(loss, d/dx, d/dz)`.
    f64: fn(f64, f64, f64) -> (f64, f64, f64),
    /// The size of the terms whose difference is `d/dz` (what its rounding is relative to).
    dz_terms: fn(f64, f64, f64) -> f64,
    /// `(x, target, z)` from a generator, and how they map to the call's `(a, b, c)`.
    draw: fn(&mut Rng) -> (f32, f32, f32),
    margin_order: bool,
}

fn specs3() -> Vec<Spec3> {
    vec![
        Spec3 {
            name: "margin_ranking, margin 0.25",
            call: Box::new(|r, a, b, c| {
                MarginRankingLoss::new()
                    .margin(0.25)
                    .reduction(r)
                    .forward_with_grad(a, b, c)
            }),
            f64: |x, y, z| {
                let m = -y * (x - z) + 0.25;
                match m >= 0.0 {
                    true => (m, -y, y),
                    false => (0.0, 0.0, 0.0),
                }
            },
            draw: |rng| (rng.uniform(-2.0, 2.0), sign(rng), rng.uniform(-2.0, 2.0)),
            dz_terms: |_, _, _| 0.0,
            margin_order: true,
        },
        Spec3 {
            name: "gaussian_nll, full",
            call: Box::new(|r, a, b, c| {
                GaussianNllLoss::new()
                    .full(true)
                    .reduction(r)
                    .forward_with_grad(a, b, c)
            }),
            f64: |x, y, z| {
                let v = z.max(1e-6f32 as f64);
                let d = x - y;
                let loss = 0.5 * (v.ln() + d * d / v) + 0.5 * (2.0 * std::f64::consts::PI).ln();
                (loss, d / v, 0.5 * (1.0 / v - d * d / (v * v)))
            },
            draw: |rng| {
                (
                    rng.uniform(-3.0, 3.0),
                    rng.uniform(-3.0, 3.0),
                    rng.uniform(0.05, 4.0),
                )
            },
            // 1 / v - d² / v² cancels where d² is near v.
            dz_terms: |x, y, z| 0.5 * (1.0 / z + (x - y).powi(2) / (z * z)),
            margin_order: false,
        },
    ]
}

/// The call's `(a, b, c)` for `(x, target, z)`.
fn order(spec: &Spec3, x: Vec<f32>, t: Vec<f32>, z: Vec<f32>) -> [Vec<f32>; 3] {
    match spec.margin_order {
        true => [x, z, t],
        false => [x, t, z],
    }
}

fn gen3(spec: &Spec3, n: usize, seed: u64) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let mut rng = Rng::new(seed);
    let (mut x, mut t, mut z) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..n {
        let (a, b, c) = (spec.draw)(&mut rng);
        x.push(a);
        t.push(b);
        z.push(c);
    }
    (x, t, z)
}

fn run3(
    dev: &Device,
    spec: &Spec3,
    r: Reduction,
    x: &[f32],
    t: &[f32],
    z: &[f32],
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let n = x.len();
    let [a, b, c] = order(spec, x.to_vec(), t.to_vec(), z.to_vec());
    let up = |v: &[f32]| Tensor::from_slice(dev, v, &[n]).unwrap();
    let (l, (gx, gz)) = (spec.call)(r, &up(&a), &up(&b), &up(&c)).unwrap();
    (
        l.to_vec().unwrap(),
        gx.to_vec().unwrap(),
        gz.to_vec().unwrap(),
    )
}

#[test]
fn losses_of_three_inputs_match_f64_with_both_gradients() {
    let small = Device::with_options(DeviceOptions::new().max_binding_size(4096)).unwrap();
    for (k, spec) in specs3().iter().enumerate() {
        let mut worst = 0.0f64;
        for (dev, n) in [
            (device(), 1),
            (device(), 3),
            (device(), 257),
            (device(), 1_000_003),
            (&small, 5_003),
        ] {
            let (x, t, z) = gen3(spec, n, 4000 + k as u64 + n as u64);
            let refs: Vec<(f64, f64, f64)> = (0..n)
                .map(|i| (spec.f64)(x[i] as f64, t[i] as f64, z[i] as f64))
                .collect();
            for r in [Reduction::Mean, Reduction::Sum] {
                let divisor = if r == Reduction::Mean { n as f64 } else { 1.0 };
                let (l, gx, gz) = run3(dev, spec, r, &x, &t, &z);
                let want = refs.iter().map(|v| v.0).sum::<f64>() / divisor;
                let scale = refs.iter().map(|v| v.0.abs()).sum::<f64>() / divisor;
                let got = l[0] as f64;
                assert!(
                    (got - want).abs() <= 2e-6 * scale + 1e-30,
                    "{} [{n}] {r:?}: {got} vs {want}",
                    spec.name
                );
                worst = worst.max((got - want).abs() / want.abs().max(1e-30));
                for i in 0..n {
                    let (_, wx, wz) = refs[i];
                    let tz = (spec.dz_terms)(x[i] as f64, t[i] as f64, z[i] as f64);
                    for (g, w, terms, what) in [(gx[i], wx, 0.0, "d/dx"), (gz[i], wz, tz, "d/dz")] {
                        let (w, scale) = (w / divisor, w.abs().max(terms) / divisor);
                        assert!(
                            (g as f64 - w).abs() <= 1e-5 * scale + 1e-7 / divisor,
                            "{} [{n}] {r:?} {what} [{i}] at ({}, {}, {}): {g} vs {w}",
                            spec.name,
                            x[i],
                            t[i],
                            z[i]
                        );
                    }
                }
            }
            let (l, _, _) = run3(dev, spec, Reduction::None, &x, &t, &z);
            for i in 0..n {
                // Gaussian NLL's terms (log v, d²/v, log 2π / 2) are of order 1 and may cancel.
                let want = refs[i].0;
                assert!(
                    (l[i] as f64 - want).abs() <= 2e-6 * want.abs().max(1.0),
                    "{} none [{i}]: {} vs {want}",
                    spec.name,
                    l[i]
                );
            }
        }
        eprintln!(
            "{}: max relative error of a reduced loss vs f64 {worst:.1e}",
            spec.name
        );
    }
}

#[test]
fn gradients_of_three_inputs_match_central_differences() {
    for (k, spec) in specs3().iter().enumerate() {
        let (x, t, z) = gen3(spec, 13, 5000 + k as u64);
        let (_, gx, gz) = run3(device(), spec, Reduction::Sum, &x, &t, &z);
        for i in 0..13 {
            let (xi, ti, zi) = (x[i] as f64, t[i] as f64, z[i] as f64);
            let h = 1e-6;
            let fdx = ((spec.f64)(xi + h, ti, zi).0 - (spec.f64)(xi - h, ti, zi).0) / (2.0 * h);
            let fdz = ((spec.f64)(xi, ti, zi + h).0 - (spec.f64)(xi, ti, zi - h).0) / (2.0 * h);
            for (g, fd) in [(gx[i], fdx), (gz[i], fdz)] {
                assert!(
                    (g as f64 - fd).abs() <= 1e-4 * fd.abs().max(1.0),
                    "{} [{i}]: {g} vs {fd}",
                    spec.name
                );
            }
        }
    }
}

#[test]
fn three_input_edges_kinks_halves_and_errors() {
    // Margin ranking at the kink -y (x1 - x2) + margin = 0: PyTorch passes the gradient.
    let x1 = upload(&[1.0, f32::NAN], &[2]);
    let x2 = upload(&[0.5, 0.0], &[2]);
    let y = upload(&[1.0, 1.0], &[2]);
    let (l, (g1, g2)) = MarginRankingLoss::new()
        .margin(0.5)
        .reduction(Reduction::None)
        .forward_with_grad(&x1, &x2, &y)
        .unwrap();
    let l = l.to_vec::<f32>().unwrap();
    assert_eq!(l[0], 0.0);
    assert!(l[1].is_nan());
    assert_eq!(g1.to_vec::<f32>().unwrap(), [-1.0, 0.0]);
    assert_eq!(g2.to_vec::<f32>().unwrap(), [1.0, 0.0]);
    // Gaussian NLL: a variance below eps counts as eps, its gradient taken there.
    let (l, (_, gv)) = GaussianNllLoss::new()
        .reduction(Reduction::None)
        .forward_with_grad(
            &upload(&[0.0], &[1]),
            &upload(&[0.0], &[1]),
            &upload(&[1e-9], &[1]),
        )
        .unwrap();
    assert!((l.to_vec::<f32>().unwrap()[0] as f64 - 0.5 * (1e-6f64).ln()).abs() < 1e-5);
    assert!((gv.to_vec::<f32>().unwrap()[0] as f64 - 0.5e6).abs() < 1.0);
    // Half inputs: each gradient comes back in its input's precision, f16 or bf16, mixed
    // with f32 too. Mean over 2: d/dvar = [0.0625, -0.75], d/dx = [0.25, 1.0], exact in both.
    fn check_halves<H: wgpu_loss::Element + Copy + Into<f32>>(to: fn(f32) -> H, half_var: bool) {
        let dev = device();
        let x: Vec<H> = [1.0, 2.0].into_iter().map(to).collect();
        let x = Tensor::from_slice(dev, &x, &[2]).unwrap();
        let var = match half_var {
            true => {
                let v: Vec<H> = [2.0, 1.0].into_iter().map(to).collect();
                Tensor::from_slice(dev, &v, &[2]).unwrap()
            }
            false => upload(&[2.0, 1.0], &[2]),
        };
        let (_, (gx, gv)) = GaussianNllLoss::new()
            .forward_with_grad(&x, &upload(&[0.0, 0.0], &[2]), &var)
            .unwrap();
        let gx: Vec<f32> = gx
            .to_vec::<H>()
            .unwrap()
            .into_iter()
            .map(Into::into)
            .collect();
        assert_eq!(gx, [0.25, 1.0]);
        let gv: Vec<f32> = match half_var {
            true => gv
                .to_vec::<H>()
                .unwrap()
                .into_iter()
                .map(Into::into)
                .collect(),
            false => gv.to_vec::<f32>().unwrap(),
        };
        assert_eq!(gv, [0.0625, -0.75]);
    }
    for half_var in [true, false] {
        check_halves(f16::from_f32, half_var);
        check_halves(wgpu_loss::half::bf16::from_f32, half_var);
    }
    // Errors: shapes, options.
    let (a, b) = (upload(&[1.0; 4], &[4]), upload(&[1.0; 3], &[3]));
    assert!(matches!(
        margin_ranking_loss(&a, &b, &a, Reduction::Mean),
        Err(Error::Shape(_))
    ));
    assert!(matches!(
        gaussian_nll_loss(&a, &a, &b, Reduction::Mean),
        Err(Error::Shape(_))
    ));
    let bad = [
        MarginRankingLoss::new()
            .margin(f32::NAN)
            .forward(&a, &a, &a),
        GaussianNllLoss::new().eps(0.0).forward(&a, &a, &a),
        GaussianNllLoss::new().eps(1e-40).forward(&a, &a, &a),
    ];
    for err in bad {
        assert!(matches!(err, Err(Error::InvalidOption(_))), "{err:?}");
    }
}
