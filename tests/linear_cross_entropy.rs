//! Linear cross-entropy against an f64 reference written here (loss and the three gradients),
//! the reference's gradients against f64 central differences, and against `cross_entropy` of
//! logits made by `matmul`: odd shapes, vocabularies of 1 to 128,256, every option alone and
//! together, half inputs, logits of a few hundred, chunks forced by tiny binding limits, and
//! bad input as `Error`s.

mod common;

use common::{Rng, device};
use wgpu_loss::half::{bf16, f16};
use wgpu_loss::{
    CrossEntropyLoss, DType, Device, DeviceOptions, Error, LinearCrossEntropyLoss, Matmul,
    Reduction, Tensor, linear_cross_entropy,
};

#[derive(Debug, Clone, Copy)]
struct Opts {
    bias: bool,
    ignore: bool,
    smoothing: f64,
    softcap: Option<f64>,
    z_loss: f64,
    reduction: Reduction,
}

const PLAIN: Opts = Opts {
    bias: false,
    ignore: false,
    smoothing: 0.0,
    softcap: None,
    z_loss: 0.0,
    reduction: Reduction::Mean,
};

/// One problem in f64 (the values the GPU sees, widened).
struct Case {
    n: usize,
    h: usize,
    v: usize,
    hidden: Vec<f64>,
    classifier: Vec<f64>,
    bias: Vec<f64>,
    labels: Vec<i32>,
}

/// The reference's results: per-row losses, the reduced loss and the three gradients.
struct Want {
    rows: Vec<f64>,
    loss: f64,
    hidden: Vec<f64>,
    classifier: Vec<f64>,
    bias: Vec<f64>,
}

impl Case {
    fn random(rng: &mut Rng, n: usize, h: usize, v: usize, scale: f32, ignore: bool) -> Case {
        let labels = (0..n)
            .map(|i| match ignore && i % 3 == 1 {
                true => -100,
                false => rng.below(v as u32) as i32,
            })
            .collect();
        Case {
            n,
            h,
            v,
            hidden: rng
                .vec(n * h, -scale, scale)
                .into_iter()
                .map(f64::from)
                .collect(),
            classifier: rng
                .vec(v * h, -1.0, 1.0)
                .into_iter()
                .map(f64::from)
                .collect(),
            bias: rng.vec(v, -2.0, 2.0).into_iter().map(f64::from).collect(),
            labels,
        }
    }

    /// Rounds the inputs to `dtype`, as the GPU will read them.
    fn rounded(mut self, dtype: DType) -> Case {
        let round = |x: &mut Vec<f64>| {
            for v in x.iter_mut() {
                *v = match dtype {
                    DType::F16 => f16::from_f64(*v).to_f64(),
                    DType::BF16 => bf16::from_f64(*v).to_f64(),
                    _ => *v as f32 as f64,
                };
            }
        };
        round(&mut self.hidden);
        round(&mut self.classifier);
        round(&mut self.bias);
        self
    }

