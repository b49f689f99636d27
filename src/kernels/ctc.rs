//! `ctc.wgsl`: connectionist temporal classification, a dynamic program over time per
//! sequence (not a map-then-reduce): a prologue that checks and links the targets, the forward
//! (alpha) and backward (beta) recursions in log space, the per-sequence losses, and the
//! gradient in the log-probabilities.

use std::sync::Arc;

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::gpu::{BindingDecl, Kernel, Limits, Recorder, entry_points, overrides, uniform};
use crate::kernels::check::{self, Meta};
use crate::kernels::convert;
use crate::kernels::finalize::{self, Denominator};
use crate::kernels::plan::{MAX_LOOP, WG};
use crate::kernels::wgsl::{self, Part, Precision};
use crate::reduction::Reduction;
use crate::tensor::{StatusCheck, Tensor};

/// One module variant: how the log-probabilities are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Ctc {
    pub log_probs: Precision,
}

entry_points! {
    pub(crate) enum CtcEntry {
        /// Checks lengths and labels, finds each sequence's offsets, links its targets.
        Prologue = "ctc_prologue",
        /// The forward recursion over a range of time steps.
        Alpha = "ctc_alpha",
        /// The backward recursion over a range of time steps.
        Beta = "ctc_beta",
        /// Each sequence's loss, scaled for the reduction.
        Loss = "ctc_loss",
        /// The log-likelihood from each time step's states, to normalise the gradient by.
        Norm = "ctc_norm",
        /// The gradient in the log-probabilities over a range of time steps.
        Grad = "ctc_grad",
    }
}

overrides! {
    /// None: every choice is a runtime one.
    pub(crate) struct CtcOverrides {}
}

uniform! {
    pub(crate) struct CtcParams as "CtcParams" {
        time: u32,
        batch: u32,
        classes: u32,
        blank: u32,
        padded: u32,
        columns: u32,
        total: u32,
        max_labels: u32,
        max_states: u32,
        t_begin: u32,
        t_end: u32,
        zero_infinity: u32,
        per_length: u32,
        grad_scale: f32,
        neg_inf: f32,
    }
}

const PARAMS: BindingDecl = BindingDecl::uniform(0, "params");
const LOG_PROBS: BindingDecl = BindingDecl::read(1, "lp_data");
const TARGETS: BindingDecl = BindingDecl::read(2, "targets");
const INPUT_LENGTHS: BindingDecl = BindingDecl::read(3, "input_lengths");
const TARGET_LENGTHS: BindingDecl = BindingDecl::read(4, "target_lengths");
const SEQS: BindingDecl = BindingDecl::read_write(5, "seqs");
const LINKS: BindingDecl = BindingDecl::read_write(6, "links");
const ALPHA: BindingDecl = BindingDecl::read_write(7, "alpha");
const BETA: BindingDecl = BindingDecl::read_write(8, "beta");
const LOSSES: BindingDecl = BindingDecl::read_write(9, "losses");
const GRAD: BindingDecl = BindingDecl::read_write(10, "grad");
const STATUS: BindingDecl = BindingDecl::read_write(11, "status");
const NORM: BindingDecl = BindingDecl::read_write(12, "norm");
const OFFSETS: BindingDecl = BindingDecl::read_write(13, "offsets");

impl Ctc {
    /// Every variant the crate builds.
    pub(crate) fn all() -> Vec<Ctc> {
        Precision::ALL
            .into_iter()
            .map(|log_probs| Ctc { log_probs })
            .collect()
    }
}

impl Kernel for Ctc {
    type Entry = CtcEntry;
    type Overrides = CtcOverrides;
    type Params = CtcParams;
    const FAMILY: &'static str = "ctc";

    fn code(self) -> u32 {
        self.log_probs.code()
    }

    fn name(self) -> String {
        format!("ctc_lp{}", self.log_probs.name())
    }

    /// The tree reduction's part on both paths, for `WG`, `Ids` and `Group` alone: the family
    /// reduces in its own tree (`step_scale`), and a subgroup path whose entry points read the
    /// subgroup builtins without subgroup operations becomes GLSL that lacks the extension
    /// naga should have asked for (glslangValidator refuses it).
    fn parts(self, _subgroups: bool) -> Vec<Part> {
        vec![
            wgsl::reduce(false),
            wgsl::whole(wgsl::LOG1P),
            wgsl::named(self.log_probs.scalar_input(), "lp", LOG_PROBS.binding),
            wgsl::whole(wgsl::CTC),
        ]
    }

