//! Tensors larger than one storage binding are split into chunks whose partial sums the
//! reduction combines. A device whose binding limit is lowered stands in for the 128 MiB of
//! the software adapters, so the test needs no gigabytes; its results must match those of an
//! unlimited device.

mod common;
use common::*;
use wgpu_loss::*;

fn limited(bytes: u64) -> Device {
    Device::with_options(DeviceOptions::new().max_binding_size(bytes)).unwrap()
}

fn on(dev: &Device, data: &[f32], shape: &[usize]) -> Tensor {
    Tensor::from_slice(dev, data, shape).unwrap()
}

fn read(t: &Tensor) -> Vec<f32> {
    t.to_vec::<f32>().unwrap()
}

fn close(a: &[f32], b: &[f32], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}");
    for (i, (&x, &y)) in a.iter().zip(b).enumerate() {
        assert!(
            approx::relative_eq!(x, y, epsilon = 1e-6, max_relative = 1e-5),
            "{what}[{i}]: chunked {x}, whole {y}"
        );
    }
}

#[test]
fn elementwise_losses_chunked_match_whole() {
    let small = limited(4096); // 1,024 f32 per binding: ten chunks
    let (rows, cols) = (1_429, 7); // 10,003 elements, rows not aligned to chunks
    let n = rows * cols;
    let mut rng = Rng::new(70);
    let x = rng.vec(n, -3.0, 3.0);
    let t = rng.vec(n, 0.0, 1.0);
    let w = rng.vec(n, 0.5, 2.0);
    let pw = rng.vec(cols, 0.5, 3.0);
    let shape = [rows, cols];
    for dev in [&small, device()] {
        assert!(dev.max_binding_size() >= 4096);
    }
    let run = |dev: &Device| {
        let (x, t) = (on(dev, &x, &shape), on(dev, &t, &shape));
        let bce = BceWithLogitsLoss::new()
            .weight(on(dev, &w, &shape))
            .pos_weight(on(dev, &pw, &[cols]));
        let (loss, grad) = bce.forward_with_grad(&x, &t).unwrap();
        let none = bce
            .clone()
            .reduction(Reduction::None)
            .forward(&x, &t)
            .unwrap();
        let (mse, mse_grad) = MseLoss::new()
            .reduction(Reduction::Sum)
            .forward_with_grad(&x, &t)
            .unwrap();
        [
            read(&loss),
            read(&grad),
            read(&none),
            read(&mse),
            read(&mse_grad),
        ]
    };
    let (chunked, whole) = (run(&small), run(device()));
    for (k, (a, b)) in chunked.iter().zip(&whole).enumerate() {
        close(a, b, &format!("output {k}"));
    }
}

#[test]
fn cross_entropy_chunked_matches_whole() {
    let small = limited(64 * 1024); // 163 rows of 100 classes: chunks of 128 rows
    let (rows, classes) = (1_000, 100);
    let mut rng = Rng::new(71);
    let x = rng.vec(rows * classes, -5.0, 5.0);
    let y: Vec<i32> = (0..rows)
        .map(|i| {
            if i % 7 == 0 {
                -100
            } else {
                rng.below(classes as u32) as i32
            }
        })
        .collect();
    let probs = rng.vec(rows * classes, 0.0, 0.02);
    let w = rng.vec(classes, 0.5, 2.0);
    let run = |dev: &Device| {
        let logits = on(dev, &x, &[rows, classes]);
        let labels = Tensor::from_slice(dev, &y, &[rows]).unwrap();
        let ce = CrossEntropyLoss::new()
            .weight(on(dev, &w, &[classes]))
            .label_smoothing(0.1);
        let (loss, grad) = ce.forward_with_grad(&logits, &labels).unwrap();
        let none = ce
            .clone()
            .reduction(Reduction::None)
            .forward(&logits, &labels)
            .unwrap();
        let p = on(dev, &probs, &[rows, classes]);
        let (ploss, pgrad) = ce.forward_with_grad(&logits, &p).unwrap();
        let (nll, nll_grad) = NllLoss::new().forward_with_grad(&logits, &labels).unwrap();
        [
            read(&loss),
            read(&grad),
            read(&none),
            read(&ploss),
            read(&pgrad),
            read(&nll),
            read(&nll_grad),
        ]
    };
    let (chunked, whole) = (run(&small), run(device()));
    for (k, (a, b)) in chunked.iter().zip(&whole).enumerate() {
        close(a, b, &format!("output {k}"));
    }
}

