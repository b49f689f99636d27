//! Binary cross-entropy on logits (sigmoid fused in, numerically stable).

use crate::error::Result;
use crate::kernels::elementwise::{ElementwiseCall, Pointwise};
use crate::loss::{Loss, Reduction, two_input_loss};
use crate::tensor::Tensor;

/// Binary cross-entropy on logits `x` against targets `y`, in the stable form
/// `max(x, 0) - x y + log1p(exp(-|x|))`, computed as `(1 - y) softplus(x) + y softplus(-x)`:
/// no overflow for any logit, and full relative precision for confident predictions (where
/// PyTorch's f32 form rounds a loss of 1e-13 to 0).
///
/// ```
/// use wgpu_loss::{Device, Reduction, Tensor};
/// let dev = Device::new()?;
/// let x = Tensor::from_slice(&dev, &[0.0f32, 100.0, -100.0], &[3])?;
/// let y = Tensor::from_slice(&dev, &[1.0f32, 1.0, 1.0], &[3])?;
/// let l = wgpu_loss::binary_cross_entropy_with_logits(&x, &y, Reduction::None)?.to_vec::<f32>()?;
/// assert!((l[0] - 2f32.ln()).abs() < 1e-6 && l[1] < 1e-30 && (l[2] - 100.0).abs() < 1e-4);
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
pub fn binary_cross_entropy_with_logits(
    input: &Tensor,
    target: &Tensor,
    reduction: Reduction,
) -> Result<Tensor> {
    BceWithLogitsLoss::new()
        .reduction(reduction)
        .forward(input, target)
}

/// Binary cross-entropy on logits as a module, like `torch.nn.BCEWithLogitsLoss`.
///
/// `pos_weight` multiplies the loss of positive targets, one factor per class of a multi-label
/// problem (`[C]` over `[N, C]`; any shape that broadcasts to the input's, e.g. `[C, 1, 1]` over
/// `[N, C, H, W]`):
/// `(1 - y) softplus(x) + pw y softplus(-x)`, equal to PyTorch's
/// `(1 - y) x + (1 + (pw - 1) y) (log1p(exp(-|x|)) + max(-x, 0))`.
///
/// ```
/// use wgpu_loss::{BceWithLogitsLoss, Device, Reduction, Tensor};
/// let dev = Device::new()?;
/// let x = Tensor::from_slice(&dev, &[0.0f32, 0.0, 0.0, 0.0], &[2, 2])?;
/// let y = Tensor::from_slice(&dev, &[1.0f32, 1.0, 0.0, 1.0], &[2, 2])?;
/// let pw = Tensor::from_slice(&dev, &[3.0f32, 1.0], &[2])?;
/// let loss = BceWithLogitsLoss::new().pos_weight(pw).reduction(Reduction::None);
/// let (l, g) = loss.forward_with_grad(&x, &y)?;
/// let ln2 = 2f32.ln();
/// assert_eq!(l.to_vec::<f32>()?, vec![3.0 * ln2, ln2, ln2, ln2]);
/// assert_eq!(g.to_vec::<f32>()?, vec![-1.5, -0.5, 0.5, -0.5]);
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct BceWithLogitsLoss {
    reduction: Reduction,
    weight: Option<Tensor>,
    pos_weight: Option<Tensor>,
}

impl BceWithLogitsLoss {
    /// Multiplies each element's loss (and gradient) by `weight`, of any shape that broadcasts
    /// to the input's (as [`BceLoss::weight`](crate::BceLoss::weight)).
    pub fn weight(mut self, weight: Tensor) -> Self {
        self.weight = Some(weight);
        self
    }

    /// Weights the positive targets: an `f32` tensor of any shape that broadcasts to the
    /// input's, usually one factor per class (the input's last dimension).
    pub fn pos_weight(mut self, pos_weight: Tensor) -> Self {
        self.pos_weight = Some(pos_weight);
        self
    }

    fn call(&self, input: &Tensor) -> Result<ElementwiseCall<'_>> {
        let divisor = self.reduction.divisor(input.len());
        let op = "binary_cross_entropy_with_logits";
        let mut call = ElementwiseCall::new(op, Pointwise::BceLogits, divisor);
        call.weight = self.weight.as_ref();
        call.pos_weight = self.pos_weight.as_ref();
        Ok(call)
    }
}

two_input_loss!(BceWithLogitsLoss, elementwise, input, target, Reduction,
    /// Computes the loss and its gradient with respect to the logits in one pass:
    /// `w ((1 - y) sigmoid(x) - pw y sigmoid(-x))`, which is `w (sigmoid(x) - y)` without
    /// `pos_weight`.
);
