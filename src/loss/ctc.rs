//! Connectionist temporal classification (CTC): the loss of speech and handwriting models that
//! align an unsegmented input sequence with a shorter target sequence.

use crate::error::Result;
use crate::gpu::Recorder;
use crate::kernels::ctc::{self, CtcCall, CtcInputs, CtcMetas};
use crate::loss::{Compute, Loss, Reduction, grad_like, loss_trait};
use crate::tensor::Tensor;

/// CTC loss with PyTorch's defaults (blank 0, no `zero_infinity`), as
/// `torch.nn.functional.ctc_loss(log_probs, targets, input_lengths, target_lengths)`.
///
/// `log_probs` `[T, N, C]` (time first; the output of a log-softmax over the classes) or
/// `[T, C]` for one sequence; `targets` padded `[N, S]` or concatenated `[sum of
/// target_lengths]` (`[S]` for one sequence), `u32` or `i32`; `input_lengths` and
/// `target_lengths` `[N]` (`[]` or `[1]` for one sequence), `u32` or `i32`. Per sequence: the
/// negative log-likelihood of its target over every alignment (blanks and repeats collapsed);
/// `inf` where no alignment exists (a target too long for its input). `Mean` divides each
/// sequence's loss by its target length (at least 1) and averages over the batch; `Sum` adds
/// them; `None` returns them, shape `[N]` (`[]` for one sequence). See [`CtcLoss`].
///
/// ```
/// use wgpu_loss::{Device, Reduction, Tensor};
/// let dev = Device::new()?;
/// // Two time steps, classes {blank, a}, uniform probabilities; the target "a" is aligned
/// // by "a a", "a -" and "- a": probability 3/4.
/// let lp = Tensor::from_slice(&dev, &[0.5f32.ln(); 4], &[2, 1, 2])?;
/// let targets = Tensor::from_slice(&dev, &[1u32], &[1, 1])?;
/// let lengths = Tensor::from_slice(&dev, &[2u32], &[1])?;
/// let target_lengths = Tensor::from_slice(&dev, &[1u32], &[1])?;
/// let loss = wgpu_loss::ctc_loss(&lp, &targets, &lengths, &target_lengths, Reduction::Sum)?;
/// assert!((loss.to_vec::<f32>()?[0] - -(0.75f32.ln())).abs() < 1e-6);
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
pub fn ctc_loss(
    log_probs: &Tensor,
    targets: &Tensor,
    input_lengths: &Tensor,
    target_lengths: &Tensor,
    reduction: Reduction,
) -> Result<Tensor> {
    CtcLoss::new()
        .reduction(reduction)
        .forward(log_probs, targets, input_lengths, target_lengths)
}

/// CTC loss as a module, like `torch.nn.CTCLoss`: `blank` (default 0), `zero_infinity`
/// (default false: an impossible alignment gives an infinite loss and a NaN gradient; true:
/// 0 and a zero gradient) and the reduction (default mean, as PyTorch's).
///
/// Bad lengths or labels (an input length over `T`, a target length over the padded
/// targets' `S` or past the end of concatenated ones, a negative length, a label that is the
/// blank or outside `0..C`) are found on the GPU and reported when the loss or its gradient
/// is read: [`Error::InvalidLength`](crate::Error::InvalidLength),
/// [`Error::BlankLabel`](crate::Error::BlankLabel),
/// [`Error::LabelOutOfRange`](crate::Error::LabelOutOfRange).
/// An input length of 0 gives a loss of 0 for an empty target, `inf` otherwise.
///
/// Limits of one call: at most 16,384 sequences, and at most about 16,000 labels per
/// target (half of 32,768 less the batch and C / 256: Mesa's software adapters stop a
/// shader's loops after 65,535 iterations, and a sequence's targets and states are each gone
/// over by one invocation). Time steps have no limit: the recursions run in as many
/// dispatches as `T` needs.
#[derive(Debug, Clone, Copy, Default)]
pub struct CtcLoss {
    reduction: Reduction,
    blank: u32,
    zero_infinity: bool,
}

