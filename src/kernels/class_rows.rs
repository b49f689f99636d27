//! `cross_entropy.wgsl`: losses over rows of classes — cross-entropy on logits (labels or
//! probability targets) and the negative log-likelihood on log-probabilities.

use std::sync::Arc;

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::gpu::{
    BindingDecl, DeviceType, Kernel, Limits, Recorder, Slot, entry_points, overrides, uniform,
};
use crate::kernels::check::{self, Meta};
use crate::kernels::convert;
use crate::kernels::finalize::{self, Denominator};
use crate::kernels::plan::{self, Chunks, Tiling};
use crate::kernels::wgsl::{self, Part, Precision};
use crate::reduction::Reduction;
use crate::tensor::{StatusCheck, Tensor};

/// Where the gradient's scale comes from, if a gradient is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum GradScale {
    /// No gradient.
    None,
    /// The uniform's `grad_scale`: 1 / a divisor known on the host.
    Known,
    /// 1 / `scale_in[0]`, the weights of the rows that count, summed by an earlier pass.
    FromBuffer,
}

/// One module variant: how logits and probability targets are stored, and which optional
/// bindings exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ClassRows {
    pub logits: Precision,
    /// Probability targets (the `ce_probs_*` entry points); f32 where labels are used.
    pub targets: Precision,
    pub weighted: bool,
    /// The per-row loss is written (reduction none).
    pub out: bool,
    pub grad: GradScale,
}

entry_points! {
    pub(crate) enum ClassEntry {
        /// Labels, one workgroup per row (many classes).
        CeRows = "ce_rows",
        /// Labels, one invocation per row (few classes, or a software adapter).
        CeSmall = "ce_small",
        /// Probability targets, one workgroup per row.
        CeProbsRows = "ce_probs_rows",
        /// Probability targets, one invocation per row.
        CeProbsSmall = "ce_probs_small",
        /// Log-probabilities and labels, one invocation per row.
        NllRows = "nll_rows",
        /// The weights of the rows that count, summed: a weighted mean's denominator.
        CeDenominator = "ce_denominator",
    }
}

overrides! {
    pub(crate) struct ClassOverrides {
        /// Rows labelled `ignore_index` count for nothing.
        "HAS_IGNORE" => has_ignore,
        /// Label smoothing is on.
        "SMOOTHED" => smoothed,
        /// One workgroup in all: it writes the result itself.
        "FINAL" => final_result,
        /// With `final_result`: divide by the rows' summed weights.
        "MEAN_BY_WEIGHT" => mean_by_weight,
        /// A row per invocation: each invocation writes its sums of a tile, no workgroup
        /// reduction per tile (a software adapter runs a barrier in a loop slowly).
        "LANE_PARTIALS" => lane_partials,
    }
}

uniform! {
    pub(crate) struct ClassParams as "ClassParams" {
        rows: u32,
        classes: u32,
        inner: u32,
        ignore_index: i32,
        smoothing: f32,
        grad_scale: f32,
        partial_base: u32,
        partial_count: u32,
        row_offset: u32,
        divisor: f32,
        span: u32,
        tiles: u32,
    }
}

const PARAMS: BindingDecl = BindingDecl::uniform(0, "params");
const LOGITS: BindingDecl = BindingDecl::read(1, "logits_data");
const LABELS: BindingDecl = BindingDecl::read(2, "labels");
const CLASS_WEIGHT: BindingDecl = BindingDecl::read(3, "class_weight");
const SCALE_IN: BindingDecl = BindingDecl::read(4, "scale_in");
const PARTIALS: BindingDecl = BindingDecl::read_write(5, "partials");
const OUT: BindingDecl = BindingDecl::read_write(6, "out");
const GRAD: BindingDecl = BindingDecl::read_write(7, "grad");
const STATUS: BindingDecl = BindingDecl::read_write(8, "status");
const TARGETS: BindingDecl = BindingDecl::read(9, "targets_data");

impl ClassRows {
    /// Every variant the crate builds: probability targets in f32 or the logits' precision.
    pub(crate) fn all() -> Vec<ClassRows> {
        let mut all = Vec::new();
        for logits in Precision::ALL {
            let targets = [Precision::F32, logits];
            for targets in targets
                .into_iter()
                .take(if logits == Precision::F32 { 1 } else { 2 })
            {
                for weighted in [false, true] {
                    for out in [false, true] {
                        for grad in [GradScale::None, GradScale::Known, GradScale::FromBuffer] {
                            all.push(ClassRows {
                                logits,
                                targets,
                                weighted,
                                out,
                                grad,
                            });
                        }
                    }
                }
            }
        }
        all
    }
}

impl Kernel for ClassRows {
    type Entry = ClassEntry;
    type Overrides = ClassOverrides;
    type Params = ClassParams;
    const FAMILY: &'static str = "class_rows";

