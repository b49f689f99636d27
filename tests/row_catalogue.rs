//! The row-wise losses against f64 references written here, the references' gradients
//! against f64 central differences, on 1 to 1,000,003 rows and rows of 1 to 1,000 values,
//! every option, half inputs, chunks forced by a tiny binding limit, kinks, NaN, and bad input
//! as `Error`s.

mod common;

use common::{Rng, device};
use wgpu_loss::half::{bf16, f16};
use wgpu_loss::{
    CosineEmbeddingLoss, CosineSimilarityLoss, DType, Device, DeviceOptions, Error,
    MultiMarginLoss, MultilabelMarginLoss, MultilabelSoftMarginLoss, Reduction, Tensor,
    TripletMarginLoss,
};

/// Per-row losses and the gradients of their sum, in f64.
struct Want {
    rows: Vec<f64>,
    grads: Vec<Vec<f64>>,
    /// Rows whose gradient is discontinuous within f32 rounding (a hinge at its kink, a
    /// near-tie of `swap`'s two distances), left out of the comparison of gradients.
    ties: Vec<usize>,
}

fn cosine_embedding(x1: &[f64], x2: &[f64], y: &[f64], d: usize, margin: f64) -> Want {
    let n = y.len();
    let (mut rows, mut g1, mut g2) = (vec![0.0; n], vec![0.0; n * d], vec![0.0; n * d]);
    for r in 0..n {
        let (a, b) = (&x1[r * d..(r + 1) * d], &x2[r * d..(r + 1) * d]);
        let dot: f64 = a.iter().zip(b).map(|(p, q)| p * q).sum();
        let m1 = a.iter().map(|v| v * v).sum::<f64>() + 1e-12;
        let m2 = b.iter().map(|v| v * v).sum::<f64>() + 1e-12;
        let den = (m1 * m2).sqrt();
        let cos = dot / den;
        let dcos = if y[r] == 1.0 {
            rows[r] = 1.0 - cos;
            -1.0
        } else if y[r] == -1.0 {
            rows[r] = (cos - margin).max(0.0);
            if cos - margin >= 0.0 { 1.0 } else { 0.0 }
        } else {
            0.0
        };
        for k in 0..d {
            g1[r * d + k] = dcos * (b[k] / den - cos * a[k] / m1);
            g2[r * d + k] = dcos * (a[k] / den - cos * b[k] / m2);
        }
    }
    Want {
        rows,
        grads: vec![g1, g2],
        ties: vec![],
    }
}

fn cosine_similarity(x1: &[f64], x2: &[f64], d: usize, eps: f64) -> Want {
    let n = x1.len() / d;
    let (mut rows, mut g1, mut g2) = (vec![0.0; n], vec![0.0; n * d], vec![0.0; n * d]);
    for r in 0..n {
        let (a, b) = (&x1[r * d..(r + 1) * d], &x2[r * d..(r + 1) * d]);
        let dot: f64 = a.iter().zip(b).map(|(p, q)| p * q).sum();
        let m1: f64 = a.iter().map(|v| v * v).sum();
        let m2: f64 = b.iter().map(|v| v * v).sum();
        let norms = m1.sqrt() * m2.sqrt();
        let den = norms.max(eps);
        rows[r] = dot / den;
        for k in 0..d {
            let (mut ga, mut gb) = (b[k] / den, a[k] / den);
            if norms > eps {
                ga -= rows[r] * a[k] / m1;
                gb -= rows[r] * b[k] / m2;
            }
            g1[r * d + k] = ga;
            g2[r * d + k] = gb;
        }
    }
    Want {
        rows,
        grads: vec![g1, g2],
        ties: vec![],
    }
}

/// sign(x), 0 at 0 (as WGSL's and PyTorch's; Rust's `signum` gives 1 at +0).
fn sign(x: f64) -> f64 {
    if x == 0.0 { 0.0 } else { x.signum() }
}

#[derive(Debug, Clone, Copy)]
struct Triplet {
    margin: f64,
    p: f64,
    eps: f64,
    swap: bool,
}

