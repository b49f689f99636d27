//! Mean squared error.

use crate::error::Result;
use crate::kernels::elementwise::{ElementwiseCall, Pointwise};
use crate::loss::{Loss, Reduction, two_input_loss};
use crate::tensor::Tensor;

/// Mean squared error, `(x - y)²` per element, reduced as asked.
///
/// `input` and `target` are tensors of the same shape: f32, f16 or bf16 (the target in f32
/// or the input's type). With [`Reduction::None`] the result
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
    fn call(&self, input: &Tensor) -> Result<ElementwiseCall<'_>> {
        let divisor = self.reduction.divisor(input.len());
        Ok(ElementwiseCall::new("mse_loss", Pointwise::Mse, divisor))
    }
}

two_input_loss!(MseLoss, elementwise, input, target, Reduction,
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
);
