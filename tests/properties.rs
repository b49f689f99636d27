//! Property tests: random shapes, sizes and values against the f64 reference, and random
//! bytes as input, which may give errors or NaN but never a panic.

mod common;
use common::*;
use proptest::prelude::*;
use wgpu_loss::*;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 48,
        ..ProptestConfig::default()
    }
}

fn close(got: f32, want: f64) -> bool {
    approx::relative_eq!(got as f64, want, epsilon = 1e-5, max_relative = 1e-4)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn elementwise_losses_and_gradients_match_f64(
        pairs in prop::collection::vec((-50.0f32..50.0, -50.0f32..50.0), 1..3000),
        delta in 0.01f32..20.0,
        sum in any::<bool>(),
    ) {
        let n = pairs.len();
        let (x, y): (Vec<f32>, Vec<f32>) = pairs.into_iter().unzip();
        let (px, py) = (upload(&x, &[n]), upload(&y, &[n]));
        let r = if sum { Reduction::Sum } else { Reduction::Mean };
        let div = if sum { 1.0 } else { n as f64 };
        let d = delta as f64;
        let (l, g) = HuberLoss::new().delta(delta).reduction(r).forward_with_grad(&px, &py).unwrap();
        let (l, g) = (scalar(&l), g.to_vec::<f32>().unwrap());
        let mut want = 0.0;
        for i in 0..n {
            let e = x[i] as f64 - y[i] as f64;
            want += if e.abs() < d { 0.5 * e * e } else { d * (e.abs() - 0.5 * d) };
            let wg = if e.abs() < d { e } else { d * e.signum() } / div;
            prop_assert!(close(g[i], wg), "grad {i}: {} vs {wg}", g[i]);
        }
        prop_assert!(close(l, want / div), "{l} vs {}", want / div);
        let t: Vec<f32> = y.iter().map(|v| (v + 50.0) / 100.0).collect();
        let (l, g) = BceWithLogitsLoss::new().reduction(r).forward_with_grad(&px, &upload(&t, &[n])).unwrap();
        let (l, g) = (scalar(&l), g.to_vec::<f32>().unwrap());
        let mut want = 0.0;
        for i in 0..n {
            let (a, b) = (x[i] as f64, t[i] as f64);
            want += a.max(0.0) - a * b + (-a.abs()).exp().ln_1p();
            let wg = (1.0 / (1.0 + (-a).exp()) - b) / div;
            prop_assert!(close(g[i], wg), "grad {i}: {} vs {wg}", g[i]);
        }
        prop_assert!(close(l, want / div), "{l} vs {}", want / div);
    }

    #[test]
    fn cross_entropy_and_gradient_match_f64(
        rows in 1usize..40,
        classes in 1usize..300,
        scale in 0.1f32..40.0,
        seed in any::<u64>(),
    ) {
        let mut rng = common::Rng::new(seed);
        let x = rng.vec(rows * classes, -scale, scale);
        let y: Vec<u32> = (0..rows).map(|_| rng.below(classes as u32)).collect();
        let (l, g) = CrossEntropyLoss::new()
            .reduction(Reduction::Sum)
            .forward_with_grad(&upload(&x, &[rows, classes]), &Tensor::from_slice(device(), &y, &[rows]).unwrap())
            .unwrap();
        let (l, g) = (scalar(&l), g.to_vec::<f32>().unwrap());
        let mut want = 0.0;
        for (r, row) in x.chunks(classes).enumerate() {
            let m = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
            let s: f64 = row.iter().map(|&v| (v as f64 - m).exp()).sum();
            want += m + s.ln() - row[y[r] as usize] as f64;
            for (c, &v) in row.iter().enumerate() {
                let wg = (v as f64 - m).exp() / s - (c == y[r] as usize) as u32 as f64;
                prop_assert!(close(g[r * classes + c], wg), "grad [{r}, {c}]: {} vs {wg}", g[r * classes + c]);
            }
        }
        prop_assert!(close(l, want), "{l} vs {want}");
    }

    #[test]
    fn random_bytes_never_panic(
        bytes in prop::collection::vec(any::<u32>(), 1..600),
        cols in 1usize..9,
        label_bits in prop::collection::vec(any::<i32>(), 1..80),
    ) {
        let x: Vec<f32> = bytes.iter().map(|&b| f32::from_bits(b)).collect();
        let n = x.len();
        let a = upload(&x, &[n]);
        let b = upload(&x.iter().rev().copied().collect::<Vec<_>>(), &[n]);
        for r in [Reduction::None, Reduction::Mean, Reduction::Sum] {
            let results = [
                mse_loss(&a, &b, r),
                l1_loss(&a, &b, r),
                huber_loss(&a, &b, r),
                binary_cross_entropy(&a, &b, r),
                binary_cross_entropy_with_logits(&a, &b, r),
            ];
            for res in results {
                let _ = res.and_then(|t| t.to_vec::<f32>());
            }
        }
        let _ = kl_div(&a, &b, KlReduction::BatchMean).and_then(|t| t.to_vec::<f32>());
        // Logits from the same bytes, labels from random bits (mostly out of range).
        let rows = n / cols;
        if rows > 0 {
            let logits = upload(&x[..rows * cols], &[rows, cols]);
            let labels: Vec<i32> = (0..rows).map(|i| label_bits[i % label_bits.len()]).collect();
            let lt = Tensor::from_slice(device(), &labels, &[rows]).unwrap();
            let res = CrossEntropyLoss::new().forward_with_grad(&logits, &lt);
            if let Ok((l, g)) = res {
                let read = l.to_vec::<f32>();
                let bad = labels.iter().position(|&v| v != -100 && (v < 0 || v as usize >= cols));
                match bad {
                    Some(i) => prop_assert_eq!(
                        read.unwrap_err(),
                        Error::LabelOutOfRange { index: i as u64, label: labels[i] as i64, classes: cols as u32 }
                    ),
                    None => prop_assert!(read.is_ok()),
                }
                let _ = g.to_vec::<f32>();
            }
            let _ = nll_loss(&logits, &lt, Reduction::Sum).and_then(|t| t.to_vec::<f32>());
        }
    }
}