    fn reference(&self, o: Opts) -> Want {
        let (n, h, v) = (self.n, self.h, self.v);
        let mut rows = vec![0.0; n];
        let mut draws = vec![0.0; n * v];
        let mut count = 0.0;
        for r in 0..n {
            let y = self.labels[r];
            let raw: Vec<f64> = (0..v)
                .map(|c| {
                    let dot: f64 = (0..h)
                        .map(|k| self.hidden[r * h + k] * self.classifier[c * h + k])
                        .sum();
                    dot + if o.bias { self.bias[c] } else { 0.0 }
                })
                .collect();
            let z: Vec<f64> = raw
                .iter()
                .map(|&x| o.softcap.map_or(x, |cap| cap * (x / cap).tanh()))
                .collect();
            if o.ignore && y == -100 {
                continue;
            }
            count += 1.0;
            let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let lse = m + z.iter().map(|zc| (zc - m).exp()).sum::<f64>().ln();
            let eps = o.smoothing;
            let mean_z = z.iter().sum::<f64>() / v as f64;
            rows[r] = lse - (1.0 - eps) * z[y as usize] - eps * mean_z + o.z_loss * lse * lse;
            for c in 0..v {
                let p = (z[c] - lse).exp();
                let mut g = p * (1.0 + 2.0 * o.z_loss * lse) - eps / v as f64;
                if c == y as usize {
                    g -= 1.0 - eps;
                }
                if let Some(cap) = o.softcap {
                    g *= 1.0 - (z[c] / cap).powi(2);
                }
                draws[r * v + c] = g;
            }
        }
        let (loss, scale) = match o.reduction {
            Reduction::Mean => (rows.iter().sum::<f64>() / count, 1.0 / count),
            _ => (rows.iter().sum::<f64>(), 1.0),
        };
        let mut dh = vec![0.0; n * h];
        let mut dw = vec![0.0; v * h];
        let mut db = vec![0.0; v];
        for r in 0..n {
            for c in 0..v {
                let g = draws[r * v + c] * scale;
                db[c] += g;
                for k in 0..h {
                    dh[r * h + k] += g * self.classifier[c * h + k];
                    dw[c * h + k] += g * self.hidden[r * h + k];
                }
            }
        }
        Want {
            rows,
            loss,
            hidden: dh,
            classifier: dw,
            bias: db,
        }
    }

    fn tensors(&self, dev: &Device, dtype: DType) -> (Tensor, Tensor, Tensor, Tensor) {
        let up = |x: &[f64], shape: &[usize]| match dtype {
            DType::F16 => {
                let v: Vec<f16> = x.iter().map(|&v| f16::from_f64(v)).collect();
                Tensor::from_slice(dev, &v, shape).unwrap()
            }
            DType::BF16 => {
                let v: Vec<bf16> = x.iter().map(|&v| bf16::from_f64(v)).collect();
                Tensor::from_slice(dev, &v, shape).unwrap()
            }
            _ => {
                let v: Vec<f32> = x.iter().map(|&v| v as f32).collect();
                Tensor::from_slice(dev, &v, shape).unwrap()
            }
        };
        (
            up(&self.hidden, &[self.n, self.h]),
            up(&self.classifier, &[self.v, self.h]),
            Tensor::from_slice(dev, &self.labels, &[self.n]).unwrap(),
            up(&self.bias, &[self.v]),
        )
    }
}

fn module(o: Opts, bias: &Tensor) -> LinearCrossEntropyLoss {
    let mut m = LinearCrossEntropyLoss::new()
        .reduction(o.reduction)
        .label_smoothing(o.smoothing as f32)
        .z_loss(o.z_loss as f32);
    if o.bias {
        m = m.bias(bias.clone());
    }
    if let Some(cap) = o.softcap {
        m = m.softcap(cap as f32);
    }
    m
}

fn read(t: &Tensor) -> Vec<f32> {
    match t.dtype() {
        DType::F16 => t
            .to_vec::<f16>()
            .unwrap()
            .iter()
            .map(|v| v.to_f32())
            .collect(),
        DType::BF16 => t
            .to_vec::<bf16>()
            .unwrap()
            .iter()
            .map(|v| v.to_f32())
            .collect(),
        _ => t.to_vec::<f32>().unwrap(),
    }
}

/// Largest error of `got` against `want`, relative to `want`'s largest magnitude.
fn err(got: &[f32], want: &[f64]) -> f64 {
    assert_eq!(got.len(), want.len());
    let scale = want.iter().fold(1e-6f64, |m, w| m.max(w.abs()));
    got.iter()
        .zip(want)
        .map(|(&g, &w)| {
            assert!(!g.is_nan() || w.is_nan(), "got NaN, want {w}");
            (g as f64 - w).abs() / scale
        })
        .fold(0.0, f64::max)
}

