//! Hinge losses: PyTorch's hinge embedding loss and MLX's hinge loss.

use crate::error::Result;
use crate::kernels::check;
use crate::kernels::elementwise::{ElementwiseCall, Pointwise};
use crate::loss::{Loss, Reduction, two_input_loss};
use crate::tensor::Tensor;

/// Hinge embedding loss, as `torch.nn.functional.hinge_embedding_loss` with margin 1: `x`
/// where `y = 1`, `max(0, 1 - x)` where `y = -1` (any other `y` adds both, as PyTorch).
///
/// ```
/// use wgpu_loss::{Device, Reduction, Tensor};
/// let dev = Device::new()?;
/// let x = Tensor::from_slice(&dev, &[0.3f32, 0.3, 2.0], &[3])?;
/// let y = Tensor::from_slice(&dev, &[1.0f32, -1.0, -1.0], &[3])?;
/// let l = wgpu_loss::hinge_embedding_loss(&x, &y, Reduction::None)?.to_vec::<f32>()?;
/// assert_eq!(l, vec![0.3, 0.7, 0.0]);
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
pub fn hinge_embedding_loss(
    input: &Tensor,
    target: &Tensor,
    reduction: Reduction,
) -> Result<Tensor> {
    HingeEmbeddingLoss::new()
        .reduction(reduction)
        .forward(input, target)
}

/// Hinge embedding loss as a module, like `torch.nn.HingeEmbeddingLoss`.
#[derive(Debug, Clone, Copy)]
pub struct HingeEmbeddingLoss {
    reduction: Reduction,
    margin: f32,
}

impl Default for HingeEmbeddingLoss {
    fn default() -> Self {
        HingeEmbeddingLoss {
            reduction: Reduction::Mean,
            margin: 1.0,
        }
    }
}

impl HingeEmbeddingLoss {
    /// The margin that `x` of a `y = -1` element must exceed to cost nothing (default 1; any
    /// finite value, as PyTorch).
    pub fn margin(mut self, margin: f32) -> Self {
        self.margin = margin;
        self
    }

    fn call(&self, input: &Tensor) -> Result<ElementwiseCall<'_>> {
        let op = "hinge_embedding_loss";
        check::option(
            op,
            "margin",
            self.margin,
            self.margin.is_finite(),
            "be finite",
        )?;
        let divisor = self.reduction.divisor(input.len());
        let mut call = ElementwiseCall::new(op, Pointwise::HingeEmbedding, divisor);
        call.delta = self.margin;
        Ok(call)
    }
}

two_input_loss!(HingeEmbeddingLoss, elementwise, input, target, Reduction,
    /// Computes the loss and its gradient with respect to `input` in one pass: 1 where
    /// `y != -1`, plus -1 where `y != 1` and `x <= margin` (at `x = margin` the subgradient
    /// PyTorch returns), divided by the element count for a mean.
    ///
    /// ```
    /// use wgpu_loss::{Device, HingeEmbeddingLoss, Reduction, Tensor};
    /// let dev = Device::new()?;
    /// let x = Tensor::from_slice(&dev, &[0.3f32, 0.3, 1.0, 2.0], &[4])?;
    /// let y = Tensor::from_slice(&dev, &[1.0f32, -1.0, -1.0, -1.0], &[4])?;
    /// let loss = HingeEmbeddingLoss::new().reduction(Reduction::Sum);
    /// let (_, g) = loss.forward_with_grad(&x, &y)?;
    /// assert_eq!(g.to_vec::<f32>()?, vec![1.0, -1.0, -1.0, 0.0]);
    /// # Ok::<(), wgpu_loss::Error>(())
    /// ```
);

/// Hinge loss, as MLX's `mlx.nn.losses.hinge_loss`: `max(0, 1 - x y)` per element, targets
/// `y` of 1 or -1.
///
/// ```
/// use wgpu_loss::{Device, Reduction, Tensor};
/// let dev = Device::new()?;
/// let x = Tensor::from_slice(&dev, &[0.25f32, 3.0], &[2])?;
/// let y = Tensor::from_slice(&dev, &[1.0f32, -1.0], &[2])?;
/// let l = wgpu_loss::hinge_loss(&x, &y, Reduction::None)?.to_vec::<f32>()?;
/// assert_eq!(l, vec![0.75, 4.0]);
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
pub fn hinge_loss(input: &Tensor, target: &Tensor, reduction: Reduction) -> Result<Tensor> {
    HingeLoss::new().reduction(reduction).forward(input, target)
}

/// MLX's hinge loss as a module. Its reduction defaults to [`Reduction::None`], as MLX's.
#[derive(Debug, Clone, Copy)]
pub struct HingeLoss {
    reduction: Reduction,
}

impl Default for HingeLoss {
    fn default() -> Self {
        HingeLoss {
            reduction: Reduction::None,
        }
    }
}

impl HingeLoss {
    fn call(&self, input: &Tensor) -> Result<ElementwiseCall<'_>> {
        let divisor = self.reduction.divisor(input.len());
        Ok(ElementwiseCall::new(
            "hinge_loss",
            Pointwise::Hinge,
            divisor,
        ))
    }
}

two_input_loss!(HingeLoss, elementwise, input, target, Reduction,
    /// Computes the loss and its gradient with respect to `input` in one pass: `-y` where
    /// `x y < 1`, else 0 (0 at the kink), divided by the element count for a mean.
    ///
    /// ```
    /// use wgpu_loss::{Device, HingeLoss, Reduction, Tensor};
    /// let dev = Device::new()?;
    /// let x = Tensor::from_slice(&dev, &[0.25f32, 1.0, 3.0], &[3])?;
    /// let y = Tensor::from_slice(&dev, &[1.0f32, 1.0, -1.0], &[3])?;
    /// let (_, g) = HingeLoss::new().reduction(Reduction::Sum).forward_with_grad(&x, &y)?;
    /// assert_eq!(g.to_vec::<f32>()?, vec![-1.0, 0.0, 1.0]);
    /// # Ok::<(), wgpu_loss::Error>(())
    /// ```
);
