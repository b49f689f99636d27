//! Cross-entropy on logits with integer labels against an f64 CPU reference.

mod common;
use common::*;
use wgpu_loss::{CrossEntropyLoss, Reduction, Tensor, cross_entropy};

fn labels(rows: usize, classes: u32, rng: &mut Rng) -> Vec<u32> {
    (0..rows).map(|_| rng.below(classes)).collect()
}

fn check(rows: usize, classes: usize, lo: f32, hi: f32, seed: u64) {
    let mut rng = Rng::new(seed);
    let x = rng.vec(rows * classes, lo, hi);
    let y = labels(rows, classes as u32, &mut rng);
    let reference = ce_ref(&x, &y, classes);
    let logits = upload(&x, &[rows, classes]);
    let lab = Tensor::from_slice(device(), &y, &[rows]).unwrap();
    let mean = scalar(&cross_entropy(&logits, &lab, Reduction::Mean).unwrap());
    let total = scalar(&cross_entropy(&logits, &lab, Reduction::Sum).unwrap());
    let none = cross_entropy(&logits, &lab, Reduction::None).unwrap();
    assert_eq!(none.shape(), &[rows]);
    let (e_mean, e_sum) = (
        rel_err(mean, common::mean(&reference)),
        rel_err(total, sum(&reference)),
    );
    eprintln!(
        "ce [{rows} x {classes}] in [{lo}, {hi}]: rel err mean {e_mean:.2e}, sum {e_sum:.2e}"
    );
    assert!(
        e_mean < 1e-5 && e_sum < 1e-5,
        "[{rows} x {classes}]: {e_mean} {e_sum}"
    );
    // Per-row losses: absolute error relative to the size of the logits involved.
    let tol = 1e-5 * (hi.abs().max(lo.abs()) as f64).max(1.0);
    assert_all_close(&none.to_vec::<f32>().unwrap(), &reference, 1e-5, tol);
}

#[test]
fn seed_example_gives_0_912035() {
    let logits = upload(&[1.2, 0.9, 0.1, 0.4, 1.5, 1.1], &[2, 3]);
    let lab = Tensor::from_slice(device(), &[0u32, 2], &[2]).unwrap();
    let ce = scalar(&cross_entropy(&logits, &lab, Reduction::Mean).unwrap());
    assert!((ce - 0.912035).abs() < 1e-6, "{ce}");
}

#[test]
fn two_classes() {
    check(100_003, 2, -5.0, 5.0, 20);
    check(1, 2, -5.0, 5.0, 21);
}

#[test]
fn ten_classes() {
    check(65_537, 10, -5.0, 5.0, 22);
    check(3, 10, -5.0, 5.0, 23);
}

#[test]
fn thousand_classes() {
    check(1_001, 1000, -10.0, 10.0, 24);
}

#[test]
fn vocabulary_of_32000_classes() {
    check(67, 32_000, -10.0, 10.0, 25);
}

#[test]
fn huge_logits_stay_finite_and_exact() {
    for classes in [2, 10, 1000] {
        check(257, classes, -1e4, 1e4, 26 + classes as u64);
    }
}

#[test]
fn signed_labels_work_like_unsigned() {
    let x = [1.2f32, 0.9, 0.1, 0.4, 1.5, 1.1];
    let logits = upload(&x, &[2, 3]);
    let lab = Tensor::from_slice(device(), &[0i32, 2], &[2]).unwrap();
    let ce = scalar(&CrossEntropyLoss::new().forward(&logits, &lab).unwrap());
    assert!((ce - 0.912035).abs() < 1e-6);
}

#[test]
fn nan_logit_gives_nan_loss() {
    for classes in [3, 300] {
        let mut x = vec![0.5f32; 2 * classes];
        x[1] = f32::NAN;
        let logits = upload(&x, &[2, classes]);
        let lab = Tensor::from_slice(device(), &[0u32, 0], &[2]).unwrap();
        let none = cross_entropy(&logits, &lab, Reduction::None)
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
        assert!(none[0].is_nan(), "C={classes}: {none:?}");
        assert!(none[1].is_finite(), "C={classes}: {none:?}");
    }
}

#[test]
fn confident_predictions_keep_relative_precision() {
    // The label's logit is 5 to 15 above the rest: losses of 1e-7 to 1e-2, where
    // lse - x[label] in plain f32 would keep only a few digits.
    let mut rng = Rng::new(40);
    for classes in [2usize, 10, 1000] {
        let rows = 64;
        let mut x = rng.vec(rows * classes, -1.0, 1.0);
        let y = labels(rows, classes as u32, &mut rng);
        for (row, &label) in y.iter().enumerate() {
            x[row * classes + label as usize] += rng.uniform(5.0, 15.0) + (classes as f32).ln();
        }
        let got = cross_entropy(
            &upload(&x, &[rows, classes]),
            &Tensor::from_slice(device(), &y, &[rows]).unwrap(),
            Reduction::None,
        )
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
        assert_all_close(&got, &ce_ref(&x, &y, classes), 2e-5, 0.0);
    }
}

#[test]
fn rows_longer_than_a_software_loop_may_run() {
    // llvmpipe and lavapipe stop any loop after 65,535 iterations; a row of 70,000 classes
    // read by one invocation (many rows) or by a workgroup (few rows) must still be whole.
    let classes = 70_000;
    for rows in [3, 300] {
        let mut rng = Rng::new(41 + rows as u64);
        let x = rng.vec(rows * classes, -10.0, 10.0);
        let y = labels(rows, classes as u32, &mut rng);
        let logits = upload(&x, &[rows, classes]);
        let lab = Tensor::from_slice(device(), &y, &[rows]).unwrap();
        let (none, grad) = CrossEntropyLoss::new()
            .reduction(Reduction::None)
            .forward_with_grad(&logits, &lab)
            .unwrap();
        assert_all_close(
            &none.to_vec::<f32>().unwrap(),
            &ce_ref(&x, &y, classes),
            1e-5,
            1e-5,
        );
        let g = grad.to_vec::<f32>().unwrap();
        let last = &g[(rows - 1) * classes..];
        let total: f64 = last.iter().map(|&v| v as f64).sum();
        assert!(
            total.abs() < 1e-4,
            "rows={rows}: a gradient row sums to {total}, not 0"
        );
        let nll = wgpu_loss::NllLoss::new()
            .forward_with_grad(&logits, &lab)
            .unwrap()
            .1;
        let g = nll.to_vec::<f32>().unwrap();
        let r = rows - 1;
        assert_eq!(
            g[r * classes + y[r] as usize],
            -1.0 / rows as f32,
            "rows={rows}"
        );
    }
}
