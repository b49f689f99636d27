//! Linear cross-entropy: the cross-entropy of a language model's last layer, computed from its
//! hidden states and classifier without holding the batch's logits.

use crate::error::Result;
use crate::gpu::Recorder;
use crate::kernels::linear_ce::{self, LinearCeCall, LinearCeGrads, LinearCeInputs, LinearCeMetas};
use crate::loss::{Compute, Loss, Reduction, grad_like, loss_trait};
use crate::tensor::Tensor;

/// Linear cross-entropy with PyTorch's defaults, as
/// `torch.nn.functional.cross_entropy(hidden @ classifier.T, labels, reduction=…)`.
///
/// `hidden` `[N, H]`, `classifier` `[V, H]` (one row per class, as `nn.Linear.weight` or
/// `lm_head.weight`), f32, f16 or bf16; `labels` `[N]`, `u32` or `i32`. The logits `[N, V]`
/// are never written: tiles of them are made and folded into per-row statistics on chip, so
/// the call's working memory is 16 bytes per token and band of tiles (2 MiB at 4,096 tokens
/// and 32,000 classes, where the logits are 500 MiB). That holds for hidden sizes up to about
/// 20,900 where 64 classifier rows fit one binding; past that the call takes the gradients'
/// path of 32 MiB chunks of logits. See
/// [`LinearCrossEntropyLoss`] for the options and the gradients.
///
/// ```
/// use wgpu_loss::{Device, Reduction, Tensor};
/// let dev = Device::new()?;
/// // Two tokens, hidden size 2, three classes: logits [[1, 0, 1], [0, 2, 2]].
/// let hidden = Tensor::from_slice(&dev, &[1.0f32, 0.0, 0.0, 2.0], &[2, 2])?;
/// let classifier = Tensor::from_slice(&dev, &[1.0f32, 0.0, 0.0, 1.0, 1.0, 1.0], &[3, 2])?;
/// let labels = Tensor::from_slice(&dev, &[0u32, 2], &[2])?;
/// let loss = wgpu_loss::linear_cross_entropy(&hidden, &classifier, &labels, Reduction::Sum)?;
/// let lse = |z: [f32; 3]| z.iter().map(|z| z.exp()).sum::<f32>().ln();
/// let want = (lse([1.0, 0.0, 1.0]) - 1.0) + (lse([0.0, 2.0, 2.0]) - 2.0);
/// assert!((loss.to_vec::<f32>()?[0] - want).abs() < 1e-5);
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
pub fn linear_cross_entropy(
    hidden: &Tensor,
    classifier: &Tensor,
    labels: &Tensor,
    reduction: Reduction,
) -> Result<Tensor> {
    LinearCrossEntropyLoss::new()
        .reduction(reduction)
        .forward(hidden, classifier, labels)
}

/// The gradients of a linear cross-entropy, each of its input's shape and element type.
#[derive(Debug, Clone)]
pub struct LinearCrossEntropyGrads {
    /// Of the hidden states, `[N, H]`.
    pub hidden: Tensor,
    /// Of the classifier, `[V, H]`.
    pub classifier: Tensor,
    /// Of the bias, `[V]`, when the loss has one.
    pub bias: Option<Tensor>,
}

/// Linear cross-entropy as a module: `cross_entropy(softcap(hidden · classifierᵀ + bias),
/// labels)` plus PaLM's z-loss, with PyTorch's semantics.
///
/// Options:
/// - `reduction` (default mean): mean divides by the rows that count (labels other than
///   `ignore_index`); every row ignored gives a NaN mean and zero gradients;
/// - `bias` `[V]`, added to every token's logits;
/// - `ignore_index` (default -100; applies to `i32` labels, or to `u32` ones when at least 0);
/// - `label_smoothing` ε in [0, 1], as PyTorch's: `(1 - ε) · onehot + ε / V`;
/// - `softcap` c > 0: logits `z → c · tanh(z / c)` before the softmax, as Gemma 2;
/// - `z_loss` z ≥ 0: `+ z · lse²` per row that counts, as PaLM.
///
/// A label outside `0..V` (other than `ignore_index`) is reported as
/// [`Error::LabelOutOfRange`](crate::Error::LabelOutOfRange) when the loss or a gradient is
/// read. One call takes up to 8,388,608 tokens and 2,796,202 classes.
///
/// How it computes. The loss alone ([`forward`](Self::forward)), as Cut Cross-Entropy: each
/// workgroup makes a band of 64 × 64 tiles of logits in registers (8 × 8 per invocation, f32
/// accumulation) and folds each at once into its rows' running maximum, sum of exponentials
/// and sum of centred logits; one partial per token and band reaches device memory, and a
/// second pass folds a token's partials in band order into its loss. With the gradients
/// ([`forward_with_grad`](Self::forward_with_grad)), as Liger-Kernel: tokens go in chunks
/// whose f32 logits fit a 32 MiB scratch (256 tokens at a vocabulary of 32,000, 64 at
/// 128,256); per chunk the same tiled matmul writes the logits, one workgroup per token finds
/// its log-sum-exp and loss and overwrites its logits with their gradient, and two more
/// matmuls add `G · classifier` into `d hidden` and `Gᵀ · hidden` into `d classifier`, in
/// chunk order. No atomics: the same bits every run; the two methods sum in different orders,
/// so their losses may differ in the last bits.
#[derive(Debug, Clone)]
pub struct LinearCrossEntropyLoss {
    reduction: Reduction,
    bias: Option<Tensor>,
    ignore_index: i32,
    smoothing: f32,
    softcap: Option<f32>,
    z_loss: f32,
    filter_eps: f32,
}

