//! Every loss and its gradient against f64 references on the CPU: the loss's formula, a
//! central finite difference of it, and the gradient's closed form at larger sizes.

mod common;
use common::*;
use wgpu_loss::*;

/// Central finite difference of `f` at `x`, in f64.
fn finite_difference(f: &dyn Fn(&[f64]) -> f64, x: &[f32]) -> Vec<f64> {
    let mut v: Vec<f64> = x.iter().map(|&a| a as f64).collect();
    (0..v.len())
        .map(|i| {
            let h = 1e-6 * v[i].abs().max(1.0);
            let orig = v[i];
            v[i] = orig + h;
            let up = f(&v);
            v[i] = orig - h;
            let down = f(&v);
            v[i] = orig;
            (up - down) / (2.0 * h)
        })
        .collect()
}

/// Checks a GPU loss and gradient against the f64 loss `f`: the value, and the gradient
/// against f's finite difference. Returns the largest gradient error relative to max |g|.
fn check(name: &str, x: &[f32], loss: f32, grad: &[f32], f: &dyn Fn(&[f64]) -> f64) -> f64 {
    let xs: Vec<f64> = x.iter().map(|&a| a as f64).collect();
    let want = f(&xs);
    assert!(
        approx::relative_eq!(loss as f64, want, epsilon = 1e-6, max_relative = 1e-5),
        "{name}: loss {loss}, want {want}"
    );
    let fd = finite_difference(f, x);
    let scale = fd.iter().fold(1e-3f64, |m, g| m.max(g.abs()));
    let err = grad
        .iter()
        .zip(&fd)
        .map(|(&g, &w)| (g as f64 - w).abs() / scale)
        .fold(0.0, f64::max);
    eprintln!("{name}: max gradient error vs finite difference {err:.2e} (of max |g|)");
    assert!(
        err < 1e-4,
        "{name}: gradient {grad:?}, finite difference {fd:?}"
    );
    err
}

fn reduce(v: Vec<f64>, r: Reduction) -> f64 {
    match r {
        Reduction::Sum => v.iter().sum(),
        _ => v.iter().sum::<f64>() / v.len() as f64,
    }
}

fn pair(result: (Tensor, Tensor)) -> (f32, Vec<f32>) {
    (scalar(&result.0), result.1.to_vec::<f32>().unwrap())
}

fn labels_t(y: &[i32], shape: &[usize]) -> Tensor {
    Tensor::from_slice(device(), y, shape).unwrap()
}

#[test]
fn elementwise_losses_match_finite_differences() {
    let mut rng = Rng::new(50);
    let n = 13;
    let x = rng.vec(n, -2.0, 2.0);
    let y = rng.vec(n, -2.0, 2.0);
    let (px, py) = (upload(&x, &[n]), upload(&y, &[n]));
    let yd: Vec<f64> = y.iter().map(|&v| v as f64).collect();
    for r in [Reduction::Mean, Reduction::Sum] {
        let (l, g) = pair(
            MseLoss::new()
                .reduction(r)
                .forward_with_grad(&px, &py)
                .unwrap(),
        );
        check("mse", &x, l, &g, &|v| {
            reduce(v.iter().zip(&yd).map(|(a, b)| (a - b).powi(2)).collect(), r)
        });
        let (l, g) = pair(
            L1Loss::new()
                .reduction(r)
                .forward_with_grad(&px, &py)
                .unwrap(),
        );
        check("l1", &x, l, &g, &|v| {
            reduce(v.iter().zip(&yd).map(|(a, b)| (a - b).abs()).collect(), r)
        });
        for delta in [0.5f32, 1.0, 3.0] {
            let (l, g) = pair(
                HuberLoss::new()
                    .delta(delta)
                    .reduction(r)
                    .forward_with_grad(&px, &py)
                    .unwrap(),
            );
            let d = delta as f64;
            let huber = move |a: f64| {
                if a.abs() < d {
                    0.5 * a * a
                } else {
                    d * (a.abs() - 0.5 * d)
                }
            };
            check("huber", &x, l, &g, &|v| {
                reduce(v.iter().zip(&yd).map(|(a, b)| huber(a - b)).collect(), r)
            });
            let (l, g) = pair(
                SmoothL1Loss::new()
                    .beta(delta)
                    .reduction(r)
                    .forward_with_grad(&px, &py)
                    .unwrap(),
            );
            check("smooth_l1", &x, l, &g, &|v| {
                reduce(
                    v.iter().zip(&yd).map(|(a, b)| huber(a - b) / d).collect(),
                    r,
                )
            });
        }
        let (l, g) = pair(
            SmoothL1Loss::new()
                .beta(0.0)
                .reduction(r)
                .forward_with_grad(&px, &py)
                .unwrap(),
        );
        check("smooth_l1 beta 0", &x, l, &g, &|v| {
            reduce(v.iter().zip(&yd).map(|(a, b)| (a - b).abs()).collect(), r)
        });
    }
}

