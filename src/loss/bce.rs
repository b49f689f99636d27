//! Binary cross-entropy on probabilities.

use crate::error::Result;
use crate::kernels::elementwise::{ElementwiseCall, Pointwise};
use crate::loss::{Loss, Reduction, two_input_loss};
use crate::tensor::Tensor;

/// Binary cross-entropy on probabilities `p` against targets `y` in `[0, 1]`:
/// `-(y ln p + (1 - y) ln(1 - p))` per element, each log clamped at -100 as PyTorch does, so
/// `p = 0` and `p = 1` give finite losses.
///
/// ```
/// use wgpu_loss::{Device, Reduction, Tensor};
/// let dev = Device::new()?;
/// let probs = Tensor::from_slice(&dev, &[0.9f32, 0.2], &[2])?;
/// let y = Tensor::from_slice(&dev, &[1.0f32, 0.0], &[2])?;
/// let bce = wgpu_loss::binary_cross_entropy(&probs, &y, Reduction::Sum)?.to_vec::<f32>()?[0];
/// let expected = -(0.9f32.ln() + 0.8f32.ln());
/// assert!((bce - expected).abs() < 1e-6);
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
pub fn binary_cross_entropy(
    input: &Tensor,
    target: &Tensor,
    reduction: Reduction,
) -> Result<Tensor> {
    BceLoss::new().reduction(reduction).forward(input, target)
}

/// Binary cross-entropy on probabilities as a module, like `torch.nn.BCELoss`.
///
/// ```
/// use wgpu_loss::{BceLoss, Device, Reduction, Tensor};
/// let dev = Device::new()?;
/// let probs = Tensor::from_slice(&dev, &[0.0f32, 1.0], &[2])?;
/// let y = Tensor::from_slice(&dev, &[1.0f32, 1.0], &[2])?;
/// let loss = BceLoss::new().reduction(Reduction::None).forward(&probs, &y)?;
/// assert_eq!(loss.to_vec::<f32>()?, vec![100.0, 0.0]);
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct BceLoss {
    reduction: Reduction,
    weight: Option<Tensor>,
}

impl BceLoss {
    /// Multiplies each element's loss (and gradient) by `weight`, of any shape that broadcasts
    /// to the input's, as PyTorch broadcasts it (`[C]` over `[N, C]`, `[1]`, `[N, 1]`…): of the
    /// input's shape in f32 or the input's precision, of another shape in f32. The mean still
    /// divides by the element count, as in PyTorch.
    pub fn weight(mut self, weight: Tensor) -> Self {
        self.weight = Some(weight);
        self
    }

    fn call(&self, input: &Tensor) -> Result<ElementwiseCall<'_>> {
        let divisor = self.reduction.divisor(input.len());
        let mut call = ElementwiseCall::new("binary_cross_entropy", Pointwise::Bce, divisor);
        call.weight = self.weight.as_ref();
        Ok(call)
    }
}

two_input_loss!(BceLoss, elementwise, input, target, Reduction,
    /// Computes the loss and its gradient with respect to the probabilities in one pass:
    /// `w (p - y) / max(p (1 - p), 1e-12)`, PyTorch's clamp.
    ///
    /// ```
    /// use wgpu_loss::{BceLoss, Device, Reduction, Tensor};
    /// let dev = Device::new()?;
    /// let p = Tensor::from_slice(&dev, &[0.5f32, 0.8], &[2])?;
    /// let y = Tensor::from_slice(&dev, &[1.0f32, 0.0], &[2])?;
    /// let w = Tensor::from_slice(&dev, &[2.0f32, 1.0], &[2])?;
    /// let bce = BceLoss::new().weight(w).reduction(Reduction::Sum);
    /// let (_, grad) = bce.forward_with_grad(&p, &y)?;
    /// let g = grad.to_vec::<f32>()?;
    /// assert!((g[0] + 4.0).abs() < 1e-5 && (g[1] - 5.0).abs() < 1e-5);
    /// # Ok::<(), wgpu_loss::Error>(())
    /// ```
);