    fn layout(self, entry: CtcEntry) -> Vec<BindingDecl> {
        match entry {
            CtcEntry::Prologue => vec![
                PARAMS,
                TARGETS,
                INPUT_LENGTHS,
                TARGET_LENGTHS,
                SEQS,
                LINKS,
                STATUS,
                OFFSETS,
            ],
            CtcEntry::Alpha => vec![PARAMS, LOG_PROBS, TARGETS, SEQS, ALPHA, OFFSETS],
            CtcEntry::Beta => vec![PARAMS, LOG_PROBS, TARGETS, SEQS, BETA],
            CtcEntry::Loss => vec![PARAMS, SEQS, ALPHA, LOSSES, OFFSETS],
            CtcEntry::Norm => vec![PARAMS, LOG_PROBS, TARGETS, SEQS, ALPHA, BETA, NORM],
            CtcEntry::Grad => vec![PARAMS, LOG_PROBS, SEQS, LINKS, ALPHA, BETA, NORM, GRAD],
        }
    }
}

/// The options of one call, as [`CtcLoss`](crate::CtcLoss) configures it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CtcCall {
    pub blank: u32,
    pub zero_infinity: bool,
    pub reduction: Reduction,
}

/// Invocations of a recursion's workgroup: `RWG` in `ctc.wgsl`.
const RECURSION_WG: usize = 64;

/// The most sequences one call takes: the prologue sums the lengths of the sequences before
/// each one in a loop of its own.
const MAX_BATCH: usize = 16_384;

/// What a call will do. Made without a GPU.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CtcPlan {
    kernel: Ctc,
    time: usize,
    batch: usize,
    classes: usize,
    /// Targets padded to this many columns, or concatenated (`None`).
    columns: Option<usize>,
    total: usize,
    pub max_labels: usize,
    pub max_states: usize,
    /// The per-sequence losses' shape (reduction none): `[N]`, or `[]` for one unbatched
    /// sequence.
    loss_shape: Vec<usize>,
    /// Time steps per dispatch of the recursions, and of the gradient.
    pub recursion_steps: usize,
    pub grad_steps: usize,
}

/// The tensors of one call.
#[derive(Clone, Copy)]
pub(crate) struct CtcInputs<'t> {
    pub log_probs: &'t Tensor,
    pub targets: &'t Tensor,
    pub input_lengths: &'t Tensor,
    pub target_lengths: &'t Tensor,
}

/// What a plan knows of the tensors of one call.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CtcMetas<'t> {
    pub log_probs: Meta<'t>,
    pub targets: Meta<'t>,
    pub input_lengths: Meta<'t>,
    pub target_lengths: Meta<'t>,
}

impl<'t> CtcMetas<'t> {
    pub(crate) fn of(inputs: CtcInputs<'t>) -> Self {
        CtcMetas {
            log_probs: Meta::of(inputs.log_probs),
            targets: Meta::of(inputs.targets),
            input_lengths: Meta::of(inputs.input_lengths),
            target_lengths: Meta::of(inputs.target_lengths),
        }
    }
}

fn integer(t: Meta, what: &'static str) -> Result<()> {
    check::dtype(t, what, "u32 or i32", &[DType::U32, DType::I32])
}