    fn code(self) -> u32 {
        self.logits.code()
            | self.targets.code() << 2
            | u32::from(self.weighted) << 4
            | u32::from(self.out) << 5
            | (self.grad as u32) << 6
    }

    fn name(self) -> String {
        let mut name = format!(
            "class_rows_logits{}_targets{}",
            self.logits.name(),
            self.targets.name()
        );
        for (on, tag) in [(self.weighted, "_weighted"), (self.out, "_out")] {
            if on {
                name += tag;
            }
        }
        name += match self.grad {
            GradScale::None => "",
            GradScale::Known => "_grad",
            GradScale::FromBuffer => "_grad_scale_in",
        };
        name
    }

    fn parts(self, subgroups: bool) -> Vec<Part> {
        let mut parts = vec![
            wgsl::reduce(subgroups),
            wgsl::whole(wgsl::LOG1P),
            wgsl::whole(wgsl::SOFTMAX_STATS),
            wgsl::named(self.logits.scalar_input(), "logits", LOGITS.binding),
            wgsl::named(self.targets.scalar_input(), "targets", TARGETS.binding),
            wgsl::whole(match self.weighted {
                true => wgsl::CLASS_WEIGHT,
                false => wgsl::CLASS_WEIGHT_NONE,
            }),
            wgsl::whole(match self.out {
                true => wgsl::ROWS_OUT,
                false => wgsl::ROWS_NO_OUT,
            }),
        ];
        let grad: &[wgsl::File] = match self.grad {
            GradScale::None => &[wgsl::ROWS_NO_GRAD],
            GradScale::Known => &[wgsl::ROWS_GRAD, wgsl::ROWS_GRAD_SCALE_PARAMS],
            GradScale::FromBuffer => &[wgsl::ROWS_GRAD, wgsl::ROWS_GRAD_SCALE_BUFFER],
        };
        parts.extend(grad.iter().copied().map(wgsl::whole));
        parts.push(wgsl::whole(wgsl::CROSS_ENTROPY));
        parts
    }

    fn layout(self, entry: ClassEntry) -> Vec<BindingDecl> {
        use ClassEntry::*;
        let labels = matches!(entry, CeRows | CeSmall | NllRows | CeDenominator);
        let writes = entry != CeDenominator;
        let optional = [
            (entry != CeDenominator, LOGITS),
            (labels, LABELS),
            (self.weighted, CLASS_WEIGHT),
            (writes && self.grad == GradScale::FromBuffer, SCALE_IN),
            (writes && self.out, OUT),
            (writes && self.grad != GradScale::None, GRAD),
            (labels, STATUS),
            (!labels, TARGETS),
        ];
        let mut layout = vec![PARAMS, PARTIALS];
        layout.extend(optional.into_iter().filter(|o| o.0).map(|o| o.1));
        layout
    }
}

/// What the rows hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RowKind {
    /// Logits: the loss takes their log-softmax (cross-entropy).
    Logits,
    /// Log-probabilities already (NLL).
    LogProbs,
}

/// One call of cross-entropy or NLL, as its loss configures it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClassCall<'a> {
    pub op: &'static str,
    pub kind: RowKind,
    pub weight: Option<&'a Tensor>,
    pub ignore_index: i32,
    pub smoothing: f32,
    pub reduction: Reduction,
}

/// Below this many classes a row goes to one invocation, from there to a whole workgroup.
const SMALL_CLASSES: usize = 64;

/// Whether each row goes to one invocation (else to a whole workgroup), reading it `passes`
/// times. A GPU wants whole workgroups on long rows, for coalesced reads. A software adapter
/// pays for every barrier of the workgroup reductions (a few per row): one invocation per row
/// measured 9x faster at [16384 x 1024] and 1.2x at [4096 x 32000] on lavapipe, once there are
/// rows enough to fill its SIMD lanes, and while a row fits the adapter's loop budget.
fn row_per_invocation(limits: &Limits, rows: usize, classes: usize, passes: usize) -> bool {
    let cpu = limits.device_type == DeviceType::Cpu;
    classes < SMALL_CLASSES
        || (cpu && rows >= 256 && (classes * passes) as u64 <= plan::MAX_LOOP / 2)
}

/// Logits `[N, C, d…]` seen as `rows = N·d…` rows of `classes` values `inner = d…` apart.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RowShape {
    pub rows: usize,
    pub classes: usize,
    pub inner: usize,
    /// The shape of the labels and of the per-row loss.
    pub row_shape: Vec<usize>,
}

fn row_shape(op: &str, logits: Meta) -> Result<RowShape> {
    let s = logits.shape;
    match s.len() {
        0 => Err(Error::Shape(format!(
            "{op}: logits must have a class dimension, got shape []"
        ))),
        1 => Ok(RowShape {
            rows: 1,
            classes: s[0],
            inner: 1,
            row_shape: vec![],
        }),
        _ => {
            let inner: usize = s[2..].iter().product();
            let mut row_shape = vec![s[0]];
            row_shape.extend(&s[2..]);
            Ok(RowShape {
                rows: s[0] * inner,
                classes: s[1],
                inner,
                row_shape,
            })
        }
    }
}

