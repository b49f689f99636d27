//! Weights broadcast to the input's shape as PyTorch broadcasts them (`weight` of BCE and BCE
//! with logits, `pos_weight` of the latter): each element finds its weight on the GPU, in
//! chunks and in half precision too, against an f64 reference; shapes that do not broadcast
//! are refused.

mod common;
use common::*;
use wgpu_loss::half::f16;
use wgpu_loss::*;

/// Element `e` of `input`'s shape reads this index of a tensor of shape `of`.
fn index(e: usize, of: &[usize], input: &[usize]) -> usize {
    let offset = input.len() - of.len();
    let (mut e, mut coords) = (e, vec![0; input.len()]);
    for k in (0..input.len()).rev() {
        coords[k] = e % input[k];
        e /= input[k];
    }
    of.iter().enumerate().fold(0, |acc, (j, &d)| {
        acc * d + if d == 1 { 0 } else { coords[j + offset] }
    })
}

/// `(loss, gradient)` of BCE with logits at one element, in f64:
/// `w (pw·y·softplus(-x) + (1 - y)·softplus(x))`, derivative `w ((pw·y + 1 - y) σ(x) - pw·y)`.
fn bce_logits(x: f64, y: f64, w: f64, pw: f64) -> (f64, f64) {
    let softplus = |z: f64| z.max(0.0) + (-z.abs()).exp().ln_1p();
    let loss = w * (pw * y * softplus(-x) + (1.0 - y) * softplus(x));
    let sigmoid = 1.0 / (1.0 + (-x).exp());
    (loss, w * ((pw * y + 1.0 - y) * sigmoid - pw * y))
}

struct Case {
    input: Vec<usize>,
    weight: Option<Vec<usize>>,
    pos_weight: Option<Vec<usize>>,
}

fn check(dev: &Device, case: &Case, half: bool, seed: u64) {
    let n: usize = case.input.iter().product();
    let mut rng = Rng::new(seed);
    let x = rng.vec(n, -4.0, 4.0);
    let y = rng.vec(n, 0.0, 1.0);
    let w = case
        .weight
        .as_ref()
        .map(|s| rng.vec(s.iter().product(), 0.1, 2.0));
    let pw = case
        .pos_weight
        .as_ref()
        .map(|s| rng.vec(s.iter().product(), 0.1, 3.0));
    // Half inputs are rounded before the reference sees them.
    let round = |v: &[f32]| -> Vec<f32> {
        match half {
            true => v.iter().map(|&a| f16::from_f32(a).to_f32()).collect(),
            false => v.to_vec(),
        }
    };
    let (xr, yr) = (round(&x), round(&y));
    let put = |v: &[f32], s: &[usize]| match half {
        true => {
            let h: Vec<f16> = v.iter().map(|&a| f16::from_f32(a)).collect();
            Tensor::from_slice(dev, &h, s).unwrap()
        }
        false => Tensor::from_slice(dev, v, s).unwrap(),
    };
    let (xt, yt) = (put(&x, &case.input), put(&y, &case.input));
    let mut loss = BceWithLogitsLoss::new().reduction(Reduction::Sum);
    if let (Some(w), Some(s)) = (&w, &case.weight) {
        loss = loss.weight(Tensor::from_slice(dev, w, s).unwrap());
    }
    if let (Some(pw), Some(s)) = (&pw, &case.pos_weight) {
        loss = loss.pos_weight(Tensor::from_slice(dev, pw, s).unwrap());
    }
    let (l, g) = loss.forward_with_grad(&xt, &yt).unwrap();
    let got_loss = l.to_vec::<f32>().unwrap()[0] as f64;
    let got_grad: Vec<f32> = match half {
        true => g
            .to_vec::<f16>()
            .unwrap()
            .iter()
            .map(|h| h.to_f32())
            .collect(),
        false => g.to_vec::<f32>().unwrap(),
    };
    let (mut want_loss, mut scale) = (0.0, 0.0f64);
    for e in 0..n {
        let we = match (&w, &case.weight) {
            (Some(w), Some(s)) => w[index(e, s, &case.input)] as f64,
            _ => 1.0,
        };
        let pe = match (&pw, &case.pos_weight) {
            (Some(p), Some(s)) => p[index(e, s, &case.input)] as f64,
            _ => 1.0,
        };
        let (l, gr) = bce_logits(xr[e] as f64, yr[e] as f64, we, pe);
        want_loss += l;
        scale = scale.max(gr.abs());
        let tol = if half { 2e-3 } else { 1e-5 } * gr.abs().max(1e-3);
        assert!(
            (got_grad[e] as f64 - gr).abs() <= tol + 1e-6,
            "{:?} w {:?} pw {:?}: gradient [{e}] {} vs {gr}",
            case.input,
            case.weight,
            case.pos_weight,
            got_grad[e]
        );
    }
    let rel = (got_loss - want_loss).abs() / want_loss.abs();
    assert!(
        rel < 1e-5,
        "{:?}: loss {got_loss} vs {want_loss} ({rel:e})",
        case.input
    );
}

