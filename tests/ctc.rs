//! CTC loss against an f64 reference written here from the recursion, and its gradient against
//! f64 central differences in the logits (the gradient PyTorch returns is the one in the logits
//! of a log-softmax): T from 1 to 20,000, batches of 1 to 64, 2 to 1,000 classes, repeated
//! labels, empty targets, padded and concatenated targets, impossible alignments, half
//! log-probabilities, and every bad length and label as an `Error`.

mod common;

use common::{Rng, device};
use wgpu_loss::half::{bf16, f16};
use wgpu_loss::{CtcLoss, DType, Error, Reduction, Tensor, ctc_loss};

/// One batch: log-probabilities [T, N, C] (log-softmax of random logits), targets, lengths.
struct Batch {
    time: usize,
    classes: usize,
    logits: Vec<f64>,
    targets: Vec<Vec<u32>>,
    input_lengths: Vec<usize>,
    blank: u32,
}

fn log_softmax(z: &[f64], classes: usize) -> Vec<f64> {
    z.chunks(classes)
        .flat_map(|row| {
            let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let lse = m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
            row.iter().map(move |v| v - lse)
        })
        .collect()
}

fn log_add(a: f64, b: f64) -> f64 {
    let m = a.max(b);
    if m == f64::NEG_INFINITY {
        return m;
    }
    m + ((a - m).exp() + (b - m).exp()).ln()
}

impl Batch {
    fn random(rng: &mut Rng, time: usize, batch: usize, classes: usize, max_len: usize) -> Self {
        let blank = rng.below(classes as u32);
        let logits = (0..time * batch * classes)
            .map(|_| rng.uniform(-3.0, 3.0) as f64)
            .collect();
        let input_lengths: Vec<usize> = (0..batch)
            .map(|n| match n {
                0 => time,
                _ => 1 + rng.below(time as u32) as usize,
            })
            .collect();
        let targets = input_lengths
            .iter()
            .map(|&tn| {
                let len = rng.below((max_len.min(tn) + 1) as u32) as usize;
                (0..len)
                    .map(|_| {
                        loop {
                            let c = rng.below(classes as u32);
                            if c != blank {
                                break c;
                            }
                        }
                    })
                    .collect()
            })
            .collect();
        Batch {
            time,
            classes,
            logits,
            targets,
            input_lengths,
            blank,
        }
    }

    fn batch(&self) -> usize {
        self.input_lengths.len()
    }

    fn log_probs(&self) -> Vec<f64> {
        log_softmax(&self.logits, self.classes)
    }

    /// Per sequence: the negative log-likelihood and its gradient [T, C] in the logits, from
    /// the alpha and beta recursions over `lp`.
    fn reference(&self, lp: &[f64]) -> Vec<(f64, Vec<f64>)> {
        let (n_all, c_all) = (self.batch(), self.classes);
        (0..n_all)
            .map(|n| {
                let at = |t: usize, c: u32| lp[(t * n_all + n) * c_all + c as usize];
                let target = &self.targets[n];
                let tn = self.input_lengths[n];
                let states = 2 * target.len() + 1;
                let label = |s: usize| match s % 2 {
                    0 => self.blank,
                    _ => target[s / 2],
                };
                let mut alpha = vec![vec![f64::NEG_INFINITY; states]; tn];
                let mut beta = vec![vec![f64::NEG_INFINITY; states]; tn];
                for t in 0..tn {
                    for s in 0..states {
                        let mut a = match t {
                            0 if s < 2 => 0.0,
                            0 => f64::NEG_INFINITY,
                            _ => {
                                let mut a = alpha[t - 1][s];
                                if s >= 1 {
                                    a = log_add(a, alpha[t - 1][s - 1]);
                                }
                                if s >= 2 && label(s) != label(s - 2) {
                                    a = log_add(a, alpha[t - 1][s - 2]);
                                }
                                a
                            }
                        };
                        a += at(t, label(s));
                        alpha[t][s] = a;
                    }
                }
                for t in (0..tn).rev() {
                    for s in 0..states {
                        let mut b = match t + 1 == tn {
                            true if s + 2 >= states => 0.0,
                            true => f64::NEG_INFINITY,
                            false => {
                                let mut b = beta[t + 1][s];
                                if s + 1 < states {
                                    b = log_add(b, beta[t + 1][s + 1]);
                                }
                                if s + 2 < states && label(s) != label(s + 2) {
                                    b = log_add(b, beta[t + 1][s + 2]);
                                }
                                b
                            }
                        };
                        b += at(t, label(s));
                        beta[t][s] = b;
                    }
                }
                let ll = match tn {
                    0 if target.is_empty() => 0.0,
                    0 => f64::NEG_INFINITY,
                    _ => {
                        let last = &alpha[tn - 1];
                        match states {
                            1 => last[0],
                            _ => log_add(last[states - 1], last[states - 2]),
                        }
                    }
                };
                let mut grad = vec![0.0; self.time * c_all];
                for t in 0..tn {
                    let mut r = vec![f64::NEG_INFINITY; c_all];
                    for s in 0..states {
                        let c = label(s) as usize;
                        r[c] = log_add(r[c], alpha[t][s] + beta[t][s]);
                    }
                    for c in 0..c_all {
                        let lpc = at(t, c as u32);
                        grad[t * c_all + c] = lpc.exp() - (r[c] - ll - lpc).exp();
                    }
                }
                (-ll, grad)
            })
            .collect()
    }