#[test]
fn binary_losses_match_finite_differences() {
    let mut rng = Rng::new(51);
    let (rows, cols) = (3, 5);
    let n = rows * cols;
    let p = rng.vec(n, 0.05, 0.95);
    let logits = rng.vec(n, -4.0, 4.0);
    let y = rng.vec(n, 0.0, 1.0);
    let w = rng.vec(n, 0.5, 2.0);
    let pw = rng.vec(cols, 0.5, 4.0);
    let (yd, wd, pwd): (Vec<f64>, Vec<f64>, Vec<f64>) = (
        y.iter().map(|&v| v as f64).collect(),
        w.iter().map(|&v| v as f64).collect(),
        pw.iter().map(|&v| v as f64).collect(),
    );
    let t = |d: &[f32], s: &[usize]| upload(d, s);
    for r in [Reduction::Mean, Reduction::Sum] {
        let bce = BceLoss::new().weight(t(&w, &[rows, cols])).reduction(r);
        let (l, g) = pair(
            bce.forward_with_grad(&t(&p, &[rows, cols]), &t(&y, &[rows, cols]))
                .unwrap(),
        );
        check("bce weighted", &p, l, &g, &|v| {
            reduce(
                (0..n)
                    .map(|i| -wd[i] * (yd[i] * v[i].ln() + (1.0 - yd[i]) * (1.0 - v[i]).ln()))
                    .collect(),
                r,
            )
        });
        let bcel = BceWithLogitsLoss::new()
            .weight(t(&w, &[rows, cols]))
            .pos_weight(t(&pw, &[cols]))
            .reduction(r);
        let (l, g) = pair(
            bcel.forward_with_grad(&t(&logits, &[rows, cols]), &t(&y, &[rows, cols]))
                .unwrap(),
        );
        check(
            "bce with logits, weight, pos_weight",
            &logits,
            l,
            &g,
            &|v| {
                reduce(
                    (0..n)
                        .map(|i| {
                            let sig: f64 = 1.0 / (1.0 + (-v[i]).exp());
                            -wd[i]
                                * (pwd[i % cols] * yd[i] * sig.ln()
                                    + (1.0 - yd[i]) * (1.0 - sig).ln())
                        })
                        .collect(),
                    r,
                )
            },
        );
    }
}

#[test]
fn kl_div_matches_finite_differences() {
    let mut rng = Rng::new(52);
    let (rows, cols) = (3, 4);
    let n = rows * cols;
    let logq = rng.vec(n, -3.0, 0.0);
    let mut p = rng.vec(n, 0.0, 1.0);
    p[5] = 0.0;
    let pd: Vec<f64> = p.iter().map(|&v| v as f64).collect();
    for (r, div) in [
        (KlReduction::BatchMean, rows as f64),
        (KlReduction::Mean, n as f64),
        (KlReduction::Sum, 1.0),
    ] {
        let kl = KlDivLoss::new().reduction(r);
        let (l, g) = pair(
            kl.forward_with_grad(&upload(&logq, &[rows, cols]), &upload(&p, &[rows, cols]))
                .unwrap(),
        );
        check("kl_div", &logq, l, &g, &|v| {
            (0..n)
                .map(|i| {
                    if pd[i] == 0.0 {
                        0.0
                    } else {
                        pd[i] * (pd[i].ln() - v[i])
                    }
                })
                .sum::<f64>()
                / div
        });
        let logp: Vec<f32> = p.iter().map(|&v| (v + 0.1).ln()).collect();
        let kl = KlDivLoss::new().reduction(r).log_target(true);
        let (l, g) = pair(
            kl.forward_with_grad(&upload(&logq, &[rows, cols]), &upload(&logp, &[rows, cols]))
                .unwrap(),
        );
        check("kl_div log_target", &logq, l, &g, &|v| {
            (0..n)
                .map(|i| (logp[i] as f64).exp() * (logp[i] as f64 - v[i]))
                .sum::<f64>()
                / div
        });
    }
    let none = kl_div(
        &upload(&logq, &[rows, cols]),
        &upload(&p, &[rows, cols]),
        KlReduction::None,
    )
    .unwrap();
    assert_eq!(none.shape(), &[rows, cols]);
    assert_eq!(none.to_vec::<f32>().unwrap()[5], 0.0);
}

