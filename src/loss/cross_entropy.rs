//! Categorical cross-entropy on logits, with integer labels or class-probability targets.

use crate::error::Result;
use crate::kernels::class_rows::{ClassCall, RowKind};
use crate::loss::{Loss, Reduction, class_options, two_input_loss};
use crate::tensor::Tensor;

/// Cross-entropy of logits `[N, C]` against class labels `[N]` (`u32` or `i32`), with
/// PyTorch's defaults (no class weights, `ignore_index = -100` for `i32` labels, no smoothing).
///
/// Per row: `logsumexp(x) - x[label]`, with a stable one-pass log-sum-exp (the running
/// maximum is subtracted before exponentiating), so logits of ±1e4 give exact finite losses.
/// With [`Reduction::None`] the result has shape `[N]`; with `Mean` or `Sum` it is a scalar
/// of shape `[]`. A label outside `0..C` makes reading the result fail with
/// [`Error::LabelOutOfRange`](crate::Error::LabelOutOfRange). See [`CrossEntropyLoss`] for the options, more dimensions and
/// probability targets.
///
/// ```
/// use wgpu_loss::{Device, Reduction, Tensor};
/// let dev = Device::new()?;
/// let logits = Tensor::from_slice(&dev, &[1.2f32, 0.9, 0.1, 0.4, 1.5, 1.1], &[2, 3])?;
/// let labels = Tensor::from_slice(&dev, &[0u32, 2], &[2])?;
/// let ce = wgpu_loss::cross_entropy(&logits, &labels, Reduction::Mean)?.to_vec::<f32>()?[0];
/// assert!((ce - 0.912035).abs() < 1e-6);
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
pub fn cross_entropy(logits: &Tensor, labels: &Tensor, reduction: Reduction) -> Result<Tensor> {
    CrossEntropyLoss::new()
        .reduction(reduction)
        .forward(logits, labels)
}

/// Cross-entropy as a module, like `torch.nn.CrossEntropyLoss`.
///
/// Shapes as in PyTorch: logits `[N, C]`, `[C]` (one sample), or `[N, C, d1, …]`
/// (class dimension second, e.g. per pixel); the target is either class labels of the logits'
/// shape without the class dimension (`u32`, or `i32` where `ignore_index` may be negative),
/// or class probabilities (`f32`) of the logits' shape.
///
/// Options: class `weight` `[C]`; `ignore_index` (default -100; rows with that label count
/// for nothing, in the loss, the mean's denominator and the gradient); `label_smoothing` ε in
/// `[0, 1]` (the target becomes `(1 - ε) onehot + ε / C`). A mean over labels divides by the
/// sum of the weights of the rows that count, as PyTorch does; over probabilities, by the
/// number of rows.
///
/// ```
/// use wgpu_loss::{CrossEntropyLoss, Device, Reduction, Tensor};
/// let dev = Device::new()?;
/// let logits = Tensor::from_slice(&dev, &[2.0f32, 0.0, 0.0, 2.0, 1.0, 1.0], &[3, 2])?;
/// let labels = Tensor::from_slice(&dev, &[0i32, -100, 1], &[3])?;
/// let ce = CrossEntropyLoss::new().label_smoothing(0.1).ignore_index(-100);
/// let (loss, grad) = ce.forward_with_grad(&logits, &labels)?;
/// assert_eq!(loss.shape(), &[] as &[usize]);
/// assert_eq!(grad.shape(), &[3, 2]);
/// assert_eq!(grad.to_vec::<f32>()?[2..4], [0.0, 0.0]); // the ignored row
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct CrossEntropyLoss {
    reduction: Reduction,
    weight: Option<Tensor>,
    ignore_index: i32,
    label_smoothing: f32,
}

impl Default for CrossEntropyLoss {
    fn default() -> Self {
        CrossEntropyLoss {
            reduction: Reduction::Mean,
            weight: None,
            ignore_index: -100,
            label_smoothing: 0.0,
        }
    }
}

impl CrossEntropyLoss {
    /// Mixes the target with the uniform distribution: `(1 - ε) target + ε / C`.
    pub fn label_smoothing(mut self, epsilon: f32) -> Self {
        self.label_smoothing = epsilon;
        self
    }

    fn call(&self, _logits: &Tensor) -> Result<ClassCall<'_>> {
        Ok(ClassCall {
            op: "cross_entropy",
            kind: RowKind::Logits,
            weight: self.weight.as_ref(),
            ignore_index: self.ignore_index,
            smoothing: self.label_smoothing,
            reduction: self.reduction,
        })
    }
}

class_options!(CrossEntropyLoss);

two_input_loss!(CrossEntropyLoss, class_rows, logits, target, Reduction,
    /// Computes the loss and its gradient with respect to the logits, in the same kernel:
    /// `softmax(x) - target` (weighted, smoothed and scaled as the loss is).
);