/// Runs `case` with `o` on `dev` in `dtype`; checks loss and gradients within `tol`.
fn check(dev: &Device, case: &Case, o: Opts, dtype: DType, tol: f64) -> f64 {
    let (hidden, classifier, labels, bias) = case.tensors(dev, dtype);
    let want = case.reference(o);
    let (loss, grads) = module(o, &bias)
        .forward_with_grad(&hidden, &classifier, &labels)
        .unwrap();
    let loss_err_of = |got: &[f32]| match o.reduction {
        Reduction::None => err(got, &want.rows),
        _ => err(got, &[want.loss]),
    };
    let loss_err = loss_err_of(&read(&loss));
    let errs = [
        loss_err,
        err(&read(&grads.hidden), &want.hidden),
        err(&read(&grads.classifier), &want.classifier),
        match &grads.bias {
            Some(b) => err(&read(b), &want.bias),
            None => 0.0,
        },
    ];
    assert_eq!(grads.bias.is_some(), o.bias);
    assert_eq!(grads.hidden.dtype(), dtype);
    let worst = errs.iter().cloned().fold(0.0, f64::max);
    assert!(
        worst < tol,
        "{:?} [{} x {}] x [{} x {}] {dtype:?}: errors (loss, hidden, classifier, bias) {errs:?}",
        o,
        case.n,
        case.h,
        case.v,
        case.h
    );
    // The loss alone, folded from tiles of logits that never leave the chip, is as close.
    let alone = module(o, &bias)
        .forward(&hidden, &classifier, &labels)
        .unwrap();
    let alone_err = loss_err_of(&read(&alone));
    assert!(
        alone_err < tol,
        "{o:?} [{} x {}] x [{} x {}] {dtype:?}: the loss alone is off by {alone_err}",
        case.n,
        case.h,
        case.v,
        case.h
    );
    worst.max(alone_err)
}

fn every_option() -> Vec<Opts> {
    let mut all = vec![PLAIN];
    for r in [Reduction::Mean, Reduction::Sum, Reduction::None] {
        all.push(Opts {
            reduction: r,
            bias: true,
            ..PLAIN
        });
        all.push(Opts {
            reduction: r,
            ignore: true,
            ..PLAIN
        });
        all.push(Opts {
            reduction: r,
            smoothing: 0.1,
            ..PLAIN
        });
        all.push(Opts {
            reduction: r,
            softcap: Some(2.0),
            ..PLAIN
        });
        all.push(Opts {
            reduction: r,
            z_loss: 0.01,
            ..PLAIN
        });
        all.push(Opts {
            reduction: r,
            bias: true,
            ignore: true,
            smoothing: 0.2,
            softcap: Some(3.0),
            z_loss: 1e-3,
        });
    }
    all
}

#[test]
fn matches_f64_reference_with_every_option_on_odd_shapes() {
    let dev = device();
    let mut rng = Rng::new(17);
    let mut worst = 0.0f64;
    for (n, h, v) in [(1, 1, 1), (3, 5, 7), (67, 33, 130), (130, 17, 1000)] {
        for o in every_option() {
            let case = Case::random(&mut rng, n, h, v, 1.0, o.ignore).rounded(DType::F32);
            worst = worst.max(check(dev, &case, o, DType::F32, 2e-5));
        }
    }
    eprintln!("largest error against f64: {worst:.2e}");
}

#[test]
fn large_vocabularies() {
    let dev = device();
    let mut rng = Rng::new(5);
    for v in [50_257, 128_256] {
        let o = Opts {
            bias: true,
            ignore: true,
            ..PLAIN
        };
        let case = Case::random(&mut rng, 5, 8, v, 1.0, true).rounded(DType::F32);
        let e = check(dev, &case, o, DType::F32, 2e-5);
        eprintln!("V = {v}: error {e:.2e}");
    }
}

