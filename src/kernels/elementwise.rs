//! `elementwise.wgsl`: the element-wise losses (MSE, L1, Huber, smooth L1, BCE, BCE with
//! logits, KL). One pass reads each input once, four elements at a time, and writes as asked
//! the per-element loss, the gradient, and one partial sum per workgroup; `finalize` sums them.
//! BCE also checks that its probabilities and targets lie in [0, 1], in a status word read
//! with the result ([`RangeCheck`]).

use std::sync::Arc;

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::gpu::{BindingDecl, Kernel, Limits, Recorder, Slot, entry_points, overrides, uniform};
use crate::kernels::broadcast::Broadcast;
use crate::kernels::check::{self, Meta};
use crate::kernels::finalize::{self, Denominator};
use crate::kernels::plan::{self, Chunks, Tiling};
use crate::kernels::wgsl::{self, Part, Precision};
use crate::tensor::{StatusCheck, Tensor};

/// The math of an element-wise loss: the file composed in front of the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Pointwise {
    Mse,
    L1,
    Huber,
    SmoothL1,
    Bce,
    BceLogits,
    KlDiv,
    SoftMargin,
    LogCosh,
    HingeEmbedding,
    Hinge,
    PoissonNll,
    SigmoidFocal,
    MarginRanking,
    GaussianNll,
}

impl Pointwise {
    const ALL: [Pointwise; 15] = [
        Pointwise::Mse,
        Pointwise::L1,
        Pointwise::Huber,
        Pointwise::SmoothL1,
        Pointwise::Bce,
        Pointwise::BceLogits,
        Pointwise::KlDiv,
        Pointwise::SoftMargin,
        Pointwise::LogCosh,
        Pointwise::HingeEmbedding,
        Pointwise::Hinge,
        Pointwise::PoissonNll,
        Pointwise::SigmoidFocal,
        Pointwise::MarginRanking,
        Pointwise::GaussianNll,
    ];

    /// The loss's math, after the helpers it calls.
    fn parts(self) -> Vec<Part> {
        let files: &[wgsl::File] = match self {
            Pointwise::Mse => &[wgsl::MSE],
            Pointwise::L1 => &[wgsl::L1],
            Pointwise::Huber => &[wgsl::HUBER],
            Pointwise::SmoothL1 => &[wgsl::SMOOTH_L1],
            Pointwise::Bce => &[wgsl::BCE],
            Pointwise::BceLogits => &[wgsl::LOG1P, wgsl::SOFTPLUS, wgsl::BCE_LOGITS],
            Pointwise::KlDiv => &[wgsl::KL_DIV],
            Pointwise::SoftMargin => &[wgsl::LOG1P, wgsl::SOFTPLUS, wgsl::SOFT_MARGIN],
            Pointwise::LogCosh => &[wgsl::LOG1P, wgsl::LOG_COSH],
            Pointwise::HingeEmbedding => &[wgsl::HINGE_EMBEDDING],
            Pointwise::Hinge => &[wgsl::HINGE],
            Pointwise::PoissonNll => &[wgsl::POISSON_NLL],
            Pointwise::SigmoidFocal => &[wgsl::LOG1P, wgsl::SOFTPLUS, wgsl::SIGMOID_FOCAL],
            Pointwise::MarginRanking => &[wgsl::MARGIN_RANKING],
            Pointwise::GaussianNll => &[wgsl::GAUSSIAN_NLL],
        };
        let mut parts: Vec<Part> = files.iter().copied().map(wgsl::whole).collect();
        if !self.ternary() {
            parts.push(wgsl::whole(wgsl::SECOND_GRAD_NONE));
        }
        parts
    }

    /// Whether the loss reads a third input (and has a gradient in it).
    pub(crate) fn ternary(self) -> bool {
        matches!(self, Pointwise::MarginRanking | Pointwise::GaussianNll)
    }

