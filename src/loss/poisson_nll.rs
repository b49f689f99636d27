//! Poisson negative log-likelihood, for counts predicted as rates.

use crate::error::Result;
use crate::kernels::check;
use crate::kernels::elementwise::{ElementwiseCall, Pointwise};
use crate::loss::{Loss, Reduction, two_input_loss};
use crate::tensor::Tensor;

/// Poisson negative log-likelihood with PyTorch's defaults (`log_input`, not `full`,
/// `eps = 1e-8`): `exp(x) - y x` per element, as `torch.nn.functional.poisson_nll_loss`.
///
/// ```
/// use wgpu_loss::{Device, Reduction, Tensor};
/// let dev = Device::new()?;
/// let x = Tensor::from_slice(&dev, &[0.0f32, 1.0], &[2])?;
/// let y = Tensor::from_slice(&dev, &[2.0f32, 1.0], &[2])?;
/// let l = wgpu_loss::poisson_nll_loss(&x, &y, Reduction::None)?.to_vec::<f32>()?;
/// assert_eq!(l[0], 1.0);
/// assert!((l[1] - (1f32.exp() - 1.0)).abs() < 1e-6);
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
pub fn poisson_nll_loss(input: &Tensor, target: &Tensor, reduction: Reduction) -> Result<Tensor> {
    PoissonNllLoss::new()
        .reduction(reduction)
        .forward(input, target)
}

/// Poisson negative log-likelihood as a module, like `torch.nn.PoissonNLLLoss`:
/// `exp(x) - y x` where the input is the rate's logarithm (`log_input`, the default), else
/// `x - y log(x + eps)`; `full` adds Stirling's approximation of `log(y!)`,
/// `y log y - y + log(2πy) / 2`, where `y > 1`.
#[derive(Debug, Clone, Copy)]
pub struct PoissonNllLoss {
    reduction: Reduction,
    log_input: bool,
    full: bool,
    eps: f32,
}

impl Default for PoissonNllLoss {
    fn default() -> Self {
        PoissonNllLoss {
            reduction: Reduction::Mean,
            log_input: true,
            full: false,
            eps: 1e-8,
        }
    }
}

impl PoissonNllLoss {
    /// Whether the input is the logarithm of the rate (default `true`) or the rate itself.
    pub fn log_input(mut self, log_input: bool) -> Self {
        self.log_input = log_input;
        self
    }

    /// Adds Stirling's term, so the loss is the full negative log-likelihood (default
    /// `false`).
    pub fn full(mut self, full: bool) -> Self {
        self.full = full;
        self
    }

    /// Added to a rate before its logarithm when `log_input` is off (default `1e-8`;
    /// finite, 0 or more).
    pub fn eps(mut self, eps: f32) -> Self {
        self.eps = eps;
        self
    }

    fn call(&self, input: &Tensor) -> Result<ElementwiseCall<'_>> {
        let op = "poisson_nll_loss";
        let valid = self.eps >= 0.0 && self.eps.is_finite();
        check::option(op, "eps", self.eps, valid, "be finite and 0 or more")?;
        let divisor = self.reduction.divisor(input.len());
        let mut call = ElementwiseCall::new(op, Pointwise::PoissonNll, divisor);
        call.log_input = self.log_input;
        call.full = self.full;
        call.eps = self.eps;
        Ok(call)
    }
}

two_input_loss!(PoissonNllLoss, elementwise, input, target, Reduction,
    /// Computes the loss and its gradient with respect to `input` in one pass: `exp(x) - y`
    /// (`log_input`) or `1 - y / (x + eps)`, divided by the element count for a mean.
    ///
    /// ```
    /// use wgpu_loss::{Device, PoissonNllLoss, Reduction, Tensor};
    /// let dev = Device::new()?;
    /// let x = Tensor::from_slice(&dev, &[2.0f32], &[1])?;
    /// let y = Tensor::from_slice(&dev, &[4.0f32], &[1])?;
    /// let loss = PoissonNllLoss::new().log_input(false).reduction(Reduction::Sum);
    /// let (_, g) = loss.forward_with_grad(&x, &y)?;
    /// assert!((g.to_vec::<f32>()?[0] + 1.0).abs() < 1e-6);
    /// # Ok::<(), wgpu_loss::Error>(())
    /// ```
);