impl Default for LinearCrossEntropyLoss {
    fn default() -> Self {
        LinearCrossEntropyLoss {
            reduction: Reduction::Mean,
            bias: None,
            ignore_index: -100,
            smoothing: 0.0,
            softcap: None,
            z_loss: 0.0,
            filter_eps: 0.0,
        }
    }
}

impl LinearCrossEntropyLoss {
    /// The loss with PyTorch's defaults: reduction mean, no bias, `ignore_index` -100, no
    /// smoothing, no softcap, no z-loss.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the reduction.
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }

    /// Adds `bias` `[V]` to every token's logits (its gradient is then in
    /// [`LinearCrossEntropyGrads::bias`]).
    pub fn bias(mut self, bias: Tensor) -> Self {
        self.bias = Some(bias);
        self
    }

    /// Rows with this label count for nothing (default -100).
    pub fn ignore_index(mut self, index: i32) -> Self {
        self.ignore_index = index;
        self
    }

    /// Label smoothing ε in [0, 1] (default 0).
    pub fn label_smoothing(mut self, epsilon: f32) -> Self {
        self.smoothing = epsilon;
        self
    }

    /// Caps the logits softly: `z → cap · tanh(z / cap)`, `cap > 0` (Gemma 2 uses 30).
    pub fn softcap(mut self, cap: f32) -> Self {
        self.softcap = Some(cap);
        self
    }

    /// Adds `weight · lse²` per row that counts (PaLM's z-loss; default 0).
    pub fn z_loss(mut self, weight: f32) -> Self {
        self.z_loss = weight;
        self
    }

    /// Cut Cross-Entropy's gradient filtering, for [`forward_with_grad`](Self::forward_with_grad):
    /// every entry of the logits' gradient below `eps` in magnitude (before a mean's division
    /// by the rows that count) counts as 0, and the two gradient products skip each slice of
    /// 64 × 16 entries that is all 0 (default 0: off). Cut Cross-Entropy uses 2⁻¹² for bf16
    /// training. Where the softmax is spread over a large vocabulary (1 / V below `eps`) almost
    /// every slice is skipped; the gradients then lose the softmax's share of the classes
    /// outside the labels' slices, an error of about `eps` times the classifier's scale per
    /// skipped class, measured in `tests/linear_cross_entropy.rs`. The loss is unchanged.
    ///
    /// ```
    /// use wgpu_loss::{Device, LinearCrossEntropyLoss, Tensor};
    /// let dev = Device::new()?;
    /// let hidden = Tensor::from_slice(&dev, &[1.0f32, 0.0], &[1, 2])?;
    /// let classifier = Tensor::from_slice(&dev, &[9.0f32, 0.0, 0.0, 0.0], &[2, 2])?;
    /// let labels = Tensor::from_slice(&dev, &[0u32], &[1])?;
    /// let (loss, grads) = LinearCrossEntropyLoss::new()
    ///     .filter_eps(2f32.powi(-12))
    ///     .forward_with_grad(&hidden, &classifier, &labels)?;
    /// // Logits [9, 0]: softmax [1 - 1.2e-4, 1.2e-4], both entries of d logits below 2^-12.
    /// assert_eq!(grads.classifier.to_vec::<f32>()?, vec![0.0; 4]);
    /// assert!(loss.to_vec::<f32>()?[0] > 1e-4);
    /// # Ok::<(), wgpu_loss::Error>(())
    /// ```
    pub fn filter_eps(mut self, eps: f32) -> Self {
        self.filter_eps = eps;
        self
    }

    /// Computes the loss.
    pub fn forward(&self, hidden: &Tensor, classifier: &Tensor, labels: &Tensor) -> Result<Tensor> {
        Loss::forward(self, (hidden, classifier, labels))
    }

    /// Computes the loss and its gradients in the hidden states, the classifier and the
    /// bias, in the same call.
    ///
    /// ```
    /// use wgpu_loss::{Device, LinearCrossEntropyLoss, Reduction, Tensor};
    /// let dev = Device::new()?;
    /// let hidden = Tensor::from_slice(&dev, &[1.0f32, 0.0], &[1, 2])?;
    /// let classifier = Tensor::from_slice(&dev, &[0.0f32, 0.0, 0.0, 0.0], &[2, 2])?;
    /// let labels = Tensor::from_slice(&dev, &[1u32], &[1])?;
    /// let bias = Tensor::from_slice(&dev, &[0.0f32, 0.0], &[2])?;
    /// let (loss, grads) = LinearCrossEntropyLoss::new()
    ///     .reduction(Reduction::Sum)
    ///     .bias(bias)
    ///     .forward_with_grad(&hidden, &classifier, &labels)?;
    /// // Logits [0, 0]: loss ln 2, d logits = softmax - onehot = [0.5, -0.5].
    /// assert!((loss.to_vec::<f32>()?[0] - 2f32.ln()).abs() < 1e-6);
    /// assert_eq!(grads.bias.unwrap().to_vec::<f32>()?, vec![0.5, -0.5]);
    /// // d classifier = d logitsᵀ · hidden; d hidden = d logits · classifier = 0.
    /// assert_eq!(grads.classifier.to_vec::<f32>()?, vec![0.5, 0.0, -0.5, 0.0]);
    /// assert_eq!(grads.hidden.to_vec::<f32>()?, vec![0.0, 0.0]);
    /// # Ok::<(), wgpu_loss::Error>(())
    /// ```
    pub fn forward_with_grad(
        &self,
        hidden: &Tensor,
        classifier: &Tensor,
        labels: &Tensor,
    ) -> Result<(Tensor, LinearCrossEntropyGrads)> {
        Loss::forward_with_grad(self, (hidden, classifier, labels))
    }

    /// Records the loss into `encoder`, which you submit (see [`Loss`]).
    pub fn record(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        hidden: &Tensor,
        classifier: &Tensor,
        labels: &Tensor,
    ) -> Result<Tensor> {
        Loss::record(self, encoder, (hidden, classifier, labels))
    }

    /// Records the loss and its gradients into `encoder`, which you submit (see [`Loss`]).
    pub fn record_with_grad(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        hidden: &Tensor,
        classifier: &Tensor,
        labels: &Tensor,
    ) -> Result<(Tensor, LinearCrossEntropyGrads)> {
        Loss::record_with_grad(self, encoder, (hidden, classifier, labels))
    }

    fn call(&self) -> LinearCeCall {
        LinearCeCall {
            reduction: self.reduction,
            ignore_index: self.ignore_index,
            smoothing: self.smoothing,
            softcap: self.softcap,
            z_loss: self.z_loss,
            filter_eps: self.filter_eps,
        }
    }

    fn inputs<'t>(&'t self, (hidden, classifier, labels): Inputs<'t>) -> LinearCeInputs<'t> {
        LinearCeInputs {
            hidden,
            classifier,
            labels,
            bias: self.bias.as_ref(),
        }
    }
}