fn triplet(a: &[f64], p: &[f64], n: &[f64], d: usize, o: Triplet) -> Want {
    let rows_n = a.len() / d;
    let dist = |u: &[f64], v: &[f64]| -> (f64, Vec<f64>) {
        let diff: Vec<f64> = u.iter().zip(v).map(|(x, y)| x - y + o.eps).collect();
        let norm = diff
            .iter()
            .map(|x| x.abs().powf(o.p))
            .sum::<f64>()
            .powf(1.0 / o.p);
        let g = diff
            .iter()
            .map(|x| match norm == 0.0 {
                true => 0.0,
                false => sign(*x) * (x.abs() / norm).powf(o.p - 1.0),
            })
            .collect();
        (norm, g)
    };
    let mut rows = vec![0.0; rows_n];
    let mut grads = vec![vec![0.0; a.len()]; 3];
    let mut ties = vec![];
    for r in 0..rows_n {
        let s = r * d..(r + 1) * d;
        let (d_ap, g_ap) = dist(&a[s.clone()], &p[s.clone()]);
        let (d_an, g_an) = dist(&a[s.clone()], &n[s.clone()]);
        let (d_pn, g_pn) = dist(&p[s.clone()], &n[s.clone()]);
        let (w_an, w_pn, d_neg) = match o.swap {
            true if d_pn < d_an => (0.0, 1.0, d_pn),
            true if d_pn == d_an => (0.5, 0.5, d_an),
            _ => (1.0, 0.0, d_an),
        };
        if o.swap && (d_pn - d_an).abs() <= 1e-5 * d_an.max(d_pn) {
            ties.push(r);
        }
        let t = o.margin + d_ap - d_neg;
        if t.abs() <= 1e-5 * d_ap.max(d_neg) {
            ties.push(r);
        }
        rows[r] = t.max(0.0);
        let g = if t >= 0.0 { 1.0 } else { 0.0 };
        for k in 0..d {
            let (ap, an, pn) = (g_ap[k], w_an * g_an[k], w_pn * g_pn[k]);
            grads[0][r * d + k] = g * (ap - an);
            grads[1][r * d + k] = g * (-ap - pn);
            grads[2][r * d + k] = g * (an + pn);
        }
    }
    Want { rows, grads, ties }
}

fn multi_margin(x: &[f64], y: &[u32], c: usize, p: i32, margin: f64, w: Option<&[f64]>) -> Want {
    let n = y.len();
    let (mut rows, mut g) = (vec![0.0; n], vec![0.0; n * c]);
    for r in 0..n {
        let t = y[r] as usize;
        let wy = w.map_or(1.0, |w| w[t]) / c as f64;
        let xy = x[r * c + t];
        let mut total = 0.0;
        for k in 0..c {
            let z = margin - xy + x[r * c + k];
            if k != t && z > 0.0 {
                rows[r] += z.powi(p) * wy;
                let gk = wy * if p == 1 { 1.0 } else { 2.0 * z };
                g[r * c + k] = gk;
                total += gk;
            }
        }
        g[r * c + t] = -total;
    }
    Want {
        rows,
        grads: vec![g],
        ties: vec![],
    }
}

fn multilabel_soft_margin(x: &[f64], y: &[f64], c: usize, w: Option<&[f64]>) -> Want {
    let n = x.len() / c;
    let softplus = |v: f64| v.max(0.0) + (-v.abs()).exp().ln_1p();
    let (mut rows, mut g) = (vec![0.0; n], vec![0.0; n * c]);
    for r in 0..n {
        for k in 0..c {
            let (xv, yv, wk) = (x[r * c + k], y[r * c + k], w.map_or(1.0, |w| w[k]));
            rows[r] += wk * (yv * softplus(-xv) + (1.0 - yv) * softplus(xv)) / c as f64;
            g[r * c + k] = wk * (1.0 / (1.0 + (-xv).exp()) - yv) / c as f64;
        }
    }
    Want {
        rows,
        grads: vec![g],
        ties: vec![],
    }
}

/// PyTorch's multilabel margin loss: targets `y` are class indices ended by the first -1.
fn multilabel_margin(x: &[f64], y: &[i32], c: usize) -> Want {
    let n = x.len() / c;
    let (mut rows, mut g, mut ties) = (vec![0.0; n], vec![0.0; n * c], vec![]);
    for r in 0..n {
        let listed: Vec<usize> = y[r * c..(r + 1) * c]
            .iter()
            .take_while(|&&t| t >= 0)
            .map(|&t| t as usize)
            .collect();
        let mut is_target = vec![false; c];
        for &t in &listed {
            is_target[t] = true;
        }
        let mut tie = false;
        for &j in &listed {
            for i in (0..c).filter(|&i| !is_target[i]) {
                let z = 1.0 - x[r * c + j] + x[r * c + i];
                tie |= z.abs() < 1e-5;
                if z > 0.0 {
                    rows[r] += z / c as f64;
                    g[r * c + i] += 1.0 / c as f64;
                    g[r * c + j] -= 1.0 / c as f64;
                }
            }
        }
        if tie {
            ties.push(r);
        }
    }
    Want {
        rows,
        grads: vec![g],
        ties,
    }
}

