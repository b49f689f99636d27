//! Huber loss and smooth L1. Smooth L1 with threshold `beta` equals Huber with
//! `delta = beta` divided by `beta`, but it has math of its own (`smooth_l1.wgsl`, as
//! PyTorch's): `1 / beta` overflows f32 for the smallest betas.

use crate::error::Result;
use crate::kernels::check;
use crate::kernels::elementwise::{ElementwiseCall, Pointwise};
use crate::loss::{Loss, Reduction, two_input_loss};
use crate::tensor::Tensor;

/// Huber loss with `delta = 1`: `0.5 d²` where `|d| < 1`, else `|d| - 0.5`; `d = x - y`.
///
/// ```
/// use wgpu_loss::{Device, Reduction, Tensor};
/// let dev = Device::new()?;
/// let pred = Tensor::from_slice(&dev, &[0.5f32, 3.0], &[2])?;
/// let target = Tensor::from_slice(&dev, &[0.0f32, 0.0], &[2])?;
/// let loss = wgpu_loss::huber_loss(&pred, &target, Reduction::None)?;
/// assert_eq!(loss.to_vec::<f32>()?, vec![0.125, 2.5]);
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
pub fn huber_loss(input: &Tensor, target: &Tensor, reduction: Reduction) -> Result<Tensor> {
    HuberLoss::new().reduction(reduction).forward(input, target)
}

/// Smooth L1 loss with `beta = 1` (equal to Huber with `delta = 1`).
///
/// ```
/// use wgpu_loss::{Device, Reduction, Tensor};
/// let dev = Device::new()?;
/// let pred = Tensor::from_slice(&dev, &[0.5f32, 3.0], &[2])?;
/// let target = Tensor::from_slice(&dev, &[0.0f32, 0.0], &[2])?;
/// let loss = wgpu_loss::smooth_l1_loss(&pred, &target, Reduction::Sum)?;
/// assert_eq!(loss.to_vec::<f32>()?, vec![2.625]);
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
pub fn smooth_l1_loss(input: &Tensor, target: &Tensor, reduction: Reduction) -> Result<Tensor> {
    SmoothL1Loss::new()
        .reduction(reduction)
        .forward(input, target)
}

/// Huber loss as a module, like `torch.nn.HuberLoss`:
/// `0.5 d²` where `|d| < delta`, else `delta (|d| - 0.5 delta)`.
///
/// ```
/// use wgpu_loss::{Device, HuberLoss, Reduction, Tensor};
/// let dev = Device::new()?;
/// let pred = Tensor::from_slice(&dev, &[1.0f32, 4.0], &[2])?;
/// let target = Tensor::from_slice(&dev, &[0.0f32, 0.0], &[2])?;
/// let (loss, grad) = HuberLoss::new().delta(2.0).reduction(Reduction::Sum).forward_with_grad(&pred, &target)?;
/// assert_eq!(loss.to_vec::<f32>()?, vec![0.5 + 6.0]);
/// assert_eq!(grad.to_vec::<f32>()?, vec![1.0, 2.0]);
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct HuberLoss {
    reduction: Reduction,
    delta: f32,
}

impl Default for HuberLoss {
    fn default() -> Self {
        HuberLoss {
            reduction: Reduction::Mean,
            delta: 1.0,
        }
    }
}

impl HuberLoss {
    /// Sets the threshold between the quadratic and the linear part; must be positive.
    pub fn delta(mut self, delta: f32) -> Self {
        self.delta = delta;
        self
    }

    fn call(&self, input: &Tensor) -> Result<ElementwiseCall<'_>> {
        let valid = self.delta > 0.0 && self.delta.is_finite();
        check::option(
            "huber_loss",
            "delta",
            self.delta,
            valid,
            "be positive and finite",
        )?;
        let divisor = self.reduction.divisor(input.len());
        let mut call = ElementwiseCall::new("huber_loss", Pointwise::Huber, divisor);
        call.delta = self.delta;
        Ok(call)
    }
}

/// Smooth L1 loss as a module, like `torch.nn.SmoothL1Loss`:
/// `0.5 d² / beta` where `|d| < beta`, else `|d| - 0.5 beta`; `beta = 0` is the L1 loss
/// (gradient `sign(d)`, 0 at `d = 0`; a subnormal `beta` acts as 0).
///
/// ```
/// use wgpu_loss::{Device, Reduction, SmoothL1Loss, Tensor};
/// let dev = Device::new()?;
/// let pred = Tensor::from_slice(&dev, &[1.0f32, 4.0], &[2])?;
/// let target = Tensor::from_slice(&dev, &[0.0f32, 0.0], &[2])?;
/// let loss = SmoothL1Loss::new().beta(2.0).reduction(Reduction::None).forward(&pred, &target)?;
/// assert_eq!(loss.to_vec::<f32>()?, vec![0.25, 3.0]);
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct SmoothL1Loss {
    reduction: Reduction,
    beta: f32,
}

impl Default for SmoothL1Loss {
    fn default() -> Self {
        SmoothL1Loss {
            reduction: Reduction::Mean,
            beta: 1.0,
        }
    }
}

impl SmoothL1Loss {
    /// Sets the threshold; must be non-negative (0 gives the L1 loss).
    pub fn beta(mut self, beta: f32) -> Self {
        self.beta = beta;
        self
    }

    fn call(&self, input: &Tensor) -> Result<ElementwiseCall<'_>> {
        let (op, valid) = ("smooth_l1_loss", self.beta >= 0.0 && self.beta.is_finite());
        check::option(op, "beta", self.beta, valid, "be non-negative and finite")?;
        let divisor = self.reduction.divisor(input.len());
        let mut call = ElementwiseCall::new(op, Pointwise::SmoothL1, divisor);
        // A subnormal beta acts as 0 (the L1 loss): GPUs may flush it to 0 in some operations
        // and not in others, and it changes only differences that are subnormal themselves.
        call.delta = match self.beta < f32::MIN_POSITIVE {
            true => 0.0,
            false => self.beta,
        };
        Ok(call)
    }
}

two_input_loss!(HuberLoss, elementwise, input, target, Reduction,
    /// Computes the loss and its gradient with respect to `input` in one pass:
    /// `d` where `|d| < delta`, else `delta sign(d)`.
);

two_input_loss!(SmoothL1Loss, elementwise, input, target, Reduction,
    /// Computes the loss and its gradient with respect to `input` in one pass:
    /// `d / beta` where `|d| < beta`, else `sign(d)` (NaN where `d` is NaN, as in PyTorch).
);