    /// The reduced loss and the gradient [T, N, C] as `CtcLoss` computes them.
    fn expected(&self, reduction: Reduction, lp: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let per = self.reference(lp);
        let n_all = self.batch();
        let weight = |n: usize| match reduction {
            Reduction::Mean => 1.0 / (self.targets[n].len().max(1) * n_all) as f64,
            _ => 1.0,
        };
        let mut grad = vec![0.0; self.time * n_all * self.classes];
        for (n, (_, g)) in per.iter().enumerate() {
            for t in 0..self.time {
                for c in 0..self.classes {
                    grad[(t * n_all + n) * self.classes + c] = g[t * self.classes + c] * weight(n);
                }
            }
        }
        let losses: Vec<f64> = per
            .iter()
            .enumerate()
            .map(|(n, p)| p.0 * weight(n))
            .collect();
        let loss = match reduction {
            Reduction::None => per.iter().map(|p| p.0).collect(),
            _ => vec![losses.iter().sum()],
        };
        (loss, grad)
    }

    fn padded(&self) -> (Vec<u32>, [usize; 2]) {
        let s = self.targets.iter().map(Vec::len).max().unwrap_or(0).max(1);
        let mut flat = vec![self.blank; self.batch() * s];
        for (n, t) in self.targets.iter().enumerate() {
            flat[n * s..n * s + t.len()].copy_from_slice(t);
        }
        (flat, [self.batch(), s])
    }

    fn concatenated(&self) -> Vec<u32> {
        let mut flat: Vec<u32> = self.targets.concat();
        if flat.is_empty() {
            flat.push(self.blank); // a tensor is never empty; the lengths say none is used
        }
        flat
    }

    fn upload(&self, lp: &[f64], dtype: DType, padded: bool) -> [Tensor; 4] {
        let dev = device();
        let shape = [self.time, self.batch(), self.classes];
        let lp = match dtype {
            DType::F32 => {
                let v: Vec<f32> = lp.iter().map(|&v| v as f32).collect();
                Tensor::from_slice(dev, &v, &shape)
            }
            DType::F16 => {
                let v: Vec<f16> = lp.iter().map(|&v| f16::from_f64(v)).collect();
                Tensor::from_slice(dev, &v, &shape)
            }
            _ => {
                let v: Vec<bf16> = lp.iter().map(|&v| bf16::from_f64(v)).collect();
                Tensor::from_slice(dev, &v, &shape)
            }
        }
        .unwrap();
        let targets = match padded {
            true => {
                let (flat, shape) = self.padded();
                Tensor::from_slice(dev, &flat, &shape)
            }
            false => {
                let flat = self.concatenated();
                Tensor::from_slice(dev, &flat, &[flat.len()])
            }
        }
        .unwrap();
        let lengths = |v: Vec<u32>| Tensor::from_slice(dev, &v, &[v.len()]).unwrap();
        [
            lp,
            targets,
            lengths(self.input_lengths.iter().map(|&l| l as u32).collect()),
            lengths(self.targets.iter().map(|t| t.len() as u32).collect()),
        ]
    }