    /// Whether the loss takes per-element weights.
    fn weighted(self) -> bool {
        matches!(self, Pointwise::Bce | Pointwise::BceLogits)
    }

    /// Whether the kernel checks that inputs and targets lie in [0, 1] (BCE, as PyTorch).
    fn checks_range(self) -> bool {
        self == Pointwise::Bce
    }
}

/// One module variant: the loss, how each tensor is stored, and which optional bindings
/// exist (a binding exists only where a call binds it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Elementwise {
    pub math: Pointwise,
    /// The input (and its gradient).
    pub x: Precision,
    /// The target.
    pub y: Precision,
    /// Per-element weights, if any.
    pub w: Option<Precision>,
    /// The weights have a shape of their own, broadcast to the input's (f32, bound whole).
    pub w_broadcast: bool,
    /// Positive-class weights (BCE with logits).
    pub pos_weight: bool,
    /// The third input (losses of three inputs).
    pub z: Option<Precision>,
    /// The per-element loss is written (reduction none).
    pub out: bool,
    /// The gradient is written (in the third input too, for losses of three inputs).
    pub grad: bool,
}

entry_points! {
    pub(crate) enum ElementwiseEntry {
        Elementwise = "elementwise",
    }
}

overrides! {
    pub(crate) struct ElementwiseOverrides {
        /// KL divergence: the targets are log-probabilities.
        "LOG_TARGET" => log_target,
        /// One tile in all: its workgroup writes sum / divisor, the result, itself.
        "FINAL" => final_result,
        /// Each invocation writes its sum of a tile; no workgroup reduction per tile.
        "LANE_PARTIALS" => lane_partials,
        /// Poisson NLL: the input is the rate's logarithm.
        "LOG_INPUT" => log_input,
        /// Poisson NLL: Stirling's term is added; Gaussian NLL: log(2π) / 2.
        "FULL" => full,
    }
}

uniform! {
    pub(crate) struct ElementwiseParams as "ElementwiseParams" {
        n: u32,
        n4: u32,
        partial_base: u32,
        grad_scale: f32,
        delta: f32,
        eps: f32,
        alpha: f32,
        gamma: f32,
        divisor: f32,
        first: u32,
        span: u32,
        tiles: u32,
        origin: u32,
        w_div0: u32,
        w_div1: u32,
        w_div2: u32,
        w_mod0: u32,
        w_mod1: u32,
        w_mod2: u32,
        w_stride0: u32,
        w_stride1: u32,
        w_stride2: u32,
        pw_div0: u32,
        pw_div1: u32,
        pw_div2: u32,
        pw_mod0: u32,
        pw_mod1: u32,
        pw_mod2: u32,
        pw_stride0: u32,
        pw_stride1: u32,
        pw_stride2: u32,
    }
}

const PARAMS: BindingDecl = BindingDecl::uniform(0, "params");
const X: BindingDecl = BindingDecl::read(1, "x_data");
const Y: BindingDecl = BindingDecl::read(2, "y_data");
const W: BindingDecl = BindingDecl::read(3, "w_data");
const PARTIALS: BindingDecl = BindingDecl::read_write(4, "partials");
const OUT: BindingDecl = BindingDecl::read_write(5, "out");
const GRAD: BindingDecl = BindingDecl::read_write(6, "grad");
const POS_WEIGHT: BindingDecl = BindingDecl::read(7, "pos_weight");
const STATUS: BindingDecl = BindingDecl::read_write(8, "status");
const Z: BindingDecl = BindingDecl::read(9, "z_data");
const GRAD2: BindingDecl = BindingDecl::read_write(10, "grad2");

/// The highest element index the range check records (`range_check.wgsl`): the status word
/// holds `u32::MAX - (2 index + which)`, which must not wrap to 0.
const LAST_FLAGGED: u32 = 0x7fff_fffe;