/// Checks shapes, element types and options, and sizes the passes.
pub(crate) fn plan(limits: &Limits, call: &CtcCall, metas: CtcMetas) -> Result<CtcPlan> {
    let op = "ctc_loss";
    let CtcMetas {
        log_probs: lp,
        targets,
        input_lengths: lengths,
        target_lengths,
    } = metas;
    let precision = check::float(lp, "log_probs")?;
    integer(targets, "targets")?;
    integer(lengths, "input_lengths")?;
    integer(target_lengths, "target_lengths")?;
    let (time, batch, classes, batched) = match *lp.shape {
        [t, n, c] => (t, n, c, true),
        [t, c] => (t, 1, c, false),
        ref s => {
            return Err(Error::Shape(format!(
                "{op}: log_probs must be [T, N, C] or [T, C], got {s:?}"
            )));
        }
    };
    let columns = match (targets.shape, batched) {
        (&[rows, s], true) if rows == batch => Some(s),
        ([_], true) => None,
        (&[s], false) => Some(s),
        (s, _) => {
            return Err(Error::Shape(format!(
                "{op}: log_probs {:?} need targets padded to [{batch}, S] or concatenated \
                 [sum of target lengths]{}, got {s:?}",
                lp.shape,
                if batched {
                    ""
                } else {
                    " ([S] for one sequence)"
                },
            )));
        }
    };
    let lengths_fit = |m: Meta| match batched {
        true => m.shape == [batch],
        false => m.shape.is_empty() || m.shape == [1],
    };
    for (m, what) in [
        (lengths, "input_lengths"),
        (target_lengths, "target_lengths"),
    ] {
        if !lengths_fit(m) {
            return Err(Error::Shape(format!(
                "{op}: log_probs {:?} need {what} of shape {}, got {:?}",
                lp.shape,
                if batched {
                    format!("[{batch}]")
                } else {
                    "[] or [1]".into()
                },
                m.shape
            )));
        }
    }
    if call.blank as usize >= classes {
        return Err(Error::InvalidOption(format!(
            "{op}: blank must be a class of the {classes} of log_probs, got {}",
            call.blank
        )));
    }
    if batch > MAX_BATCH {
        return Err(Error::Shape(format!(
            "{op}: at most {MAX_BATCH} sequences per call, got {batch}"
        )));
    }
    // The prologue's one invocation loops over the sequences before its own, its own labels
    // and its share of the classes; the recursions over a sequence's states each step.
    // The norm pass loops over a sequence's 2L + 1 states: L is at most half the budget.
    let budget = (MAX_LOOP as usize - batch - classes.div_ceil(WG as usize)) / 2;
    let total = targets.len();
    let max_labels = match columns {
        Some(s) if s > budget => {
            return Err(Error::Shape(format!(
                "{op}: targets of at most {budget} labels per sequence with {batch} \
                 sequences of {classes} classes, got {s} columns"
            )));
        }
        Some(s) => s,
        None => total.min(budget),
    };
    let max_states = match columns {
        Some(s) => batch * (2 * s + 1),
        None => 2 * total + batch,
    };
    check::one_binding(limits, lp, "log_probs")?;
    check::one_binding(limits, targets, "targets")?;
    let per_step = (max_states as u64 * 4).max(4);
    let recursion_bytes = (time as u64).saturating_mul(per_step);
    if recursion_bytes > limits.max_binding.min(limits.max_buffer) {
        return Err(Error::TooLarge {
            what: "ctc_loss's forward and backward variables",
            bytes: recursion_bytes,
            limit_name: "max_storage_buffer_binding_size",
            limit: limits.max_binding.min(limits.max_buffer),
        });
    }
    // Status codes hold index * 4 + kind in 32 bits.
    if total >= 1 << 30 || time * batch * classes >= 1 << 31 {
        return Err(Error::Shape(format!(
            "{op}: at most 2^30 targets and 2^31 log-probabilities per call"
        )));
    }
    let lanes = (2 * max_labels + 1).div_ceil(RECURSION_WG);
    let per_group = batch * classes;
    let grid = limits.max_workgroups as usize * WG as usize;
    if per_group > grid {
        return Err(Error::Shape(format!(
            "{op}: at most {grid} log-probabilities per time step (N * C), got {per_group}"
        )));
    }
    Ok(CtcPlan {
        kernel: Ctc {
            log_probs: precision,
        },
        time,
        batch,
        classes,
        columns,
        total,
        max_labels,
        max_states,
        loss_shape: match batched {
            true => vec![batch],
            false => vec![],
        },
        // Per step: its states twice (the recursion, then the scale) and a workgroup max.
        recursion_steps: (MAX_LOOP as usize / (1 + 2 * lanes + RECURSION_WG.ilog2() as usize))
            .max(1),
        grad_steps: grid / per_group,
    })
}