/// The rows one dispatch covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Window {
    /// Samples `first .. first + len`, bound where they lie.
    Samples { first: usize, len: usize },
    /// Positions `first .. first + len` of `sample`, a sample whose logits one binding cannot
    /// hold: gathered into scratch a class at a time, the per-row losses and the gradient
    /// copied back.
    Positions {
        sample: usize,
        first: usize,
        len: usize,
    },
}

impl Window {
    /// The window's first row in the whole tensor, and its rows (`inner` rows to a sample).
    fn rows(self, inner: usize) -> (usize, usize) {
        match self {
            Window::Samples { first, len } => (first * inner, len * inner),
            Window::Positions { sample, first, len } => (sample * inner + first, len),
        }
    }
}

/// One pass over the windows: its entry point, constants, tiles, and workgroups per window.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Pass {
    pub entry: ClassEntry,
    pub overrides: ClassOverrides,
    /// Tiles of rows, whose partial sums `finalize` adds up.
    pub tiling: Tiling,
    /// Tiles in all.
    pub tiles: u32,
    /// Partial sums (of each kind: losses, denominators): one per tile, or one per
    /// invocation of each tile (`lane_partials`).
    pub partials: u32,
    pub groups: Vec<u32>,
}

/// How an entry point goes over rows, for [`Tiling`]: the invocations that share a row
/// (`WG` or one) and the loop iterations a row costs each of them.
fn row_work(entry: ClassEntry, classes: usize, passes: usize) -> (u64, u64) {
    let (wg, passes) = (u64::from(plan::WG), passes as u64);
    match entry {
        ClassEntry::NllRows | ClassEntry::CeDenominator => (wg, 1),
        ClassEntry::CeSmall | ClassEntry::CeProbsSmall => (wg, classes as u64 * passes),
        // A whole workgroup per row: its classes, and the row's two workgroup reductions.
        ClassEntry::CeRows | ClassEntry::CeProbsRows => (
            1,
            (classes as u64).div_ceil(wg) * passes + 2 * plan::REDUCE_LOOPS,
        ),
    }
}

/// Tiles of the rows for `entry`, each starting at a sample that a chunk may start at when the
/// logits are split (`fit` samples to a binding, `inner` rows to a sample).
fn row_tiling(
    limits: &Limits,
    entry: ClassEntry,
    shape: &RowShape,
    passes: usize,
    fit: u64,
) -> Tiling {
    let (lanes, cost) = row_work(entry, shape.classes, passes);
    let inner = shape.inner as u64;
    let bytes = shape.classes as u64 * 4;
    let mut tiling = Tiling::new(limits, shape.rows as u64, lanes, cost, bytes, fit * inner);
    while tiling.span > 1 && samples_per_tile_start(tiling, inner) > fit {
        tiling.span /= 2;
    }
    tiling
}

/// The fewest samples after which a tile starts again: `span / gcd(span, inner)`.
fn samples_per_tile_start(tiling: Tiling, inner: u64) -> u64 {
    let common = 1u64 << tiling.span.trailing_zeros().min(inner.trailing_zeros());
    tiling.span / common
}

impl Pass {
    fn new(
        limits: &Limits,
        entry: ClassEntry,
        mut overrides: ClassOverrides,
        tiling: Tiling,
        (lanes, cost): (u64, u64),
        chunk_rows: &[usize],
    ) -> Pass {
        let groups = chunk_rows
            .iter()
            .map(|&rows| tiling.workgroups(limits, tiling.tiles(rows as u64), lanes, cost))
            .collect();
        let tiles = chunk_rows
            .iter()
            .map(|&r| tiling.tiles(r as u64))
            .sum::<u64>() as u32;
        // Where a row takes one invocation; the losses' and denominators' partial sums.
        overrides.lane_partials = lanes > 1 && plan::lane_partials(limits, tiles, 2);
        Pass {
            entry,
            overrides,
            tiling,
            tiles,
            partials: plan::partial_slots(tiles, overrides.lane_partials),
            groups,
        }
    }
}

/// What a call will do. Made without a GPU.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ClassPlan {
    pub shape: RowShape,
    pub kernel: ClassRows,
    /// Probability targets (else labels).
    pub probs: bool,
    /// Chunks of whole samples whose logits fit one binding, or else windows of the
    /// positions of each sample.
    pub windows: Vec<Window>,
    /// The pass that sums a weighted mean's denominator first, where the gradient needs it.
    pub denominator: Option<Pass>,
    pub main: Pass,
    /// How `finalize` divides, unless the main pass writes the result itself.
    pub finalize: Denominator,
    ignore_index: i32,
    smoothing: f32,
    grad_scale: f32,
    divisor: f32,
}