impl Elementwise {
    /// Every variant the crate builds: targets and weights in f32 or in the input's
    /// precision, weights only for the losses that take them.
    pub(crate) fn all() -> Vec<Elementwise> {
        let mut all = Vec::new();
        for math in Pointwise::ALL {
            for x in Precision::ALL {
                let same_or_f32 = |p: Precision| p == Precision::F32 || p == x;
                let ys = Precision::ALL.into_iter().filter(|&p| same_or_f32(p));
                for y in ys {
                    let mut ws = vec![None];
                    if math.weighted() {
                        ws.extend(
                            Precision::ALL
                                .into_iter()
                                .filter(|&p| same_or_f32(p))
                                .map(Some),
                        );
                    }
                    let mut weights: Vec<(Option<Precision>, bool)> =
                        ws.into_iter().map(|w| (w, false)).collect();
                    if math.weighted() {
                        weights.push((Some(Precision::F32), true));
                    }
                    let zs: Vec<Option<Precision>> = match math.ternary() {
                        true => Precision::ALL
                            .into_iter()
                            .filter(|&p| same_or_f32(p))
                            .map(Some)
                            .collect(),
                        false => vec![None],
                    };
                    for ((w, w_broadcast), z) in weights
                        .into_iter()
                        .flat_map(|w| zs.iter().map(move |&z| (w, z)))
                    {
                        for pos_weight in [false, math == Pointwise::BceLogits] {
                            for (out, grad) in
                                [(false, false), (true, false), (false, true), (true, true)]
                            {
                                let k = Elementwise {
                                    math,
                                    x,
                                    y,
                                    w,
                                    w_broadcast,
                                    pos_weight,
                                    z,
                                    out,
                                    grad,
                                };
                                if !all.contains(&k) {
                                    all.push(k);
                                }
                            }
                        }
                    }
                }
            }
        }
        all
    }
}

impl Kernel for Elementwise {
    type Entry = ElementwiseEntry;
    type Overrides = ElementwiseOverrides;
    type Params = ElementwiseParams;
    const FAMILY: &'static str = "elementwise";

    fn code(self) -> u32 {
        let w = self.w.map_or(0, |p| 1 + p.code());
        (self.math as u32)
            | self.x.code() << 4
            | self.y.code() << 6
            | w << 8
            | u32::from(self.pos_weight) << 10
            | u32::from(self.out) << 11
            | u32::from(self.grad) << 12
            | u32::from(self.w_broadcast) << 13
            | self.z.map_or(0, |p| 1 + p.code()) << 14
    }

    fn name(self) -> String {
        let mut name = format!(
            "{}_x{}_y{}",
            format!("{:?}", self.math).to_lowercase(),
            self.x.name(),
            self.y.name()
        );
        if let Some(w) = self.w {
            name += &format!("_w{}", w.name());
        }
        if self.w_broadcast {
            name += "_broadcast";
        }
        if let Some(z) = self.z {
            name += &format!("_z{}", z.name());
        }
        for (on, tag) in [
            (self.pos_weight, "_posw"),
            (self.out, "_out"),
            (self.grad, "_grad"),
        ] {
            if on {
                name += tag;
            }
        }
        name
    }