#[test]
fn spatial_cross_entropy_chunked_matches_whole() {
    let small = limited(16 * 1024);
    let (n, c, d) = (300, 3, 5);
    let mut rng = Rng::new(72);
    let x = rng.vec(n * c * d, -5.0, 5.0);
    let y: Vec<u32> = (0..n * d).map(|_| rng.below(c as u32)).collect();
    let run = |dev: &Device| {
        let labels = Tensor::from_slice(dev, &y, &[n, d]).unwrap();
        let (loss, grad) = CrossEntropyLoss::new()
            .reduction(Reduction::Sum)
            .forward_with_grad(&on(dev, &x, &[n, c, d]), &labels)
            .unwrap();
        [read(&loss), read(&grad)]
    };
    let (chunked, whole) = (run(&small), run(device()));
    for (k, (a, b)) in chunked.iter().zip(&whole).enumerate() {
        close(a, b, &format!("output {k}"));
    }
}

#[test]
fn bad_label_in_a_later_chunk_is_reported_with_its_global_index() {
    let small = limited(64 * 1024);
    let (rows, classes) = (1_000, 100);
    let mut y = vec![1u32; rows];
    y[777] = 100;
    assert_label_reported(&small, &[rows, classes], &y, 777);
}

/// Cross-entropy of zero logits of `shape` (classes second) on `labels`, one of which (at
/// `index`, flat) is the number of classes: the read reports that label at that index.
fn assert_label_reported(dev: &Device, shape: &[usize], labels: &[u32], index: u64) {
    let logits = on(dev, &vec![0.0; shape.iter().product()], shape);
    let label_shape: Vec<usize> = [shape[0]]
        .into_iter()
        .chain(shape[2..].iter().copied())
        .collect();
    let labels = Tensor::from_slice(dev, labels, &label_shape).unwrap();
    let err = cross_entropy(&logits, &labels, Reduction::Mean)
        .unwrap()
        .to_vec::<f32>()
        .unwrap_err();
    let classes = shape[1] as u32;
    assert_eq!(
        err,
        Error::LabelOutOfRange {
            index,
            label: classes.into(),
            classes
        }
    );
}