    /// Runs `loss` with gradient; checks both against the reference within `rel` (absolute
    /// `abs` near 0), returns the largest error seen. The recursions round at every step, a
    /// random walk over T steps: past 50 steps `abs` grows as sqrt(T / 50) (gradients
    /// measured 4.4e-5 off at T = 1,000, 4.3e-4 at T = 20,000, where f32 keeps a state's
    /// log-probability relative to its step's best to about 4e-6 per step).
    fn check(&self, loss: CtcLoss, reduction: Reduction, padded: bool, tol: (f64, f64)) -> f64 {
        let tol = (tol.0, tol.1 * (self.time as f64 / 50.0).sqrt().max(1.0));
        let lp = self.log_probs();
        let [x, y, il, tl] = self.upload(&lp, DType::F32, padded);
        let (l, g) = loss
            .reduction(reduction)
            .forward_with_grad(&x, &y, &il, &tl)
            .unwrap();
        let (want_loss, want_grad) = self.expected(reduction, &lp);
        let got = l.to_vec::<f32>().unwrap();
        compare("loss", &got, &want_loss, tol).max(compare(
            "gradient",
            &g.to_vec::<f32>().unwrap(),
            &want_grad,
            tol,
        ))
    }
}

/// The largest relative error of `got` against `want` (absolute below `abs`); fails past
/// `rel`.
fn compare(what: &str, got: &[f32], want: &[f64], (rel, abs): (f64, f64)) -> f64 {
    assert_eq!(got.len(), want.len(), "{what}");
    let mut worst = 0.0f64;
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let same = g as f64 == w || (g.is_nan() && w.is_nan());
        let err = match same {
            true => 0.0,
            false => (g as f64 - w).abs() / w.abs().max(abs / rel),
        };
        assert!(err <= rel, "{what}[{i}]: got {g}, want {w}");
        worst = worst.max(err);
    }
    worst
}

#[test]
fn matches_the_f64_recursion_on_many_shapes() {
    let mut rng = Rng::new(160);
    let mut worst = 0.0f64;
    for &(time, batch, classes, max_len) in &[
        (1, 1, 2, 1),
        (2, 3, 3, 2),
        (50, 4, 5, 20),
        (50, 64, 2, 10),
        (37, 5, 1000, 12),
        (1000, 2, 7, 60),
    ] {
        let b = Batch::random(&mut rng, time, batch, classes, max_len);
        for reduction in [Reduction::None, Reduction::Mean, Reduction::Sum] {
            for padded in [true, false] {
                // Gradients are differences of two terms up to 1: 2e-5 of them, absolute.
                let tol = (1e-4, 4e-5);
                let e = b.check(CtcLoss::new().blank(b.blank), reduction, padded, tol);
                worst = worst.max(e);
            }
        }
    }
    eprintln!("ctc: max relative error against f64 {worst:.2e}");
}

#[test]
fn repeated_labels_need_a_blank_between_them() {
    // "a a" needs three steps (a, blank, a): impossible in two, possible in three.
    let dev = device();
    let lp = |t: usize| Tensor::from_slice(dev, &vec![(1.0f32 / 3.0).ln(); t * 3], &[t, 3]);
    let targets = Tensor::from_slice(dev, &[1u32, 1], &[2]).unwrap();
    let len = |v: u32| Tensor::from_slice(dev, &[v], &[]).unwrap();
    let loss = |t: usize, zero_infinity: bool| {
        CtcLoss::new()
            .reduction(Reduction::Sum)
            .zero_infinity(zero_infinity)
            .forward_with_grad(&lp(t).unwrap(), &targets, &len(t as u32), &len(2))
            .unwrap()
    };
    let (l, g) = loss(2, false);
    assert_eq!(l.to_vec::<f32>().unwrap(), vec![f32::INFINITY]);
    assert!(g.to_vec::<f32>().unwrap().iter().all(|v| v.is_nan()));
    let (l, g) = loss(2, true);
    assert_eq!(l.to_vec::<f32>().unwrap(), vec![0.0]);
    assert!(g.to_vec::<f32>().unwrap().iter().all(|&v| v == 0.0));
    // One alignment in three steps: probability (1/3)^3.
    let (l, _) = loss(3, false);
    let want = 3.0 * 3f64.ln();
    assert!((l.to_vec::<f32>().unwrap()[0] as f64 - want).abs() < 1e-5);
}