    fn parts(self, subgroups: bool) -> Vec<Part> {
        let mut parts = vec![wgsl::reduce(subgroups)];
        parts.extend(self.math.parts());
        parts.push(wgsl::named(self.x.vec4_input(), "x", X.binding));
        parts.push(wgsl::named(self.y.vec4_input(), "y", Y.binding));
        parts.push(match self.z {
            Some(z) => wgsl::named(z.vec4_input(), "z", Z.binding),
            None => wgsl::named(wgsl::INPUT_ONE, "z", Z.binding),
        });
        parts.push(wgsl::whole(wgsl::BROADCAST));
        parts.push(match (self.w, self.w_broadcast) {
            (Some(_), true) => wgsl::whole(wgsl::WEIGHT_BROADCAST),
            (Some(w), false) => wgsl::named(w.vec4_input(), "w", W.binding),
            (None, _) => wgsl::named(wgsl::INPUT_ONE, "w", W.binding),
        });
        parts.push(wgsl::whole(match self.pos_weight {
            true => wgsl::POS_WEIGHT,
            false => wgsl::POS_WEIGHT_NONE,
        }));
        parts.push(wgsl::whole(match self.math.checks_range() {
            true => wgsl::RANGE_CHECK,
            false => wgsl::RANGE_CHECK_NONE,
        }));
        parts.push(wgsl::whole(match self.out {
            true => wgsl::ELEMENTWISE_OUT,
            false => wgsl::ELEMENTWISE_NO_OUT,
        }));
        parts.push(match self.grad {
            true => wgsl::named(self.x.vec4_output(), "grad", GRAD.binding),
            false => wgsl::named(wgsl::GRAD_NONE, "grad", GRAD.binding),
        });
        parts.push(match (self.grad, self.z) {
            (true, Some(z)) => wgsl::named(z.vec4_output(), "grad2", GRAD2.binding),
            _ => wgsl::named(wgsl::GRAD_NONE, "grad2", GRAD2.binding),
        });
        parts.push(wgsl::whole(wgsl::ELEMENTWISE));
        parts
    }

    fn layout(self, _: ElementwiseEntry) -> Vec<BindingDecl> {
        let optional = [
            (self.w.is_some(), W),
            (self.out, OUT),
            (self.grad, GRAD),
            (self.pos_weight, POS_WEIGHT),
            (self.math.checks_range(), STATUS),
            (self.z.is_some(), Z),
            (self.grad && self.z.is_some(), GRAD2),
        ];
        let mut layout = vec![PARAMS, X, Y, PARTIALS];
        layout.extend(optional.into_iter().filter(|o| o.0).map(|o| o.1));
        layout
    }
}

/// One call of an element-wise loss, as its loss configures it.
pub(crate) struct ElementwiseCall<'a> {
    /// The loss's name, for messages.
    pub op: &'static str,
    pub math: Pointwise,
    /// Per-element weights, of a shape that broadcasts to the input's.
    pub weight: Option<&'a Tensor>,
    /// Positive-class weights (f32), of a shape that broadcasts to the input's.
    pub pos_weight: Option<&'a Tensor>,
    /// Huber's threshold `delta`, smooth L1's `beta`, hinge embedding's `margin`.
    pub delta: f32,
    pub log_target: bool,
    /// Poisson NLL: `eps`, `log_input`, `full`; Gaussian NLL: `eps`, `full`.
    pub eps: f32,
    pub log_input: bool,
    pub full: bool,
    /// Sigmoid focal loss: `alpha` (negative: none) and `gamma`.
    pub alpha: f32,
    pub gamma: f32,
    /// Losses of three inputs: the third (of the input's shape), and where its gradient goes.
    pub third: Option<&'a Tensor>,
    pub grad2: Option<&'a Tensor>,
    /// What the sum is divided by; `None` keeps one loss per element.
    pub divisor: Option<f32>,
}

impl<'a> ElementwiseCall<'a> {
    pub(crate) fn new(op: &'static str, math: Pointwise, divisor: Option<f32>) -> Self {
        ElementwiseCall {
            op,
            math,
            weight: None,
            pos_weight: None,
            delta: 0.0,
            log_target: false,
            eps: 0.0,
            log_input: false,
            full: false,
            alpha: -1.0,
            gamma: 0.0,
            third: None,
            grad2: None,
            divisor,
        }
    }
}

