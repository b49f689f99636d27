//! The losses: one file each, sharing the argument checks and the element-wise runner here.

pub mod bce;
pub mod bce_logits;
mod convert;
pub mod cross_entropy;
pub mod huber;
pub mod kl_div;
pub mod l1;
pub mod mse;
pub mod nll;

use crate::device::Device;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::record::{Recorder, Slot};
use crate::reduce::{self, Chunks, Denominator};
use crate::shaders::{Kernel, Pointwise, Precision, Storage};
use crate::tensor::Tensor;

/// Where a call records its GPU work: its own encoder, submitted at once (`None`), or the
/// caller's, submitted by the caller.
pub(crate) type Encoder<'e> = Option<&'e mut wgpu::CommandEncoder>;

/// Recording a loss into a command encoder that you own, so that your kernels and the loss
/// run in one submission (interop). Implemented by every loss module.
///
/// The returned tensors are valid once you submit the encoder; reading them before that
/// waits for work that never comes, so submit first.
///
/// ```
/// use wgpu_loss::{wgpu, Device, Loss, MseLoss, Tensor};
/// let dev = Device::new()?;
/// let pred = Tensor::from_slice(&dev, &[1.0f32, 2.0], &[2])?;
/// let target = Tensor::from_slice(&dev, &[0.0f32, 0.0], &[2])?;
/// let mut encoder = dev.wgpu_device().create_command_encoder(&Default::default());
/// // ... your own passes that fill `pred` ...
/// let (loss, grad) = MseLoss::new().record_with_grad(&mut encoder, &pred, &target)?;
/// // ... your own passes that read `grad.buffer()` ...
/// dev.wgpu_queue().submit([encoder.finish()]);
/// assert_eq!(loss.to_vec::<f32>()?, vec![2.5]);
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
pub trait Loss {
    /// Records the loss of `input` against `target` into `encoder`.
    fn record(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        input: &Tensor,
        target: &Tensor,
    ) -> Result<Tensor>;

    /// Records the loss and its gradient with respect to `input` into `encoder`.
    fn record_with_grad(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        input: &Tensor,
        target: &Tensor,
    ) -> Result<(Tensor, Tensor)>;
}

/// Implements [`Loss`] for modules with `fn run(&self, input, target, with_grad, encoder)`.
macro_rules! impl_loss {
    ($($module:ty),*) => {$(
        impl Loss for $module {
            fn record(
                &self,
                encoder: &mut wgpu::CommandEncoder,
                input: &Tensor,
                target: &Tensor,
            ) -> Result<Tensor> {
                Ok(self.run(input, target, false, Some(encoder))?.0)
            }

            fn record_with_grad(
                &self,
                encoder: &mut wgpu::CommandEncoder,
                input: &Tensor,
                target: &Tensor,
            ) -> Result<(Tensor, Tensor)> {
                with_grad(self.run(input, target, true, Some(encoder))?)
            }
        }
    )*};
}

impl_loss!(
    bce::BceLoss,
    bce_logits::BceWithLogitsLoss,
    cross_entropy::CrossEntropyLoss,
    huber::HuberLoss,
    huber::SmoothL1Loss,
    kl_div::KlDivLoss,
    l1::L1Loss,
    mse::MseLoss,
    nll::NllLoss
);

/// How the per-element (or per-sample) losses are combined, as in PyTorch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Reduction {
    /// No reduction: one loss per element (per sample for cross-entropy).
    None,
    /// The mean: a scalar tensor of shape `[]` (the default, as in PyTorch).
    #[default]
    Mean,
    /// The sum: a scalar tensor of shape `[]`.
    Sum,
}

/// Refuses a tensor of the wrong element type.
pub(crate) fn expect_dtype(
    t: &Tensor,
    what: &'static str,
    expected: &'static str,
    ok: &[DType],
) -> Result<()> {
    if ok.contains(&t.dtype()) {
        Ok(())
    } else {
        Err(Error::DType {
            what,
            expected,
            got: t.dtype(),
        })
    }
}

/// The storage of a floating-point tensor; refuses integers.
pub(crate) fn float_precision(t: &Tensor, what: &'static str) -> Result<Precision> {
    Precision::of(t.dtype()).ok_or(Error::DType {
        what,
        expected: "f32, f16 or bf16",
        got: t.dtype(),
    })
}

/// The storage of a tensor that goes with an input of precision `x`: f32, or `x` itself. A
/// bf16 target for f16 logits, say, is refused: one of them is surely a mistake.
pub(crate) fn same_or_f32(t: &Tensor, x: Precision, what: &'static str) -> Result<Precision> {
    match Precision::of(t.dtype()) {
        Some(p) if p == x || p == Precision::F32 => Ok(p),
        _ => Err(Error::DType {
            what,
            expected: "f32 or the input's element type",
            got: t.dtype(),
        }),
    }
}