type Inputs<'a> = (&'a Tensor, &'a Tensor, &'a Tensor);

loss_trait!(LinearCrossEntropyLoss, Inputs<'a>, LinearCrossEntropyGrads);

impl Compute for LinearCrossEntropyLoss {
    fn alloc_grads(&self, (hidden, classifier, _): Inputs<'_>) -> Result<LinearCrossEntropyGrads> {
        Ok(LinearCrossEntropyGrads {
            hidden: grad_like(hidden)?,
            classifier: grad_like(classifier)?,
            bias: self.bias.as_ref().map(grad_like).transpose()?,
        })
    }

    fn compute(
        &self,
        rec: &mut Recorder<'_, '_>,
        tensors: Inputs<'_>,
        grads: Option<&LinearCrossEntropyGrads>,
    ) -> Result<Tensor> {
        let call = self.call();
        let inputs = self.inputs(tensors);
        let plan = linear_ce::plan(&rec.device().limits(), &call, LinearCeMetas::of(inputs))?;
        let grads = grads.map(|g| LinearCeGrads {
            hidden: &g.hidden,
            classifier: &g.classifier,
            bias: g.bias.as_ref(),
        });
        plan.record(rec, &call, inputs, grads)
    }

    fn guard(grads: LinearCrossEntropyGrads, loss: &Tensor) -> LinearCrossEntropyGrads {
        LinearCrossEntropyGrads {
            hidden: grads.hidden.guarded_by(loss),
            classifier: grads.classifier.guarded_by(loss),
            bias: grads.bias.map(|b| b.guarded_by(loss)),
        }
    }
}
