//! Negative log-likelihood on log-probabilities.

use crate::error::Result;
use crate::kernels::class_rows::{ClassCall, RowKind};
use crate::loss::{Loss, Reduction, class_options, two_input_loss};
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
    weight: Option<Tensor>,
    ignore_index: i32,
}

impl Default for NllLoss {
    fn default() -> Self {
        NllLoss {
            reduction: Reduction::Mean,
            weight: None,
            ignore_index: -100,
        }
    }
}

impl NllLoss {
    fn call(&self, _log_probs: &Tensor) -> Result<ClassCall<'_>> {
        Ok(ClassCall {
            op: "nll_loss",
            kind: RowKind::LogProbs,
            weight: self.weight.as_ref(),
            ignore_index: self.ignore_index,
            smoothing: 0.0,
            reduction: self.reduction,
        })
    }
}

class_options!(NllLoss);

two_input_loss!(NllLoss, class_rows, log_probs, labels, Reduction,
    /// Computes the loss and its gradient with respect to `log_probs`: `-w[y] / denominator`
    /// at each row's label, 0 elsewhere.
);