/// What a call will do: its module, constants, dispatches and parameters. Made without a
/// GPU.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ElementwisePlan {
    pub kernel: Elementwise,
    pub overrides: ElementwiseOverrides,
    /// How the sum runs: the same tiles for every grid and chunking.
    pub tiling: Tiling,
    /// `(first element, elements, workgroups)` of each dispatch.
    pub chunks: Vec<(usize, usize, u32)>,
    /// The partial sums that `finalize` adds up: one per tile, or one per invocation of each
    /// tile (`lane_partials`).
    pub partials: u32,
    /// How broadcast weights and positive-class weights map to elements.
    w_map: Option<Broadcast>,
    pw_map: Option<Broadcast>,
    delta: f32,
    eps: f32,
    alpha: f32,
    gamma: f32,
    divisor: Option<f32>,
}

/// Plans `call` on `input` against `target`: checks their element types and shapes, then
/// chooses the module, the constants and the chunks.
pub(crate) fn plan(
    limits: &Limits,
    call: &ElementwiseCall,
    input: Meta,
    target: Meta,
    grad: bool,
) -> Result<ElementwisePlan> {
    let x = check::float(input, "input")?;
    let y = check::same_or_f32(target, x, "target")?;
    check::same_shape(call.op, input, target)?;
    // Weights of the input's shape are read in chunks with it, in any precision; others
    // broadcast, in f32, bound whole.
    let (w, w_map) = match call.weight.map(Meta::of) {
        // The input's shape, or the same elements under leading dimensions of 1.
        Some(w)
            if w.len() == input.len()
                && Broadcast::new(call.op, "weight", w.shape, input.shape).is_ok() =>
        {
            (Some(check::same_or_f32(w, x, "weight")?), None)
        }
        Some(w) => {
            let map = Broadcast::new(call.op, "weight", w.shape, input.shape)?;
            check::dtype(w, "weight", "f32 when it broadcasts", &[DType::F32])?;
            check::one_binding(limits, w, "weight")?;
            (Some(Precision::F32), Some(map))
        }
        None => (None, None),
    };
    // The third input of a loss of three: the input's shape, f32 or the input's precision.
    let z = match (call.math.ternary(), call.third.map(Meta::of)) {
        (true, Some(z)) => {
            if z.shape != input.shape {
                return Err(Error::Shape(format!(
                    "{}: the third input has shape {:?}, the input {:?}",
                    call.op, z.shape, input.shape
                )));
            }
            Some(check::same_or_f32(z, x, "third input")?)
        }
        (false, None) => None,
        _ => {
            return Err(Error::Gpu(format!(
                "internal error: {} takes {} inputs",
                call.op,
                if call.math.ternary() { 3 } else { 2 }
            )));
        }
    };
    let pw_map = match call.pos_weight.map(Meta::of) {
        Some(pw) => {
            let map = Broadcast::new(call.op, "pos_weight", pw.shape, input.shape)?;
            check::dtype(pw, "pos_weight", "f32", &[DType::F32])?;
            check::one_binding(limits, pw, "pos_weight")?;
            Some(map)
        }
        None => None,
    };
    // Work items are vec4s: 16 bytes of the widest input.
    let tiling = Tiling::new(
        limits,
        input.len().div_ceil(4) as u64,
        plan::WG.into(),
        1,
        16,
        limits.max_binding / 16,
    );
    // Chunks start on a tile, and aligned for the narrowest element (2 bytes), so for every
    // input.
    let align = plan::lcm(plan::align_units(limits, &[2]), 4 * tiling.span as usize);
    let chunks: Vec<(usize, usize, u32)> = Chunks::plan(limits, input.len(), 4, align, "input")?
        .iter()
        .map(|(first, len)| {
            let tiles = tiling.tiles(len.div_ceil(4) as u64);
            (
                first,
                len,
                tiling.workgroups(limits, tiles, plan::WG.into(), 1),
            )
        })
        .collect();
    let tiles = tiling.tiles(input.len().div_ceil(4) as u64) as u32;
    let lane_partials = plan::lane_partials(limits, tiles, 1);
    Ok(ElementwisePlan {
        kernel: Elementwise {
            math: call.math,
            x,
            y,
            w,
            w_broadcast: w_map.is_some(),
            pos_weight: call.pos_weight.is_some(),
            z,
            out: call.divisor.is_none(),
            grad,
        },
        overrides: ElementwiseOverrides {
            log_target: call.log_target,
            log_input: call.log_input,
            full: call.full,
            // One tile in all: its workgroup writes the result itself, no second pass.
            final_result: call.divisor.is_some() && tiles == 1,
            lane_partials,
        },
        tiling,
        chunks,
        partials: plan::partial_slots(tiles, lane_partials),
        w_map,
        pw_map,
        delta: call.delta,
        eps: call.eps,
        alpha: call.alpha,
        gamma: call.gamma,
        divisor: call.divisor,
    })
}

