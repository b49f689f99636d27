//! The losses beyond the core three, against f64 references at the core's sizes and extremes.

mod common;
use common::*;
use wgpu_loss::*;

const SIZES: [usize; 6] = [1, 3, 255, 257, 65_537, 1_000_003];

fn sigmoid_bce(x: f64, y: f64) -> f64 {
    x.max(0.0) - x * y + (-x.abs()).exp().ln_1p()
}

#[test]
fn elementwise_losses_at_every_size() {
    let mut rng = Rng::new(60);
    for n in SIZES {
        let x = rng.vec(n, -4.0, 4.0);
        let y = rng.vec(n, -4.0, 4.0);
        let t: Vec<f32> = y.iter().map(|&v| (v + 4.0) / 8.0).collect();
        let (px, py, pt) = (upload(&x, &[n]), upload(&y, &[n]), upload(&t, &[n]));
        let pairs = x.iter().zip(&y).map(|(&a, &b)| (a as f64, b as f64));
        let l1: Vec<f64> = pairs.clone().map(|(a, b)| (a - b).abs()).collect();
        let huber: Vec<f64> = pairs
            .clone()
            .map(|(a, b)| {
                let d: f64 = a - b;
                if d.abs() < 1.5 {
                    0.5 * d * d
                } else {
                    1.5 * (d.abs() - 0.75)
                }
            })
            .collect();
        let bcel: Vec<f64> = x
            .iter()
            .zip(&t)
            .map(|(&a, &b)| sigmoid_bce(a as f64, b as f64))
            .collect();
        let cases = [
            (
                "l1",
                scalar(&l1_loss(&px, &py, Reduction::Mean).unwrap()),
                mean(&l1),
            ),
            (
                "huber",
                scalar(&HuberLoss::new().delta(1.5).forward(&px, &py).unwrap()),
                mean(&huber),
            ),
            (
                "bce_with_logits",
                scalar(&binary_cross_entropy_with_logits(&px, &pt, Reduction::Sum).unwrap()),
                sum(&bcel),
            ),
        ];
        for (name, got, want) in cases {
            let err = rel_err(got, want);
            assert!(err < 1e-5, "{name} n={n}: {got} vs {want} ({err:.1e})");
        }
    }
}

#[test]
fn bce_with_logits_is_exact_at_extreme_logits() {
    let x = [1e4f32, -1e4, 100.0, -100.0, 30.0, -30.0, 0.0];
    let y = [1.0f32, 1.0, 0.0, 0.0, 1.0, 0.0, 0.5];
    let got =
        binary_cross_entropy_with_logits(&upload(&x, &[7]), &upload(&y, &[7]), Reduction::None)
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
    let want: Vec<f64> = x
        .iter()
        .zip(&y)
        .map(|(&a, &b)| sigmoid_bce(a as f64, b as f64))
        .collect();
    // Relative precision even for the tiny losses (e^-30 ~ 1e-13); e^-100 is subnormal in
    // f32, which GPUs may flush to 0.
    assert_all_close(&got, &want, 1e-5, 1e-37);
}

#[test]
fn weighted_ignoring_cross_entropy_on_a_vocabulary() {
    let mut rng = Rng::new(61);
    let (rows, classes) = (37, 32_000);
    let x = rng.vec(rows * classes, -1e4, 1e4);
    let y: Vec<i32> = (0..rows)
        .map(|i| {
            if i % 5 == 0 {
                -100
            } else {
                rng.below(classes as u32) as i32
            }
        })
        .collect();
    let w = rng.vec(classes, 0.1, 3.0);
    let ce = CrossEntropyLoss::new().weight(upload(&w, &[classes]));
    let got = scalar(
        &ce.forward(
            &upload(&x, &[rows, classes]),
            &Tensor::from_slice(device(), &y, &[rows]).unwrap(),
        )
        .unwrap(),
    );
    let (mut total, mut den) = (0.0, 0.0);
    for (row, &label) in x.chunks(classes).zip(&y) {
        if label < 0 {
            continue;
        }
        let m = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
        let lse = m + row.iter().map(|&v| (v as f64 - m).exp()).sum::<f64>().ln();
        total += w[label as usize] as f64 * (lse - row[label as usize] as f64);
        den += w[label as usize] as f64;
    }
    assert!(rel_err(got, total / den) < 1e-5, "{got} vs {}", total / den);
}

#[test]
fn every_row_ignored_gives_nan_mean_like_pytorch() {
    let logits = upload(&[0.0; 4], &[2, 2]);
    let labels = Tensor::from_slice(device(), &[-100i32, -100], &[2]).unwrap();
    assert!(scalar(&cross_entropy(&logits, &labels, Reduction::Mean).unwrap()).is_nan());
    assert_eq!(
        scalar(&cross_entropy(&logits, &labels, Reduction::Sum).unwrap()),
        0.0
    );
}

#[test]
fn invalid_options_are_errors() {
    let a = upload(&[1.0; 4], &[4]);
    assert!(matches!(
        HuberLoss::new().delta(-1.0).forward(&a, &a),
        Err(Error::InvalidOption(_))
    ));
    assert!(matches!(
        SmoothL1Loss::new().beta(f32::NAN).forward(&a, &a),
        Err(Error::InvalidOption(_))
    ));
    let logits = upload(&[0.0; 6], &[2, 3]);
    let labels = Tensor::from_slice(device(), &[0u32, 1], &[2]).unwrap();
    let err = CrossEntropyLoss::new()
        .label_smoothing(1.5)
        .forward(&logits, &labels)
        .unwrap_err();
    assert!(matches!(err, Error::InvalidOption(_)), "{err}");
    let err = CrossEntropyLoss::new()
        .weight(upload(&[1.0; 2], &[2]))
        .forward(&logits, &labels)
        .unwrap_err();
    assert!(matches!(err, Error::Shape(_)), "{err}");
    let err = BceWithLogitsLoss::new()
        .pos_weight(upload(&[1.0; 3], &[3]))
        .forward(&a, &a)
        .unwrap_err();
    assert!(matches!(err, Error::Shape(_)), "{err}");
    let err = BceLoss::new()
        .weight(upload(&[1.0; 2], &[2]))
        .forward(&a, &a)
        .unwrap_err();
    assert!(matches!(err, Error::Shape(_)), "{err}");
    let probs = upload(&[0.5; 6], &[2, 3]);
    let err = NllLoss::new().forward(&logits, &probs).unwrap_err();
    assert!(matches!(err, Error::DType { .. }), "{err}");
}
