//! A fuzz target over the public API: random losses, options, shapes, element types, byte
//! patterns (NaN, infinities, huge values, labels out of range), reductions, gradients,
//! caller encoders and binding limits. Every call is made inside `catch_unwind`: it may
//! return a value or an `Error`, and reading it may too, but nothing may panic.
//!
//! Bounded: `WGPU_LOSS_FUZZ_CASES` cases (default 1,000) from the seed `WGPU_LOSS_FUZZ_SEED`
//! (default 0): the same cases every run, until a new seed is given.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use wgpu_loss::half::{bf16, f16};
use wgpu_loss::{
    BceLoss, BceWithLogitsLoss, CosineEmbeddingLoss, CrossEntropyLoss, CtcLoss, DType, Device,
    DeviceOptions, HingeEmbeddingLoss, HingeLoss, HuberLoss, KlDivLoss, KlReduction, L1Loss,
    LinearCrossEntropyLoss, LogCoshLoss, Matmul, MseLoss, MultiMarginLoss, MultilabelMarginLoss,
    NllLoss, PoissonNllLoss, Reduction, Result, SigmoidFocalLoss, SmoothL1Loss, SoftMarginLoss,
    Tensor, TripletMarginLoss,
};

#[derive(Debug, Clone)]
enum Kind {
    Mse,
    L1,
    Huber(f32),
    SmoothL1(f32),
    Bce {
        weighted: bool,
    },
    BceLogits {
        weighted: bool,
        pos_weighted: bool,
    },
    Kl {
        reduction: KlReduction,
        log_target: bool,
    },
    Ce {
        weighted: bool,
        ignore: i32,
        smoothing: f32,
    },
    Nll {
        weighted: bool,
        ignore: i32,
    },
    SoftMargin,
    LogCosh,
    HingeEmbedding(f32),
    Hinge,
    PoissonNll {
        log_input: bool,
        full: bool,
        eps: f32,
    },
    SigmoidFocal {
        alpha: f32,
        gamma: f32,
    },
}

#[derive(Debug, Clone)]
struct Input {
    shape: Vec<usize>,
    dtype: DType,
    bits: Vec<u32>,
}

#[derive(Debug, Clone)]
struct Case {
    kind: Kind,
    reduction: Reduction,
    grad: bool,
    record: bool,
    small_bindings: bool,
    x: Input,
    y: Input,
    w: Input,
}

fn dtype() -> impl Strategy<Value = DType> {
    prop_oneof![
        4 => Just(DType::F32),
        2 => Just(DType::F16),
        2 => Just(DType::BF16),
        1 => Just(DType::U32),
        1 => Just(DType::I32),
    ]
}

/// Bit patterns: small labels, ordinary floats, or anything at all.
fn bits(len: usize) -> impl Strategy<Value = Vec<u32>> {
    let word = prop_oneof![
        3 => 0u32..8,
        3 => (-4.0f32..4.0).prop_map(f32::to_bits),
        1 => Just(f32::NAN.to_bits()),
        1 => Just(f32::INFINITY.to_bits()),
        1 => Just(f32::NEG_INFINITY.to_bits()),
        1 => Just(1e30f32.to_bits()),
        2 => any::<u32>(),
    ];
    proptest::collection::vec(word, len)
}

fn input(shape: Vec<usize>) -> impl Strategy<Value = Input> {
    let len: usize = shape.iter().product();
    (dtype(), bits(len)).prop_map(move |(dtype, bits)| Input {
        shape: shape.clone(),
        dtype,
        bits,
    })
}

/// A shape of rank 0 to 4 with dimensions 0 to 6 (zero sizes are refused, as they must be).
fn shape() -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(prop_oneof![1 => Just(0usize), 30 => 1usize..7], 0..5)
}

fn option() -> impl Strategy<Value = f32> {
    prop_oneof![
        4 => 0.0f32..2.0,
        1 => Just(0.0f32),
        1 => Just(-1.0f32),
        1 => Just(f32::NAN),
        1 => Just(f32::INFINITY),
        1 => Just(1e-40f32),
    ]
}

