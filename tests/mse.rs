//! MSE on the GPU against an f64 CPU reference.

mod common;
use common::*;
use wgpu_loss::{MseLoss, Reduction, mse_loss};

/// Sizes around the workgroup (256) and the vec4 lane, an odd million, and 2^24 (more
/// elements than 65,535 workgroups of 256 invocations could cover one each).
const SIZES: [usize; 8] = [1, 3, 255, 256, 257, 65_537, 1_000_003, 16_777_216];

#[test]
fn seed_example_gives_0_13() {
    let pred = upload(&[2.5, 0.5, 2.1, 1.9], &[4]);
    let target = upload(&[3.0, 0.0, 2.0, 2.0], &[4]);
    let mse = scalar(&mse_loss(&pred, &target, Reduction::Mean).unwrap());
    assert!((mse - 0.13).abs() < 1e-6, "{mse}");
}

#[test]
fn mean_and_sum_match_f64_reference_at_every_size() {
    let mut rng = Rng::new(1);
    for n in SIZES {
        let x = rng.vec(n, -3.0, 3.0);
        let y = rng.vec(n, -3.0, 3.0);
        let reference = mse_ref(&x, &y);
        let (px, py) = (upload(&x, &[n]), upload(&y, &[n]));
        let mean = scalar(&mse_loss(&px, &py, Reduction::Mean).unwrap());
        let total = scalar(&mse_loss(&px, &py, Reduction::Sum).unwrap());
        let (e_mean, e_sum) = (
            rel_err(mean, common::mean(&reference)),
            rel_err(total, sum(&reference)),
        );
        eprintln!("mse n={n}: rel err mean {e_mean:.2e}, sum {e_sum:.2e}");
        assert!(
            e_mean < 1e-5 && e_sum < 1e-5,
            "n={n}: mean {e_mean}, sum {e_sum}"
        );
    }
}

#[test]
fn none_gives_every_element() {
    let mut rng = Rng::new(2);
    for n in [1, 3, 257, 65_537] {
        let x = rng.vec(n, -3.0, 3.0);
        let y = rng.vec(n, -3.0, 3.0);
        let out = mse_loss(&upload(&x, &[n]), &upload(&y, &[n]), Reduction::None).unwrap();
        assert_eq!(out.shape(), &[n]);
        assert_all_close(&out.to_vec::<f32>().unwrap(), &mse_ref(&x, &y), 1e-6, 1e-7);
    }
}

#[test]
fn keeps_shape_for_none_and_accepts_any_rank() {
    let x = upload(&[1.0; 24], &[2, 3, 4]);
    let y = upload(&[0.0; 24], &[2, 3, 4]);
    let out = MseLoss::new()
        .reduction(Reduction::None)
        .forward(&x, &y)
        .unwrap();
    assert_eq!(out.shape(), &[2, 3, 4]);
    assert_eq!(scalar(&MseLoss::new().forward(&x, &y).unwrap()), 1.0);
}

#[test]
fn far_targets_stay_accurate() {
    let n = 100_003;
    let mut rng = Rng::new(3);
    let x = rng.vec(n, -1e4, 1e4);
    let y = rng.vec(n, 1e3, 1e4);
    let reference = mse_ref(&x, &y);
    let got = scalar(&mse_loss(&upload(&x, &[n]), &upload(&y, &[n]), Reduction::Mean).unwrap());
    assert!(rel_err(got, common::mean(&reference)) < 1e-5);
}

#[test]
fn nan_input_gives_nan_loss() {
    let x = upload(&[1.0, f32::NAN, 3.0], &[3]);
    let y = upload(&[1.0, 2.0, 3.0], &[3]);
    assert!(scalar(&mse_loss(&x, &y, Reduction::Mean).unwrap()).is_nan());
    let none = mse_loss(&x, &y, Reduction::None)
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    assert_eq!(none[0], 0.0);
    assert!(none[1].is_nan());
}
