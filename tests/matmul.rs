//! The public matrix product against an f64 reference: odd shapes, both transposes, half
//! operands, an inner dimension past one dispatch's loop budget, operands split under a tiny
//! binding limit, and bad shapes as `Error`s.

mod common;

use common::{Rng, device};
use wgpu_loss::half::{bf16, f16};
use wgpu_loss::{DType, Device, DeviceOptions, Error, Matmul, Tensor};

fn upload(dev: &Device, x: &[f32], shape: &[usize], dtype: DType) -> (Tensor, Vec<f64>) {
    match dtype {
        DType::F16 => {
            let v: Vec<f16> = x.iter().map(|&v| f16::from_f32(v)).collect();
            let back = v.iter().map(|v| v.to_f64()).collect();
            (Tensor::from_slice(dev, &v, shape).unwrap(), back)
        }
        DType::BF16 => {
            let v: Vec<bf16> = x.iter().map(|&v| bf16::from_f32(v)).collect();
            let back = v.iter().map(|v| v.to_f64()).collect();
            (Tensor::from_slice(dev, &v, shape).unwrap(), back)
        }
        _ => (
            Tensor::from_slice(dev, x, shape).unwrap(),
            x.iter().map(|&v| f64::from(v)).collect(),
        ),
    }
}

/// `op(a) · op(b)` on the GPU against f64, to `tol` of the largest |a_ik b_kj| sum.
#[allow(clippy::too_many_arguments)]
fn check(
    dev: &Device,
    rng: &mut Rng,
    m: usize,
    n: usize,
    k: usize,
    ta: bool,
    tb: bool,
    dt: [DType; 2],
) {
    let a_shape = if ta { [k, m] } else { [m, k] };
    let b_shape = if tb { [n, k] } else { [k, n] };
    let (a, av) = upload(dev, &rng.vec(m * k, -1.0, 1.0), &a_shape, dt[0]);
    let (b, bv) = upload(dev, &rng.vec(k * n, -1.0, 1.0), &b_shape, dt[1]);
    let c = Matmul::new()
        .transpose_a(ta)
        .transpose_b(tb)
        .forward(&a, &b)
        .unwrap();
    assert_eq!(c.shape(), &[m, n]);
    let got = c.to_vec::<f32>().unwrap();
    let at = |i: usize, kk: usize| if ta { av[kk * m + i] } else { av[i * k + kk] };
    let bt = |kk: usize, j: usize| if tb { bv[j * k + kk] } else { bv[kk * n + j] };
    for i in 0..m {
        for j in 0..n {
            let (mut want, mut size) = (0.0, 0.0);
            for kk in 0..k {
                want += at(i, kk) * bt(kk, j);
                size += (at(i, kk) * bt(kk, j)).abs();
            }
            let g = got[i * n + j] as f64;
            assert!(
                (g - want).abs() <= 1e-6 * size + 1e-7,
                "[{m} x {k}] x [{k} x {n}] ta={ta} tb={tb} {dt:?}: ({i}, {j}) got {g}, want {want}"
            );
        }
    }
}

#[test]
fn odd_shapes_either_way_round() {
    let dev = device();
    let mut rng = Rng::new(1);
    for (m, n, k) in [(1, 1, 1), (3, 5, 7), (65, 63, 17), (130, 70, 129)] {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            check(dev, &mut rng, m, n, k, ta, tb, [DType::F32; 2]);
        }
    }
}

#[test]
fn half_operands() {
    let dev = device();
    let mut rng = Rng::new(2);
    for dt in [
        [DType::F16, DType::F32],
        [DType::BF16, DType::F16],
        [DType::F32, DType::BF16],
    ] {
        check(dev, &mut rng, 33, 67, 45, false, true, dt);
        check(dev, &mut rng, 19, 9, 101, true, false, dt);
    }
}

#[test]
fn a_long_inner_dimension_goes_in_several_dispatches() {
    // Past 16,384 a dispatch's loop would exceed Mesa's budget and stop early, silently.
    let dev = device();
    check(
        dev,
        &mut Rng::new(3),
        3,
        4,
        40_001,
        false,
        false,
        [DType::F32; 2],
    );
    check(
        dev,
        &mut Rng::new(4),
        2,
        3,
        20_000,
        true,
        true,
        [DType::BF16; 2],
    );
}

#[test]
fn operands_past_a_binding_are_split() {
    let dev = Device::with_options(DeviceOptions::new().max_binding_size(4096)).unwrap();
    let mut rng = Rng::new(5);
    check(&dev, &mut rng, 70, 90, 33, false, false, [DType::F32; 2]);
    check(
        &dev,
        &mut rng,
        70,
        90,
        33,
        true,
        true,
        [DType::F16, DType::F32],
    );
}

#[test]
fn bad_shapes_are_errors() {
    let dev = device();
    let a = Tensor::from_slice(dev, &[0.0f32; 6], &[2, 3]).unwrap();
    let v = Tensor::from_slice(dev, &[0.0f32; 3], &[3]).unwrap();
    let ints = Tensor::from_slice(dev, &[0u32; 6], &[3, 2]).unwrap();
    assert!(matches!(wgpu_loss::matmul(&a, &a), Err(Error::Shape(_))));
    assert!(matches!(wgpu_loss::matmul(&a, &v), Err(Error::Shape(_))));
    assert!(matches!(
        wgpu_loss::matmul(&a, &ints),
        Err(Error::DType { .. })
    ));
    let aat = Matmul::new().transpose_b(true).forward(&a, &a).unwrap();
    assert_eq!(aat.shape(), &[2, 2]);
}
