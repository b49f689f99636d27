//! f16 and bf16 inputs: widened to f32 in the shaders, summed in f32, gradients rounded once
//! to the input's precision. References are f64 on the widened values.

mod common;
use common::*;
use wgpu_loss::half::{bf16, f16};
use wgpu_loss::*;

/// A half type under test.
trait Half: Element + Copy + std::fmt::Debug {
    const NAME: &'static str;
    /// Relative size of one unit in the last place.
    const ULP: f64;
    /// Spacing of the subnormals: below the normal range precision is absolute.
    const TINY: f64;
    fn from(v: f32) -> Self;
    fn wide(self) -> f64;
}

impl Half for f16 {
    const NAME: &'static str = "f16";
    const ULP: f64 = 1.0 / 1024.0;
    const TINY: f64 = 5.96e-8;
    fn from(v: f32) -> Self {
        f16::from_f32(v)
    }
    fn wide(self) -> f64 {
        self.to_f64()
    }
}

impl Half for bf16 {
    const NAME: &'static str = "bf16";
    const ULP: f64 = 1.0 / 128.0;
    const TINY: f64 = 9.2e-41;
    fn from(v: f32) -> Self {
        bf16::from_f32(v)
    }
    fn wide(self) -> f64 {
        self.to_f64()
    }
}

fn halves<H: Half>(v: &[f32]) -> Vec<H> {
    v.iter().map(|&x| H::from(x)).collect()
}

fn wide<H: Half>(v: &[H]) -> Vec<f64> {
    v.iter().map(|h| h.wide()).collect()
}

fn on<H: Half>(v: &[H], shape: &[usize]) -> Tensor {
    Tensor::from_slice(device(), v, shape).unwrap()
}

/// Gradient `got` (in H) against the f64 `want`: within one rounding of H.
fn grads_close<H: Half>(got: &[H], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len());
    let scale = want.iter().fold(0.0f64, |m, w| m.max(w.abs()));
    for (i, (g, &w)) in got.iter().zip(want).enumerate() {
        let g = g.wide();
        let tol = H::ULP * w.abs() + H::TINY + 1e-6 * scale;
        assert!(
            (g - w).abs() <= tol,
            "{what} {}: grad[{i}] {g} vs {w}",
            H::NAME
        );
    }
}

