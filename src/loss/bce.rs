//! Binary cross-entropy on probabilities.

use crate::error::Result;
use crate::loss::{Reduction, elementwise};
use crate::shaders::Pointwise;
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
#[derive(Debug, Clone, Copy, Default)]
pub struct BceLoss {
    reduction: Reduction,
}

impl BceLoss {
    /// Mean reduction.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the reduction.
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }

    /// Computes the loss of probabilities `input` against `target`.
    pub fn forward(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        elementwise(
            "binary_cross_entropy",
            Pointwise::Bce,
            input,
            target,
            self.reduction,
        )
    }
}
