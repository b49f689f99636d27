//! Mean squared error.

use crate::error::Result;
use crate::loss::{Elementwise, Encoder, Reduction, with_grad};
use crate::shaders::Pointwise;
use crate::tensor::Tensor;

/// Mean squared error, `(x - y)²` per element, reduced as asked.
///
/// `input` and `target` are `f32` tensors of the same shape. With [`Reduction::None`] the result
/// has their shape; with `Mean` or `Sum` it is a scalar of shape `[]`.
///
/// ```
/// use wgpu_loss::{Device, Reduction, Tensor};
/// let dev = Device::new()?;
/// let pred = Tensor::from_slice(&dev, &[2.5f32, 0.5, 2.1, 1.9], &[4])?;
/// let target = Tensor::from_slice(&dev, &[3.0f32, 0.0, 2.0, 2.0], &[4])?;
/// let mse = wgpu_loss::mse_loss(&pred, &target, Reduction::Mean)?.to_vec::<f32>()?[0];
/// assert!((mse - 0.13).abs() < 1e-6);
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
pub fn mse_loss(input: &Tensor, target: &Tensor, reduction: Reduction) -> Result<Tensor> {
    MseLoss::new().reduction(reduction).forward(input, target)
}

/// Mean squared error as a module, like `torch.nn.MSELoss`.
///
/// ```
/// use wgpu_loss::{Device, MseLoss, Reduction, Tensor};
/// let dev = Device::new()?;
/// let pred = Tensor::from_slice(&dev, &[1.0f32, 2.0], &[2])?;
/// let target = Tensor::from_slice(&dev, &[0.0f32, 0.0], &[2])?;
/// let loss = MseLoss::new().reduction(Reduction::Sum).forward(&pred, &target)?;
/// assert_eq!(loss.to_vec::<f32>()?, vec![5.0]);
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct MseLoss {
    reduction: Reduction,
}

impl MseLoss {
    /// Mean reduction.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the reduction.
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }

    /// Computes the loss of `input` against `target`.
    pub fn forward(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        Ok(self.run(input, target, false, None)?.0)
    }

    /// Computes the loss and its gradient with respect to `input` in one pass:
    /// `2 (x - y)`, divided by the element count for a mean.
    ///
    /// ```
    /// use wgpu_loss::{Device, MseLoss, Tensor};
    /// let dev = Device::new()?;
    /// let pred = Tensor::from_slice(&dev, &[1.0f32, 2.0], &[2])?;
    /// let target = Tensor::from_slice(&dev, &[0.0f32, 0.0], &[2])?;
    /// let (loss, grad) = MseLoss::new().forward_with_grad(&pred, &target)?;
    /// assert_eq!(loss.to_vec::<f32>()?, vec![2.5]);
    /// assert_eq!(grad.to_vec::<f32>()?, vec![1.0, 2.0]);
    /// # Ok::<(), wgpu_loss::Error>(())
    /// ```
    pub fn forward_with_grad(&self, input: &Tensor, target: &Tensor) -> Result<(Tensor, Tensor)> {
        with_grad(self.run(input, target, true, None)?)
    }

    pub(crate) fn run(
        &self,
        input: &Tensor,
        target: &Tensor,
        with_grad: bool,
        encoder: Encoder,
    ) -> Result<(Tensor, Option<Tensor>)> {
        self.call(input, target)
            .run(self.reduction, with_grad, encoder)
    }

    fn call<'a>(&self, input: &'a Tensor, target: &'a Tensor) -> Elementwise<'a> {
        Elementwise::new("mse_loss", Pointwise::Mse, input, target)
    }
}