#[test]
fn impossible_alignments_are_infinite_or_zero() {
    let mut rng = Rng::new(161);
    let mut b = Batch::random(&mut rng, 4, 3, 4, 2);
    // Sequence 1: six labels in four steps.
    b.input_lengths[1] = 4;
    b.targets[1] = vec![(b.blank + 1) % 4; 6];
    let lp = b.log_probs();
    for padded in [true, false] {
        let [x, y, il, tl] = b.upload(&lp, DType::F32, padded);
        let none = CtcLoss::new().blank(b.blank).reduction(Reduction::None);
        let (l, g) = none.forward_with_grad(&x, &y, &il, &tl).unwrap();
        let l = l.to_vec::<f32>().unwrap();
        assert_eq!(l[1], f32::INFINITY);
        let g = g.to_vec::<f32>().unwrap();
        let row = |t: usize| &g[(t * 3 + 1) * 4..(t * 3 + 2) * 4];
        assert!((0..4).all(|t| row(t).iter().all(|v| v.is_nan())));
        let (l, g) = none
            .zero_infinity(true)
            .forward_with_grad(&x, &y, &il, &tl)
            .unwrap();
        let (l, g) = (l.to_vec::<f32>().unwrap(), g.to_vec::<f32>().unwrap());
        assert_eq!(l[1], 0.0);
        let row = |t: usize| &g[(t * 3 + 1) * 4..(t * 3 + 2) * 4];
        assert!((0..4).all(|t| row(t).iter().all(|&v| v == 0.0)));
        // The other sequences are as the reference says.
        let per = b.reference(&lp);
        for n in [0, 2] {
            assert!((l[n] as f64 - per[n].0).abs() < 1e-4 * per[n].0.max(1.0));
        }
        let mean = CtcLoss::new()
            .blank(b.blank)
            .zero_infinity(true)
            .forward(&x, &y, &il, &tl)
            .unwrap();
        let want = (per[0].0 / b.targets[0].len().max(1) as f64
            + per[2].0 / b.targets[2].len().max(1) as f64)
            / 3.0;
        assert!((mean.to_vec::<f32>().unwrap()[0] as f64 - want).abs() < 1e-4 * want.max(1.0));
    }
}

#[test]
fn empty_targets_and_inputs() {
    let mut rng = Rng::new(162);
    let mut b = Batch::random(&mut rng, 6, 3, 3, 3);
    b.targets[0].clear();
    b.targets[2].clear();
    b.input_lengths[2] = 0; // empty target of an empty input: loss 0
    for padded in [true, false] {
        for reduction in [Reduction::None, Reduction::Mean] {
            b.check(
                CtcLoss::new().blank(b.blank),
                reduction,
                padded,
                (1e-5, 1e-6),
            );
        }
    }
    b.targets[2] = vec![(b.blank + 1) % 3];
    let per = b.reference(&b.log_probs());
    assert_eq!(per[2].0, f64::INFINITY, "a label of an empty input");
    let [x, y, il, tl] = b.upload(&b.log_probs(), DType::F32, true);
    let l = CtcLoss::new()
        .blank(b.blank)
        .reduction(Reduction::None)
        .forward(&x, &y, &il, &tl)
        .unwrap();
    assert_eq!(l.to_vec::<f32>().unwrap()[2], f32::INFINITY);
}

#[test]
fn gradient_matches_central_differences_in_the_logits() {
    let mut rng = Rng::new(163);
    let b = Batch::random(&mut rng, 7, 2, 4, 3);
    for reduction in [Reduction::Mean, Reduction::Sum] {
        let lp = b.log_probs();
        let [x, y, il, tl] = b.upload(&lp, DType::F32, false);
        let (_, g) = CtcLoss::new()
            .blank(b.blank)
            .reduction(reduction)
            .forward_with_grad(&x, &y, &il, &tl)
            .unwrap();
        let g = g.to_vec::<f32>().unwrap();
        let loss_of = |z: &[f64]| {
            let shifted = Batch {
                logits: z.to_vec(),
                targets: b.targets.clone(),
                input_lengths: b.input_lengths.clone(),
                ..b
            };
            shifted.expected(reduction, &log_softmax(z, b.classes)).0[0]
        };
        let h = 1e-5;
        let mut worst = 0.0f64;
        for i in 0..b.logits.len() {
            let mut z = b.logits.clone();
            z[i] += h;
            let up = loss_of(&z);
            z[i] -= 2.0 * h;
            let down = loss_of(&z);
            let fd = (up - down) / (2.0 * h);
            worst = worst.max((g[i] as f64 - fd).abs());
        }
        eprintln!("ctc {reduction:?}: max gradient error vs finite differences {worst:.2e}");
        assert!(worst < 1e-5, "{worst}");
    }
}