impl CtcLoss {
    /// The loss with PyTorch's defaults: blank 0, no `zero_infinity`, reduction mean.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the reduction.
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }

    /// The blank class (default 0), which must be a class of the log-probabilities.
    pub fn blank(mut self, blank: u32) -> Self {
        self.blank = blank;
        self
    }

    /// Whether an impossible alignment (infinite loss) counts as 0 with a zero gradient.
    pub fn zero_infinity(mut self, on: bool) -> Self {
        self.zero_infinity = on;
        self
    }

    /// Computes the loss.
    pub fn forward(
        &self,
        log_probs: &Tensor,
        targets: &Tensor,
        input_lengths: &Tensor,
        target_lengths: &Tensor,
    ) -> Result<Tensor> {
        Loss::forward(self, (log_probs, targets, input_lengths, target_lengths))
    }

    /// Computes the loss and its gradient in `log_probs` (of its shape and element type):
    /// `exp(lp) - exp(log Σ_{s: l'_s = c} α_t(s) β_t(s) + nll - lp)` times the reduction's
    /// scale, 0 past a sequence's input length — what PyTorch's kernels return, the gradient
    /// for log-probabilities that came out of a log-softmax (it is the gradient in the
    /// logits fed to that log-softmax).
    ///
    /// ```
    /// use wgpu_loss::{CtcLoss, Device, Reduction, Tensor};
    /// let dev = Device::new()?;
    /// let lp = Tensor::from_slice(&dev, &[0.5f32.ln(); 4], &[2, 2])?; // [T, C], one sequence
    /// let targets = Tensor::from_slice(&dev, &[1u32], &[1])?;
    /// let lengths = Tensor::from_slice(&dev, &[2u32], &[])?;
    /// let target_lengths = Tensor::from_slice(&dev, &[1u32], &[])?;
    /// let (_, grad) = CtcLoss::new()
    ///     .reduction(Reduction::Sum)
    ///     .forward_with_grad(&lp, &targets, &lengths, &target_lengths)?;
    /// // Of the alignments "a a", "a -", "- a", two hold "a" at each step: p(a) = 2/3 there.
    /// let want = [1.0 / 6.0, -1.0 / 6.0, 1.0 / 6.0, -1.0 / 6.0]; // blank, a; blank, a
    /// for (g, w) in grad.to_vec::<f32>()?.iter().zip(want) {
    ///     assert!((g - w).abs() < 1e-6);
    /// }
    /// # Ok::<(), wgpu_loss::Error>(())
    /// ```
    pub fn forward_with_grad(
        &self,
        log_probs: &Tensor,
        targets: &Tensor,
        input_lengths: &Tensor,
        target_lengths: &Tensor,
    ) -> Result<(Tensor, Tensor)> {
        Loss::forward_with_grad(self, (log_probs, targets, input_lengths, target_lengths))
    }

    /// Records the loss into `encoder`, which you submit (see [`Loss`]).
    pub fn record(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        log_probs: &Tensor,
        targets: &Tensor,
        input_lengths: &Tensor,
        target_lengths: &Tensor,
    ) -> Result<Tensor> {
        Loss::record(
            self,
            encoder,
            (log_probs, targets, input_lengths, target_lengths),
        )
    }

    /// Records the loss and its gradient into `encoder`, which you submit (see [`Loss`]).
    pub fn record_with_grad(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        log_probs: &Tensor,
        targets: &Tensor,
        input_lengths: &Tensor,
        target_lengths: &Tensor,
    ) -> Result<(Tensor, Tensor)> {
        Loss::record_with_grad(
            self,
            encoder,
            (log_probs, targets, input_lengths, target_lengths),
        )
    }

    fn call(&self) -> CtcCall {
        CtcCall {
            blank: self.blank,
            zero_infinity: self.zero_infinity,
            reduction: self.reduction,
        }
    }
}

type Inputs<'a> = (&'a Tensor, &'a Tensor, &'a Tensor, &'a Tensor);

fn inputs<'t>((log_probs, targets, input_lengths, target_lengths): Inputs<'t>) -> CtcInputs<'t> {
    CtcInputs {
        log_probs,
        targets,
        input_lengths,
        target_lengths,
    }
}

loss_trait!(CtcLoss, Inputs<'a>, Tensor);

impl Compute for CtcLoss {
    fn alloc_grads(&self, inputs: Inputs<'_>) -> Result<Tensor> {
        grad_like(inputs.0)
    }

    fn compute(
        &self,
        rec: &mut Recorder<'_, '_>,
        tensors: Inputs<'_>,
        grads: Option<&Tensor>,
    ) -> Result<Tensor> {
        let call = self.call();
        let metas = CtcMetas::of(inputs(tensors));
        ctc::plan(&rec.device().limits(), &call, metas)?.record(rec, &call, inputs(tensors), grads)
    }

    fn guard(grads: Tensor, loss: &Tensor) -> Tensor {
        grads.guarded_by(loss)
    }
}