/// Whether `target` holds class probabilities (else labels), checked against the logits.
fn probability_targets(
    call: &ClassCall,
    logits: Meta,
    target: Meta,
    lp: Precision,
    shape: &RowShape,
) -> Result<bool> {
    let op = call.op;
    match target.dtype {
        DType::F32 | DType::F16 | DType::BF16 if call.kind == RowKind::Logits => {
            check::same_or_f32(target, lp, "probability targets")?;
            if target.shape != logits.shape {
                return Err(Error::Shape(format!(
                    "{op}: a float target holds class probabilities and must have the \
                     logits' shape {:?}, got {:?} (class labels must be u32 or i32)",
                    logits.shape, target.shape
                )));
            }
            Ok(true)
        }
        DType::U32 | DType::I32 => {
            if target.shape != shape.row_shape.as_slice() {
                return Err(Error::Shape(format!(
                    "{op}: logits {:?} need labels of shape {:?}, got {:?}",
                    logits.shape, shape.row_shape, target.shape
                )));
            }
            Ok(false)
        }
        got => Err(Error::DType {
            what: "labels",
            expected: match call.kind {
                RowKind::Logits => "u32 or i32 (labels), or floats (probabilities)",
                RowKind::LogProbs => "u32 or i32",
            },
            got,
        }),
    }
}

/// Checks label smoothing and the class weights.
fn check_options(limits: &Limits, call: &ClassCall, shape: &RowShape) -> Result<()> {
    let op = call.op;
    let eps = call.smoothing;
    let valid = (0.0..=1.0).contains(&eps);
    check::option(op, "label_smoothing", eps, valid, "lie in [0, 1]")?;
    if let Some(w) = call.weight.map(Meta::of) {
        check::dtype(w, "weight", "f32", &[DType::F32])?;
        if w.shape != [shape.classes] {
            return Err(Error::Shape(format!(
                "{op}: class weights must have shape [{}], got {:?}",
                shape.classes, w.shape
            )));
        }
        check::one_binding(limits, w, "weight")?;
    }
    Ok(())
}

/// Chunks of whole samples, `(first sample, samples)`. Every tensor bound in chunks must
/// start aligned: logits, probability targets, the f32 gradient (C·d values a sample),
/// labels and per-row losses (d a sample).
/// Samples whose logits one binding holds (as f32, the widest).
fn samples_per_binding(limits: &Limits, shape: &RowShape) -> u64 {
    limits.max_binding / ((shape.classes * shape.inner) as u64 * 4).max(1)
}

/// Copies of a class's positions into scratch a call may record: a million, a few hundred
/// MiB of commands.
const MAX_COPIES: u64 = 1 << 20;

/// Positions of a sample that one window gathers, where one sample's logits (as f32, the
/// gradient's width) are larger than one binding: as many as the binding holds with all their
/// classes. Copies move 4-byte words, so half-precision logits or targets need an even number
/// of positions in a sample and in a window.
fn positions_per_window(
    limits: &Limits,
    logits: Meta,
    target: Meta,
    probs: bool,
    shape: &RowShape,
) -> Result<usize> {
    let (classes, inner) = (shape.classes as u64, shape.inner as u64);
    let halves = logits.dtype.size() == 2 || (probs && target.dtype.size() == 2);
    let too_large = |what, bytes| Error::TooLarge {
        what,
        bytes,
        limit_name: "max_storage_buffer_binding_size",
        limit: limits.max_binding,
    };
    let sample = classes * inner * 4;
    if halves && inner % 2 == 1 {
        return Err(too_large(
            "one sample of half-precision values at an odd number of positions",
            sample,
        ));
    }
    let fit = (limits.max_binding / (classes * 4)).min(inner);
    let positions = if halves { fit & !1 } else { fit };
    if positions == 0 {
        // One row of classes (two for halves), which no window can split.
        let rows = 1 + u64::from(halves);
        return Err(too_large("logits", rows * classes * 4));
    }
    if inner.div_ceil(positions) * classes > MAX_COPIES {
        return Err(too_large(
            "one sample (split into over a million copies)",
            sample,
        ));
    }
    Ok(positions as usize)
}

/// Windows of `positions` positions over each sample.
fn position_windows(shape: &RowShape, positions: usize) -> Vec<Window> {
    let inner = shape.inner;
    (0..shape.rows / inner)
        .flat_map(|sample| {
            (0..inner)
                .step_by(positions)
                .map(move |first| Window::Positions {
                    sample,
                    first,
                    len: positions.min(inner - first),
                })
        })
        .collect()
}