fn elementwise_case<H: Half>(n: usize, seed: u64) {
    let mut rng = Rng::new(seed);
    let x: Vec<H> = halves(&rng.vec(n, -4.0, 4.0));
    let y: Vec<H> = halves(&rng.vec(n, -4.0, 4.0));
    let p: Vec<H> = halves(&rng.vec(n, 0.01, 0.99));
    let t: Vec<H> = halves(&rng.vec(n, 0.0, 1.0));
    let (xd, yd, pd, td) = (wide(&x), wide(&y), wide(&p), wide(&t));
    let (tx, ty, tp, tt) = (on(&x, &[n]), on(&y, &[n]), on(&p, &[n]), on(&t, &[n]));
    let nf = n as f64;
    let what = format!("n={n}");

    let (l, g) = MseLoss::new().forward_with_grad(&tx, &ty).unwrap();
    let want: f64 = xd
        .iter()
        .zip(&yd)
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f64>()
        / nf;
    assert!(rel_err(scalar(&l), want) < 1e-5, "mse {} {what}", H::NAME);
    assert_eq!(g.dtype(), H::DTYPE);
    let wg: Vec<f64> = xd
        .iter()
        .zip(&yd)
        .map(|(a, b)| 2.0 * (a - b) / nf)
        .collect();
    grads_close(&g.to_vec::<H>().unwrap(), &wg, "mse");

    let (l, g) = HuberLoss::new()
        .reduction(Reduction::Sum)
        .forward_with_grad(&tx, &ty)
        .unwrap();
    let hub = |d: f64| {
        if d.abs() < 1.0 {
            0.5 * d * d
        } else {
            d.abs() - 0.5
        }
    };
    let want: f64 = xd.iter().zip(&yd).map(|(a, b)| hub(a - b)).sum();
    assert!(rel_err(scalar(&l), want) < 1e-5, "huber {} {what}", H::NAME);
    let wg: Vec<f64> = xd
        .iter()
        .zip(&yd)
        .map(|(a, b)| (a - b).clamp(-1.0, 1.0))
        .collect();
    grads_close(&g.to_vec::<H>().unwrap(), &wg, "huber");

    let l = l1_loss(&tx, &ty, Reduction::Mean).unwrap();
    let want: f64 = xd.iter().zip(&yd).map(|(a, b)| (a - b).abs()).sum::<f64>() / nf;
    assert!(rel_err(scalar(&l), want) < 1e-5, "l1 {} {what}", H::NAME);

    // BCE on half probabilities with half targets, and with f32 targets.
    let (l, g) = BceLoss::new().forward_with_grad(&tp, &tt).unwrap();
    let bce = |p: f64, t: f64| -(t * p.ln() + (1.0 - t) * (1.0 - p).ln());
    let want: f64 = pd.iter().zip(&td).map(|(&p, &t)| bce(p, t)).sum::<f64>() / nf;
    assert!(rel_err(scalar(&l), want) < 1e-5, "bce {} {what}", H::NAME);
    let wg: Vec<f64> = pd
        .iter()
        .zip(&td)
        .map(|(&p, &t)| (p - t) / (p * (1.0 - p)) / nf)
        .collect();
    grads_close(&g.to_vec::<H>().unwrap(), &wg, "bce");
    let t32: Vec<f32> = td.iter().map(|&v| v as f32).collect();
    let l = binary_cross_entropy(&tp, &upload(&t32, &[n]), Reduction::Mean).unwrap();
    assert!(
        rel_err(scalar(&l), want) < 1e-5,
        "bce f32 targets {} {what}",
        H::NAME
    );

    let (l, g) = BceWithLogitsLoss::new()
        .forward_with_grad(&tx, &tt)
        .unwrap();
    let sp = |z: f64| z.max(0.0) + (-z.abs()).exp().ln_1p();
    let want: f64 = xd
        .iter()
        .zip(&td)
        .map(|(&a, &t)| sp(a) - a * t)
        .sum::<f64>()
        / nf;
    assert!(
        rel_err(scalar(&l), want) < 1e-5,
        "bce_logits {} {what}",
        H::NAME
    );
    let wg: Vec<f64> = xd
        .iter()
        .zip(&td)
        .map(|(&a, &t)| (1.0 / (1.0 + (-a).exp()) - t) / nf)
        .collect();
    grads_close(&g.to_vec::<H>().unwrap(), &wg, "bce_logits");

    let logq: Vec<H> = halves(&pd.iter().map(|&v| v.ln() as f32).collect::<Vec<_>>());
    let l = kl_div(&on(&logq, &[n]), &tt, KlReduction::Sum).unwrap();
    let want: f64 = wide(&logq)
        .iter()
        .zip(&td)
        .map(|(&q, &t)| if t == 0.0 { 0.0 } else { t * (t.ln() - q) })
        .sum();
    assert!(
        (scalar(&l) as f64 - want).abs() < 1e-5 * want.abs().max(1.0),
        "kl {} {what}",
        H::NAME
    );
}

#[test]
fn elementwise_losses_on_f16_and_bf16() {
    for (k, n) in [1usize, 3, 257, 1_000_003].into_iter().enumerate() {
        elementwise_case::<f16>(n, 100 + k as u64);
        elementwise_case::<bf16>(n, 200 + k as u64);
    }
}

fn ce_case<H: Half>(rows: usize, classes: usize, seed: u64) {
    let mut rng = Rng::new(seed);
    let x: Vec<H> = halves(&rng.vec(rows * classes, -8.0, 8.0));
    let xd = wide(&x);
    let y: Vec<u32> = (0..rows).map(|_| rng.below(classes as u32)).collect();
    let (l, g) = CrossEntropyLoss::new()
        .forward_with_grad(
            &on(&x, &[rows, classes]),
            &Tensor::from_slice(device(), &y, &[rows]).unwrap(),
        )
        .unwrap();
    let mut want = 0.0;
    let mut wg = Vec::with_capacity(xd.len());
    for (row, &label) in xd.chunks(classes).zip(&y) {
        let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let s: f64 = row.iter().map(|v| (v - m).exp()).sum();
        want += m + s.ln() - row[label as usize];
        wg.extend(
            row.iter().enumerate().map(|(c, v)| {
                ((v - m).exp() / s - (c == label as usize) as u32 as f64) / rows as f64
            }),
        );
    }
    want /= rows as f64;
    assert!(
        rel_err(scalar(&l), want) < 1e-5,
        "ce {} [{rows} x {classes}]: {} vs {want}",
        H::NAME,
        scalar(&l)
    );
    assert_eq!(g.dtype(), H::DTYPE);
    grads_close(
        &g.to_vec::<H>().unwrap(),
        &wg,
        &format!("ce [{rows} x {classes}]"),
    );
    // Probability targets in the same half type.
    let t: Vec<H> = halves(&vec![1.0 / classes as f32; rows * classes]);
    let l = cross_entropy(
        &on(&x, &[rows, classes]),
        &on(&t, &[rows, classes]),
        Reduction::Sum,
    )
    .unwrap();
    let td = wide(&t);
    let mut want = 0.0;
    for (row, trow) in xd.chunks(classes).zip(td.chunks(classes)) {
        let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let lse = m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
        want += row
            .iter()
            .zip(trow)
            .map(|(v, t)| t * (lse - v))
            .sum::<f64>();
    }
    assert!(
        rel_err(scalar(&l), want) < 1e-5,
        "ce probs {} [{rows} x {classes}]",
        H::NAME
    );
}