/// Targets for multilabel margin: up to `c` classes per row (some listed twice), ended by
/// -1 where fewer, with other classes after the -1 (which PyTorch ignores).
fn target_lists(rng: &mut Rng, n: usize, c: usize) -> Vec<i32> {
    let mut y = Vec::with_capacity(n * c);
    for _ in 0..n {
        let listed = rng.below(c as u32 + 1) as usize;
        for k in 0..c {
            y.push(match k.cmp(&listed) {
                std::cmp::Ordering::Less => rng.below(c as u32) as i32,
                std::cmp::Ordering::Equal => -1,
                std::cmp::Ordering::Greater => rng.below(c as u32 + 1) as i32 - 1,
            });
        }
    }
    y
}

/// `data` on `dev` as `dtype`, and the values it holds there.
fn upload(dev: &Device, data: &[f32], shape: &[usize], dtype: DType) -> (Tensor, Vec<f64>) {
    match dtype {
        DType::F16 => {
            let h: Vec<f16> = data.iter().map(|&v| f16::from_f32(v)).collect();
            let back = h.iter().map(|v| v.to_f64()).collect();
            (Tensor::from_slice(dev, &h, shape).unwrap(), back)
        }
        DType::BF16 => {
            let h: Vec<bf16> = data.iter().map(|&v| bf16::from_f32(v)).collect();
            let back = h.iter().map(|v| v.to_f64()).collect();
            (Tensor::from_slice(dev, &h, shape).unwrap(), back)
        }
        _ => (
            Tensor::from_slice(dev, data, shape).unwrap(),
            data.iter().map(|&v| v as f64).collect(),
        ),
    }
}

fn read(t: &Tensor) -> Vec<f64> {
    match t.dtype() {
        DType::F16 => t
            .to_vec::<f16>()
            .unwrap()
            .iter()
            .map(|v| v.to_f64())
            .collect(),
        DType::BF16 => t
            .to_vec::<bf16>()
            .unwrap()
            .iter()
            .map(|v| v.to_f64())
            .collect(),
        _ => t
            .to_vec::<f32>()
            .unwrap()
            .iter()
            .map(|&v| v as f64)
            .collect(),
    }
}

/// Largest error relative to the largest magnitude of `want` (at least 1e-3).
fn err(got: &[f64], want: &[f64]) -> f64 {
    assert_eq!(got.len(), want.len());
    let scale = want.iter().fold(1e-3f64, |m, w| m.max(w.abs()));
    got.iter()
        .zip(want)
        .map(|(g, w)| (g - w).abs() / scale)
        .fold(0.0, f64::max)
}

/// The reduced reference and the gradients' scale.
fn reduced(want: &Want, r: Reduction) -> (Vec<f64>, f64) {
    let sum: f64 = want.rows.iter().sum();
    let n = want.rows.len() as f64;
    match r {
        Reduction::None => (want.rows.clone(), 1.0),
        Reduction::Sum => (vec![sum], 1.0),
        Reduction::Mean => (vec![sum / n], 1.0 / n),
    }
}

/// Checks a call's loss and gradients against `want`; returns the largest error.
fn check(what: &str, got: (Tensor, Vec<Tensor>), want: &Want, r: Reduction, tol: f64) -> f64 {
    let (loss, grads) = got;
    let (w, scale) = reduced(want, r);
    let mut errors = vec![err(&read(&loss), &w)];
    assert_eq!(grads.len(), want.grads.len());
    let d = want.grads[0].len() / want.rows.len();
    for (g, wg) in grads.iter().zip(&want.grads) {
        let mut wg: Vec<f64> = wg.iter().map(|v| v * scale).collect();
        let mut got = read(g);
        for &r in &want.ties {
            got[r * d..(r + 1) * d].fill(0.0);
            wg[r * d..(r + 1) * d].fill(0.0);
        }
        let e = err(&got, &wg);
        if e >= tol {
            let i = (0..got.len())
                .max_by(|&i, &j| (got[i] - wg[i]).abs().total_cmp(&(got[j] - wg[j]).abs()))
                .unwrap();
            eprintln!(
                "{what}: worst at {i} (row {}): got {} want {}",
                i / d,
                got[i],
                wg[i]
            );
        }
        errors.push(e);
    }
    let worst = errors.iter().cloned().fold(0.0, f64::max);
    assert!(
        worst < tol,
        "{what} {r:?}: errors (loss, gradients) {errors:?}; loss {:?} want {w:?}",
        read(&loss)
    );
    worst
}

const REDUCTIONS: [Reduction; 3] = [Reduction::None, Reduction::Mean, Reduction::Sum];