/// f64 cross-entropy over rows of `classes` values `inner` apart, PyTorch's definition.
struct CeRef<'a> {
    classes: usize,
    inner: usize,
    labels: Option<&'a [i32]>,
    probs: Option<&'a [f32]>,
    weight: Option<&'a [f32]>,
    ignore: i32,
    eps: f64,
    log_probs: bool,
}

impl CeRef<'_> {
    fn loss(&self, x: &[f64], r: Reduction) -> f64 {
        let (c, d) = (self.classes, self.inner);
        let rows = x.len() / c;
        let w = |k: usize| self.weight.map_or(1.0, |w| w[k] as f64);
        let (mut total, mut den) = (0.0, 0.0);
        for row in 0..rows {
            let base = (row / d) * c * d + row % d;
            let v: Vec<f64> = (0..c).map(|k| x[base + k * d]).collect();
            let m = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let lse = m + v.iter().map(|a| (a - m).exp()).sum::<f64>().ln();
            let logp: Vec<f64> = v
                .iter()
                .map(|a| if self.log_probs { *a } else { a - lse })
                .collect();
            if let Some(labels) = self.labels {
                let y = labels[row];
                if y == self.ignore {
                    continue;
                }
                let y = y as usize;
                let smooth: f64 =
                    (0..c).map(|k| -w(k) * logp[k]).sum::<f64>() * self.eps / c as f64;
                total += -(1.0 - self.eps) * w(y) * logp[y] + smooth;
                den += w(y);
            } else if let Some(t) = self.probs {
                let q = |k: usize| (1.0 - self.eps) * t[base + k * d] as f64 + self.eps / c as f64;
                total += (0..c).map(|k| -w(k) * q(k) * logp[k]).sum::<f64>();
                den += 1.0;
            }
        }
        match r {
            Reduction::Sum => total,
            _ => total / den,
        }
    }
}

#[test]
fn cross_entropy_options_match_finite_differences() {
    let mut rng = Rng::new(53);
    for (rows, classes) in [(6usize, 5usize), (4, 70)] {
        let x = rng.vec(rows * classes, -3.0, 3.0);
        let mut y: Vec<i32> = (0..rows)
            .map(|_| rng.below(classes as u32) as i32)
            .collect();
        y[1] = -100;
        let w = rng.vec(classes, 0.5, 2.0);
        let logits = upload(&x, &[rows, classes]);
        let labels = labels_t(&y, &[rows]);
        for r in [Reduction::Mean, Reduction::Sum] {
            for eps in [0.0f32, 0.1] {
                for weighted in [false, true] {
                    let mut ce = CrossEntropyLoss::new().reduction(r).label_smoothing(eps);
                    if weighted {
                        ce = ce.weight(upload(&w, &[classes]));
                    }
                    let (l, g) = pair(ce.forward_with_grad(&logits, &labels).unwrap());
                    let reference = CeRef {
                        classes,
                        inner: 1,
                        labels: Some(&y),
                        probs: None,
                        weight: weighted.then_some(w.as_slice()),
                        ignore: -100,
                        eps: eps as f64,
                        log_probs: false,
                    };
                    let name = format!("ce [{rows}x{classes}] {r:?} eps {eps} weighted {weighted}");
                    check(&name, &x, l, &g, &|v| reference.loss(v, r));
                    assert!(
                        g[classes..2 * classes].iter().all(|&v| v == 0.0),
                        "ignored row"
                    );
                }
            }
        }
    }
}