impl ElementwisePlan {
    /// The uniform of the chunk of `len` elements from `first` (on a tile boundary): its
    /// tiles' partial sums go to the slots from `first`'s tile on.
    fn params(&self, first: usize, len: usize) -> ElementwiseParams {
        let span = self.tiling.span as usize;
        let divisor = self.divisor.unwrap_or(1.0);
        let (w, pw) = (
            self.w_map.unwrap_or(Broadcast::NONE),
            self.pw_map.unwrap_or(Broadcast::NONE),
        );
        ElementwiseParams {
            n: len as u32,
            n4: len.div_ceil(4) as u32,
            partial_base: (first / 4 / span) as u32,
            grad_scale: match self.divisor {
                Some(d) => 1.0 / d,
                None => 1.0,
            },
            delta: self.delta,
            eps: self.eps,
            alpha: self.alpha,
            gamma: self.gamma,
            divisor,
            first: first.min(LAST_FLAGGED as usize) as u32,
            span: self.tiling.span as u32,
            tiles: self.tiling.tiles(len.div_ceil(4) as u64) as u32,
            // Exact where a weight broadcasts: plan() refused inputs of 2^32 elements.
            origin: first as u32,
            w_div0: w.div[0],
            w_div1: w.div[1],
            w_div2: w.div[2],
            w_mod0: w.modulus[0],
            w_mod1: w.modulus[1],
            w_mod2: w.modulus[2],
            w_stride0: w.stride[0],
            w_stride1: w.stride[1],
            w_stride2: w.stride[2],
            pw_div0: pw.div[0],
            pw_div1: pw.div[1],
            pw_div2: pw.div[2],
            pw_mod0: pw.modulus[0],
            pw_mod1: pw.modulus[1],
            pw_mod2: pw.modulus[2],
            pw_stride0: pw.stride[0],
            pw_stride1: pw.stride[1],
            pw_stride2: pw.stride[2],
        }
    }