#[test]
fn logits_of_a_few_hundred() {
    let dev = device();
    let mut rng = Rng::new(9);
    // |hidden| up to 40 over 16 dimensions of |w| <= 1: logits of up to a few hundred.
    let case = Case::random(&mut rng, 40, 16, 300, 40.0, false).rounded(DType::F32);
    let zs = case.reference(PLAIN);
    assert!(
        zs.loss > 10.0,
        "the case makes large logits: loss {}",
        zs.loss
    );
    for o in [
        PLAIN,
        Opts {
            smoothing: 0.1,
            ..PLAIN
        },
        Opts {
            softcap: Some(30.0),
            ..PLAIN
        },
    ] {
        check(dev, &case, o, DType::F32, 2e-5);
    }
}

#[test]
fn half_inputs_give_half_gradients() {
    let dev = device();
    let mut rng = Rng::new(23);
    for dtype in [DType::F16, DType::BF16] {
        for o in [PLAIN, every_option().last().copied().unwrap()] {
            let case = Case::random(&mut rng, 37, 24, 203, 1.0, o.ignore).rounded(dtype);
            // The gradients are rounded once to the half type: 2^-8 of bf16.
            check(dev, &case, o, dtype, 8e-3);
        }
    }
}

#[test]
fn reference_gradients_match_central_differences() {
    let mut rng = Rng::new(31);
    let o = every_option().last().copied().unwrap();
    let mut case = Case::random(&mut rng, 6, 4, 9, 1.0, true);
    let want = case.reference(o);
    let step = 1e-6;
    let mut fd = |pick: &dyn Fn(&mut Case) -> &mut f64| {
        let x0 = *pick(&mut case);
        *pick(&mut case) = x0 + step;
        let up = case.reference(o).loss;
        *pick(&mut case) = x0 - step;
        let down = case.reference(o).loss;
        *pick(&mut case) = x0;
        (up - down) / (2.0 * step)
    };
    for i in 0..6 * 4 {
        let g = fd(&|c: &mut Case| &mut c.hidden[i]);
        assert!(
            (g - want.hidden[i]).abs() < 1e-7,
            "hidden {i}: {g} vs {}",
            want.hidden[i]
        );
    }
    for i in 0..9 * 4 {
        let g = fd(&|c: &mut Case| &mut c.classifier[i]);
        assert!((g - want.classifier[i]).abs() < 1e-7, "classifier {i}");
    }
    for i in 0..9 {
        let g = fd(&|c: &mut Case| &mut c.bias[i]);
        assert!((g - want.bias[i]).abs() < 1e-7, "bias {i}");
    }
}

#[test]
fn equals_cross_entropy_of_the_logits_made_by_matmul() {
    let dev = device();
    let mut rng = Rng::new(41);
    let case = Case::random(&mut rng, 50, 20, 333, 1.0, true).rounded(DType::F32);
    let (hidden, classifier, labels, _) = case.tensors(dev, DType::F32);
    let logits = Matmul::new()
        .transpose_b(true)
        .forward(&hidden, &classifier)
        .unwrap();
    let (ce, dlogits) = CrossEntropyLoss::new()
        .label_smoothing(0.1)
        .forward_with_grad(&logits, &labels)
        .unwrap();
    let dh = wgpu_loss::matmul(&dlogits, &classifier).unwrap();
    let dw = Matmul::new()
        .transpose_a(true)
        .forward(&dlogits, &hidden)
        .unwrap();
    let (loss, grads) = LinearCrossEntropyLoss::new()
        .label_smoothing(0.1)
        .forward_with_grad(&hidden, &classifier, &labels)
        .unwrap();
    let close = |a: &Tensor, b: &Tensor| {
        let b: Vec<f64> = read(b).into_iter().map(f64::from).collect();
        err(&read(a), &b)
    };
    assert!(close(&loss, &ce) < 1e-6);
    let alone = LinearCrossEntropyLoss::new()
        .label_smoothing(0.1)
        .forward(&hidden, &classifier, &labels)
        .unwrap();
    assert!(close(&alone, &ce) < 1e-6);
    assert!(close(&grads.hidden, &dh) < 1e-5);
    assert!(close(&grads.classifier, &dw) < 1e-5);
}

