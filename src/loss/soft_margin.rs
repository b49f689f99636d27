//! Soft margin loss: the logistic loss of a two-class problem with targets ±1.

use crate::error::Result;
use crate::kernels::elementwise::{ElementwiseCall, Pointwise};
use crate::loss::{Loss, Reduction, two_input_loss};
use crate::tensor::Tensor;

/// Soft margin loss, `log(1 + exp(-y x))` per element (targets `y` of 1 or -1), reduced as
/// asked, as `torch.nn.functional.soft_margin_loss`.
///
/// ```
/// use wgpu_loss::{Device, Reduction, Tensor};
/// let dev = Device::new()?;
/// let x = Tensor::from_slice(&dev, &[0.0f32, 2.0], &[2])?;
/// let y = Tensor::from_slice(&dev, &[1.0f32, -1.0], &[2])?;
/// let l = wgpu_loss::soft_margin_loss(&x, &y, Reduction::Sum)?.to_vec::<f32>()?[0];
/// let want = 2f32.ln() + (1.0 + 2f32.exp()).ln();
/// assert!((l - want).abs() < 1e-6);
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
pub fn soft_margin_loss(input: &Tensor, target: &Tensor, reduction: Reduction) -> Result<Tensor> {
    SoftMarginLoss::new()
        .reduction(reduction)
        .forward(input, target)
}

/// Soft margin loss as a module, like `torch.nn.SoftMarginLoss`: `softplus(-y x)`, computed
/// without overflow at any logit.
#[derive(Debug, Clone, Copy, Default)]
pub struct SoftMarginLoss {
    reduction: Reduction,
}

impl SoftMarginLoss {
    fn call(&self, input: &Tensor) -> Result<ElementwiseCall<'_>> {
        let divisor = self.reduction.divisor(input.len());
        Ok(ElementwiseCall::new(
            "soft_margin_loss",
            Pointwise::SoftMargin,
            divisor,
        ))
    }
}

two_input_loss!(SoftMarginLoss, elementwise, input, target, Reduction,
    /// Computes the loss and its gradient with respect to `input` in one pass:
    /// `-y sigmoid(-y x)`, divided by the element count for a mean.
    ///
    /// ```
    /// use wgpu_loss::{Device, SoftMarginLoss, Tensor};
    /// let dev = Device::new()?;
    /// let x = Tensor::from_slice(&dev, &[0.0f32], &[1])?;
    /// let y = Tensor::from_slice(&dev, &[1.0f32], &[1])?;
    /// let (_, grad) = SoftMarginLoss::new().forward_with_grad(&x, &y)?;
    /// assert_eq!(grad.to_vec::<f32>()?, vec![-0.5]);
    /// # Ok::<(), wgpu_loss::Error>(())
    /// ```
);