    /// Records the plan: one dispatch per chunk, then `finalize` unless the loss is kept
    /// per element or one workgroup wrote the result. Returns the loss; the gradient goes to
    /// `grad`, which the plan was made for.
    pub(crate) fn record(
        &self,
        rec: &mut Recorder<'_, '_>,
        call: &ElementwiseCall,
        input: &Tensor,
        target: &Tensor,
        grad: Option<&Tensor>,
    ) -> Result<Tensor> {
        let dev = rec.device();
        check::same_device(
            dev,
            [input, target]
                .into_iter()
                .chain(call.weight)
                .chain(call.pos_weight)
                .chain(call.third)
                .chain(call.grad2),
        )?;
        let out = match self.kernel.out {
            true => Some(Tensor::alloc(dev, input.shape(), DType::F32, "loss")?),
            false => None,
        };
        // One workgroup in all writes the result itself; else each writes a partial sum.
        let result = match self.overrides.final_result {
            true => Some(Tensor::alloc(dev, &[], DType::F32, "loss")?),
            false => None,
        };
        let scratch;
        let partials: Slot = match &result {
            Some(t) => t.whole(),
            None => {
                scratch = rec.scratch(&vec![0f32; self.partials as usize]);
                (&scratch).into()
            }
        };
        let status = match self.kernel.math.checks_range() {
            true => {
                let status = Tensor::alloc(dev, &[1], DType::U32, "range status")?;
                rec.clear(status.whole());
                Some(status)
            }
            false => None,
        };
        for &(first, len, groups) in &self.chunks {
            let params = rec.uniform(&self.params(first, len));
            let mut bindings = vec![
                (PARAMS, (&params).into()),
                (X, input.slot(first, len)),
                (Y, target.slot(first, len)),
                (PARTIALS, partials),
            ];
            let optional = [
                (
                    W,
                    call.weight.map(|w| match self.w_map {
                        Some(_) => w.whole(),
                        None => w.slot(first, len),
                    }),
                ),
                (OUT, out.as_ref().map(|t| t.slot(first, len))),
                (GRAD, grad.map(|t| t.slot(first, len))),
                (POS_WEIGHT, call.pos_weight.map(Tensor::whole)),
                (STATUS, status.as_ref().map(Tensor::whole)),
                (Z, call.third.map(|t| t.slot(first, len))),
                (GRAD2, grad.and(call.grad2).map(|t| t.slot(first, len))),
            ];
            bindings.extend(optional.into_iter().filter_map(|(d, s)| Some((d, s?))));
            rec.dispatch(
                self.kernel,
                ElementwiseEntry::Elementwise,
                self.overrides,
                &bindings,
                groups,
            )?;
        }
        let loss = match (&out, &result) {
            (Some(t), _) | (None, Some(t)) => t.clone(),
            (None, None) => finalize::record(
                rec,
                partials,
                self.partials,
                Denominator::Fixed(self.divisor.unwrap_or(1.0)),
            )?,
        };
        Ok(match status {
            Some(status) => loss.with_check(Arc::new(RangeCheck {
                status,
                input: input.clone(),
                target: target.clone(),
            })),
            None => loss,
        })
    }
}

/// The check that runs when a BCE loss (or its gradient) is read: the kernel flagged the
/// first probability or target outside [0, 1] by setting its status word to
/// `u32::MAX - (2 index + which)`, `which` 0 for the probability and 1 for the target.
struct RangeCheck {
    status: Tensor,
    input: Tensor,
    target: Tensor,
}

impl RangeCheck {
    /// The flagged element's index, and whether it is the target's (else the input's).
    fn decode(word: u32) -> (u64, bool) {
        let code = u32::MAX - word;
        (u64::from(code / 2), code % 2 == 1)
    }

    fn tensor(&self, is_target: bool) -> &Tensor {
        match is_target {
            true => &self.target,
            false => &self.input,
        }
    }
}

impl StatusCheck for RangeCheck {
    fn word(&self) -> &Tensor {
        &self.status
    }

    /// The 4-byte word holding the flagged element (a half shares it with a neighbour).
    fn detail(&self, word: u32) -> (&Tensor, u64, u64) {
        let (index, is_target) = Self::decode(word);
        let t = self.tensor(is_target);
        (t, index * t.dtype().size() as u64 / 4 * 4, 4)
    }

    fn error(&self, word: u32, detail: &[u8]) -> Error {
        let (index, is_target) = Self::decode(word);
        let raw: [u8; 4] = detail
            .get(..4)
            .and_then(|b| b.try_into().ok())
            .unwrap_or([0xff; 4]);
        let bits = u32::from_le_bytes(raw);
        // A half is the low or the high half of its word, by its index's parity.
        let bits16 = if index % 2 == 0 { bits } else { bits >> 16 } as u16;
        let value = match self.tensor(is_target).dtype() {
            DType::F16 => half::f16::from_bits(bits16).to_f32(),
            DType::BF16 => half::bf16::from_bits(bits16).to_f32(),
            _ => f32::from_bits(bits),
        };
        Error::ValueOutOfRange {
            what: match is_target {
                true => "target",
                false => "input",
            },
            index,
            value,
        }
    }
}