/// The check that runs when a CTC loss (or its gradient) is read: the prologue set the
/// status word to `u32::MAX - (index * 4 + kind)` for the first bad length or label.
struct CtcCheck {
    status: Tensor,
    targets: Tensor,
    input_lengths: Tensor,
    target_lengths: Tensor,
    classes: u32,
    blank: u32,
    padded: bool,
}

impl CtcCheck {
    fn decode(word: u32) -> (u64, u32) {
        let code = u32::MAX - word;
        (u64::from(code >> 2), code & 3)
    }

    fn tensor(&self, kind: u32) -> &Tensor {
        match kind {
            0 => &self.input_lengths,
            1 => &self.target_lengths,
            _ => &self.targets,
        }
    }
}

impl StatusCheck for CtcCheck {
    fn word(&self) -> &Tensor {
        &self.status
    }

    fn detail(&self, word: u32) -> (&Tensor, u64, u64) {
        let (index, kind) = Self::decode(word);
        (self.tensor(kind), index * 4, 4)
    }

    fn error(&self, word: u32, detail: &[u8]) -> Error {
        let (index, kind) = Self::decode(word);
        let raw: [u8; 4] = detail
            .get(..4)
            .and_then(|b| b.try_into().ok())
            .unwrap_or([0xff; 4]);
        let value = match self.tensor(kind).dtype() {
            DType::I32 => i64::from(i32::from_le_bytes(raw)),
            _ => i64::from(u32::from_le_bytes(raw)),
        };
        match kind {
            2 if value == i64::from(self.blank) => Error::BlankLabel {
                index,
                blank: self.blank,
            },
            2 => Error::LabelOutOfRange {
                index,
                label: value,
                classes: self.classes,
            },
            _ => Error::InvalidLength {
                what: if kind == 0 {
                    "input_lengths"
                } else {
                    "target_lengths"
                },
                index,
                value,
                why: match (kind, value < 0, self.padded) {
                    (_, true, _) => "a length cannot be negative",
                    (0, false, _) => "longer than the time steps of log_probs",
                    (_, false, true) => "longer than the padded targets' columns",
                    (_, false, false) => {
                        "past the end of the concatenated targets (or over a call's labels \
                         per sequence)"
                    }
                },
            },
        }
    }
}

impl CtcPlan {
    fn params(&self, call: &CtcCall, t_begin: usize, t_end: usize) -> CtcParams {
        CtcParams {
            time: self.time as u32,
            batch: self.batch as u32,
            classes: self.classes as u32,
            blank: call.blank,
            padded: u32::from(self.columns.is_some()),
            columns: self.columns.unwrap_or(0) as u32,
            total: self.total as u32,
            max_labels: self.max_labels as u32,
            max_states: self.max_states as u32,
            t_begin: t_begin as u32,
            t_end: t_end as u32,
            zero_infinity: u32::from(call.zero_infinity),
            per_length: u32::from(call.reduction == Reduction::Mean),
            grad_scale: match call.reduction {
                Reduction::Mean => 1.0 / self.batch as f32,
                _ => 1.0,
            },
            neg_inf: f32::NEG_INFINITY,
        }
    }

    /// `(first, last + 1)` time steps of each dispatch of `steps` steps.
    fn ranges(&self, steps: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
        (0..self.time)
            .step_by(steps)
            .map(move |t| (t, (t + steps).min(self.time)))
    }