#[test]
fn cross_entropy_probability_targets_match_finite_differences() {
    let mut rng = Rng::new(54);
    for (rows, classes) in [(5usize, 4usize), (3, 100)] {
        let x = rng.vec(rows * classes, -3.0, 3.0);
        let mut t = rng.vec(rows * classes, 0.0, 1.0);
        for row in t.chunks_mut(classes) {
            let s: f32 = row.iter().sum();
            row.iter_mut().for_each(|v| *v /= s);
        }
        let w = rng.vec(classes, 0.5, 2.0);
        for r in [Reduction::Mean, Reduction::Sum] {
            let ce = CrossEntropyLoss::new()
                .reduction(r)
                .label_smoothing(0.2)
                .weight(upload(&w, &[classes]));
            let (l, g) = pair(
                ce.forward_with_grad(&upload(&x, &[rows, classes]), &upload(&t, &[rows, classes]))
                    .unwrap(),
            );
            let reference = CeRef {
                classes,
                inner: 1,
                labels: None,
                probs: Some(&t),
                weight: Some(&w),
                ignore: -100,
                eps: 0.2,
                log_probs: false,
            };
            check(
                &format!("ce probs [{rows}x{classes}] {r:?}"),
                &x,
                l,
                &g,
                &|v| reference.loss(v, r),
            );
        }
    }
}

#[test]
fn cross_entropy_with_spatial_dimensions() {
    // [N, C, H, W] logits with [N, H, W] labels, as for segmentation.
    let mut rng = Rng::new(55);
    let (n, c, h, w) = (2usize, 3usize, 2usize, 3usize);
    let x = rng.vec(n * c * h * w, -2.0, 2.0);
    let y: Vec<i32> = (0..n * h * w).map(|_| rng.below(c as u32) as i32).collect();
    let logits = upload(&x, &[n, c, h, w]);
    let labels = labels_t(&y, &[n, h, w]);
    let (l, g) = pair(
        CrossEntropyLoss::new()
            .forward_with_grad(&logits, &labels)
            .unwrap(),
    );
    assert_eq!(g.len(), x.len());
    let reference = CeRef {
        classes: c,
        inner: h * w,
        labels: Some(&y),
        probs: None,
        weight: None,
        ignore: -100,
        eps: 0.0,
        log_probs: false,
    };
    check("ce [2,3,2,3]", &x, l, &g, &|v| {
        reference.loss(v, Reduction::Mean)
    });
    let none = CrossEntropyLoss::new()
        .reduction(Reduction::None)
        .forward(&logits, &labels)
        .unwrap();
    assert_eq!(none.shape(), &[n, h, w]);
    // A single sample: logits [C], label [].
    let one = cross_entropy(
        &upload(&x[..c], &[c]),
        &labels_t(&[1], &[]),
        Reduction::Mean,
    )
    .unwrap();
    let m = x[..c].iter().map(|&v| (v as f64).exp()).sum::<f64>().ln() - x[1] as f64;
    let got = scalar(&one);
    assert!(rel_err(got, m) < 1e-6, "one sample: got {got}, want {m}");
}

#[test]
fn nll_matches_finite_differences() {
    let mut rng = Rng::new(56);
    let (rows, classes) = (7, 4);
    let x = rng.vec(rows * classes, -4.0, 0.0);
    let mut y: Vec<i32> = (0..rows)
        .map(|_| rng.below(classes as u32) as i32)
        .collect();
    y[3] = 2; // ignore_index below
    let w = rng.vec(classes, 0.5, 2.0);
    for r in [Reduction::Mean, Reduction::Sum] {
        let nll = NllLoss::new()
            .weight(upload(&w, &[classes]))
            .ignore_index(2)
            .reduction(r);
        let (l, g) = pair(
            nll.forward_with_grad(&upload(&x, &[rows, classes]), &labels_t(&y, &[rows]))
                .unwrap(),
        );
        let reference = CeRef {
            classes,
            inner: 1,
            labels: Some(&y),
            probs: None,
            weight: Some(&w),
            ignore: 2,
            eps: 0.0,
            log_probs: true,
        };
        check(&format!("nll {r:?}"), &x, l, &g, &|v| reference.loss(v, r));
    }
}