#[test]
fn a_sample_larger_than_a_binding_is_split_along_its_positions() {
    // [3, 21, 7, 9]: a sample's 21 x 63 logits are 5,292 bytes, over a 4 KiB binding: each
    // sample is gathered 48 positions at a time (then 15), a copy per class.
    let small = limited(4096);
    let (n, c, d) = (3, 21, 63);
    let shape = [n, c, 7, 9];
    let mut rng = Rng::new(73);
    let x = rng.vec(n * c * d, -8.0, 8.0);
    let y: Vec<i32> = (0..n * d)
        .map(|i| match i % 11 {
            0 => -100,
            _ => rng.below(c as u32) as i32,
        })
        .collect();
    let probs = rng.vec(n * c * d, 0.0, 0.1);
    let w = rng.vec(c, 0.5, 2.0);
    let run = |dev: &Device| {
        let logits = on(dev, &x, &shape);
        let labels = Tensor::from_slice(dev, &y, &[n, 7, 9]).unwrap();
        let weighted = CrossEntropyLoss::new()
            .weight(on(dev, &w, &[c]))
            .label_smoothing(0.05);
        let (loss, grad) = weighted.forward_with_grad(&logits, &labels).unwrap();
        let (none, none_grad) = weighted
            .clone()
            .reduction(Reduction::None)
            .forward_with_grad(&logits, &labels)
            .unwrap();
        let p = on(dev, &probs, &shape);
        let (ploss, pgrad) = CrossEntropyLoss::new()
            .forward_with_grad(&logits, &p)
            .unwrap();
        let (nll, nll_grad) = NllLoss::new().forward_with_grad(&logits, &labels).unwrap();
        [loss, grad, none, none_grad, ploss, pgrad, nll, nll_grad].map(|t| read(&t))
    };
    let (split, whole) = (run(&small), run(device()));
    for (k, (a, b)) in split.iter().zip(&whole).enumerate() {
        close(a, b, &format!("output {k}"));
    }

    // Half logits: 40 positions of [2, 5, 8, 10]'s 80 to a window of 1 KiB.
    let small = limited(1024);
    let (n, c, d) = (2, 5, 80);
    let x = rng.vec(n * c * d, -8.0, 8.0);
    let y: Vec<u32> = (0..n * d).map(|_| rng.below(c as u32)).collect();
    let run = |dev: &Device| {
        let halves: Vec<half::f16> = x.iter().map(|&v| half::f16::from_f32(v)).collect();
        let logits = Tensor::from_slice(dev, &halves, &[n, c, 8, 10]).unwrap();
        let labels = Tensor::from_slice(dev, &y, &[n, 8, 10]).unwrap();
        let (loss, grad) = CrossEntropyLoss::new()
            .reduction(Reduction::Sum)
            .forward_with_grad(&logits, &labels)
            .unwrap();
        let grad: Vec<f32> = grad
            .to_vec::<half::f16>()
            .unwrap()
            .iter()
            .map(|g| g.to_f32())
            .collect();
        [read(&loss), grad]
    };
    let (split, whole) = (run(&small), run(device()));
    assert_eq!(split[1], whole[1], "half gradient");
    close(&split[0], &whole[0], "half loss");
}

#[test]
fn a_bad_label_in_a_split_sample_is_reported_with_its_global_index() {
    let small = limited(4096);
    let (n, c, d) = (2, 30, 100); // 34 positions of a sample to a window
    let mut y = vec![2u32; n * d];
    y[100 + 77] = 30;
    assert_label_reported(&small, &[n, c, d], &y, 177);
}

#[test]
fn a_segmentation_batch_of_one_larger_than_a_binding_gives_pytorchs_numbers() {
    // One 19-class 1024 x 2048 image (Cityscapes at full size) is 159 MB of f32 logits,
    // over the 128 MiB binding of the software adapters: refused before, now split.
    let dev = device();
    let (c, d) = (19, 1024 * 2048);
    assert!(((c * d * 4) as u64) > dev.max_binding_size());
    let mut rng = Rng::new(74);
    let x = rng.vec(c * d, -6.0, 6.0);
    let y: Vec<u32> = (0..d).map(|_| rng.below(c as u32)).collect();
    let logits = on(dev, &x, &[1, c, 1024, 2048]);
    let labels = Tensor::from_slice(dev, &y, &[1, 1024, 2048]).unwrap();
    let (loss, grad) = CrossEntropyLoss::new()
        .forward_with_grad(&logits, &labels)
        .unwrap();
    let grad = read(&grad);
    // f64 reference: the mean loss, and the gradient at every 997th position.
    let lse = |p: usize| {
        let m = (0..c).map(|k| x[k * d + p] as f64).fold(f64::MIN, f64::max);
        m + (0..c)
            .map(|k| (x[k * d + p] as f64 - m).exp())
            .sum::<f64>()
            .ln()
    };
    let want: f64 = (0..d)
        .map(|p| lse(p) - x[y[p] as usize * d + p] as f64)
        .sum::<f64>()
        / d as f64;
    assert!(
        rel_err(scalar(&loss), want) < 1e-5,
        "{} vs {want}",
        scalar(&loss)
    );
    for p in (0..d).step_by(997) {
        let l = lse(p);
        for k in 0..c {
            let onehot = f64::from(u8::from(y[p] as usize == k));
            let g = ((x[k * d + p] as f64 - l).exp() - onehot) / d as f64;
            let got = grad[k * d + p] as f64;
            assert!(
                (got - g).abs() <= 1e-5 * g.abs() + 1e-12,
                "grad[{k}, {p}]: {got} vs {g}"
            );
        }
    }
}