/// Shapes `[N, D]` from one row of one value to a million values.
const SHAPES: [(usize, usize); 5] = [(1, 1), (3, 5), (257, 64), (40, 1000), (16_393, 61)];

fn signs(rng: &mut Rng, n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| [1.0, -1.0, 1.0, 0.0][(i + rng.below(2) as usize) % 4])
        .collect()
}

#[test]
fn cosine_losses_match_f64() {
    let dev = device();
    let mut rng = Rng::new(1);
    let mut worst = [[0.0f64; 2]; 2];
    for (n, d) in SHAPES {
        for (half, dtype) in [DType::F32, DType::BF16].into_iter().enumerate() {
            let tol = if dtype == DType::F32 { 1e-5 } else { 1e-2 };
            let (x1, a) = upload(dev, &rng.vec(n * d, -1.0, 1.0), &[n, d], dtype);
            let (x2, b) = upload(dev, &rng.vec(n * d, -1.0, 1.0), &[n, d], dtype);
            let yv = signs(&mut rng, n);
            let y = Tensor::from_slice(dev, &yv, &[n]).unwrap();
            let yv: Vec<f64> = yv.iter().map(|&v| v as f64).collect();
            for r in REDUCTIONS {
                let want = cosine_embedding(&a, &b, &yv, d, 0.1);
                let l = CosineEmbeddingLoss::new().margin(0.1).reduction(r);
                let (loss, (g1, g2)) = l.forward_with_grad(&x1, &x2, &y).unwrap();
                worst[half][0] = worst[half][0].max(check(
                    "cosine_embedding",
                    (loss, vec![g1, g2]),
                    &want,
                    r,
                    tol,
                ));
                let want = cosine_similarity(&a, &b, d, 1e-8);
                let l = CosineSimilarityLoss::new().reduction(r);
                let (loss, (g1, g2)) = l.forward_with_grad(&x1, &x2).unwrap();
                worst[half][1] = worst[half][1].max(check(
                    "cosine_similarity",
                    (loss, vec![g1, g2]),
                    &want,
                    r,
                    tol,
                ));
            }
        }
    }
    eprintln!(
        "largest errors, f32: cosine embedding {:.1e}, cosine similarity {:.1e}; bf16: {:.1e}, {:.1e}",
        worst[0][0], worst[0][1], worst[1][0], worst[1][1]
    );
}

#[test]
fn triplet_margin_matches_f64_with_every_option() {
    let dev = device();
    let mut rng = Rng::new(2);
    let mut worst = 0.0f64;
    let options = [
        Triplet {
            margin: 1.0,
            p: 2.0,
            eps: 1e-6,
            swap: false,
        },
        Triplet {
            margin: 0.5,
            p: 1.0,
            eps: 0.0,
            swap: true,
        },
        Triplet {
            margin: 2.0,
            p: 3.0,
            eps: 1e-3,
            swap: true,
        },
    ];
    for (n, d) in SHAPES {
        let (a, av) = upload(dev, &rng.vec(n * d, -1.0, 1.0), &[n, d], DType::F32);
        let (p, pv) = upload(dev, &rng.vec(n * d, -1.0, 1.0), &[n, d], DType::F32);
        let (ng, nv) = upload(dev, &rng.vec(n * d, -1.0, 1.0), &[n, d], DType::F32);
        for o in options {
            let want = triplet(&av, &pv, &nv, d, o);
            for r in REDUCTIONS {
                let l = TripletMarginLoss::new()
                    .margin(o.margin as f32)
                    .p(o.p as f32)
                    .eps(o.eps as f32)
                    .swap(o.swap)
                    .reduction(r);
                let (loss, (ga, gp, gn)) = l.forward_with_grad(&a, &p, &ng).unwrap();
                let what = format!("triplet {o:?} [{n} x {d}]");
                worst = worst.max(check(&what, (loss, vec![ga, gp, gn]), &want, r, 2e-5));
            }
        }
    }
    eprintln!("largest error: triplet margin {worst:.1e}");
}