#[test]
fn twenty_thousand_time_steps() {
    let mut rng = Rng::new(164);
    let b = Batch::random(&mut rng, 20_000, 2, 5, 40);
    let e = b.check(
        CtcLoss::new().blank(b.blank),
        Reduction::None,
        true,
        (1e-4, 4e-5),
    );
    eprintln!("ctc T = 20,000: max relative error against f64 {e:.2e}");
}

#[test]
fn confident_log_probabilities() {
    // Logits of ±40: log-probabilities down to -80, alignments of probability e^-5000.
    let mut rng = Rng::new(167);
    let mut b = Batch::random(&mut rng, 200, 3, 6, 30);
    for z in &mut b.logits {
        *z *= 13.0;
    }
    let e = b.check(
        CtcLoss::new().blank(b.blank),
        Reduction::Sum,
        false,
        (1e-4, 4e-5),
    );
    eprintln!("ctc, confident: max relative error against f64 {e:.2e}");
}

#[test]
fn half_log_probabilities() {
    let mut rng = Rng::new(165);
    let b = Batch::random(&mut rng, 30, 3, 6, 8);
    for (dtype, rel) in [(DType::F16, 2e-3), (DType::BF16, 1.5e-2)] {
        // The reference sees the log-probabilities as rounded to the input's precision.
        let lp: Vec<f64> = b
            .log_probs()
            .iter()
            .map(|&v| match dtype {
                DType::F16 => f16::from_f64(v).to_f64(),
                _ => bf16::from_f64(v).to_f64(),
            })
            .collect();
        let [x, y, il, tl] = b.upload(&lp, dtype, true);
        let loss = CtcLoss::new().blank(b.blank).reduction(Reduction::Sum);
        let (l, g) = loss.forward_with_grad(&x, &y, &il, &tl).unwrap();
        assert_eq!(g.dtype(), dtype);
        let (want_loss, want_grad) = b.expected(Reduction::Sum, &lp);
        compare(
            "loss",
            &l.to_vec::<f32>().unwrap(),
            &want_loss,
            (1e-5, 1e-6),
        );
        let g: Vec<f32> = match dtype {
            DType::F16 => g
                .to_vec::<f16>()
                .unwrap()
                .iter()
                .map(|v| v.to_f32())
                .collect(),
            _ => g
                .to_vec::<bf16>()
                .unwrap()
                .iter()
                .map(|v| v.to_f32())
                .collect(),
        };
        compare("half gradient", &g, &want_grad, (rel, 1e-3));
    }
}

#[test]
fn one_unbatched_sequence() {
    let mut rng = Rng::new(166);
    let b = Batch::random(&mut rng, 9, 1, 4, 4);
    let lp = b.log_probs();
    let [x, y, il, tl] = b.upload(&lp, DType::F32, false);
    let dev = device();
    let x2: Vec<f32> = x.to_vec::<f32>().unwrap();
    let x2 = Tensor::from_slice(dev, &x2, &[9, 4]).unwrap();
    let il2 = Tensor::from_slice(dev, &il.to_vec::<u32>().unwrap(), &[]).unwrap();
    let none = CtcLoss::new().blank(b.blank).reduction(Reduction::None);
    let one = none.forward(&x2, &y, &il2, &tl).unwrap();
    assert_eq!(one.shape(), &[] as &[usize]);
    let batched = none.forward(&x, &y, &il, &tl).unwrap();
    assert_eq!(batched.shape(), &[1]);
    assert_eq!(
        one.to_vec::<f32>().unwrap(),
        batched.to_vec::<f32>().unwrap()
    );
    let want = b.reference(&lp)[0].0;
    let got = none
        .reduction(Reduction::Sum)
        .forward(&x2, &y, &il2, &tl)
        .unwrap();
    let got = got.to_vec::<f32>().unwrap()[0];
    assert!(
        (got as f64 - want).abs() < 1e-5 * want.max(1.0),
        "got {got}, want {want}"
    );
    // The free function has PyTorch's defaults: blank 0.
    let mut zero = Batch::random(&mut rng, 9, 1, 4, 4);
    zero.blank = 0;
    zero.targets = vec![vec![1, 3, 3, 2]];
    let lp = zero.log_probs();
    let [x, y, il, tl] = zero.upload(&lp, DType::F32, true);
    let got = ctc_loss(&x, &y, &il, &tl, Reduction::Mean)
        .unwrap()
        .to_vec::<f32>()
        .unwrap()[0];
    let want = zero.reference(&lp)[0].0 / 4.0;
    assert!(
        (got as f64 - want).abs() < 1e-5 * want,
        "got {got}, want {want}"
    );
}