/// Chunks of samples whose logits fit one binding, each starting where a binding may start and
/// where a tile of every pass (`tilings`) starts.
fn sample_chunks(
    limits: &Limits,
    logits: Meta,
    shape: &RowShape,
    tilings: &[Tiling],
) -> Result<Vec<(usize, usize)>> {
    let (values, row) = ((shape.classes * shape.inner) as u64, shape.inner as u64);
    let per_sample = [values * logits.dtype.size() as u64, values * 4, row * 4];
    let align = tilings
        .iter()
        .map(|&t| samples_per_tile_start(t, row) as usize)
        .fold(plan::align_units(limits, &per_sample), plan::lcm);
    let chunks = Chunks::plan(
        limits,
        shape.rows / shape.inner,
        values * 4,
        align,
        "logits",
    )?;
    Ok(chunks.iter().collect())
}

/// Plans `call` on `logits` against `target` (labels or probabilities).
pub(crate) fn plan(
    limits: &Limits,
    call: &ClassCall,
    logits: Meta,
    target: Meta,
    grad: bool,
) -> Result<ClassPlan> {
    let op = call.op;
    let lp = check::float(logits, "logits")?;
    let shape = row_shape(op, logits)?;
    let probs = probability_targets(call, logits, target, lp, &shape)?;
    check_options(limits, call, &shape)?;
    let eps = call.smoothing;
    let weighted = call.weight.is_some();
    let has_ignore = !probs && (target.dtype == DType::I32 || call.ignore_index >= 0);
    let smoothed = eps > 0.0;
    let (rows, classes, inner) = (shape.rows, shape.classes, shape.inner);
    let passes = 1 + grad as usize;
    let small = row_per_invocation(limits, rows, classes, passes);
    let entry = match (call.kind, probs, small) {
        (RowKind::LogProbs, _, _) => ClassEntry::NllRows,
        (RowKind::Logits, false, true) => ClassEntry::CeSmall,
        (RowKind::Logits, true, true) => ClassEntry::CeProbsSmall,
        (RowKind::Logits, false, false) => ClassEntry::CeRows,
        (RowKind::Logits, true, false) => ClassEntry::CeProbsRows,
    };
    let reduction = call.reduction;
    // The gradient of a mean over labels divides by the sum of the counted rows' weights,
    // known only after a pass over the labels; elsewhere by a known number.
    let weighted_mean = reduction == Reduction::Mean && !probs && (has_ignore || weighted);
    let grad_scale = match (grad, grad && weighted_mean) {
        (false, _) => GradScale::None,
        (true, false) => GradScale::Known,
        (true, true) => GradScale::FromBuffer,
    };
    let base = ClassOverrides {
        has_ignore,
        smoothed,
        ..ClassOverrides::default()
    };
    let fit = samples_per_binding(limits, &shape);
    // A sample larger than one binding is split along its positions.
    let split = match fit {
        0 => Some(positions_per_window(limits, logits, target, probs, &shape)?),
        _ => None,
    };
    let tiling = |entry, passes| match split {
        Some(positions) => {
            let (lanes, cost) = row_work(entry, classes, passes);
            let bytes = classes as u64 * 4;
            Tiling::new(limits, rows as u64, lanes, cost, bytes, positions as u64)
        }
        None => row_tiling(limits, entry, &shape, passes, fit),
    };
    let main_tiling = tiling(entry, passes);
    let den_tiling =
        (grad_scale == GradScale::FromBuffer).then(|| tiling(ClassEntry::CeDenominator, 1));
    let windows = match split {
        Some(positions) => position_windows(&shape, positions),
        None => {
            let tilings: Vec<Tiling> = [Some(main_tiling), den_tiling]
                .into_iter()
                .flatten()
                .collect();
            sample_chunks(limits, logits, &shape, &tilings)?
                .into_iter()
                .map(|(first, len)| Window::Samples { first, len })
                .collect()
        }
    };
    let window_rows: Vec<usize> = windows.iter().map(|w| w.rows(inner).1).collect();
    let denominator = den_tiling.map(|tiling| {
        let entry = ClassEntry::CeDenominator;
        let work = row_work(entry, classes, 1);
        Pass::new(limits, entry, base, tiling, work, &window_rows)
    });
    let mut main = Pass::new(
        limits,
        entry,
        base,
        main_tiling,
        row_work(entry, classes, passes),
        &window_rows,
    );
    // One tile in all: its workgroup writes the result itself, no second pass.
    let one_tile = main.tiles == 1 && reduction != Reduction::None;
    main.overrides.final_result = one_tile;
    main.overrides.mean_by_weight = one_tile && reduction == Reduction::Mean && !probs;
    Ok(ClassPlan {
        kernel: ClassRows {
            logits: lp,
            targets: match probs {
                true => Precision::of(target.dtype).unwrap_or(lp),
                false => Precision::F32,
            },
            weighted,
            out: reduction == Reduction::None,
            grad: grad_scale,
        },
        probs,
        windows,
        denominator,
        main,
        finalize: match reduction {
            Reduction::Mean if probs => Denominator::Fixed(rows as f32),
            Reduction::Mean => Denominator::Partials,
            _ => Denominator::Fixed(1.0),
        },
        ignore_index: call.ignore_index,
        smoothing: eps,
        grad_scale: match reduction {
            Reduction::Mean => 1.0 / rows as f32,
            _ => 1.0,
        },
        divisor: match reduction {
            Reduction::Mean if probs => rows as f32,
            _ => 1.0,
        },
        shape,
    })
}