#[test]
fn multi_margin_losses_match_f64() {
    let dev = device();
    let mut rng = Rng::new(3);
    let mut worst = [0.0f64; 2];
    for (n, c) in SHAPES {
        let (x, xv) = upload(dev, &rng.vec(n * c, -1.0, 1.0), &[n, c], DType::F32);
        let labels: Vec<u32> = (0..n).map(|_| rng.below(c as u32)).collect();
        let y = Tensor::from_slice(dev, &labels, &[n]).unwrap();
        let (w, wv) = upload(dev, &rng.vec(c, 0.0, 2.0), &[c], DType::F32);
        let (t, tv) = upload(
            dev,
            &signs(&mut rng, n * c)
                .iter()
                .map(|v| v.abs())
                .collect::<Vec<_>>(),
            &[n, c],
            DType::F32,
        );
        for r in REDUCTIONS {
            for (p, weighted) in [(1, false), (2, true)] {
                let want = multi_margin(&xv, &labels, c, p, 0.7, weighted.then_some(&wv[..]));
                let mut l = MultiMarginLoss::new().p(p as u32).margin(0.7).reduction(r);
                if weighted {
                    l = l.weight(w.clone());
                }
                let (loss, g) = l.forward_with_grad(&x, &y).unwrap();
                worst[0] = worst[0].max(check("multi_margin", (loss, vec![g]), &want, r, 2e-5));
            }
            for weighted in [false, true] {
                let want = multilabel_soft_margin(&xv, &tv, c, weighted.then_some(&wv[..]));
                let mut l = MultilabelSoftMarginLoss::new().reduction(r);
                if weighted {
                    l = l.weight(w.clone());
                }
                let (loss, g) = l.forward_with_grad(&x, &t).unwrap();
                worst[1] = worst[1].max(check(
                    "multilabel_soft_margin",
                    (loss, vec![g]),
                    &want,
                    r,
                    2e-5,
                ));
            }
        }
    }
    eprintln!(
        "largest errors: multi margin {:.1e}, multilabel soft margin {:.1e}",
        worst[0], worst[1]
    );
}

#[test]
fn multilabel_margin_matches_f64() {
    let dev = device();
    let mut rng = Rng::new(7);
    let mut worst = [0.0f64; 3];
    // Rows of up to 6,000 scores, up to 9M (target, non-target) pairs a row, C loop iterations an
    // invocation.
    let shapes = SHAPES.iter().copied().chain([(3, 6000)]);
    for (i, (n, c)) in shapes.enumerate() {
        let targets = target_lists(&mut rng, n, c);
        let y = Tensor::from_slice(dev, &targets, &[n, c]).unwrap();
        for (h, dtype) in [DType::F32, DType::F16, DType::BF16]
            .into_iter()
            .enumerate()
        {
            if h > 0 && i % 2 == 1 {
                continue;
            }
            let (x, xv) = upload(dev, &rng.vec(n * c, -1.0, 1.0), &[n, c], dtype);
            let want = multilabel_margin(&xv, &targets, c);
            for r in REDUCTIONS {
                let l = MultilabelMarginLoss::new().reduction(r);
                let (loss, g) = l.forward_with_grad(&x, &y).unwrap();
                let tol = if h == 0 { 2e-5 } else { 1e-2 };
                let what = format!("multilabel_margin {dtype:?} [{n} x {c}]");
                worst[h] = worst[h].max(check(&what, (loss, vec![g]), &want, r, tol));
                let alone = l.forward(&x, &y).unwrap();
                let (w, _) = reduced(&want, r);
                assert!(err(&read(&alone), &w) < tol, "{what} forward");
            }
        }
    }
    // One row's scores as a vector, its loss as a scalar.
    let x = Tensor::from_slice(dev, &[0.1f32, 0.2, 0.4, 0.8], &[4]).unwrap();
    let y = Tensor::from_slice(dev, &[3i32, 0, -1, 1], &[4]).unwrap();
    let loss = MultilabelMarginLoss::new().reduction(Reduction::None);
    let l = loss.forward(&x, &y).unwrap();
    assert_eq!(l.shape(), &[] as &[usize]);
    assert!((read(&l)[0] - 0.85).abs() < 1e-6);
    eprintln!(
        "largest errors: multilabel margin f32 {:.1e}, f16 {:.1e}, bf16 {:.1e}",
        worst[0], worst[1], worst[2]
    );
}

#[test]
fn multilabel_margin_in_chunks_gives_the_same_bits() {
    let small = Device::with_options(DeviceOptions::new().max_binding_size(2048)).unwrap();
    let mut rng = Rng::new(8);
    let (n, c) = (301, 13);
    let x = rng.vec(n * c, -1.0, 1.0);
    let targets = target_lists(&mut rng, n, c);
    let run = |dev: &Device| {
        let xt = Tensor::from_slice(dev, &x, &[n, c]).unwrap();
        let yt = Tensor::from_slice(dev, &targets, &[n, c]).unwrap();
        let (loss, g) = MultilabelMarginLoss::new()
            .reduction(Reduction::None)
            .forward_with_grad(&xt, &yt)
            .unwrap();
        [read(&loss), read(&g)]
    };
    let whole = run(device());
    assert_eq!(run(&small), whole);
    let xv: Vec<f64> = x.iter().map(|&v| v as f64).collect();
    let want = multilabel_margin(&xv, &targets, c);
    assert!(err(&whole[0], &want.rows) < 2e-5);
}

