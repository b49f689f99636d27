//! Gaussian negative log-likelihood: a regression that predicts its own variance.

use crate::error::Result;
use crate::kernels::check;
use crate::kernels::elementwise::{ElementwiseCall, Pointwise};
use crate::loss::{Loss, Reduction, three_input_loss};
use crate::tensor::Tensor;

/// Gaussian negative log-likelihood with PyTorch's defaults (`full` off, `eps = 1e-6`), as
/// `torch.nn.functional.gaussian_nll_loss`: `(log v + (x - y)² / v) / 2` per element, where
/// `v = max(var, eps)`.
///
/// ```
/// use wgpu_loss::{Device, Reduction, Tensor};
/// let dev = Device::new()?;
/// let x = Tensor::from_slice(&dev, &[1.0f32, 0.0], &[2])?;
/// let y = Tensor::from_slice(&dev, &[0.0f32, 0.0], &[2])?;
/// let var = Tensor::from_slice(&dev, &[1.0f32, 1.0], &[2])?;
/// let l = wgpu_loss::gaussian_nll_loss(&x, &y, &var, Reduction::None)?;
/// assert_eq!(l.to_vec::<f32>()?, vec![0.5, 0.0]);
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
pub fn gaussian_nll_loss(
    input: &Tensor,
    target: &Tensor,
    var: &Tensor,
    reduction: Reduction,
) -> Result<Tensor> {
    GaussianNllLoss::new()
        .reduction(reduction)
        .forward(input, target, var)
}

/// Gaussian negative log-likelihood as a module, like `torch.nn.GaussianNLLLoss`, with
/// gradients in the input and in the variance. The variance has the input's shape (PyTorch
/// also broadcasts one whose last dimension is 1 or missing: not yet here, an
/// [`Error::Shape`](crate::Error::Shape)). A variance below `eps` counts as `eps`, with the
/// gradient taken there, as PyTorch's clamp without gradient; a negative variance, which
/// PyTorch refuses, counts as `eps` too.
#[derive(Debug, Clone, Copy)]
pub struct GaussianNllLoss {
    reduction: Reduction,
    full: bool,
    eps: f32,
}

impl Default for GaussianNllLoss {
    fn default() -> Self {
        GaussianNllLoss {
            reduction: Reduction::Mean,
            full: false,
            eps: 1e-6,
        }
    }
}

impl GaussianNllLoss {
    /// Adds the constant `log(2π) / 2` (default `false`).
    pub fn full(mut self, full: bool) -> Self {
        self.full = full;
        self
    }

    /// The smallest variance (default `1e-6`; finite, and a normal f32: at least
    /// `f32::MIN_POSITIVE`, since a GPU may flush smaller values to 0).
    pub fn eps(mut self, eps: f32) -> Self {
        self.eps = eps;
        self
    }

    fn call(&self, input: &Tensor) -> Result<ElementwiseCall<'_>> {
        let op = "gaussian_nll_loss";
        let valid = self.eps >= f32::MIN_POSITIVE && self.eps.is_finite();
        check::option(op, "eps", self.eps, valid, "be finite and at least 2^-126")?;
        let divisor = self.reduction.divisor(input.len());
        let mut call = ElementwiseCall::new(op, Pointwise::GaussianNll, divisor);
        call.full = self.full;
        call.eps = self.eps;
        Ok(call)
    }

    /// `(input, target, var)`: the kernel's third input is the variance.
    fn roles<'t>(
        inputs: (&'t Tensor, &'t Tensor, &'t Tensor),
    ) -> (&'t Tensor, &'t Tensor, &'t Tensor) {
        inputs
    }
}

three_input_loss!(GaussianNllLoss, input, target, var,
    /// Computes the loss and its gradients in `input` and in `var` in one pass:
    /// `(x - y) / v` and `(1 / v - (x - y)² / v²) / 2`, divided by the element count for a
    /// mean.
    ///
    /// ```
    /// use wgpu_loss::{Device, GaussianNllLoss, Reduction, Tensor};
    /// let dev = Device::new()?;
    /// let x = Tensor::from_slice(&dev, &[1.0f32], &[1])?;
    /// let y = Tensor::from_slice(&dev, &[0.0f32], &[1])?;
    /// let var = Tensor::from_slice(&dev, &[2.0f32], &[1])?;
    /// let loss = GaussianNllLoss::new().reduction(Reduction::Sum);
    /// let (_, (gx, gv)) = loss.forward_with_grad(&x, &y, &var)?;
    /// assert_eq!(gx.to_vec::<f32>()?, vec![0.5]);
    /// assert_eq!(gv.to_vec::<f32>()?, vec![0.125]);
    /// # Ok::<(), wgpu_loss::Error>(())
    /// ```
);
