//! Categorical cross-entropy on logits, with integer labels or class-probability targets,
//! and the kernel runner it shares with the negative log-likelihood.

use std::sync::Arc;

use crate::device::{Device, DeviceType};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::loss::convert;
use crate::loss::{
    Encoder, Reduction, expect_dtype, expect_one_binding, expect_same_device, float_precision,
    same_or_f32, with_grad,
};
use crate::record::{Recorder, Slot};
use crate::reduce::{self, Chunks, Denominator};
use crate::shaders::{Kernel, Precision};
use crate::tensor::{LabelCheck, Tensor};

/// Cross-entropy of logits `[N, C]` against class labels `[N]` (`u32` or `i32`), with
/// PyTorch's defaults (no class weights, `ignore_index = -100` for `i32` labels, no smoothing).
///
/// Per row: `logsumexp(x) - x[label]`, with a stable one-pass log-sum-exp (the running
/// maximum is subtracted before exponentiating), so logits of ±1e4 give exact finite losses.
/// With [`Reduction::None`] the result has shape `[N]`; with `Mean` or `Sum` it is a scalar
/// of shape `[]`. A label outside `0..C` makes reading the result fail with
/// [`Error::LabelOutOfRange`]. See [`CrossEntropyLoss`] for the options, more dimensions and
/// probability targets.
///
/// ```
/// use wgpu_loss::{Device, Reduction, Tensor};
/// let dev = Device::new()?;
/// let logits = Tensor::from_slice(&dev, &[1.2f32, 0.9, 0.1, 0.4, 1.5, 1.1], &[2, 3])?;
/// let labels = Tensor::from_slice(&dev, &[0u32, 2], &[2])?;
/// let ce = wgpu_loss::cross_entropy(&logits, &labels, Reduction::Mean)?.to_vec::<f32>()?[0];
/// assert!((ce - 0.912035).abs() < 1e-6);
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
pub fn cross_entropy(logits: &Tensor, labels: &Tensor, reduction: Reduction) -> Result<Tensor> {
    CrossEntropyLoss::new()
        .reduction(reduction)
        .forward(logits, labels)
}

/// Cross-entropy as a module, like `torch.nn.CrossEntropyLoss`.
///
/// Shapes as in PyTorch: logits `[N, C]`, `[C]` (one sample), or `[N, C, d1, …]`
/// (class dimension second, e.g. per pixel); the target is either class labels of the logits'
/// shape without the class dimension (`u32`, or `i32` where `ignore_index` may be negative),
/// or class probabilities (`f32`) of the logits' shape.
///
/// Options: class `weight` `[C]`; `ignore_index` (default -100; rows with that label count
/// for nothing, in the loss, the mean's denominator and the gradient); `label_smoothing` ε in
/// `[0, 1]` (the target becomes `(1 - ε) onehot + ε / C`). A mean over labels divides by the
/// sum of the weights of the rows that count, as PyTorch does; over probabilities, by the
/// number of rows.
///
/// ```
/// use wgpu_loss::{CrossEntropyLoss, Device, Reduction, Tensor};
/// let dev = Device::new()?;
/// let logits = Tensor::from_slice(&dev, &[2.0f32, 0.0, 0.0, 2.0, 1.0, 1.0], &[3, 2])?;
/// let labels = Tensor::from_slice(&dev, &[0i32, -100, 1], &[3])?;
/// let ce = CrossEntropyLoss::new().label_smoothing(0.1).ignore_index(-100);
/// let (loss, grad) = ce.forward_with_grad(&logits, &labels)?;
/// assert_eq!(loss.shape(), &[] as &[usize]);
/// assert_eq!(grad.shape(), &[3, 2]);
/// assert_eq!(grad.to_vec::<f32>()?[2..4], [0.0, 0.0]); // the ignored row
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct CrossEntropyLoss {
    reduction: Reduction,
    options: ClassOptions,
}

impl Default for CrossEntropyLoss {
    fn default() -> Self {
        CrossEntropyLoss {
            reduction: Reduction::Mean,
            options: ClassOptions::default(),
        }
    }
}