#[test]
fn multilabel_margin_edges_and_errors() {
    let dev = device();
    let x = Tensor::from_slice(dev, &[0.5f32, 0.2, 0.9, 0.0, 1.0, 0.5], &[2, 3]).unwrap();
    let t = |v: &[i32]| Tensor::from_slice(dev, v, &[2, 3]).unwrap();
    let none = MultilabelMarginLoss::new().reduction(Reduction::None);
    // No targets, and every class a target: no pairs, no loss.
    let (l, g) = none
        .forward_with_grad(&x, &t(&[-1, 0, 1, 0, 1, 2]))
        .unwrap();
    assert_eq!((read(&l), read(&g)), (vec![0.0; 2], vec![0.0; 6]));
    // At the kink (1 - x_y + x_i = 0) no gradient passes, as PyTorch's `z > 0`.
    let (l, g) = none
        .forward_with_grad(&x, &t(&[-1, 0, 0, 1, -1, 0]))
        .unwrap();
    let third = (1.0f32 / 3.0) as f64;
    assert_eq!(read(&l), vec![0.0, (0.5f32 / 3.0) as f64]);
    assert_eq!(read(&g), vec![0.0, 0.0, 0.0, 0.0, -third, third]);
    // A repeated target counts twice.
    let (l, g) = none
        .forward_with_grad(&x, &t(&[1, 1, -1, 2, -1, 2]))
        .unwrap();
    let want = 2.0 * (1.0 - 0.2 + 0.5 + 1.0 - 0.2 + 0.9) / 3.0;
    assert!((read(&l)[0] - want).abs() < 1e-6);
    let (two, four) = ((2.0f32 / 3.0) as f64, (4.0f32 / 3.0) as f64);
    assert_eq!(read(&g)[..3].to_vec(), vec![two, -four, two]);
    // NaN in, NaN out.
    let bad = Tensor::from_slice(dev, &[f32::NAN, 0.0, 0.0], &[1, 3]).unwrap();
    let y = Tensor::from_slice(dev, &[1i32, -1, 0], &[1, 3]).unwrap();
    let (l, g) = none.forward_with_grad(&bad, &y).unwrap();
    assert!(read(&l)[0].is_nan() && read(&g)[0].is_nan());
    // Targets outside -1..C anywhere in the row, named by their flat index.
    for (targets, index, label) in [([0, 3, -1, 0, 0, 0], 1, 3), ([-1, 0, 0, 1, -2, 0], 4, -2)] {
        let loss = none.forward(&x, &t(&targets)).unwrap();
        match loss.to_vec::<f32>() {
            Err(Error::LabelOutOfRange {
                index: i,
                label: l,
                classes: 3,
            }) => assert_eq!((i, l), (index, label)),
            other => panic!("{targets:?}: {other:?}"),
        }
    }
    let after_end = none.forward(&x, &t(&[-1, 5, 0, 0, 0, 0])).unwrap();
    assert!(matches!(
        after_end.to_vec::<f32>(),
        Err(Error::LabelOutOfRange {
            index: 1,
            label: 5,
            ..
        })
    ));
    // Bad shapes and types.
    let u = Tensor::from_slice(dev, &[0u32; 6], &[2, 3]).unwrap();
    assert!(matches!(none.forward(&x, &u), Err(Error::DType { .. })));
    let short = Tensor::from_slice(dev, &[0i32; 2], &[2]).unwrap();
    assert!(matches!(none.forward(&x, &short), Err(Error::Shape(_))));
}

#[test]
fn a_million_rows_of_one_value() {
    let dev = device();
    let mut rng = Rng::new(4);
    let n = 1_000_003;
    let (x1, a) = upload(dev, &rng.vec(n, -1.0, 1.0), &[n, 1], DType::F16);
    let (x2, b) = upload(dev, &rng.vec(n, -1.0, 1.0), &[n, 1], DType::F16);
    let want = cosine_similarity(&a, &b, 1, 1e-8);
    let (loss, (g1, g2)) = CosineSimilarityLoss::new()
        .reduction(Reduction::Mean)
        .forward_with_grad(&x1, &x2)
        .unwrap();
    check(
        "cosine_similarity [1000003, 1]",
        (loss, vec![g1, g2]),
        &want,
        Reduction::Mean,
        1e-2,
    );
}