#[test]
fn cross_entropy_on_half_vocabularies_and_odd_rows() {
    for (rows, classes) in [(3usize, 32_000usize), (2, 50_257), (301, 3), (7, 101)] {
        ce_case::<f16>(rows, classes, rows as u64);
        ce_case::<bf16>(rows, classes, classes as u64);
    }
}

#[test]
fn values_at_the_edges_of_each_format() {
    // f16: its largest finite value, subnormals; bf16: a huge range.
    let x = [65504.0f32, -65504.0, 6.0e-8, 1.0e-5, 0.0];
    let l = mse_loss(
        &on(&halves::<f16>(&x), &[5]),
        &on(&halves::<f16>(&[0.0; 5]), &[5]),
        Reduction::None,
    )
    .unwrap()
    .to_vec::<f32>()
    .unwrap();
    let want: Vec<f64> = wide(&halves::<f16>(&x)).iter().map(|v| v * v).collect();
    assert_all_close(&l, &want, 1e-6, 1e-30);
    let logits = halves::<bf16>(&[3.0e38, -3.0e38, 1.0e30, 0.0]);
    let labels = Tensor::from_slice(device(), &[0u32, 1], &[2]).unwrap();
    let l = cross_entropy(&on(&logits, &[2, 2]), &labels, Reduction::None)
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    assert_eq!(l[0], 0.0);
    let big = bf16::from_f32(1.0e30).to_f64();
    assert!((l[1] as f64 - big).abs() < 1e-6 * big, "{l:?}");
    // Infinity and NaN.
    let inf = on(&halves::<f16>(&[f32::INFINITY, 0.0]), &[2]);
    let zero = on(&halves::<f16>(&[0.0, 0.0]), &[2]);
    assert_eq!(
        scalar(&l1_loss(&inf, &zero, Reduction::Sum).unwrap()),
        f32::INFINITY
    );
    let nan = on(&halves::<bf16>(&[f32::NAN, 0.0]), &[2]);
    let zb = on(&halves::<bf16>(&[0.0, 0.0]), &[2]);
    assert!(scalar(&mse_loss(&nan, &zb, Reduction::Mean).unwrap()).is_nan());
    // A gradient beyond f16's range rounds to infinity, as a cast does.
    let big = on(&halves::<f16>(&[60000.0, -60000.0]), &[2]);
    let (_, g) = MseLoss::new()
        .reduction(Reduction::Sum)
        .forward_with_grad(&big, &zero)
        .unwrap();
    let g = g.to_vec::<f16>().unwrap();
    assert_eq!((g[0], g[1]), (f16::INFINITY, f16::NEG_INFINITY));
}

#[test]
fn half_tensors_round_trip_and_mixed_precisions_are_refused() {
    for n in [1usize, 3, 257] {
        let v: Vec<bf16> = halves(&(0..n).map(|i| i as f32 * 0.5 - 3.0).collect::<Vec<_>>());
        assert_eq!(on(&v, &[n]).to_vec::<bf16>().unwrap(), v);
        let v: Vec<f16> = halves(&(0..n).map(|i| i as f32 * 0.25).collect::<Vec<_>>());
        assert_eq!(on(&v, &[n]).to_vec::<f16>().unwrap(), v);
    }
    let a = on(&halves::<f16>(&[1.0; 4]), &[4]);
    let b = on(&halves::<bf16>(&[1.0; 4]), &[4]);
    let err = mse_loss(&a, &b, Reduction::Mean).unwrap_err();
    assert!(
        matches!(
            err,
            Error::DType {
                what: "target",
                got: DType::BF16,
                ..
            }
        ),
        "{err}"
    );
    let labels = on(&halves::<f16>(&[1.0; 2]), &[2]);
    let logits = on(&halves::<f16>(&[1.0; 4]), &[2, 2]);
    assert!(matches!(
        nll_loss(&logits, &labels, Reduction::Mean),
        Err(Error::DType { .. })
    ));
    assert!(matches!(a.to_vec::<f32>(), Err(Error::DType { .. })));
}