/// Refuses tensors from another device.
pub(crate) fn expect_same_device(dev: &Device, tensors: &[&Tensor]) -> Result<()> {
    match tensors.iter().all(|t| t.device().same(dev)) {
        true => Ok(()),
        false => Err(Error::DeviceMismatch),
    }
}

/// Refuses a tensor that is bound whole (weights) but is larger than one binding may cover.
pub(crate) fn expect_one_binding(dev: &Device, t: &Tensor, what: &'static str) -> Result<()> {
    let limit = dev.max_binding_size();
    if t.bytes() > limit {
        return Err(Error::TooLarge {
            what,
            bytes: t.bytes(),
            limit_name: "max_storage_buffer_binding_size",
            limit,
        });
    }
    Ok(())
}

/// Refuses two tensors whose shapes differ.
pub(crate) fn expect_same_shape(a: &Tensor, b: &Tensor, op: &str) -> Result<()> {
    if a.shape() == b.shape() {
        Ok(())
    } else {
        Err(Error::Shape(format!(
            "{op}: input has shape {:?} but target has shape {:?}",
            a.shape(),
            b.shape()
        )))
    }
}

/// What a reduction divides the sum by; `None` keeps every element.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Divisor {
    /// `Reduction::None`: one loss per element.
    None,
    /// Divide the sum by this (1 for a sum, the element count for a mean).
    By(f32),
}

impl Divisor {
    /// The divisor of `reduction` over `count` elements.
    pub(crate) fn of(reduction: Reduction, count: usize) -> Self {
        match reduction {
            Reduction::None => Divisor::None,
            Reduction::Mean => Divisor::By(count as f32),
            Reduction::Sum => Divisor::By(1.0),
        }
    }

    /// The number the sum is divided by (1 for `None`).
    pub(crate) fn value(self) -> f32 {
        match self {
            Divisor::None => 1.0,
            Divisor::By(d) => d,
        }
    }

    /// How `finalize` divides the sum.
    pub(crate) fn denominator(self) -> Denominator {
        Denominator::Fixed(self.value())
    }

    /// The gradient's factor: 1 / divisor (1 for `None`).
    pub(crate) fn grad_scale(self) -> f32 {
        match self {
            Divisor::None => 1.0,
            Divisor::By(d) => 1.0 / d,
        }
    }
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct ElementwiseParams {
    n: u32,
    n4: u32,
    _flags: u32,
    partial_base: u32,
    grad_scale: f32,
    alpha: f32,
    beta: f32,
    classes: u32,
    class_offset: u32,
    divisor: f32,
    _pad: [u32; 2],
}

// Bits of the pipeline constants of `elementwise.wgsl`, in `Kernel::flag_names` order.
const WRITE_OUT: u32 = 1;
const WRITE_GRAD: u32 = 2;
const WEIGHTED: u32 = 4;
const POS_WEIGHTED: u32 = 8;
const LOG_TARGET: u32 = 16;
const FINAL: u32 = 32;

/// One call of an element-wise loss: inputs, optional weights, the loss's parameters.
pub(crate) struct Elementwise<'a> {
    pub op: &'static str,
    pub math: Pointwise,
    pub input: &'a Tensor,
    pub target: &'a Tensor,
    /// Per-element weights, the shape of the input.
    pub weight: Option<&'a Tensor>,
    /// Positive-class weights, one per index of the input's last dimension.
    pub pos_weight: Option<&'a Tensor>,
    pub alpha: f32,
    pub beta: f32,
    pub log_target: bool,
}

impl<'a> Elementwise<'a> {
    pub(crate) fn new(
        op: &'static str,
        math: Pointwise,
        input: &'a Tensor,
        target: &'a Tensor,
    ) -> Self {
        Elementwise {
            op,
            math,
            input,
            target,
            weight: None,
            pos_weight: None,
            alpha: 0.0,
            beta: 1.0,
            log_target: false,
        }
    }

    /// Checks the arguments, then runs one pass (and `finalize` unless `Reduction::None`).
    /// Returns the loss and, when `with_grad`, the gradient with respect to the input.
    pub(crate) fn run(
        &self,
        reduction: Reduction,
        with_grad: bool,
        encoder: Encoder,
    ) -> Result<(Tensor, Option<Tensor>)> {
        self.run_divided(Divisor::of(reduction, self.input.len()), with_grad, encoder)
    }

