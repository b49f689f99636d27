//! Kullback-Leibler divergence.

use crate::error::Result;
use crate::kernels::elementwise::{ElementwiseCall, Pointwise};
use crate::loss::{Loss, two_input_loss};
use crate::tensor::Tensor;

/// How [`KlDivLoss`] combines the per-element terms; PyTorch's `reduction` strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum KlReduction {
    /// One term per element.
    None,
    /// Sum over all elements divided by the element count (PyTorch's default, which is not
    /// the mathematical KL divergence).
    #[default]
    Mean,
    /// Sum over all elements.
    Sum,
    /// Sum divided by the batch size (the first dimension): the KL divergence per sample.
    BatchMean,
}

/// KL divergence `KL(p || q)` from log-probabilities `input = log q` and probabilities
/// `target = p`: `p (log p - log q)` per element (0 where `p = 0`), with `batchmean`.
///
/// ```
/// use wgpu_loss::{Device, KlReduction, Tensor};
/// let dev = Device::new()?;
/// let log_q = Tensor::from_slice(&dev, &[0.5f32.ln(), 0.5f32.ln()], &[1, 2])?;
/// let p = Tensor::from_slice(&dev, &[1.0f32, 0.0], &[1, 2])?;
/// let kl = wgpu_loss::kl_div(&log_q, &p, KlReduction::BatchMean)?.to_vec::<f32>()?[0];
/// assert!((kl - 2f32.ln()).abs() < 1e-6);
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
pub fn kl_div(input: &Tensor, target: &Tensor, reduction: KlReduction) -> Result<Tensor> {
    KlDivLoss::new().reduction(reduction).forward(input, target)
}

/// KL divergence as a module, like `torch.nn.KLDivLoss`.
///
/// ```
/// use wgpu_loss::{Device, KlDivLoss, KlReduction, Tensor};
/// let dev = Device::new()?;
/// let log_q = Tensor::from_slice(&dev, &[0.25f32.ln(), 0.75f32.ln()], &[1, 2])?;
/// let log_p = Tensor::from_slice(&dev, &[0.5f32.ln(), 0.5f32.ln()], &[1, 2])?;
/// let kl = KlDivLoss::new().log_target(true).reduction(KlReduction::Sum);
/// let (loss, grad) = kl.forward_with_grad(&log_q, &log_p)?;
/// let want = 0.5 * (2f32.ln() + (2.0f32 / 3.0).ln());
/// assert!((loss.to_vec::<f32>()?[0] - want).abs() < 1e-6);
/// assert_eq!(grad.to_vec::<f32>()?, vec![-0.5, -0.5]);
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct KlDivLoss {
    reduction: KlReduction,
    log_target: bool,
}

impl KlDivLoss {
    /// Targets hold log-probabilities: `exp(y) (y - x)` per element.
    pub fn log_target(mut self, log_target: bool) -> Self {
        self.log_target = log_target;
        self
    }

    fn call(&self, input: &Tensor) -> Result<ElementwiseCall<'_>> {
        let divisor = match self.reduction {
            KlReduction::None => None,
            KlReduction::Mean => Some(input.len() as f32),
            KlReduction::Sum => Some(1.0),
            KlReduction::BatchMean => Some(input.shape().first().copied().unwrap_or(1) as f32),
        };
        let mut call = ElementwiseCall::new("kl_div", Pointwise::KlDiv, divisor);
        call.log_target = self.log_target;
        Ok(call)
    }
}

two_input_loss!(KlDivLoss, elementwise, input, target, KlReduction,
    /// Computes the divergence and its gradient with respect to `input`: `-p`, divided as
    /// the reduction divides.
);