#[test]
fn chunks_under_a_tiny_binding_limit_give_the_same_bits() {
    let small = Device::with_options(DeviceOptions::new().max_binding_size(2048)).unwrap();
    let mut rng = Rng::new(5);
    let (n, d) = (301, 13);
    let (av, pv, nv) = (
        rng.vec(n * d, -1.0, 1.0),
        rng.vec(n * d, -1.0, 1.0),
        rng.vec(n * d, -1.0, 1.0),
    );
    let run = |dev: &Device| {
        let t = |v: &[f32]| Tensor::from_slice(dev, v, &[n, d]).unwrap();
        let (loss, (ga, gp, gn)) = TripletMarginLoss::new()
            .swap(true)
            .forward_with_grad(&t(&av), &t(&pv), &t(&nv))
            .unwrap();
        [read(&loss), read(&ga), read(&gp), read(&gn)]
    };
    assert_eq!(run(&small), run(device()));
}

#[test]
fn reference_gradients_match_central_differences() {
    let mut rng = Rng::new(6);
    let (n, d) = (4, 5);
    let v = |rng: &mut Rng| -> Vec<f64> {
        rng.vec(n * d, -1.0, 1.0)
            .iter()
            .map(|&x| x as f64)
            .collect()
    };
    let (a, b, c) = (v(&mut rng), v(&mut rng), v(&mut rng));
    let y = [1.0, -1.0, -1.0, 1.0];
    let labels = [0u32, 3, 4, 1];
    let targets: Vec<f64> = (0..n * d).map(|i| (i % 3 == 0) as u32 as f64).collect();
    let lists = [
        2, 0, 2, -1, 1, // row 0: class 2 twice, then 0
        -1, 3, 3, 3, 3, // row 1: none
        4, 3, 2, 1, -1, // row 2: four of five
        0, 1, 2, 3, 4, // row 3: every class
    ];
    let w: Vec<f64> = (0..d).map(|k| 0.5 + k as f64 * 0.25).collect();
    let o = Triplet {
        margin: 2.0,
        p: 3.0,
        eps: 1e-3,
        swap: true,
    };
    type F<'a> = Box<dyn Fn(&[Vec<f64>]) -> Want + 'a>;
    let cases: Vec<(&str, Vec<Vec<f64>>, F)> = vec![
        (
            "cosine_embedding",
            vec![a.clone(), b.clone()],
            Box::new(|x| cosine_embedding(&x[0], &x[1], &y, d, -0.5)),
        ),
        (
            "cosine_similarity",
            vec![a.clone(), b.clone()],
            Box::new(|x| cosine_similarity(&x[0], &x[1], d, 1e-8)),
        ),
        (
            "triplet",
            vec![a.clone(), b.clone(), c.clone()],
            Box::new(|x| triplet(&x[0], &x[1], &x[2], d, o)),
        ),
        (
            "multi_margin",
            vec![a.clone()],
            Box::new(|x| multi_margin(&x[0], &labels, d, 2, 1.0, Some(&w))),
        ),
        (
            "multilabel",
            vec![a.clone()],
            Box::new(|x| multilabel_soft_margin(&x[0], &targets, d, Some(&w))),
        ),
        (
            "multilabel_margin",
            vec![a.clone()],
            Box::new(|x| multilabel_margin(&x[0], &lists, d)),
        ),
    ];
    for (name, inputs, f) in cases {
        let want = f(&inputs);
        for (which, grad) in want.grads.iter().enumerate() {
            for i in 0..n * d {
                let at = |h: f64| {
                    let mut x = inputs.clone();
                    x[which][i] += h;
                    f(&x).rows.iter().sum::<f64>()
                };
                let fd = (at(1e-6) - at(-1e-6)) / 2e-6;
                assert!(
                    (fd - grad[i]).abs() < 1e-6,
                    "{name} input {which} [{i}]: {fd} vs {}",
                    grad[i]
                );
            }
        }
    }
}