impl CrossEntropyLoss {
    /// Mean reduction, no weights, `ignore_index = -100`, no smoothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the reduction.
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }

    /// Weights each class: an `f32` tensor of shape `[C]`.
    pub fn weight(mut self, weight: Tensor) -> Self {
        self.options.weight = Some(weight);
        self
    }

    /// Rows with this label are skipped. Negative values only match `i32` labels.
    pub fn ignore_index(mut self, ignore_index: i32) -> Self {
        self.options.ignore_index = ignore_index;
        self
    }

    /// Mixes the target with the uniform distribution: `(1 - ε) target + ε / C`.
    pub fn label_smoothing(mut self, epsilon: f32) -> Self {
        self.options.smoothing = epsilon;
        self
    }

    /// Computes the loss of `logits` against `target` (labels or probabilities).
    pub fn forward(&self, logits: &Tensor, target: &Tensor) -> Result<Tensor> {
        Ok(self.run(logits, target, false, None)?.0)
    }

    /// Computes the loss and its gradient with respect to the logits, in the same kernel:
    /// `softmax(x) - target` (weighted, smoothed and scaled as the loss is).
    pub fn forward_with_grad(&self, logits: &Tensor, target: &Tensor) -> Result<(Tensor, Tensor)> {
        with_grad(self.run(logits, target, true, None)?)
    }

    pub(crate) fn run(
        &self,
        logits: &Tensor,
        target: &Tensor,
        with_grad: bool,
        encoder: Encoder,
    ) -> Result<(Tensor, Option<Tensor>)> {
        ClassLoss::new("cross_entropy", ClassKernel::Softmax, &self.options).run(
            logits,
            target,
            self.reduction,
            with_grad,
            encoder,
        )
    }
}

/// Options shared by cross-entropy and NLL.
#[derive(Debug, Clone)]
pub(crate) struct ClassOptions {
    pub weight: Option<Tensor>,
    pub ignore_index: i32,
    pub smoothing: f32,
}

impl Default for ClassOptions {
    fn default() -> Self {
        ClassOptions {
            weight: None,
            ignore_index: -100,
            smoothing: 0.0,
        }
    }
}

/// What the rows hold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum ClassKernel {
    /// Logits: the loss takes their log-softmax.
    Softmax,
    /// Log-probabilities already (NLL).
    LogProbs,
}

/// Below this many classes a row goes to one invocation, from there to a whole workgroup.
const SMALL_CLASSES: usize = 64;

/// Whether each row goes to one invocation (else to a whole workgroup), reading it `passes`
/// times. A GPU wants whole workgroups on long rows, for coalesced reads. A software adapter
/// pays for every barrier of the workgroup reductions (a few per row): one invocation per row
/// measured 9x faster at [16384 x 1024] and 1.2x at [4096 x 32000] on lavapipe, once there are
/// rows enough to fill its SIMD lanes, and while a row fits the adapter's loop budget.
fn row_per_invocation(dev: &Device, rows: usize, classes: usize, passes: usize) -> bool {
    let cpu = dev.info().device_type == DeviceType::Cpu;
    classes < SMALL_CLASSES
        || (cpu && rows >= 256 && (classes * passes) as u64 <= reduce::MAX_LOOP / 2)
}

const WRITE_OUT: u32 = 1;
const WRITE_GRAD: u32 = 2;
const WEIGHTED: u32 = 4;
const HAS_IGNORE: u32 = 8;
const SCALE_FROM_BUFFER: u32 = 16;
const SMOOTHED: u32 = 32;
const FINAL: u32 = 64;
const MEAN_BY_WEIGHT: u32 = 128;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct CeParams {
    rows: u32,
    classes: u32,
    inner: u32,
    _flags: u32,
    ignore_index: i32,
    smoothing: f32,
    grad_scale: f32,
    weight_total: f32,
    partial_base: u32,
    partial_count: u32,
    row_offset: u32,
    divisor: f32,
}

/// Logits `[N, C, d…]` seen as `rows = N·d…` rows of `classes` values `inner = d…` apart.
struct ClassShape {
    rows: usize,
    classes: usize,
    inner: usize,
    /// The shape of the labels and of the per-row loss.
    row_shape: Vec<usize>,
}