    /// [`Elementwise::run`] with an explicit divisor (KL's `batchmean`).
    pub(crate) fn run_divided(
        &self,
        divisor: Divisor,
        with_grad: bool,
        encoder: Encoder,
    ) -> Result<(Tensor, Option<Tensor>)> {
        let (input, target) = (self.input, self.target);
        let dev = input.device();
        let x = float_precision(input, "input")?;
        let y = same_or_f32(target, x, "target")?;
        expect_same_shape(input, target, self.op)?;
        let mut flags = 0;
        if let Some(w) = self.weight {
            same_or_f32(w, x, "weight")?;
            if w.shape() != input.shape() {
                return Err(Error::Shape(format!(
                    "{}: weight has shape {:?}, input {:?}",
                    self.op,
                    w.shape(),
                    input.shape()
                )));
            }
            flags |= WEIGHTED;
        }
        let classes = input.shape().last().copied().unwrap_or(1);
        if let Some(pw) = self.pos_weight {
            expect_dtype(pw, "pos_weight", "f32", &[DType::F32])?;
            if pw.len() != classes {
                return Err(Error::Shape(format!(
                    "{}: pos_weight has {} elements, the input's last dimension {classes}",
                    self.op,
                    pw.len()
                )));
            }
            expect_one_binding(dev, pw, "pos_weight")?;
            flags |= POS_WEIGHTED;
        }
        let tensors: Vec<&Tensor> = [Some(input), Some(target), self.weight, self.pos_weight]
            .into_iter()
            .flatten()
            .collect();
        expect_same_device(dev, &tensors)?;
        if self.log_target {
            flags |= LOG_TARGET;
        }

        let w = match self.weight {
            Some(t) => same_or_f32(t, x, "weight")?,
            None => x,
        };
        let storage = Storage { x, y, w };
        let n = input.len();
        // Chunk starts aligned for the narrowest element (2 bytes), so for every input.
        let chunks = Chunks::plan(dev, n, 4, reduce::align_elements(dev, 2), "input")?;
        let groups: Vec<u32> = chunks
            .iter()
            .map(|(_, len)| reduce::workgroups_for(dev, len.div_ceil(4) as u64))
            .collect();
        let total_groups: u32 = groups.iter().sum();
        let out = match divisor {
            Divisor::None => Some(Tensor::alloc(dev, input.shape(), DType::F32, "loss")?),
            Divisor::By(_) => None,
        };
        let grad = match with_grad {
            true => Some(Tensor::alloc(
                dev,
                input.shape(),
                input.dtype(),
                "gradient",
            )?),
            false => None,
        };
        flags |= if out.is_some() { WRITE_OUT } else { 0 };
        flags |= if grad.is_some() { WRITE_GRAD } else { 0 };
        // One workgroup in all writes the result itself: no second pass.
        let result = match (&out, total_groups) {
            (None, 1) => Some(Tensor::alloc(dev, &[], DType::F32, "loss")?),
            _ => None,
        };
        flags |= if result.is_some() { FINAL } else { 0 };
        let mut rec = Recorder::new(dev, encoder)?;
        let scratch;
        let partials = match &result {
            Some(t) => Slot::from(t),
            None => {
                scratch = rec.scratch(&vec![0f32; total_groups as usize]);
                Slot::from(&scratch)
            }
        };
        let unused = dev.placeholder();
        let mut partial_base = 0;
        for ((first, len), groups) in chunks.iter().zip(groups) {
            let params = rec.uniform(&ElementwiseParams {
                n: len as u32,
                n4: len.div_ceil(4) as u32,
                _flags: 0,
                partial_base,
                grad_scale: divisor.grad_scale(),
                alpha: self.alpha,
                beta: self.beta,
                classes: classes as u32,
                class_offset: (first % classes) as u32,
                divisor: divisor.value(),
                _pad: [0; 2],
            });
            let chunk = |t: &'a Tensor| t.slot(first, len);
            rec.dispatch(
                Kernel::Elementwise(self.math, storage),
                "elementwise",
                flags,
                &[
                    (0, (&params).into()),
                    (1, chunk(input)),
                    (2, chunk(target)),
                    (3, chunk(self.weight.unwrap_or(input))),
                    (4, partials),
                    (
                        5,
                        out.as_ref().map_or(unused.into(), |t| t.slot(first, len)),
                    ),
                    (
                        6,
                        grad.as_ref().map_or(unused.into(), |t| t.slot(first, len)),
                    ),
                    (7, self.pos_weight.map_or(chunk(input), Slot::from)),
                ],
                groups,
            )?;
            partial_base += groups;
        }
        let loss = match (&out, &result) {
            (Some(t), _) | (None, Some(t)) => t.clone(),
            (None, None) => {
                reduce::finalize(&mut rec, dev, partials, total_groups, divisor.denominator())?
            }
        };
        rec.submit()?;
        Ok((loss, grad))
    }
}

/// Unpacks the result of a run that was asked for its gradient.
pub(crate) fn with_grad((loss, grad): (Tensor, Option<Tensor>)) -> Result<(Tensor, Tensor)> {
    grad.map(|g| (loss, g))
        .ok_or_else(|| Error::Gpu("internal error: the gradient was not produced".into()))
}