/// The check that runs when a loss over labels is read: the kernel flagged a label outside
/// `0..classes` by setting its status word to `u32::MAX` minus the lowest bad row.
pub(crate) struct LabelCheck {
    pub status: Tensor,
    pub labels: Tensor,
    pub classes: u32,
}

impl StatusCheck for LabelCheck {
    fn word(&self) -> &Tensor {
        &self.status
    }

    fn detail(&self, word: u32) -> (&Tensor, u64, u64) {
        (&self.labels, u64::from(u32::MAX - word) * 4, 4)
    }

    fn error(&self, word: u32, detail: &[u8]) -> Error {
        let raw: [u8; 4] = detail
            .get(..4)
            .and_then(|b| b.try_into().ok())
            .unwrap_or([0xff; 4]);
        let label = match self.labels.dtype() {
            DType::I32 => i32::from_le_bytes(raw) as i64,
            _ => u32::from_le_bytes(raw) as i64,
        };
        Error::LabelOutOfRange {
            index: u64::from(u32::MAX - word),
            label,
            classes: self.classes,
        }
    }
}

/// The bindings every pass of a call shares: class weights, and labels with their status.
struct Shared<'t> {
    weight: Option<&'t Tensor>,
    status: Option<&'t Tensor>,
}

impl<'t> Shared<'t> {
    /// With a window's `labels`.
    fn bindings(&self, labels: Option<Slot<'t>>) -> Vec<(BindingDecl, Slot<'t>)> {
        let mut b = Vec::new();
        if let Some(w) = self.weight {
            b.push((CLASS_WEIGHT, w.whole()));
        }
        if let (Some(labels), Some(status)) = (labels, self.status) {
            b.push((LABELS, labels));
            b.push((STATUS, status.whole()));
        }
        b
    }
}

/// Samples `first .. first + len` of a tensor holding `unit` elements per sample.
fn span(t: &Tensor, unit: usize, first: usize, len: usize) -> Slot<'_> {
    t.slot(first * unit, len * unit)
}

/// The tensors of one call: logits, labels or probability targets, and where there are, the
/// per-row losses and the gradient the kernels write (f32).
struct CallTensors<'t> {
    logits: &'t Tensor,
    target: &'t Tensor,
    out: Option<&'t Tensor>,
    grad: Option<&'t Tensor>,
}

/// Scratch for windows of positions ([`Window::Positions`]): a window's logits, probability
/// targets or labels gathered, its per-row losses and f32 gradient before they are copied
/// back. Each window overwrites the last; the encoder keeps the copies and passes in order.
struct Gathered {
    logits: Tensor,
    targets: Option<Tensor>,
    labels: Option<Tensor>,
    out: Option<Tensor>,
    grad: Option<Tensor>,
}

impl Gathered {
    fn alloc(t: &CallTensors, probs: bool, classes: usize, positions: usize) -> Result<Gathered> {
        let dev = t.logits.device();
        let values = [classes * positions];
        let scratch = |on: bool, shape: &[usize], dtype: DType, what| {
            on.then(|| Tensor::alloc(dev, shape, dtype, what))
                .transpose()
        };
        Ok(Gathered {
            logits: Tensor::alloc(dev, &values, t.logits.dtype(), "gathered logits")?,
            targets: scratch(probs, &values, t.target.dtype(), "gathered targets")?,
            labels: scratch(!probs, &[positions], t.target.dtype(), "gathered labels")?,
            out: scratch(t.out.is_some(), &[positions], DType::F32, "gathered losses")?,
            grad: scratch(t.grad.is_some(), &values, DType::F32, "gathered gradient")?,
        })
    }
}

/// What one window binds: ranges of the call's tensors, or the gathered scratch.
struct WindowSlots<'t> {
    logits: Slot<'t>,
    labels: Option<Slot<'t>>,
    targets: Option<Slot<'t>>,
    out: Option<Slot<'t>>,
    grad: Option<Slot<'t>>,
}