#[test]
fn kinks_and_nan() {
    let dev = device();
    // A hinge exactly at its margin passes PyTorch's subgradient (clamp_min's >=).
    let a = Tensor::from_slice(dev, &[0.0f32, 0.0], &[1, 2]).unwrap();
    let p = Tensor::from_slice(dev, &[1.0f32, 0.0], &[1, 2]).unwrap();
    let n = Tensor::from_slice(dev, &[0.0f32, 2.0], &[1, 2]).unwrap();
    let (loss, (ga, _, _)) = TripletMarginLoss::new()
        .eps(0.0)
        .forward_with_grad(&a, &p, &n)
        .unwrap();
    assert_eq!(read(&loss), vec![0.0]);
    assert_eq!(read(&ga), vec![-1.0, 1.0]);
    // multi margin at z = 0 passes none (PyTorch's `z > 0`).
    let x = Tensor::from_slice(dev, &[0.0f32, 1.0], &[2]).unwrap();
    let y = Tensor::from_slice(dev, &[1u32], &[]).unwrap();
    let (loss, g) = MultiMarginLoss::new().forward_with_grad(&x, &y).unwrap();
    assert_eq!((read(&loss), read(&g)), (vec![0.0], vec![0.0, 0.0]));
    // NaN in, NaN out.
    let bad = Tensor::from_slice(dev, &[f32::NAN, 1.0], &[1, 2]).unwrap();
    let one = Tensor::from_slice(dev, &[-1.0f32], &[1]).unwrap();
    let cos = CosineEmbeddingLoss::new().forward(&bad, &p, &one).unwrap();
    assert!(read(&cos)[0].is_nan());
    assert!(read(&TripletMarginLoss::new().forward(&bad, &p, &n).unwrap())[0].is_nan());
    let mm = MultiMarginLoss::new().forward(
        &bad.clone(),
        &Tensor::from_slice(dev, &[1u32], &[1]).unwrap(),
    );
    assert!(read(&mm.unwrap())[0].is_nan());
    let sim = CosineSimilarityLoss::new().forward(&bad, &p).unwrap();
    assert!(read(&sim)[0].is_nan());
    let ml = MultilabelSoftMarginLoss::new().forward(&bad, &p).unwrap();
    assert!(read(&ml)[0].is_nan());
}

#[test]
fn bad_input_is_an_error() {
    let dev = device();
    let x = Tensor::from_slice(dev, &[0.5f32; 6], &[2, 3]).unwrap();
    let other = Tensor::from_slice(dev, &[0.5f32; 4], &[2, 2]).unwrap();
    let half = Tensor::from_slice(dev, &[f16::ONE; 6], &[2, 3]).unwrap();
    let y = Tensor::from_slice(dev, &[1.0f32, -1.0], &[2]).unwrap();
    let wrong_y = Tensor::from_slice(dev, &[1.0f32; 3], &[3]).unwrap();
    let cos = CosineEmbeddingLoss::new();
    assert!(matches!(cos.forward(&x, &other, &y), Err(Error::Shape(_))));
    assert!(matches!(
        cos.forward(&x, &half, &y),
        Err(Error::DType { .. })
    ));
    assert!(matches!(
        cos.forward(&x, &x, &wrong_y),
        Err(Error::Shape(_))
    ));
    assert!(matches!(
        cos.margin(f32::NAN).forward(&x, &x, &y),
        Err(Error::InvalidOption(_))
    ));
    let cube = Tensor::from_slice(dev, &[0.5f32; 8], &[2, 2, 2]).unwrap();
    assert!(matches!(
        CosineSimilarityLoss::new().forward(&cube, &cube),
        Err(Error::Shape(_))
    ));
    assert!(matches!(
        CosineSimilarityLoss::new().eps(-1.0).forward(&x, &x),
        Err(Error::InvalidOption(_))
    ));
    let t = TripletMarginLoss::new();
    assert!(matches!(
        t.p(0.5).forward(&x, &x, &x),
        Err(Error::InvalidOption(_))
    ));
    assert!(matches!(t.forward(&x, &x, &other), Err(Error::Shape(_))));
    let labels = Tensor::from_slice(dev, &[1u32, 3], &[2]).unwrap();
    let mm = MultiMarginLoss::new();
    assert!(matches!(
        mm.clone().p(3).forward(&x, &labels),
        Err(Error::InvalidOption(_))
    ));
    assert!(matches!(
        mm.clone().forward(&x, &y),
        Err(Error::DType { .. })
    ));
    let loss = mm.clone().forward(&x, &labels).unwrap();
    assert!(matches!(
        loss.to_vec::<f32>(),
        Err(Error::LabelOutOfRange {
            index: 1,
            label: 3,
            classes: 3
        })
    ));
    let negative = Tensor::from_slice(dev, &[-1i32, 0], &[2]).unwrap();
    let loss = mm.forward(&x, &negative).unwrap();
    assert!(matches!(
        loss.to_vec::<f32>(),
        Err(Error::LabelOutOfRange {
            index: 0,
            label: -1,
            ..
        })
    ));
    let short_w = Tensor::from_slice(dev, &[1.0f32; 2], &[2]).unwrap();
    assert!(matches!(
        MultilabelSoftMarginLoss::new()
            .weight(short_w)
            .forward(&x, &x),
        Err(Error::Shape(_))
    ));
    let long = Tensor::from_slice(dev, &vec![0.0f32; 20_000], &[1, 20_000]).unwrap();
    assert!(matches!(
        CosineSimilarityLoss::new().forward(&long, &long),
        Err(Error::Shape(_))
    ));
}