#[test]
fn bad_lengths_and_labels_are_errors() {
    let dev = device();
    let lp = Tensor::from_slice(dev, &[(0.25f32).ln(); 3 * 2 * 4], &[3, 2, 4]).unwrap();
    let u = |v: &[u32], shape: &[usize]| Tensor::from_slice(dev, v, shape).unwrap();
    let read = |targets: &Tensor, il: &Tensor, tl: &Tensor| {
        let (l, g) = CtcLoss::new().forward_with_grad(&lp, targets, il, tl)?;
        g.to_vec::<f32>()?;
        l.to_vec::<f32>()
    };
    let padded = u(&[1, 2, 3, 1], &[2, 2]);
    let ok_il = u(&[3, 2], &[2]);
    let ok_tl = u(&[2, 1], &[2]);
    assert!(read(&padded, &ok_il, &ok_tl).is_ok());
    let err = read(&padded, &u(&[3, 4], &[2]), &ok_tl).unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidLength {
                what: "input_lengths",
                index: 1,
                value: 4,
                ..
            }
        ),
        "{err}"
    );
    let err = read(&padded, &ok_il, &u(&[2, 3], &[2])).unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidLength {
                what: "target_lengths",
                index: 1,
                value: 3,
                ..
            }
        ),
        "{err}"
    );
    let negative = Tensor::from_slice(dev, &[3i32, -1], &[2]).unwrap();
    let err = read(&padded, &negative, &ok_tl).unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidLength {
                index: 1,
                value: -1,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("negative"), "{err}");
    let err = read(&u(&[1, 0, 3, 1], &[2, 2]), &ok_il, &ok_tl).unwrap_err();
    assert_eq!(err, Error::BlankLabel { index: 1, blank: 0 });
    let err = read(&u(&[1, 2, 7, 1], &[2, 2]), &ok_il, &ok_tl).unwrap_err();
    assert_eq!(
        err,
        Error::LabelOutOfRange {
            index: 2,
            label: 7,
            classes: 4
        }
    );
    // Concatenated: the lengths must fit the targets.
    let concat = u(&[1, 2, 3], &[3]);
    assert!(read(&concat, &ok_il, &ok_tl).is_ok());
    let err = read(&concat, &ok_il, &u(&[2, 2], &[2])).unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidLength {
                what: "target_lengths",
                index: 1,
                ..
            }
        ),
        "{err}"
    );
    // Shapes, types and options: refused at once.
    let err = CtcLoss::new()
        .forward(&lp, &padded, &u(&[3, 2, 1], &[3]), &ok_tl)
        .unwrap_err();
    assert!(matches!(err, Error::Shape(_)), "{err}");
    let err = CtcLoss::new()
        .forward(&lp, &u(&[1, 2, 3, 1, 1, 1], &[3, 2]), &ok_il, &ok_tl)
        .unwrap_err();
    assert!(matches!(err, Error::Shape(_)), "{err}");
    let err = CtcLoss::new()
        .blank(4)
        .forward(&lp, &padded, &ok_il, &ok_tl)
        .unwrap_err();
    assert!(matches!(err, Error::InvalidOption(_)), "{err}");
    let float_targets = Tensor::from_slice(dev, &[1.0f32; 4], &[2, 2]).unwrap();
    let err = CtcLoss::new()
        .forward(&lp, &float_targets, &ok_il, &ok_tl)
        .unwrap_err();
    assert!(matches!(err, Error::DType { .. }), "{err}");
    let err = CtcLoss::new()
        .forward(&padded, &padded, &ok_il, &ok_tl)
        .unwrap_err();
    assert!(matches!(err, Error::DType { .. }), "{err}");
}