    /// Records the call: the prologue, the forward recursion, the losses and their
    /// reduction, and with `grad` the backward recursion and the gradient (rounded into a
    /// half `grad` by a last pass). Returns the loss, guarded by the lengths' and labels'
    /// check.
    pub(crate) fn record(
        &self,
        rec: &mut Recorder<'_, '_>,
        call: &CtcCall,
        inputs: CtcInputs,
        grad: Option<&Tensor>,
    ) -> Result<Tensor> {
        let dev = rec.device();
        let CtcInputs {
            log_probs,
            targets,
            input_lengths,
            target_lengths,
        } = inputs;
        check::same_device(
            dev,
            [log_probs, targets, input_lengths, target_lengths]
                .into_iter()
                .chain(grad),
        )?;
        let (n, t) = (self.batch, self.time);
        let scratch = |shape: &[usize], dtype, what| Tensor::alloc(dev, shape, dtype, what);
        let seqs = scratch(&[4 * n], DType::U32, "ctc sequences")?;
        let links = scratch(&[n * self.classes + self.total], DType::U32, "ctc links")?;
        let alpha = scratch(&[t * self.max_states], DType::F32, "ctc alpha")?;
        let status = scratch(&[1], DType::U32, "ctc status")?;
        let offsets = scratch(&[2 * n], DType::F32, "ctc scales")?;
        rec.clear(status.whole());
        let shape = match call.reduction {
            Reduction::None => self.loss_shape.clone(),
            _ => vec![n],
        };
        let losses = scratch(&shape, DType::F32, "loss")?;
        // The backward recursion, its per-step likelihoods and the f32 gradient the kernel
        // writes (two invocations must not both write halves of a word): with `grad` only.
        let with_grad = |shape: &[usize], what| grad.map(|_| scratch(shape, DType::F32, what));
        let beta = with_grad(&[t * self.max_states], "ctc beta").transpose()?;
        let norm = with_grad(&[t * n], "ctc norm").transpose()?;
        let f32_grad = match grad {
            Some(g) if g.dtype() != DType::F32 => Some(scratch(g.shape(), DType::F32, "gradient")?),
            _ => None,
        };
        let kernel_grad = f32_grad.as_ref().or(grad);
        // Every binding is a whole tensor: each pass binds those of its layout.
        let mut slots = vec![
            (LOG_PROBS, log_probs.whole()),
            (TARGETS, targets.whole()),
            (INPUT_LENGTHS, input_lengths.whole()),
            (TARGET_LENGTHS, target_lengths.whole()),
            (SEQS, seqs.whole()),
            (LINKS, links.whole()),
            (ALPHA, alpha.whole()),
            (LOSSES, losses.whole()),
            (STATUS, status.whole()),
            (OFFSETS, offsets.whole()),
        ];
        let optional = [(BETA, &beta), (NORM, &norm)];
        slots.extend(
            optional
                .iter()
                .filter_map(|(d, t)| Some((*d, t.as_ref()?.whole()))),
        );
        slots.extend(kernel_grad.map(|g| (GRAD, g.whole())));
        let dispatch = |rec: &mut Recorder, entry, (begin, end): (usize, usize), groups| {
            let p = rec.uniform(&self.params(call, begin, end));
            let mut bindings = vec![(PARAMS, (&p).into())];
            let layout = self.kernel.layout(entry);
            bindings.extend(slots.iter().filter(|(d, _)| layout.contains(d)).copied());
            rec.dispatch(
                self.kernel,
                entry,
                CtcOverrides::default(),
                &bindings,
                groups,
            )
        };
        let groups = |items: usize| items.div_ceil(WG as usize) as u32;
        dispatch(rec, CtcEntry::Prologue, (0, t), n as u32)?;
        for steps in self.ranges(self.recursion_steps) {
            dispatch(rec, CtcEntry::Alpha, steps, n as u32)?;
        }
        dispatch(rec, CtcEntry::Loss, (0, t), groups(n))?;
        if let Some(grad) = grad {
            for steps in self.ranges(self.recursion_steps) {
                dispatch(rec, CtcEntry::Beta, steps, n as u32)?;
            }
            for steps @ (begin, end) in self.ranges(self.grad_steps) {
                dispatch(rec, CtcEntry::Norm, steps, groups((end - begin) * n))?;
            }
            for steps @ (begin, end) in self.ranges(self.grad_steps) {
                let elements = (end - begin) * n * self.classes;
                dispatch(rec, CtcEntry::Grad, steps, groups(elements))?;
            }
            if let Some(f32_grad) = &f32_grad {
                convert::record(rec, f32_grad, grad)?;
            }
        }
        let loss = match call.reduction {
            Reduction::None => losses,
            mean_or_sum => {
                let divisor = if mean_or_sum == Reduction::Mean {
                    n as f32
                } else {
                    1.0
                };
                finalize::record(rec, losses.whole(), n as u32, Denominator::Fixed(divisor))?
            }
        };
        Ok(loss.with_check(Arc::new(CtcCheck {
            status,
            targets: targets.clone(),
            input_lengths: input_lengths.clone(),
            target_lengths: target_lengths.clone(),
            classes: self.classes as u32,
            blank: call.blank,
            padded: self.columns.is_some(),
        })))
    }
}