fn kind() -> impl Strategy<Value = Kind> {
    let kl = prop_oneof![
        Just(KlReduction::None),
        Just(KlReduction::Mean),
        Just(KlReduction::Sum),
        Just(KlReduction::BatchMean)
    ];
    let ignore = prop_oneof![Just(-100), Just(0), Just(2), Just(-1)];
    prop_oneof![
        Just(Kind::Mse),
        Just(Kind::L1),
        option().prop_map(Kind::Huber),
        option().prop_map(Kind::SmoothL1),
        any::<bool>().prop_map(|weighted| Kind::Bce { weighted }),
        (any::<bool>(), any::<bool>()).prop_map(|(weighted, pos_weighted)| Kind::BceLogits {
            weighted,
            pos_weighted
        }),
        (kl, any::<bool>()).prop_map(|(reduction, log_target)| Kind::Kl {
            reduction,
            log_target
        }),
        (any::<bool>(), ignore.clone(), option()).prop_map(|(weighted, ignore, smoothing)| {
            Kind::Ce {
                weighted,
                ignore,
                smoothing,
            }
        }),
        (any::<bool>(), ignore).prop_map(|(weighted, ignore)| Kind::Nll { weighted, ignore }),
        Just(Kind::SoftMargin),
        Just(Kind::LogCosh),
        option().prop_map(Kind::HingeEmbedding),
        Just(Kind::Hinge),
        (any::<bool>(), any::<bool>(), option()).prop_map(|(log_input, full, eps)| {
            Kind::PoissonNll {
                log_input,
                full,
                eps,
            }
        }),
        (option(), option()).prop_map(|(alpha, gamma)| Kind::SigmoidFocal { alpha, gamma }),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (
        shape(),
        prop_oneof![5 => Just(0u8), 4 => Just(1), 1 => Just(2)],
    )
        .prop_flat_map(|(x_shape, y_form)| {
            // The target: the input's shape, the input's without its class dimension (labels),
            // or anything.
            let y_shape = match y_form {
                0 => Just(x_shape.clone()).boxed(),
                1 => {
                    let mut s = x_shape.clone();
                    if s.len() > 1 {
                        s.remove(1);
                    } else {
                        s.clear();
                    }
                    Just(s).boxed()
                }
                _ => shape().boxed(),
            };
            // Weights: the input's shape, its class dimension, one that broadcasts to the input
            // (some dimensions 1, some dropped), or anything.
            let squeezed = (
                prop::collection::vec(any::<bool>(), x_shape.len()),
                0..3usize,
            )
                .prop_map({
                    let x_shape = x_shape.clone();
                    move |(ones, drop)| {
                        let s: Vec<usize> = x_shape
                            .iter()
                            .zip(ones)
                            .map(|(&d, one)| if one { 1 } else { d })
                            .collect();
                        s[drop.min(s.len())..].to_vec()
                    }
                });
            let w_shape = prop_oneof![
                3 => Just(x_shape.clone()),
                2 => Just(
                    x_shape
                        .get(1)
                        .or(x_shape.first())
                        .map_or(vec![], |&c| vec![c])
                ),
                3 => squeezed,
                1 => shape(),
            ];
            let reduction = prop_oneof![
                Just(Reduction::None),
                Just(Reduction::Mean),
                Just(Reduction::Sum)
            ];
            (
                kind(),
                reduction,
                any::<bool>(),
                any::<bool>(),
                prop::bool::weighted(0.2),
                input(x_shape),
                y_shape.prop_flat_map(input),
                w_shape.prop_flat_map(input),
                prop::bool::weighted(0.8),
            )
                .prop_map(
                    move |(kind, reduction, grad, record, small_bindings, x, y, w, fit)| {
                        let (mut x, mut y, mut w) = (x, y, w);
                        // Mostly types that go together, so that most calls get past the checks.
                        if fit {
                            if !matches!(x.dtype, DType::F32 | DType::F16 | DType::BF16) {
                                x.dtype = DType::F32;
                            }
                            y.dtype = match (y_form, y.dtype) {
                                (1, DType::I32) => DType::I32,
                                (1, _) => DType::U32,
                                _ => x.dtype,
                            };
                            w.dtype = DType::F32;
                        }
                        Case {
                            kind,
                            reduction,
                            grad,
                            record,
                            small_bindings,
                            x,
                            y,
                            w,
                        }
                    },
                )
        })
}

fn devices() -> &'static [Device; 2] {
    static DEVICES: OnceLock<[Device; 2]> = OnceLock::new();
    DEVICES.get_or_init(|| {
        [
            Device::new().expect("no adapter for the GPU tests"),
            Device::with_options(DeviceOptions::new().max_binding_size(256)).expect("device"),
        ]
    })
}