impl ClassPlan {
    /// The uniform of `pass` over `window`, whose tiles' partial sums go to the slots from
    /// `partial_base` on.
    fn params(&self, pass: &Pass, window: Window, partial_base: u64) -> ClassParams {
        let s = &self.shape;
        let (first_row, rows) = window.rows(s.inner);
        // Gathered positions lie `len` apart, one sample's classes.
        let inner = match window {
            Window::Samples { .. } => s.inner,
            Window::Positions { len, .. } => len,
        };
        ClassParams {
            rows: rows as u32,
            classes: s.classes as u32,
            inner: inner as u32,
            ignore_index: self.ignore_index,
            smoothing: self.smoothing,
            grad_scale: self.grad_scale,
            partial_base: partial_base as u32,
            partial_count: pass.partials,
            row_offset: first_row as u32,
            span: pass.tiling.span as u32,
            tiles: pass.tiling.tiles(rows as u64) as u32,
            divisor: self.divisor,
        }
    }

    /// Each window with its uniform for `pass` and workgroups: tiles are numbered on from
    /// window to window.
    fn windows<'p>(
        &'p self,
        pass: &'p Pass,
    ) -> impl Iterator<Item = (Window, ClassParams, u32)> + 'p {
        let mut base = 0;
        self.windows
            .iter()
            .zip(&pass.groups)
            .map(move |(&window, &groups)| {
                let params = self.params(pass, window, base);
                base += u64::from(params.tiles);
                (window, params, groups)
            })
    }

    /// What `window` binds: where its samples lie, or its positions gathered into
    /// `gathered` by copies recorded here (only the labels where `labels_only`).
    fn window_slots<'t>(
        &self,
        rec: &mut Recorder<'_, '_>,
        window: Window,
        t: &CallTensors<'t>,
        gathered: Option<&'t Gathered>,
        labels_only: bool,
    ) -> Result<WindowSlots<'t>> {
        let (classes, inner) = (self.shape.classes, self.shape.inner);
        let values = classes * inner;
        let (first_row, rows) = window.rows(inner);
        let (g, sample, first) = match (window, gathered) {
            (Window::Samples { first, len }, _) => {
                return Ok(WindowSlots {
                    logits: span(t.logits, values, first, len),
                    labels: (!self.probs).then(|| span(t.target, inner, first, len)),
                    targets: self.probs.then(|| span(t.target, values, first, len)),
                    out: t.out.map(|o| span(o, inner, first, len)),
                    grad: t.grad.map(|g| span(g, values, first, len)),
                });
            }
            (Window::Positions { sample, first, .. }, Some(g)) => (g, sample, first),
            (Window::Positions { .. }, None) => {
                return Err(Error::Gpu(
                    "internal error: a window of positions without scratch".into(),
                ));
            }
        };
        let at = |c: usize| self.class_start(sample, first, c);
        if !labels_only {
            for c in 0..classes {
                rec.copy(t.logits.range(at(c), rows), g.logits.range(c * rows, rows));
                if let Some(targets) = &g.targets {
                    rec.copy(t.target.range(at(c), rows), targets.range(c * rows, rows));
                }
            }
        }
        if let Some(labels) = &g.labels {
            rec.copy(t.target.range(first_row, rows), labels.range(0, rows));
        }
        Ok(WindowSlots {
            logits: g.logits.slot(0, classes * rows),
            labels: g.labels.as_ref().map(|l| l.slot(0, rows)),
            targets: g.targets.as_ref().map(|x| x.slot(0, classes * rows)),
            out: g.out.as_ref().map(|o| o.slot(0, rows)),
            grad: g.grad.as_ref().map(|x| x.slot(0, classes * rows)),
        })
    }

    /// The element of class `c` of `sample` at position `first`.
    fn class_start(&self, sample: usize, first: usize, c: usize) -> usize {
        (sample * self.shape.classes + c) * self.shape.inner + first
    }

    /// Copies a window of positions' per-row losses and gradient back where they belong.
    fn scatter(
        &self,
        rec: &mut Recorder<'_, '_>,
        window: Window,
        t: &CallTensors,
        g: Option<&Gathered>,
    ) {
        let (Window::Positions { sample, first, .. }, Some(g)) = (window, g) else {
            return;
        };
        let (first_row, rows) = window.rows(self.shape.inner);
        if let (Some(out), Some(from)) = (t.out, &g.out) {
            rec.copy(from.range(0, rows), out.range(first_row, rows));
        }
        if let (Some(grad), Some(from)) = (t.grad, &g.grad) {
            for c in 0..self.shape.classes {
                let to = self.class_start(sample, first, c);
                rec.copy(from.range(c * rows, rows), grad.range(to, rows));
            }
        }
    }

    /// Records the pass that sums a weighted mean's denominator, and its `finalize`: the
    /// scalar the gradient's scale is read from.
    fn record_denominator<'t>(
        &self,
        rec: &mut Recorder<'_, '_>,
        pass: &Pass,
        shared: &Shared<'t>,
        t: &CallTensors<'t>,
        gathered: Option<&'t Gathered>,
    ) -> Result<Tensor> {
        let total = pass.partials;
        let partials = rec.scratch(&vec![0f32; total as usize]);
        for (window, params, groups) in self.windows(pass) {
            let slots = self.window_slots(rec, window, t, gathered, true)?;
            let p = rec.uniform(&params);
            let mut bindings = vec![(PARAMS, (&p).into()), (PARTIALS, (&partials).into())];
            bindings.extend(shared.bindings(slots.labels));
            rec.dispatch(self.kernel, pass.entry, pass.overrides, &bindings, groups)?;
        }
        finalize::record(rec, (&partials).into(), total, Denominator::Fixed(1.0))
    }

    /// Records the plan: the denominator pass and its `finalize` where planned, the main
    /// pass, `finalize`, and for half logits the rounding of the gradient into `grad`.
    /// Returns the loss, guarded by the label check where there are labels.
    pub(crate) fn record(
        &self,
        rec: &mut Recorder<'_, '_>,
        call: &ClassCall,
        logits: &Tensor,
        target: &Tensor,
        grad: Option<&Tensor>,
    ) -> Result<Tensor> {
        let dev = rec.device();
        check::same_device(dev, [logits, target].into_iter().chain(call.weight))?;
        let s = &self.shape;
        let out = match self.kernel.out {
            true => Some(Tensor::alloc(dev, &s.row_shape, DType::F32, "loss")?),
            false => None,
        };
        // The kernels write an f32 gradient: two invocations must not both write halves of
        // one word. For half logits a last pass rounds it into `grad`.
        let f32_grad = match grad {
            Some(g) if g.dtype() != DType::F32 => {
                Some(Tensor::alloc(dev, g.shape(), DType::F32, "gradient")?)
            }
            _ => None,
        };
        let tensors = CallTensors {
            logits,
            target,
            out: out.as_ref(),
            grad: f32_grad.as_ref().or(grad),
        };
        let positions = self.windows.iter().map(|w| match *w {
            Window::Positions { len, .. } => len,
            Window::Samples { .. } => 0,
        });
        let gathered = match positions.max().unwrap_or(0) {
            0 => None,
            positions => Some(Gathered::alloc(&tensors, self.probs, s.classes, positions)?),
        };
        let nll = self.main.entry == ClassEntry::NllRows;
        if let (true, Some(g), None) = (nll, tensors.grad, &gathered) {
            // NLL sets only the label's element of a row's gradient.
            rec.clear(g.whole());
        }
        let status = match self.probs {
            false => {
                let status = Tensor::alloc(dev, &[1], DType::U32, "label status")?;
                rec.clear(status.whole());
                Some(status)
            }
            true => None,
        };
        let shared = Shared {
            weight: call.weight,
            status: status.as_ref(),
        };
        let scale_in = match &self.denominator {
            Some(pass) => {
                Some(self.record_denominator(rec, pass, &shared, &tensors, gathered.as_ref())?)
            }
            None => None,
        };
        let total = self.main.partials;
        // One tile in all: its workgroup writes the result itself, no second pass.
        let result = match self.main.overrides.final_result {
            true => Some(Tensor::alloc(dev, &[], DType::F32, "loss")?),
            false => None,
        };
        let scratch;
        let partials: Slot = match &result {
            Some(t) => t.whole(),
            None => {
                scratch = rec.scratch(&vec![0f32; 2 * total as usize]);
                (&scratch).into()
            }
        };
        for (window, params, groups) in self.windows(&self.main) {
            let slots = self.window_slots(rec, window, &tensors, gathered.as_ref(), false)?;
            if let (true, Some(grad), Some(_)) = (nll, slots.grad, &gathered) {
                // The gathered gradient still holds the last window's.
                rec.clear(grad);
            }
            let p = rec.uniform(&params);
            let mut bindings = vec![
                (PARAMS, (&p).into()),
                (LOGITS, slots.logits),
                (PARTIALS, partials),
            ];
            bindings.extend(shared.bindings(slots.labels));
            let optional = [
                (SCALE_IN, scale_in.as_ref().map(Tensor::whole)),
                (OUT, slots.out),
                (GRAD, slots.grad),
                (TARGETS, slots.targets),
            ];
            bindings.extend(optional.into_iter().filter_map(|(d, s)| Some((d, s?))));
            rec.dispatch(
                self.kernel,
                self.main.entry,
                self.main.overrides,
                &bindings,
                groups,
            )?;
            self.scatter(rec, window, &tensors, gathered.as_ref());
        }
        let loss = match (&out, &result) {
            (Some(t), _) | (None, Some(t)) => t.clone(),
            (None, None) => finalize::record(rec, partials, total, self.finalize)?,
        };
        if let (Some(f32_grad), Some(grad)) = (&f32_grad, grad) {
            convert::record(rec, f32_grad, grad)?;
        }
        Ok(match status {
            Some(status) => loss.with_check(Arc::new(LabelCheck {
                status,
                labels: target.clone(),
                classes: s.classes as u32,
            })),
            None => loss,
        })
    }
}