#[test]
fn chunks_and_split_operands_under_tiny_binding_limits() {
    // 16 KiB bindings: four tokens' logits per chunk, the classifier in many windows.
    let dev = Device::with_options(DeviceOptions::new().max_binding_size(16 << 10)).unwrap();
    let mut rng = Rng::new(3);
    let o = every_option().last().copied().unwrap();
    let case = Case::random(&mut rng, 21, 40, 1000, 1.0, true).rounded(DType::F32);
    check(&dev, &case, o, DType::F32, 2e-5);
    let case = Case::random(&mut rng, 9, 30, 777, 1.0, false).rounded(DType::BF16);
    check(&dev, &case, PLAIN, DType::BF16, 8e-3);
}

#[test]
fn bitwise_reproducible() {
    let dev = device();
    let mut rng = Rng::new(8);
    let case = Case::random(&mut rng, 300, 32, 2000, 1.0, false).rounded(DType::F32);
    let (hidden, classifier, labels, bias) = case.tensors(dev, DType::F32);
    let run = || {
        let (l, g) = LinearCrossEntropyLoss::new()
            .bias(bias.clone())
            .forward_with_grad(&hidden, &classifier, &labels)
            .unwrap();
        (
            read(&l),
            read(&g.hidden),
            read(&g.classifier),
            read(&g.bias.unwrap()),
        )
    };
    let first = run();
    for _ in 0..3 {
        let again = run();
        assert!(first.0 == again.0 && first.1 == again.1);
        assert!(first.2 == again.2 && first.3 == again.3);
    }
}

