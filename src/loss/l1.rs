//! L1 loss: mean absolute error.

use crate::error::Result;
use crate::kernels::elementwise::{ElementwiseCall, Pointwise};
use crate::loss::{Loss, Reduction, two_input_loss};
use crate::tensor::Tensor;

/// L1 loss (mean absolute error), `|x - y|` per element, reduced as asked.
///
/// `input` and `target` are `f32` tensors of the same shape. With [`Reduction::None`] the result
/// has their shape; with `Mean` or `Sum` it is a scalar of shape `[]`.
///
/// ```
/// use wgpu_loss::{Device, Reduction, Tensor};
/// let dev = Device::new()?;
/// let pred = Tensor::from_slice(&dev, &[2.5f32, 0.5, 2.1, 1.9], &[4])?;
/// let target = Tensor::from_slice(&dev, &[3.0f32, 0.0, 2.0, 2.0], &[4])?;
/// let l1 = wgpu_loss::l1_loss(&pred, &target, Reduction::Mean)?.to_vec::<f32>()?[0];
/// assert!((l1 - 0.3).abs() < 1e-6);
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
pub fn l1_loss(input: &Tensor, target: &Tensor, reduction: Reduction) -> Result<Tensor> {
    L1Loss::new().reduction(reduction).forward(input, target)
}

/// Mean absolute error as a module, like `torch.nn.L1Loss`.
///
/// ```
/// use wgpu_loss::{Device, L1Loss, Reduction, Tensor};
/// let dev = Device::new()?;
/// let pred = Tensor::from_slice(&dev, &[1.0f32, 2.0], &[2])?;
/// let target = Tensor::from_slice(&dev, &[0.0f32, 0.0], &[2])?;
/// let loss = L1Loss::new().reduction(Reduction::Sum).forward(&pred, &target)?;
/// assert_eq!(loss.to_vec::<f32>()?, vec![3.0]);
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct L1Loss {
    reduction: Reduction,
}

impl L1Loss {
    fn call(&self, input: &Tensor) -> Result<ElementwiseCall<'_>> {
        let divisor = self.reduction.divisor(input.len());
        Ok(ElementwiseCall::new("l1_loss", Pointwise::L1, divisor))
    }
}

two_input_loss!(L1Loss, elementwise, input, target, Reduction,
    /// Computes the loss and its gradient with respect to `input` in one pass:
    /// `sign(x - y)` (0 where `x = y`), divided by the element count for a mean.
    ///
    /// ```
    /// use wgpu_loss::{Device, L1Loss, Tensor};
    /// let dev = Device::new()?;
    /// let pred = Tensor::from_slice(&dev, &[1.0f32, 2.0], &[2])?;
    /// let target = Tensor::from_slice(&dev, &[0.0f32, 0.0], &[2])?;
    /// let (loss, grad) = L1Loss::new().forward_with_grad(&pred, &target)?;
    /// assert_eq!(loss.to_vec::<f32>()?, vec![1.5]);
    /// assert_eq!(grad.to_vec::<f32>()?, vec![0.5, 0.5]);
    /// # Ok::<(), wgpu_loss::Error>(())
    /// ```
);