fn cases() -> Vec<Case> {
    let c = |input: &[usize], w: Option<&[usize]>, pw: Option<&[usize]>| Case {
        input: input.to_vec(),
        weight: w.map(<[usize]>::to_vec),
        pos_weight: pw.map(<[usize]>::to_vec),
    };
    vec![
        c(&[7, 5], Some(&[5]), None),
        c(&[7, 5], Some(&[7, 1]), None),
        c(&[1001], Some(&[1]), Some(&[1])),
        c(&[3, 4, 5, 6], None, Some(&[4, 1, 1])),
        c(&[3, 4, 5, 6], Some(&[3, 1, 5, 1]), Some(&[1, 6])),
        c(&[2, 3, 17, 9], Some(&[1, 3, 1, 9]), Some(&[3, 17, 1])),
        c(&[50_001, 3], Some(&[3]), Some(&[50_001, 1])),
    ]
}

#[test]
fn broadcast_weights_match_pytorch_broadcasting() {
    for (k, case) in cases().iter().enumerate() {
        check(device(), case, false, 700 + k as u64);
        check(device(), case, true, 800 + k as u64);
    }
}

#[test]
fn broadcast_weights_follow_their_elements_across_chunks() {
    // 4 KiB bindings: inputs split into chunks; the weights are bound whole.
    let small = Device::with_options(DeviceOptions::new().max_binding_size(4096)).unwrap();
    let c = |input: &[usize], w: &[usize], pw: &[usize]| Case {
        input: input.to_vec(),
        weight: Some(w.to_vec()),
        pos_weight: Some(pw.to_vec()),
    };
    let chunked = [
        c(&[3001, 3], &[3], &[1, 3]),
        c(&[4, 30, 50], &[30, 1], &[4, 1, 50]),
        c(&[5003], &[1], &[1]),
    ];
    for (k, case) in chunked.iter().enumerate() {
        check(&small, case, false, 900 + k as u64);
        check(&small, case, true, 950 + k as u64);
    }
    // A broadcast weight is bound whole: one larger than a binding is refused.
    let x = Tensor::from_slice(&small, &[0.5f32; 3300], &[1100, 3]).unwrap();
    let pw = Tensor::from_slice(&small, &[1.0f32; 1100], &[1100, 1]).unwrap();
    let err = BceWithLogitsLoss::new().pos_weight(pw).forward(&x, &x);
    assert!(
        matches!(
            err,
            Err(Error::TooLarge {
                what: "pos_weight",
                ..
            })
        ),
        "{err:?}"
    );
}

#[test]
fn bce_on_probabilities_broadcasts_its_weight() {
    let (rows, cols) = (9, 4);
    let p: Vec<f32> = (0..rows * cols)
        .map(|i| 0.05 + 0.9 * (i % 7) as f32 / 7.0)
        .collect();
    let y: Vec<f32> = (0..rows * cols)
        .map(|i| ((i * 3) % 5) as f32 / 4.0)
        .collect();
    let w = [0.5f32, 1.0, 2.0, 0.0];
    let loss = BceLoss::new()
        .weight(upload(&w, &[cols]))
        .reduction(Reduction::Mean);
    let (l, g) = loss
        .forward_with_grad(&upload(&p, &[rows, cols]), &upload(&y, &[rows, cols]))
        .unwrap();
    let n = (rows * cols) as f64;
    let (mut want, g) = (0.0, g.to_vec::<f32>().unwrap());
    for e in 0..rows * cols {
        let (pe, ye, we) = (p[e] as f64, y[e] as f64, w[e % cols] as f64);
        want += -we * (ye * pe.ln() + (1.0 - ye) * (1.0 - pe).ln()) / n;
        let ge = we * (pe - ye) / (pe * (1.0 - pe)) / n;
        assert!(
            (g[e] as f64 - ge).abs() <= 1e-5 * ge.abs() + 1e-7,
            "[{e}] {} vs {ge}",
            g[e]
        );
    }
    let got = scalar(&l) as f64;
    assert!((got - want).abs() <= 1e-5 * want.abs(), "{got} vs {want}");
}

#[test]
fn weights_that_do_not_broadcast_or_are_half_when_broadcast_are_refused() {
    let x = upload(&[0.5; 6], &[2, 3]);
    for shape in [&[2][..], &[3, 2], &[2, 2, 3]] {
        let n = shape.iter().product();
        let w = upload(&vec![1.0; n], shape);
        let err = BceLoss::new()
            .weight(w.clone())
            .forward(&x, &x)
            .unwrap_err();
        assert!(matches!(err, Error::Shape(_)), "{err}");
        assert!(err.to_string().contains("does not broadcast"), "{err}");
        let err = BceWithLogitsLoss::new()
            .pos_weight(w)
            .forward(&x, &x)
            .unwrap_err();
        assert!(err.to_string().contains("pos_weight"), "{err}");
    }
    // Leading dimensions of 1 change no element's place: any precision, as the input's shape.
    let xh = Tensor::from_slice(device(), &[f16::from_f32(0.5); 6], &[2, 3]).unwrap();
    let wh = Tensor::from_slice(device(), &[f16::ONE; 6], &[1, 2, 3]).unwrap();
    assert!(BceLoss::new().weight(wh).forward(&xh, &xh).is_ok());
    let half = Tensor::from_slice(device(), &[f16::ONE; 3], &[3]).unwrap();
    let err = BceLoss::new().weight(half).forward(&x, &x).unwrap_err();
    assert!(matches!(err, Error::DType { .. }), "{err}");
}