#[test]
fn random_calls_never_panic() {
    // Shapes, lengths, labels and log-probability bits at random, valid or not (NaN, inf,
    // lengths past T or negative, labels past C or equal to the blank): each call returns a
    // value or an Error, and reading it too, but never panics.
    let mut rng = Rng::new(168);
    let dev = device();
    let special = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -1e30, 0.0, 1.0];
    let (mut computed, mut refused) = (0, 0);
    for _ in 0..300 {
        let (time, batch, classes) = (
            1 + rng.below(12) as usize,
            1 + rng.below(4) as usize,
            1 + rng.below(6) as usize,
        );
        let lp: Vec<f32> = (0..time * batch * classes)
            .map(|_| match rng.below(8) {
                0 => special[rng.below(6) as usize],
                _ => rng.uniform(-20.0, 0.0),
            })
            .collect();
        let s = 1 + rng.below(5) as usize;
        let padded = rng.below(2) == 0;
        let n_targets = if padded { batch * s } else { s };
        let signed = rng.below(2) == 0;
        let int = |rng: &mut Rng, hi: u32| -> i64 {
            match rng.below(40) {
                0 => -1,
                1 => hi as i64 + 1,
                _ => rng.below(hi + 1) as i64,
            }
        };
        let targets: Vec<i64> = (0..n_targets)
            .map(|_| int(&mut rng, classes as u32))
            .collect();
        let input_lengths: Vec<i64> = (0..batch).map(|_| int(&mut rng, time as u32)).collect();
        let target_lengths: Vec<i64> = (0..batch).map(|_| int(&mut rng, s as u32)).collect();
        let ints = |v: &[i64], shape: &[usize]| match signed {
            true => {
                Tensor::from_slice(dev, &v.iter().map(|&x| x as i32).collect::<Vec<_>>(), shape)
            }
            false => {
                Tensor::from_slice(dev, &v.iter().map(|&x| x as u32).collect::<Vec<_>>(), shape)
            }
        };
        let target_shape = if padded { vec![batch, s] } else { vec![s] };
        let reduction = [Reduction::None, Reduction::Mean, Reduction::Sum][rng.below(3) as usize];
        let loss = CtcLoss::new()
            .blank(rng.below(classes as u32 + 1))
            .zero_infinity(rng.below(2) == 0)
            .reduction(reduction);
        let grad = rng.below(2) == 0;
        let dtype = [DType::F32, DType::F16, DType::BF16][rng.below(3) as usize];
        let call = || -> wgpu_loss::Result<()> {
            let shape = [time, batch, classes];
            let x = match dtype {
                DType::F32 => Tensor::from_slice(dev, &lp, &shape),
                DType::F16 => {
                    let v: Vec<f16> = lp.iter().map(|&v| f16::from_f32(v)).collect();
                    Tensor::from_slice(dev, &v, &shape)
                }
                _ => {
                    let v: Vec<bf16> = lp.iter().map(|&v| bf16::from_f32(v)).collect();
                    Tensor::from_slice(dev, &v, &shape)
                }
            }?;
            let y = ints(&targets, &target_shape)?;
            let il = ints(&input_lengths, &[batch])?;
            let tl = ints(&target_lengths, &[batch])?;
            match grad {
                true => {
                    let (l, g) = loss.forward_with_grad(&x, &y, &il, &tl)?;
                    match dtype {
                        DType::F32 => g.to_vec::<f32>().map(drop)?,
                        DType::F16 => g.to_vec::<f16>().map(drop)?,
                        _ => g.to_vec::<bf16>().map(drop)?,
                    }
                    l.to_vec::<f32>().map(drop)
                }
                false => loss.forward(&x, &y, &il, &tl)?.to_vec::<f32>().map(drop),
            }
        };
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(call)) {
            Ok(Ok(())) => computed += 1,
            Ok(Err(_)) => refused += 1,
            Err(_) => panic!("a CTC call panicked: T {time}, N {batch}, C {classes}"),
        }
    }
    eprintln!("ctc: 300 random calls, {computed} computed, {refused} refused with an Error");
    assert!(computed > 40 && refused > 40, "{computed} / {refused}");
}