fn tensor(dev: &Device, input: &Input) -> Result<Tensor> {
    let (shape, bits) = (input.shape.as_slice(), input.bits.as_slice());
    match input.dtype {
        DType::F32 => Tensor::from_slice(
            dev,
            &bits.iter().map(|&b| f32::from_bits(b)).collect::<Vec<_>>(),
            shape,
        ),
        DType::U32 => Tensor::from_slice(dev, bits, shape),
        DType::I32 => Tensor::from_slice(
            dev,
            &bits.iter().map(|&b| b as i32).collect::<Vec<_>>(),
            shape,
        ),
        DType::F16 => Tensor::from_slice(
            dev,
            &bits
                .iter()
                .map(|&b| f16::from_bits(b as u16))
                .collect::<Vec<_>>(),
            shape,
        ),
        DType::BF16 => Tensor::from_slice(
            dev,
            &bits
                .iter()
                .map(|&b| bf16::from_bits(b as u16))
                .collect::<Vec<_>>(),
            shape,
        ),
        _ => unreachable!("the strategy makes no other type"),
    }
}

/// Runs `loss` as the case asks: forward or with gradient, submitted or recorded into an
/// encoder that is then submitted; reads every output in its own element type.
macro_rules! call {
    ($case:expr, $dev:expr, $loss:expr, $x:expr, $y:expr) => {{
        let (case, dev, loss) = ($case, $dev, $loss);
        let mut encoder = dev
            .wgpu_device()
            .create_command_encoder(&Default::default());
        let outputs: Result<Vec<Tensor>> = match (case.grad, case.record) {
            (false, false) => loss.forward($x, $y).map(|l| vec![l]),
            (true, false) => loss.forward_with_grad($x, $y).map(|(l, g)| vec![l, g]),
            (false, true) => loss.record(&mut encoder, $x, $y).map(|l| vec![l]),
            (true, true) => loss
                .record_with_grad(&mut encoder, $x, $y)
                .map(|(l, g)| vec![l, g]),
        };
        dev.wgpu_queue().submit([encoder.finish()]);
        outputs.map(|outputs| {
            for t in outputs {
                let _ = match t.dtype() {
                    DType::F16 => t.to_vec::<f16>().map(drop),
                    DType::BF16 => t.to_vec::<bf16>().map(drop),
                    _ => t.to_vec::<f32>().map(drop),
                };
            }
        })
    }};
}

fn run(case: &Case) -> Result<()> {
    let dev = &devices()[usize::from(case.small_bindings)];
    let (x, y) = (tensor(dev, &case.x)?, tensor(dev, &case.y)?);
    let w = || tensor(dev, &case.w);
    let r = case.reduction;
    match &case.kind {
        Kind::Mse => call!(case, dev, MseLoss::new().reduction(r), &x, &y),
        Kind::L1 => call!(case, dev, L1Loss::new().reduction(r), &x, &y),
        Kind::Huber(d) => call!(case, dev, HuberLoss::new().delta(*d).reduction(r), &x, &y),
        Kind::SmoothL1(b) => call!(case, dev, SmoothL1Loss::new().beta(*b).reduction(r), &x, &y),
        Kind::Bce { weighted } => {
            let mut bce = BceLoss::new().reduction(r);
            if *weighted {
                bce = bce.weight(w()?);
            }
            call!(case, dev, bce, &x, &y)
        }
        Kind::BceLogits {
            weighted,
            pos_weighted,
        } => {
            let mut bce = BceWithLogitsLoss::new().reduction(r);
            if *weighted {
                bce = bce.weight(w()?);
            }
            if *pos_weighted {
                bce = bce.pos_weight(w()?);
            }
            call!(case, dev, bce, &x, &y)
        }
        Kind::SoftMargin => call!(case, dev, SoftMarginLoss::new().reduction(r), &x, &y),
        Kind::LogCosh => call!(case, dev, LogCoshLoss::new().reduction(r), &x, &y),
        Kind::HingeEmbedding(m) => {
            let loss = HingeEmbeddingLoss::new().margin(*m).reduction(r);
            call!(case, dev, loss, &x, &y)
        }
        Kind::Hinge => call!(case, dev, HingeLoss::new().reduction(r), &x, &y),
        Kind::PoissonNll {
            log_input,
            full,
            eps,
        } => {
            let loss = PoissonNllLoss::new()
                .log_input(*log_input)
                .full(*full)
                .eps(*eps)
                .reduction(r);
            call!(case, dev, loss, &x, &y)
        }
        Kind::SigmoidFocal { alpha, gamma } => {
            let loss = SigmoidFocalLoss::new()
                .alpha(*alpha)
                .gamma(*gamma)
                .reduction(r);
            call!(case, dev, loss, &x, &y)
        }
        Kind::Kl {
            reduction,
            log_target,
        } => {
            let kl = KlDivLoss::new()
                .reduction(*reduction)
                .log_target(*log_target);
            call!(case, dev, kl, &x, &y)
        }
        Kind::Ce {
            weighted,
            ignore,
            smoothing,
        } => {
            let mut ce = CrossEntropyLoss::new()
                .reduction(r)
                .ignore_index(*ignore)
                .label_smoothing(*smoothing);
            if *weighted {
                ce = ce.weight(w()?);
            }
            call!(case, dev, ce, &x, &y)
        }
        Kind::Nll { weighted, ignore } => {
            let mut nll = NllLoss::new().reduction(r).ignore_index(*ignore);
            if *weighted {
                nll = nll.weight(w()?);
            }
            call!(case, dev, nll, &x, &y)
        }
    }
}

