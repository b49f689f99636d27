//! Binary cross-entropy on probabilities against an f64 CPU reference.

mod common;
use common::*;
use wgpu_loss::{BceLoss, Reduction, binary_cross_entropy};

#[test]
fn seed_example() {
    let p = upload(&[0.9, 0.2], &[2]);
    let y = upload(&[1.0, 0.0], &[2]);
    let got = scalar(&binary_cross_entropy(&p, &y, Reduction::Sum).unwrap());
    let want = -(0.9f64.ln() + 0.8f64.ln());
    assert!(rel_err(got, want) < 1e-6, "{got} vs {want}");
}

#[test]
fn matches_f64_reference_at_every_size() {
    let mut rng = Rng::new(10);
    for n in [1, 3, 255, 256, 257, 65_537, 1_000_003, 16_777_216] {
        let p = rng.vec(n, 0.001, 0.999);
        let y: Vec<f32> = (0..n).map(|i| (i % 3 == 0) as u32 as f32).collect();
        let reference = bce_ref(&p, &y);
        let (pp, py) = (upload(&p, &[n]), upload(&y, &[n]));
        let mean = scalar(&binary_cross_entropy(&pp, &py, Reduction::Mean).unwrap());
        let total = scalar(&binary_cross_entropy(&pp, &py, Reduction::Sum).unwrap());
        let (e_mean, e_sum) = (
            rel_err(mean, common::mean(&reference)),
            rel_err(total, sum(&reference)),
        );
        eprintln!("bce n={n}: rel err mean {e_mean:.2e}, sum {e_sum:.2e}");
        assert!(
            e_mean < 1e-5 && e_sum < 1e-5,
            "n={n}: mean {e_mean}, sum {e_sum}"
        );
    }
}

#[test]
fn probabilities_zero_and_one_give_finite_losses_like_pytorch() {
    let p = [0.0, 1.0, 0.0, 1.0, 0.5];
    let y = [1.0, 0.0, 0.0, 1.0, 1.0];
    let out = BceLoss::new()
        .reduction(Reduction::None)
        .forward(&upload(&p, &[5]), &upload(&y, &[5]))
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    assert_all_close(&out, &[100.0, 100.0, 0.0, 0.0, 2f64.ln()], 1e-6, 1e-6);
}

#[test]
fn soft_targets_match_reference() {
    let mut rng = Rng::new(11);
    let n = 4099;
    let p = rng.vec(n, 0.0, 1.0);
    let y = rng.vec(n, 0.0, 1.0);
    let out = binary_cross_entropy(&upload(&p, &[n]), &upload(&y, &[n]), Reduction::None)
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    assert_all_close(&out, &bce_ref(&p, &y), 1e-5, 1e-5);
}

#[test]
fn nan_probability_gives_nan_loss() {
    let p = upload(&[0.5, f32::NAN], &[2]);
    let y = upload(&[1.0, 1.0], &[2]);
    assert!(scalar(&binary_cross_entropy(&p, &y, Reduction::Mean).unwrap()).is_nan());
}
