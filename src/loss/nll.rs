//! Negative log-likelihood on log-probabilities.

use crate::error::Result;
use crate::loss::cross_entropy::{ClassKernel, ClassLoss, ClassOptions};
use crate::loss::{Encoder, Reduction, with_grad};
use crate::tensor::Tensor;

/// Negative log-likelihood of log-probabilities `[N, C]` (a `log_softmax` output) against
/// class labels `[N]`: `-logp[label]` per row.
///
/// ```
/// use wgpu_loss::{Device, Reduction, Tensor};
/// let dev = Device::new()?;
/// let logp = Tensor::from_slice(&dev, &[-0.5f32, -1.0, -2.0, -0.1], &[2, 2])?;
/// let labels = Tensor::from_slice(&dev, &[0u32, 1], &[2])?;
/// let nll = wgpu_loss::nll_loss(&logp, &labels, Reduction::Mean)?.to_vec::<f32>()?[0];
/// assert!((nll - 0.3).abs() < 1e-6);
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
pub fn nll_loss(log_probs: &Tensor, labels: &Tensor, reduction: Reduction) -> Result<Tensor> {
    NllLoss::new()
        .reduction(reduction)
        .forward(log_probs, labels)
}

/// Negative log-likelihood as a module, like `torch.nn.NLLLoss`: class `weight`,
/// `ignore_index` (default -100), shapes as [`CrossEntropyLoss`](crate::CrossEntropyLoss).
/// A mean divides by the sum of the weights of the rows that count.
///
/// ```
/// use wgpu_loss::{Device, NllLoss, Tensor};
/// let dev = Device::new()?;
/// let logp = Tensor::from_slice(&dev, &[-0.5f32, -1.0, -2.0, -0.1], &[2, 2])?;
/// let labels = Tensor::from_slice(&dev, &[0u32, 1], &[2])?;
/// let w = Tensor::from_slice(&dev, &[3.0f32, 1.0], &[2])?;
/// let (loss, grad) = NllLoss::new().weight(w).forward_with_grad(&logp, &labels)?;
/// assert!((loss.to_vec::<f32>()?[0] - 1.6 / 4.0).abs() < 1e-6);
/// assert_eq!(grad.to_vec::<f32>()?, vec![-0.75, 0.0, 0.0, -0.25]);
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct NllLoss {
    reduction: Reduction,
    options: ClassOptions,
}

impl Default for NllLoss {
    fn default() -> Self {
        NllLoss {
            reduction: Reduction::Mean,
            options: ClassOptions::default(),
        }
    }
}

impl NllLoss {
    /// Mean reduction, no weights, `ignore_index = -100`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the reduction.
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }

    /// Weights each class: an `f32` tensor of shape `[C]`.
    pub fn weight(mut self, weight: Tensor) -> Self {
        self.options.weight = Some(weight);
        self
    }

    /// Rows with this label are skipped. Negative values only match `i32` labels.
    pub fn ignore_index(mut self, ignore_index: i32) -> Self {
        self.options.ignore_index = ignore_index;
        self
    }

    /// Computes the loss of `log_probs` against `labels`.
    pub fn forward(&self, log_probs: &Tensor, labels: &Tensor) -> Result<Tensor> {
        Ok(self.run(log_probs, labels, false, None)?.0)
    }

    /// Computes the loss and its gradient with respect to `log_probs`: `-w[y] / denominator`
    /// at each row's label, 0 elsewhere.
    pub fn forward_with_grad(
        &self,
        log_probs: &Tensor,
        labels: &Tensor,
    ) -> Result<(Tensor, Tensor)> {
        with_grad(self.run(log_probs, labels, true, None)?)
    }

    pub(crate) fn run(
        &self,
        log_probs: &Tensor,
        labels: &Tensor,
        with_grad: bool,
        encoder: Encoder,
    ) -> Result<(Tensor, Option<Tensor>)> {
        ClassLoss::new("nll_loss", ClassKernel::LogProbs, &self.options).run(
            log_probs,
            labels,
            self.reduction,
            with_grad,
            encoder,
        )
    }
}
