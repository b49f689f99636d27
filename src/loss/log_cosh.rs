//! Log-cosh loss (MLX): quadratic near zero, linear far away, smooth everywhere.

use crate::error::Result;
use crate::kernels::elementwise::{ElementwiseCall, Pointwise};
use crate::loss::{Loss, Reduction, two_input_loss};
use crate::tensor::Tensor;

/// Log-cosh loss, `log(cosh(x - y))` per element, reduced as asked, as MLX's
/// `mlx.nn.losses.log_cosh_loss`. Unlike MLX's formula (`logaddexp(d, -d) - log 2`), small
/// differences keep their digits: `d = 1e-3` gives `5e-7` to f32 precision, not `0` ± 6e-8.
///
/// ```
/// use wgpu_loss::{Device, Reduction, Tensor};
/// let dev = Device::new()?;
/// let x = Tensor::from_slice(&dev, &[1.0f32, 0.001], &[2])?;
/// let y = Tensor::from_slice(&dev, &[0.0f32, 0.0], &[2])?;
/// let l = wgpu_loss::log_cosh_loss(&x, &y, Reduction::None)?.to_vec::<f32>()?;
/// assert!((l[0] - 1f32.cosh().ln()).abs() < 1e-7);
/// assert!((l[1] - 5e-7).abs() < 1e-12);
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
pub fn log_cosh_loss(input: &Tensor, target: &Tensor, reduction: Reduction) -> Result<Tensor> {
    LogCoshLoss::new()
        .reduction(reduction)
        .forward(input, target)
}

/// Log-cosh loss as a module. Its reduction defaults to [`Reduction::None`], as MLX's.
#[derive(Debug, Clone, Copy)]
pub struct LogCoshLoss {
    reduction: Reduction,
}

impl Default for LogCoshLoss {
    fn default() -> Self {
        LogCoshLoss {
            reduction: Reduction::None,
        }
    }
}

impl LogCoshLoss {
    fn call(&self, input: &Tensor) -> Result<ElementwiseCall<'_>> {
        let divisor = self.reduction.divisor(input.len());
        Ok(ElementwiseCall::new(
            "log_cosh_loss",
            Pointwise::LogCosh,
            divisor,
        ))
    }
}

two_input_loss!(LogCoshLoss, elementwise, input, target, Reduction,
    /// Computes the loss and its gradient with respect to `input` in one pass:
    /// `tanh(x - y)`, divided by the element count for a mean.
    ///
    /// ```
    /// use wgpu_loss::{Device, LogCoshLoss, Reduction, Tensor};
    /// let dev = Device::new()?;
    /// let x = Tensor::from_slice(&dev, &[2.0f32], &[1])?;
    /// let y = Tensor::from_slice(&dev, &[1.0f32], &[1])?;
    /// let (_, g) = LogCoshLoss::new().reduction(Reduction::Sum).forward_with_grad(&x, &y)?;
    /// assert!((g.to_vec::<f32>()?[0] - 1f32.tanh()).abs() < 1e-7);
    /// # Ok::<(), wgpu_loss::Error>(())
    /// ```
);