/// Closed-form gradients at large and odd sizes, against f64.
#[test]
fn gradients_at_scale_match_closed_forms() {
    let mut rng = Rng::new(57);
    for n in [1usize, 3, 257, 65_537, 1_000_003] {
        let x = rng.vec(n, -3.0, 3.0);
        let y = rng.vec(n, -3.0, 3.0);
        let (_, g) = MseLoss::new()
            .forward_with_grad(&upload(&x, &[n]), &upload(&y, &[n]))
            .unwrap();
        let want: Vec<f64> = x
            .iter()
            .zip(&y)
            .map(|(&a, &b)| 2.0 * (a as f64 - b as f64) / n as f64)
            .collect();
        assert_all_close(&g.to_vec::<f32>().unwrap(), &want, 1e-5, 1e-12);
        let t: Vec<f32> = y.iter().map(|&v| (v > 0.0) as u32 as f32).collect();
        let (_, g) = BceWithLogitsLoss::new()
            .reduction(Reduction::Sum)
            .forward_with_grad(&upload(&x, &[n]), &upload(&t, &[n]))
            .unwrap();
        let want: Vec<f64> = x
            .iter()
            .zip(&t)
            .map(|(&a, &b)| 1.0 / (1.0 + (-a as f64).exp()) - b as f64)
            .collect();
        assert_all_close(&g.to_vec::<f32>().unwrap(), &want, 1e-5, 1e-6);
    }
    for (rows, classes) in [
        (30_011usize, 2usize),
        (10_007, 10),
        (257, 1000),
        (9, 32_000),
    ] {
        let x = rng.vec(rows * classes, -1e1, 1e1);
        let y: Vec<u32> = (0..rows).map(|_| rng.below(classes as u32)).collect();
        let (_, g) = CrossEntropyLoss::new()
            .reduction(Reduction::Sum)
            .forward_with_grad(
                &upload(&x, &[rows, classes]),
                &Tensor::from_slice(device(), &y, &[rows]).unwrap(),
            )
            .unwrap();
        let mut want = Vec::with_capacity(x.len());
        for (row, &label) in x.chunks(classes).zip(&y) {
            let m = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
            let s: f64 = row.iter().map(|&v| (v as f64 - m).exp()).sum();
            want.extend(
                row.iter()
                    .enumerate()
                    .map(|(k, &v)| (v as f64 - m).exp() / s - (k == label as usize) as u32 as f64),
            );
        }
        assert_all_close(&g.to_vec::<f32>().unwrap(), &want, 1e-4, 1e-6);
    }
}

#[test]
fn huge_logits_give_exact_gradients() {
    let x = [1e4f32, -1e4, 0.0, -1e4, 1e4, 1e4];
    let labels = Tensor::from_slice(device(), &[0u32, 2], &[2]).unwrap();
    let (l, g) = CrossEntropyLoss::new()
        .reduction(Reduction::None)
        .forward_with_grad(&upload(&x, &[2, 3]), &labels)
        .unwrap();
    let l = l.to_vec::<f32>().unwrap();
    assert_eq!(l[0], 0.0);
    assert!((l[1] - 2f32.ln()).abs() < 1e-6, "{l:?}");
    assert_eq!(
        g.to_vec::<f32>().unwrap(),
        vec![0.0, 0.0, 0.0, 0.0, 0.5, -0.5]
    );
    let p = upload(&[0.0, 1.0, 0.0, 1.0], &[4]);
    let t = upload(&[1.0, 0.0, 0.0, 1.0], &[4]);
    let (_, g) = BceLoss::new()
        .reduction(Reduction::Sum)
        .forward_with_grad(&p, &t)
        .unwrap();
    assert_eq!(g.to_vec::<f32>().unwrap(), vec![-1e12, 1e12, 0.0, 0.0]);
}