#[test]
fn every_row_ignored_gives_a_nan_mean_and_zero_gradients() {
    let dev = device();
    let hidden = Tensor::from_slice(dev, &[1.0f32, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
    let classifier = Tensor::from_slice(dev, &[1.0f32, 0.0, 0.0, 1.0, 1.0, 1.0], &[3, 2]).unwrap();
    let labels = Tensor::from_slice(dev, &[-100i32, -100], &[2]).unwrap();
    let (loss, grads) = LinearCrossEntropyLoss::new()
        .forward_with_grad(&hidden, &classifier, &labels)
        .unwrap();
    assert!(read(&loss)[0].is_nan());
    assert!(read(&grads.hidden).iter().all(|&g| g == 0.0));
    assert!(read(&grads.classifier).iter().all(|&g| g == 0.0));
    let sum = linear_cross_entropy(&hidden, &classifier, &labels, Reduction::Sum).unwrap();
    assert_eq!(read(&sum), vec![0.0]);
}

#[test]
fn nan_and_infinite_inputs_give_nan() {
    let dev = device();
    let classifier = Tensor::from_slice(dev, &[1.0f32, 0.0, 0.0, 1.0], &[2, 2]).unwrap();
    let labels = Tensor::from_slice(dev, &[0u32, 1], &[2]).unwrap();
    for bad in [f32::NAN, f32::INFINITY] {
        let hidden = Tensor::from_slice(dev, &[bad, 0.0, 1.0, 2.0], &[2, 2]).unwrap();
        let rows = linear_cross_entropy(&hidden, &classifier, &labels, Reduction::None).unwrap();
        let rows = read(&rows);
        assert!(rows[0].is_nan(), "{bad}: {rows:?}");
        assert!(rows[1].is_finite());
    }
}

/// A bias of -inf masks a class, as PyTorch's loss reads it: a row whose label is unmasked
/// has the finite loss of the unmasked classes, a masked label gives +inf, label smoothing
/// gives +inf (it averages every class's log-probability), and a row with every class masked
/// gives NaN. On chip (the loss alone) and through stored logits (with the gradients) alike,
/// with the unmasked classes in different tiles and bands.
#[test]
fn a_bias_of_minus_infinity_masks_classes_as_in_pytorch() {
    let dev = device();
    let mut rng = Rng::new(29);
    let (n, h, v) = (6, 3, 300);
    let open = [7usize, 150, 299];
    let hidden = rng.vec(n * h, -1.0, 1.0);
    let classifier = rng.vec(v * h, -1.0, 1.0);
    let bias: Vec<f32> = (0..v)
        .map(|c| {
            if open.contains(&c) {
                0.5
            } else {
                f32::NEG_INFINITY
            }
        })
        .collect();
    let labels = [7u32, 150, 299, 0, 151, 7];
    let logit = |r: usize, c: usize| {
        let dot: f64 = (0..h)
            .map(|k| f64::from(hidden[r * h + k]) * f64::from(classifier[c * h + k]))
            .sum();
        dot + 0.5
    };
    let want: Vec<f64> = (0..n)
        .map(|r| {
            let y = labels[r] as usize;
            if !open.contains(&y) {
                return f64::INFINITY;
            }
            let lse = open.iter().map(|&c| logit(r, c).exp()).sum::<f64>().ln();
            lse - logit(r, y)
        })
        .collect();
    let hidden = Tensor::from_slice(dev, &hidden, &[n, h]).unwrap();
    let classifier = Tensor::from_slice(dev, &classifier, &[v, h]).unwrap();
    let labels = Tensor::from_slice(dev, &labels, &[n]).unwrap();
    let masked = Tensor::from_slice(dev, &bias, &[v]).unwrap();
    let rows = |loss: LinearCrossEntropyLoss| {
        let loss = loss.reduction(Reduction::None);
        let alone = read(&loss.forward(&hidden, &classifier, &labels).unwrap());
        let (with_grad, grads) = loss
            .forward_with_grad(&hidden, &classifier, &labels)
            .unwrap();
        (alone, read(&with_grad), grads)
    };
    let (alone, with_grad, grads) = rows(LinearCrossEntropyLoss::new().bias(masked.clone()));
    for got in [&alone, &with_grad] {
        for (r, (&g, &w)) in got.iter().zip(&want).enumerate() {
            match w.is_finite() {
                true => assert!(
                    (f64::from(g) - w).abs() < 1e-5 * w.abs().max(1.0),
                    "row {r}: {g} vs {w}"
                ),
                false => assert_eq!(g, f32::INFINITY, "row {r}"),
            }
        }
    }
    // Softmax minus one-hot, as PyTorch's: 0 at a masked class, -1 where one is a label.
    let dbias = read(&grads.bias.unwrap());
    for c in (0..v).filter(|c| !open.contains(c)) {
        let want = if c == 0 || c == 151 { -1.0 } else { 0.0 };
        assert_eq!(dbias[c], want, "class {c}");
    }
    let (alone, with_grad, _) = rows(
        LinearCrossEntropyLoss::new()
            .bias(masked)
            .label_smoothing(0.1),
    );
    assert!(alone.iter().chain(&with_grad).all(|&l| l == f32::INFINITY));
    let all_masked = Tensor::from_slice(dev, &vec![f32::NEG_INFINITY; v], &[v]).unwrap();
    let (alone, with_grad, _) = rows(LinearCrossEntropyLoss::new().bias(all_masked));
    assert!(alone.iter().chain(&with_grad).all(|l| l.is_nan()));
}

/// Cut Cross-Entropy's gradient filter drops entries of the logits' gradient below `eps`
/// (before the mean's scale): each gradient entry may then be off by at most `eps · scale`
/// times the sum of what those entries multiply (`|W|` over the classes for `d hidden`, `|h|`
/// over the tokens for `d classifier`, 1 per token for the bias), never more. Checked against
/// the f64 reference on a softmax spread over 5,000 classes (1 / V under 2⁻¹², so only the
/// labels' entries stay) and on a peaked one, with every option; the loss keeps its bits, and
/// `filter_eps(0)` is the default's bits.
#[test]
fn the_gradient_filter_stays_within_its_error_bound() {
    let dev = device();
    let mut rng = Rng::new(23);
    let eps = 2f64.powi(-12);
    // Per softmax: the largest error as a share of its bound, and relative to the gradient.
    let mut worst = [(0.0f64, 0.0f64); 2];
    for (spread, scale) in [(0, 0.05), (1, 3.0)] {
        for o in [PLAIN, every_option().last().copied().unwrap()] {
            let case = Case::random(&mut rng, 300, 24, 5000, scale, o.ignore).rounded(DType::F32);
            let (hidden, classifier, labels, bias) = case.tensors(dev, DType::F32);
            let want = case.reference(o);
            let (loss, grads) = module(o, &bias)
                .filter_eps(eps as f32)
                .forward_with_grad(&hidden, &classifier, &labels)
                .unwrap();
            let (plain_loss, plain) = module(o, &bias)
                .filter_eps(0.0)
                .forward_with_grad(&hidden, &classifier, &labels)
                .unwrap();
            let (_, default) = module(o, &bias)
                .forward_with_grad(&hidden, &classifier, &labels)
                .unwrap();
            assert_eq!(read(&loss), read(&plain_loss));
            assert_eq!(read(&plain.hidden), read(&default.hidden));
            assert_eq!(read(&plain.classifier), read(&default.classifier));
            let (n, h, v) = (case.n, case.h, case.v);
            let counted = case.labels.iter().filter(|&&l| l >= 0).count();
            let s = match o.reduction {
                Reduction::Mean => 1.0 / counted as f64,
                _ => 1.0,
            };
            let col_sum = |m: &[f64], rows: usize, k: usize| -> f64 {
                (0..rows).map(|r| m[r * h + k].abs()).sum()
            };
            let w_sums: Vec<f64> = (0..h).map(|k| col_sum(&case.classifier, v, k)).collect();
            let h_sums: Vec<f64> = (0..h).map(|k| col_sum(&case.hidden, n, k)).collect();
            let mut check =
                |got: &[f32], want: &[f64], bound: &dyn Fn(usize) -> f64, what: &str| {
                    let top = want.iter().fold(1e-6f64, |m, w| m.max(w.abs()));
                    let round = 2e-5 * top;
                    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
                        let off = (f64::from(g) - w).abs();
                        let limit = eps * s * bound(i) + round;
                        assert!(off <= limit, "{o:?} {what}[{i}]: {g} vs {w}");
                        let (share, rel) = &mut worst[spread];
                        *share = share.max(off / limit);
                        *rel = rel.max(off / top);
                    }
                };
            check(
                &read(&grads.hidden),
                &want.hidden,
                &|i| w_sums[i % h],
                "d hidden",
            );
            check(
                &read(&grads.classifier),
                &want.classifier,
                &|i| h_sums[i % h],
                "d classifier",
            );
            if let Some(b) = &grads.bias {
                check(&read(b), &want.bias, &|_| n as f64, "d bias");
            }
            if spread == 0 {
                // Most entries were dropped: the gradients are not the unfiltered ones.
                assert_ne!(read(&grads.classifier), read(&plain.classifier));
            }
        }
    }
    eprintln!(
        "largest error (share of the bound, relative to the gradient): spread {:?}, peaked {:?}",
        worst[0], worst[1]
    );
}

#[test]
fn bad_input_is_an_error() {
    let dev = device();
    let hidden = Tensor::from_slice(dev, &[0.0f32; 6], &[2, 3]).unwrap();
    let classifier = Tensor::from_slice(dev, &[0.0f32; 12], &[4, 3]).unwrap();
    let labels = Tensor::from_slice(dev, &[0u32, 1], &[2]).unwrap();
    let ok = |l: LinearCrossEntropyLoss| l.forward(&hidden, &classifier, &labels);
    let wrong_h = Tensor::from_slice(dev, &[0.0f32; 8], &[4, 2]).unwrap();
    assert!(matches!(
        linear_cross_entropy(&hidden, &wrong_h, &labels, Reduction::Mean),
        Err(Error::Shape(_))
    ));
    let three = Tensor::from_slice(dev, &[0u32; 3], &[3]).unwrap();
    assert!(matches!(
        linear_cross_entropy(&hidden, &classifier, &three, Reduction::Mean),
        Err(Error::Shape(_))
    ));
    let ints = Tensor::from_slice(dev, &[0u32; 6], &[2, 3]).unwrap();
    assert!(matches!(
        linear_cross_entropy(&ints, &classifier, &labels, Reduction::Mean),
        Err(Error::DType { .. })
    ));
    assert!(matches!(
        linear_cross_entropy(&hidden, &classifier, &hidden, Reduction::Mean),
        Err(Error::DType { .. })
    ));
    let short_bias = Tensor::from_slice(dev, &[0.0f32; 3], &[3]).unwrap();
    assert!(matches!(
        ok(LinearCrossEntropyLoss::new().bias(short_bias)),
        Err(Error::Shape(_))
    ));
    for l in [
        LinearCrossEntropyLoss::new().label_smoothing(1.5),
        LinearCrossEntropyLoss::new().softcap(0.0),
        LinearCrossEntropyLoss::new().softcap(f32::INFINITY),
        LinearCrossEntropyLoss::new().z_loss(-1.0),
        LinearCrossEntropyLoss::new().z_loss(f32::NAN),
        LinearCrossEntropyLoss::new().filter_eps(-1e-3),
        LinearCrossEntropyLoss::new().filter_eps(f32::INFINITY),
    ] {
        assert!(matches!(ok(l), Err(Error::InvalidOption(_))));
    }
    let out_of_range = Tensor::from_slice(dev, &[1u32, 4], &[2]).unwrap();
    let (loss, grads) = LinearCrossEntropyLoss::new()
        .forward_with_grad(&hidden, &classifier, &out_of_range)
        .unwrap();
    let bad = Error::LabelOutOfRange {
        index: 1,
        label: 4,
        classes: 4,
    };
    assert_eq!(
        loss.to_vec::<f32>().unwrap_err().to_string(),
        bad.to_string()
    );
    assert!(grads.classifier.to_vec::<f32>().is_err());
    let negative = Tensor::from_slice(dev, &[-3i32, 0], &[2]).unwrap();
    let loss = linear_cross_entropy(&hidden, &classifier, &negative, Reduction::Sum).unwrap();
    assert!(matches!(
        loss.to_vec::<f32>(),
        Err(Error::LabelOutOfRange {
            index: 0,
            label: -3,
            ..
        })
    ));
}

#[test]
fn recorded_into_the_callers_encoder() {
    let dev = device();
    let mut rng = Rng::new(77);
    let case = Case::random(&mut rng, 10, 6, 50, 1.0, false).rounded(DType::F32);
    let (hidden, classifier, labels, _) = case.tensors(dev, DType::F32);
    let mut encoder = dev
        .wgpu_device()
        .create_command_encoder(&Default::default());
    let (loss, grads) = LinearCrossEntropyLoss::new()
        .record_with_grad(&mut encoder, &hidden, &classifier, &labels)
        .unwrap();
    assert!(matches!(loss.to_vec::<f32>(), Err(Error::NotSubmitted)));
    dev.wgpu_queue().submit([encoder.finish()]);
    let want = case.reference(PLAIN);
    assert!(err(&read(&loss), &[want.loss]) < 2e-5);
    assert!(err(&read(&grads.hidden), &want.hidden) < 2e-5);
}
