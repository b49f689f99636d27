//! Sigmoid focal loss (torchvision): BCE with logits that down-weights easy examples.

use crate::error::Result;
use crate::kernels::check;
use crate::kernels::elementwise::{ElementwiseCall, Pointwise};
use crate::loss::{Loss, Reduction, two_input_loss};
use crate::tensor::Tensor;

/// Sigmoid focal loss with torchvision's defaults (`alpha = 0.25`, `gamma = 2`), as
/// `torchvision.ops.sigmoid_focal_loss`: for logits `x` and targets `y` in [0, 1],
/// `a_t · bce_with_logits(x, y) · (1 - p_t)^gamma` where `p = sigmoid(x)`,
/// `p_t = p y + (1 - p)(1 - y)` and `a_t = alpha y + (1 - alpha)(1 - y)`.
///
/// ```
/// use wgpu_loss::{Device, Reduction, Tensor};
/// let dev = Device::new()?;
/// let x = Tensor::from_slice(&dev, &[0.0f32], &[1])?;
/// let y = Tensor::from_slice(&dev, &[1.0f32], &[1])?;
/// let l = wgpu_loss::sigmoid_focal_loss(&x, &y, Reduction::Sum)?.to_vec::<f32>()?[0];
/// // 0.25 · ln 2 · 0.5²
/// assert!((l - 0.25 * 2f32.ln() * 0.25).abs() < 1e-7);
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
pub fn sigmoid_focal_loss(input: &Tensor, target: &Tensor, reduction: Reduction) -> Result<Tensor> {
    SigmoidFocalLoss::new()
        .reduction(reduction)
        .forward(input, target)
}

/// Sigmoid focal loss as a module. Its reduction defaults to [`Reduction::None`], as
/// torchvision's.
#[derive(Debug, Clone, Copy)]
pub struct SigmoidFocalLoss {
    reduction: Reduction,
    alpha: f32,
    gamma: f32,
}

impl Default for SigmoidFocalLoss {
    fn default() -> Self {
        SigmoidFocalLoss {
            reduction: Reduction::None,
            alpha: 0.25,
            gamma: 2.0,
        }
    }
}

impl SigmoidFocalLoss {
    /// Weight of the positive class, `1 - alpha` of the negative (default 0.25); a negative
    /// alpha weights nothing, as torchvision's `alpha = -1`.
    pub fn alpha(mut self, alpha: f32) -> Self {
        self.alpha = alpha;
        self
    }

    /// How strongly easy examples are down-weighted (default 2; finite, 0 or more: 0 is
    /// BCE with logits).
    pub fn gamma(mut self, gamma: f32) -> Self {
        self.gamma = gamma;
        self
    }

    fn call(&self, input: &Tensor) -> Result<ElementwiseCall<'_>> {
        let op = "sigmoid_focal_loss";
        check::option(op, "alpha", self.alpha, self.alpha <= 1.0, "be at most 1")?;
        let valid = self.gamma >= 0.0 && self.gamma.is_finite();
        check::option(op, "gamma", self.gamma, valid, "be finite and 0 or more")?;
        let divisor = self.reduction.divisor(input.len());
        let mut call = ElementwiseCall::new(op, Pointwise::SigmoidFocal, divisor);
        call.alpha = self.alpha;
        call.gamma = self.gamma;
        Ok(call)
    }
}

two_input_loss!(SigmoidFocalLoss, elementwise, input, target, Reduction,
    /// Computes the loss and its gradient with respect to `input` in one pass, the
    /// derivative of torchvision's expression: `a_t ((p - y)(1 - p_t)^gamma -
    /// gamma · bce · (1 - p_t)^(gamma - 1) · p (1 - p)(2y - 1))`, divided by the element count
    /// for a mean.
    ///
    /// ```
    /// use wgpu_loss::{Device, Reduction, SigmoidFocalLoss, Tensor};
    /// let dev = Device::new()?;
    /// let x = Tensor::from_slice(&dev, &[0.0f32], &[1])?;
    /// let y = Tensor::from_slice(&dev, &[1.0f32], &[1])?;
    /// // gamma 0 and no alpha: BCE with logits, gradient sigmoid(x) - y.
    /// let focal = SigmoidFocalLoss::new().alpha(-1.0).gamma(0.0);
    /// let (_, g) = focal.reduction(Reduction::Sum).forward_with_grad(&x, &y)?;
    /// assert_eq!(g.to_vec::<f32>()?, vec![-0.5]);
    /// # Ok::<(), wgpu_loss::Error>(())
    /// ```
);