#[test]
fn no_call_sequence_panics() {
    let cases = std::env::var("WGPU_LOSS_FUZZ_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(1000);
    // A fixed seed, so a run is reproducible (CI's too); another seed explores further.
    let seed: u64 = std::env::var("WGPU_LOSS_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[seed.to_le_bytes(); 4].concat());
    let mut runner = TestRunner::new_with_rng(config, rng);
    let (ok, errors) = (Cell::new(0), Cell::new(0));
    runner
        .run(&case(), |case| {
            match catch_unwind(AssertUnwindSafe(|| run(&case))) {
                Ok(Ok(())) => ok.set(ok.get() + 1),
                Ok(Err(_)) => errors.set(errors.get() + 1),
                Err(_) => return Err(TestCaseError::fail("the call panicked")),
            }
            Ok(())
        })
        .unwrap();
    let (ok, errors) = (ok.get(), errors.get());
    eprintln!("{cases} cases: {ok} computed, {errors} refused with an Error");
}

/// The losses of more than two tensors, and the matrix product.
#[derive(Debug, Clone)]
enum Many {
    LinearCe {
        bias: bool,
        ignore: i32,
        smoothing: f32,
        softcap: Option<f32>,
        z_loss: f32,
    },
    Ctc {
        blank: u32,
        zero_infinity: bool,
    },
    Matmul {
        transpose_a: bool,
        transpose_b: bool,
    },
    /// The row-wise losses: multilabel margin, multi margin, triplet margin, cosine embedding.
    Rows {
        loss: u8,
        margin: f32,
    },
}

#[derive(Debug, Clone)]
struct ManyCase {
    kind: Many,
    reduction: Reduction,
    grad: bool,
    record: bool,
    small_bindings: bool,
    inputs: Vec<Input>,
}

fn many_kind() -> impl Strategy<Value = Many> {
    prop_oneof![
        (
            any::<bool>(),
            -101i32..4,
            option(),
            prop::option::of(option()),
            option()
        )
            .prop_map(
                |(bias, ignore, smoothing, softcap, z_loss)| Many::LinearCe {
                    bias,
                    ignore,
                    smoothing: smoothing / 2.0,
                    softcap,
                    z_loss: z_loss / 100.0,
                }
            ),
        (0u32..4, any::<bool>()).prop_map(|(blank, zero_infinity)| Many::Ctc {
            blank,
            zero_infinity
        }),
        (any::<bool>(), any::<bool>()).prop_map(|(transpose_a, transpose_b)| Many::Matmul {
            transpose_a,
            transpose_b
        }),
        (0u8..4, option()).prop_map(|(loss, margin)| Many::Rows { loss, margin }),
    ]
}

/// An input of integers (labels, lengths) most of the time where `int`, else of any type.
fn typed_input(shape: Vec<usize>, int: bool) -> BoxedStrategy<Input> {
    if !int {
        return input(shape).boxed();
    }
    let len: usize = shape.iter().product();
    let dtype = prop_oneof![4 => Just(DType::U32), 4 => Just(DType::I32), 1 => dtype()];
    (dtype, bits(len))
        .prop_map(move |(dtype, bits)| Input {
            shape: shape.clone(),
            dtype,
            bits,
        })
        .boxed()
}

/// Four inputs: each of the shape the loss wants (from dimensions a, b, c, d), or any.
fn many_case() -> impl Strategy<Value = ManyCase> {
    (
        many_kind(),
        prop::collection::vec(1usize..7, 4),
        prop::collection::vec(prop_oneof![4 => Just(true), 1 => Just(false)], 4),
        prop::collection::vec(shape(), 4),
    )
        .prop_flat_map(|(kind, d, fits, other)| {
            let wanted: [Vec<usize>; 4] = match kind {
                Many::LinearCe { .. } => {
                    [vec![d[0], d[1]], vec![d[2], d[1]], vec![d[0]], vec![d[2]]]
                }
                Many::Ctc { .. } => [
                    vec![d[0], d[1], d[2]],
                    vec![d[1], d[3]],
                    vec![d[1]],
                    vec![d[1]],
                ],
                Many::Matmul { .. } => [vec![d[0], d[1]], vec![d[1], d[2]], vec![], vec![]],
                Many::Rows { loss: 0, .. } => [vec![d[0], d[1]], vec![d[0], d[1]], vec![], vec![]],
                Many::Rows { .. } => [
                    vec![d[0], d[1]],
                    vec![d[0], d[1]],
                    vec![d[0], d[1]],
                    vec![d[0]],
                ],
            };
            let shapes: Vec<Vec<usize>> = (0..4)
                .map(|i| {
                    if fits[i] {
                        wanted[i].clone()
                    } else {
                        other[i].clone()
                    }
                })
                .collect();
            let ints: [bool; 4] = match kind {
                Many::LinearCe { .. } => [false, false, true, false],
                Many::Ctc { .. } => [false, true, true, true],
                Many::Matmul { .. } => [false; 4],
                Many::Rows { loss: 0, .. } => [false, true, false, false],
                Many::Rows { .. } => [false, false, false, true],
            };
            let inputs: Vec<_> = shapes
                .into_iter()
                .zip(ints)
                .map(|(shape, int)| typed_input(shape, int))
                .collect();
            (
                Just(kind),
                prop_oneof![
                    Just(Reduction::None),
                    Just(Reduction::Mean),
                    Just(Reduction::Sum)
                ],
                any::<bool>(),
                any::<bool>(),
                prop_oneof![4 => Just(false), 1 => Just(true)],
                inputs,
            )
        })
        .prop_map(
            |(kind, reduction, grad, record, small_bindings, inputs)| ManyCase {
                kind,
                reduction,
                grad,
                record,
                small_bindings,
                inputs,
            },
        )
}

/// Reads a tensor in its own element type; the read may fail, it may not panic.
fn read_any(t: &Tensor) {
    let _ = match t.dtype() {
        DType::F16 => t.to_vec::<f16>().map(drop),
        DType::BF16 => t.to_vec::<bf16>().map(drop),
        _ => t.to_vec::<f32>().map(drop),
    };
}

fn run_many(case: &ManyCase) -> Result<()> {
    let dev = &devices()[usize::from(case.small_bindings)];
    let t: Vec<Tensor> = case
        .inputs
        .iter()
        .map(|i| tensor(dev, i))
        .collect::<Result<_>>()?;
    let mut encoder = dev
        .wgpu_device()
        .create_command_encoder(&Default::default());
    let outputs: Vec<Tensor> = match &case.kind {
        Many::LinearCe {
            bias,
            ignore,
            smoothing,
            softcap,
            z_loss,
        } => {
            let mut l = LinearCrossEntropyLoss::new()
                .reduction(case.reduction)
                .ignore_index(*ignore)
                .label_smoothing(*smoothing)
                .z_loss(*z_loss);
            if *bias {
                l = l.bias(t[3].clone());
            }
            if let Some(c) = softcap {
                l = l.softcap(*c);
            }
            let grads = |g: wgpu_loss::LinearCrossEntropyGrads| {
                [Some(g.hidden), Some(g.classifier), g.bias]
                    .into_iter()
                    .flatten()
            };
            match (case.grad, case.record) {
                (false, false) => vec![l.forward(&t[0], &t[1], &t[2])?],
                (false, true) => vec![l.record(&mut encoder, &t[0], &t[1], &t[2])?],
                (true, false) => {
                    let (loss, g) = l.forward_with_grad(&t[0], &t[1], &t[2])?;
                    std::iter::once(loss).chain(grads(g)).collect()
                }
                (true, true) => {
                    let (loss, g) = l.record_with_grad(&mut encoder, &t[0], &t[1], &t[2])?;
                    std::iter::once(loss).chain(grads(g)).collect()
                }
            }
        }
        Many::Ctc {
            blank,
            zero_infinity,
        } => {
            let l = CtcLoss::new()
                .reduction(case.reduction)
                .blank(*blank)
                .zero_infinity(*zero_infinity);
            match (case.grad, case.record) {
                (false, false) => vec![l.forward(&t[0], &t[1], &t[2], &t[3])?],
                (false, true) => vec![l.record(&mut encoder, &t[0], &t[1], &t[2], &t[3])?],
                (true, false) => {
                    let (loss, g) = l.forward_with_grad(&t[0], &t[1], &t[2], &t[3])?;
                    vec![loss, g]
                }
                (true, true) => {
                    let (loss, g) = l.record_with_grad(&mut encoder, &t[0], &t[1], &t[2], &t[3])?;
                    vec![loss, g]
                }
            }
        }
        Many::Matmul {
            transpose_a,
            transpose_b,
        } => {
            let m = Matmul::new()
                .transpose_a(*transpose_a)
                .transpose_b(*transpose_b);
            match case.record {
                false => vec![m.forward(&t[0], &t[1])?],
                true => vec![m.record(&mut encoder, &t[0], &t[1])?],
            }
        }
        Many::Rows { loss, margin } => {
            let r = case.reduction;
            macro_rules! run {
                ($l:expr, $($arg:expr),+; $grads:expr) => {
                    match (case.grad, case.record) {
                        (false, false) => vec![$l.forward($($arg),+)?],
                        (false, true) => vec![$l.record(&mut encoder, $($arg),+)?],
                        (true, false) => {
                            let (loss, g) = $l.forward_with_grad($($arg),+)?;
                            std::iter::once(loss).chain($grads(g)).collect()
                        }
                        (true, true) => {
                            let (loss, g) = $l.record_with_grad(&mut encoder, $($arg),+)?;
                            std::iter::once(loss).chain($grads(g)).collect()
                        }
                    }
                };
            }
            match loss {
                0 => run!(MultilabelMarginLoss::new().reduction(r), &t[0], &t[1]; |g| [g]),
                1 => run!(
                    MultiMarginLoss::new().reduction(r).margin(*margin),
                    &t[0], &t[3]; |g| [g]
                ),
                2 => run!(
                    TripletMarginLoss::new().reduction(r).margin(*margin),
                    &t[0], &t[1], &t[2]; |(a, p, n)| [a, p, n]
                ),
                _ => run!(
                    CosineEmbeddingLoss::new().reduction(r).margin(*margin),
                    &t[0], &t[1], &t[3]; |(a, b)| [a, b]
                ),
            }
        }
    };
    dev.wgpu_queue().submit([encoder.finish()]);
    outputs.iter().for_each(read_any);
    Ok(())
}

#[test]
fn no_call_of_three_or_four_tensors_panics() {
    let cases = std::env::var("WGPU_LOSS_FUZZ_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(1000)
        / 2;
    let seed: u64 = std::env::var("WGPU_LOSS_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    let rng = TestRng::from_seed(
        RngAlgorithm::ChaCha,
        &[(seed + 1).to_le_bytes(); 4].concat(),
    );
    let mut runner = TestRunner::new_with_rng(config, rng);
    let (ok, errors) = (Cell::new(0), Cell::new(0));
    runner
        .run(&many_case(), |case| {
            match catch_unwind(AssertUnwindSafe(|| run_many(&case))) {
                Ok(Ok(())) => ok.set(ok.get() + 1),
                Ok(Err(_)) => errors.set(errors.get() + 1),
                Err(_) => return Err(TestCaseError::fail("the call panicked")),
            }
            Ok(())
        })
        .unwrap();
    let (ok, errors) = (ok.get(), errors.get());
    eprintln!("{cases} cases: {ok} computed, {errors} refused with an Error");
}