fn class_shape(op: &str, logits: &Tensor) -> Result<ClassShape> {
    let s = logits.shape();
    match s.len() {
        0 => Err(Error::Shape(format!(
            "{op}: logits must have a class dimension, got shape []"
        ))),
        1 => Ok(ClassShape {
            rows: 1,
            classes: s[0],
            inner: 1,
            row_shape: vec![],
        }),
        _ => {
            let inner: usize = s[2..].iter().product();
            let mut row_shape = vec![s[0]];
            row_shape.extend(&s[2..]);
            Ok(ClassShape {
                rows: s[0] * inner,
                classes: s[1],
                inner,
                row_shape,
            })
        }
    }
}

/// One call of cross-entropy or NLL.
pub(crate) struct ClassLoss<'a> {
    op: &'static str,
    kernel: ClassKernel,
    options: &'a ClassOptions,
}

impl<'a> ClassLoss<'a> {
    pub(crate) fn new(op: &'static str, kernel: ClassKernel, options: &'a ClassOptions) -> Self {
        ClassLoss {
            op,
            kernel,
            options,
        }
    }

    /// Checks everything, then records the passes: the mean's denominator first where a
    /// weighted gradient needs it, the row kernel, and `finalize`.
    pub(crate) fn run(
        &self,
        logits: &Tensor,
        target: &Tensor,
        reduction: Reduction,
        with_grad: bool,
        encoder: Encoder,
    ) -> Result<(Tensor, Option<Tensor>)> {
        let op = self.op;
        let dev = logits.device();
        let lp = float_precision(logits, "logits")?;
        let shape = class_shape(op, logits)?;
        let probs = match target.dtype() {
            DType::F32 | DType::F16 | DType::BF16 if self.kernel == ClassKernel::Softmax => {
                same_or_f32(target, lp, "probability targets")?;
                if target.shape() != logits.shape() {
                    return Err(Error::Shape(format!(
                        "{op}: a float target holds class probabilities and must have the \
                         logits' shape {:?}, got {:?} (class labels must be u32 or i32)",
                        logits.shape(),
                        target.shape()
                    )));
                }
                true
            }
            DType::U32 | DType::I32 => {
                if target.shape() != shape.row_shape.as_slice() {
                    return Err(Error::Shape(format!(
                        "{op}: logits {:?} need labels of shape {:?}, got {:?}",
                        logits.shape(),
                        shape.row_shape,
                        target.shape()
                    )));
                }
                false
            }
            got => {
                return Err(Error::DType {
                    what: "labels",
                    expected: match self.kernel {
                        ClassKernel::Softmax => "u32 or i32 (labels), or floats (probabilities)",
                        ClassKernel::LogProbs => "u32 or i32",
                    },
                    got,
                });
            }
        };
        let eps = self.options.smoothing;
        if !(0.0..=1.0).contains(&eps) {
            return Err(Error::InvalidOption(format!(
                "{op}: label_smoothing must lie in [0, 1], got {eps}"
            )));
        }
        expect_same_device(dev, &[logits, target])?;
        let mut flags = 0;
        if let Some(w) = &self.options.weight {
            expect_dtype(w, "weight", "f32", &[DType::F32])?;
            if w.shape() != [shape.classes] {
                return Err(Error::Shape(format!(
                    "{op}: class weights must have shape [{}], got {:?}",
                    shape.classes,
                    w.shape()
                )));
            }
            expect_same_device(dev, &[w])?;
            expect_one_binding(dev, w, "weight")?;
            flags |= WEIGHTED;
        }
        let ignore = !probs && (target.dtype() == DType::I32 || self.options.ignore_index >= 0);
        if ignore {
            flags |= HAS_IGNORE;
        }
        if eps > 0.0 {
            flags |= SMOOTHED;
        }

        let rows = shape.rows;
        let (classes, inner) = (shape.classes, shape.inner);
        // Chunks of whole samples (`inner` rows each) whose logits fit one binding.
        let samples = rows / inner;
        let chunks = Chunks::plan(
            dev,
            samples,
            (classes * inner * 4) as u64,
            reduce::align_elements(dev, 4),
            "logits",
        )?;
        let passes = 1 + with_grad as usize;
        let small = row_per_invocation(dev, rows, classes, passes);
        let entry = match (self.kernel, probs, small) {
            (ClassKernel::LogProbs, _, _) => "nll_rows",
            (ClassKernel::Softmax, false, true) => "ce_small",
            (ClassKernel::Softmax, true, true) => "ce_probs_small",
            (ClassKernel::Softmax, false, false) => "ce_rows",
            (ClassKernel::Softmax, true, false) => "ce_probs_rows",
        };
        let groups_of = |chunk_rows: usize| match (self.kernel, small) {
            (ClassKernel::LogProbs, _) => per_row_groups(dev, chunk_rows, 1),
            (ClassKernel::Softmax, true) => per_row_groups(dev, chunk_rows, classes * passes),
            (ClassKernel::Softmax, false) => reduce::workgroup_per_row(dev, chunk_rows as u64),
        };
        let out = match reduction {
            Reduction::None => Some(Tensor::alloc(dev, &shape.row_shape, DType::F32, "loss")?),
            _ => None,
        };
        // The kernels write an f32 gradient: two invocations must not both write halves of
        // one word. For half logits a last pass rounds it to their precision.
        let grad = match with_grad {
            true => Some(Tensor::alloc(dev, logits.shape(), DType::F32, "gradient")?),
            false => None,
        };
        let kernel = Kernel::CrossEntropy(
            lp,
            if probs {
                Precision::of(target.dtype()).unwrap_or(lp)
            } else {
                Precision::F32
            },
        );
        flags |= if out.is_some() { WRITE_OUT } else { 0 };
        flags |= if grad.is_some() { WRITE_GRAD } else { 0 };
        // The gradient of a mean over labels divides by the sum of the counted rows'
        // weights, known only after a pass over the labels; elsewhere by a known number.
        let weighted_mean =
            reduction == Reduction::Mean && !probs && (ignore || flags & WEIGHTED != 0);
        let grad_scale = match reduction {
            Reduction::Mean => 1.0 / rows as f32,
            _ => 1.0,
        };
        if with_grad && weighted_mean {
            flags |= SCALE_FROM_BUFFER;
        }
        // W, the summed class weights, enters only the smoothing term: read the weights back
        // (a blocking round trip) only when that term exists.
        let weight_total = match (&self.options.weight, eps > 0.0) {
            (Some(_), true) => weight_sum(self.options)?,
            _ => classes as f32,
        };

        let divisor = match reduction {
            Reduction::Mean if probs => rows as f32,
            _ => 1.0,
        };
        let mut rec = Recorder::new(dev, encoder)?;
        if entry == "nll_rows" {
            // NLL sets only the label's element of a row's gradient.
            if let Some(g) = &grad {
                rec.clear(g);
            }
        }
        let params = |first: usize, len: usize, base: u32, count: u32| CeParams {
            rows: (len * inner) as u32,
            classes: classes as u32,
            inner: inner as u32,
            _flags: 0,
            ignore_index: self.options.ignore_index,
            smoothing: eps,
            grad_scale,
            weight_total,
            partial_base: base,
            partial_count: count,
            row_offset: (first * inner) as u32,
            divisor,
        };
        let status = Tensor::alloc(dev, &[1], DType::U32, "label status")?;
        rec.clear(&status);
        let unused = dev.placeholder();
        // Bindings a kernel declares but this call does not read get a small read-only range.
        let placeholder = logits.slot(0, 1);
        let weight = self.options.weight.as_ref().map_or(placeholder, Slot::from);
        let (row_unit, logit_unit) = (inner, classes * inner);
        let denominator = if flags & SCALE_FROM_BUFFER != 0 {
            let groups: Vec<u32> = chunks
                .iter()
                .map(|(_, len)| per_row_groups(dev, len * inner, 1))
                .collect();
            let total: u32 = groups.iter().sum();
            let partials = rec.scratch(&vec![0f32; total as usize]);
            let mut base = 0;
            for ((first, len), g) in chunks.iter().zip(groups) {
                let p = rec.uniform(&params(first, len, base, total));
                rec.dispatch(
                    kernel,
                    "ce_denominator",
                    flags,
                    &[
                        (0, (&p).into()),
                        (2, span(target, row_unit, first, len)),
                        (3, weight),
                        (5, (&partials).into()),
                        (8, (&status).into()),
                    ],
                    g,
                )?;
                base += g;
            }
            Some(reduce::finalize(
                &mut rec,
                dev,
                Slot::from(&partials),
                total,
                Denominator::Fixed(1.0),
            )?)
        } else {
            None
        };
        let groups: Vec<u32> = chunks
            .iter()
            .map(|(_, len)| groups_of(len * inner))
            .collect();
        let total: u32 = groups.iter().sum();
        let scale_in = denominator.as_ref().map_or(placeholder, Slot::from);
        // One workgroup in all writes the result itself: no second pass.
        let result = match (&out, total) {
            (None, 1) => Some(Tensor::alloc(dev, &[], DType::F32, "loss")?),
            _ => None,
        };
        let main_flags = match (&result, reduction, probs) {
            (None, ..) => flags,
            (Some(_), Reduction::Mean, false) => flags | FINAL | MEAN_BY_WEIGHT,
            (Some(_), ..) => flags | FINAL,
        };
        let scratch;
        let partials = match &result {
            Some(t) => Slot::from(t),
            None => {
                scratch = rec.scratch(&vec![0f32; 2 * total as usize]);
                Slot::from(&scratch)
            }
        };
        let mut base = 0;
        for ((first, len), g) in chunks.iter().zip(groups) {
            let p = rec.uniform(&params(first, len, base, total));
            let mut bindings = vec![
                (0, (&p).into()),
                (1, span(logits, logit_unit, first, len)),
                (3, weight),
                (4, scale_in),
                (5, partials),
                (
                    6,
                    out.as_ref()
                        .map_or(unused.into(), |t| span(t, row_unit, first, len)),
                ),
                (
                    7,
                    grad.as_ref()
                        .map_or(unused.into(), |t| span(t, logit_unit, first, len)),
                ),
            ];
            if probs {
                bindings.push((9, span(target, logit_unit, first, len)));
            } else {
                bindings.extend([
                    (2, span(target, row_unit, first, len)),
                    (8, (&status).into()),
                ]);
            }
            rec.dispatch(kernel, entry, main_flags, &bindings, g)?;
            base += g;
        }
        let loss = match (&out, &result) {
            (Some(t), _) | (None, Some(t)) => t.clone(),
            (None, None) => {
                let denominator = match reduction {
                    Reduction::Mean if probs => Denominator::Fixed(rows as f32),
                    Reduction::Mean => Denominator::Partials,
                    _ => Denominator::Fixed(1.0),
                };
                reduce::finalize(&mut rec, dev, partials, total, denominator)?
            }
        };
        // The f32 gradient of half logits lives until the submission: dropped earlier, its
        // buffer could go to another thread's tensor before this call's kernels write it.
        let f32_grad = grad;
        let grad = match &f32_grad {
            Some(g) if lp != Precision::F32 => Some(convert::to_half(&mut rec, g, logits.dtype())?),
            g => g.clone(),
        };
        rec.submit()?;
        drop(f32_grad);
        if probs {
            return Ok((loss, grad));
        }
        let check = Arc::new(LabelCheck {
            status,
            labels: target.clone(),
            classes: classes as u32,
        });
        Ok((
            loss.with_check(check.clone()),
            grad.map(|g| g.with_check(check)),
        ))
    }
}

/// Samples `first .. first + len` of a tensor holding `unit` elements per sample.
fn span(t: &Tensor, unit: usize, first: usize, len: usize) -> Slot<'_> {
    t.slot(first * unit, len * unit)
}

/// Sum of the class weights (for label smoothing), read once on the host.
fn weight_sum(options: &ClassOptions) -> Result<f32> {
    let w = options
        .weight
        .as_ref()
        .map(|w| w.to_vec::<f32>())
        .transpose()?;
    Ok(w.map_or(0.0, |w| w.iter().map(|&v| v as f64).sum::<f64>() as f32))
}

/// Workgroups for one invocation per row, each row `work` loop iterations.
fn per_row_groups(dev: &Device, rows: usize, work: usize) -> u32 {
    let vec4s = (rows * work).div_ceil(4).max(rows.div_ceil(64)) as u64;
    let groups = reduce::workgroups_for(dev, vec4s) as u64;
    reduce::clamp_groups(dev, groups.max(reduce::loop_floor((rows * work) as u64)))
}
