//! Margin losses over class scores: one label per row (multi margin), or several targets per
//! row, given as 0/1 (multilabel soft margin) or as a list of class indices (multilabel
//! margin).

use crate::error::Result;
use crate::kernels::check;
use crate::kernels::row_pairs::{RowCall, RowInputs, RowLoss};
use crate::loss::{Loss, Reduction, row_loss};
use crate::tensor::Tensor;

/// Multi-class margin loss with PyTorch's defaults (p = 1, margin 1, no weight), as
/// `torch.nn.functional.multi_margin_loss`: per row of scores `x` `[N, C]` (or `[C]`) and its
/// label `y` `[N]` (`[]`), `u32` or `i32`: `Σ_{c ≠ y} max(0, margin - x_y + x_c)^p · w_y / C`.
/// A label outside `0..C` is [`Error::LabelOutOfRange`](crate::Error::LabelOutOfRange) when
/// read. See [`MultiMarginLoss`].
///
/// ```
/// use wgpu_loss::{Device, Reduction, Tensor};
/// let dev = Device::new()?;
/// let x = Tensor::from_slice(&dev, &[0.1f32, 0.2, 0.4, 0.8], &[1, 4])?;
/// let y = Tensor::from_slice(&dev, &[3u32], &[1])?;
/// let l = wgpu_loss::multi_margin_loss(&x, &y, Reduction::Mean)?;
/// // (1 - 0.8 + 0.1) + (1 - 0.8 + 0.2) + (1 - 0.8 + 0.4), over 4 classes
/// assert!((l.to_vec::<f32>()?[0] - 0.325).abs() < 1e-6);
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
pub fn multi_margin_loss(input: &Tensor, target: &Tensor, reduction: Reduction) -> Result<Tensor> {
    MultiMarginLoss::new()
        .reduction(reduction)
        .forward(input, target)
}

/// Multi-class margin loss as a module, like `torch.nn.MultiMarginLoss`: `p` (1 or 2),
/// `margin` (default 1), class `weight` `[C]` (f32), reduction. A NaN score gives a NaN
/// loss and gradient (PyTorch's kernels skip it: its `z > 0` test is false).
#[derive(Debug, Clone)]
pub struct MultiMarginLoss {
    reduction: Reduction,
    p: u32,
    margin: f32,
    weight: Option<Tensor>,
}

impl Default for MultiMarginLoss {
    fn default() -> Self {
        MultiMarginLoss {
            reduction: Reduction::Mean,
            p: 1,
            margin: 1.0,
            weight: None,
        }
    }
}

impl MultiMarginLoss {
    /// The hinge's power: 1 (default) or 2.
    pub fn p(mut self, p: u32) -> Self {
        self.p = p;
        self
    }

    /// How far the label's score must lead the others (default 1; finite).
    pub fn margin(mut self, margin: f32) -> Self {
        self.margin = margin;
        self
    }

    /// Weights each row's terms by its label's weight `w[y]`, `[C]` in f32.
    pub fn weight(mut self, weight: Tensor) -> Self {
        self.weight = Some(weight);
        self
    }

    fn call(&self) -> Result<RowCall> {
        let op = "multi_margin_loss";
        let p = self.p as f32;
        check::option(op, "p", p, self.p == 1 || self.p == 2, "be 1 or 2")?;
        check::option(
            op,
            "margin",
            self.margin,
            self.margin.is_finite(),
            "be finite",
        )?;
        let mut call = RowCall::new(op, RowLoss::MultiMargin, self.reduction);
        call.p = p;
        call.margin = self.margin;
        Ok(call)
    }

    fn row_inputs<'t>(&'t self, (x, y): (&'t Tensor, &'t Tensor)) -> RowInputs<'t> {
        RowInputs {
            floats: [Some(x), None, None],
            y: Some(y),
            weight: self.weight.as_ref(),
        }
    }
}

row_loss!(MultiMarginLoss, (input, target), (&'a Tensor, &'a Tensor), Tensor,
    /// Computes the loss and its gradient in the scores: `p · z^(p-1) · w_y / C` in `x_c`
    /// where `z = margin - x_y + x_c > 0` (none at `z = 0`, as PyTorch), minus their sum in
    /// `x_y`, divided by the rows for a mean.
    ///
    /// ```
    /// use wgpu_loss::{Device, MultiMarginLoss, Reduction, Tensor};
    /// let dev = Device::new()?;
    /// let x = Tensor::from_slice(&dev, &[0.1f32, 0.2, 0.4, 0.8], &[4])?;
    /// let y = Tensor::from_slice(&dev, &[3u32], &[])?;
    /// let (_, g) = MultiMarginLoss::new().reduction(Reduction::Sum).forward_with_grad(&x, &y)?;
    /// assert_eq!(g.to_vec::<f32>()?, vec![0.25, 0.25, 0.25, -0.75]);
    /// # Ok::<(), wgpu_loss::Error>(())
    /// ```
);

/// Multilabel soft margin loss, as `torch.nn.functional.multilabel_soft_margin_loss`: per
/// row of scores `x` `[N, C]` (or `[C]`) and targets `y` of its shape and element type (0 or
/// 1 per class), `(1 / C) Σ_c w_c (y_c softplus(-x_c) + (1 - y_c) softplus(x_c))` — a
/// binary cross-entropy with logits per class, averaged over the classes. See
/// [`MultilabelSoftMarginLoss`].
///
/// ```
/// use wgpu_loss::{Device, Reduction, Tensor};
/// let dev = Device::new()?;
/// let x = Tensor::from_slice(&dev, &[0.0f32, 0.0], &[1, 2])?;
/// let y = Tensor::from_slice(&dev, &[1.0f32, 0.0], &[1, 2])?;
/// let l = wgpu_loss::multilabel_soft_margin_loss(&x, &y, Reduction::Mean)?;
/// assert!((l.to_vec::<f32>()?[0] - 2f32.ln()).abs() < 1e-6);
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
pub fn multilabel_soft_margin_loss(
    input: &Tensor,
    target: &Tensor,
    reduction: Reduction,
) -> Result<Tensor> {
    MultilabelSoftMarginLoss::new()
        .reduction(reduction)
        .forward(input, target)
}

/// Multilabel soft margin loss as a module, like `torch.nn.MultiLabelSoftMarginLoss`: class
/// `weight` `[C]` (f32) and the reduction (default mean over the rows).
#[derive(Debug, Clone, Default)]
pub struct MultilabelSoftMarginLoss {
    reduction: Reduction,
    weight: Option<Tensor>,
}

impl MultilabelSoftMarginLoss {
    /// Weights each class's term, `[C]` in f32.
    pub fn weight(mut self, weight: Tensor) -> Self {
        self.weight = Some(weight);
        self
    }

    fn call(&self) -> Result<RowCall> {
        Ok(RowCall::new(
            "multilabel_soft_margin_loss",
            RowLoss::MultilabelSoftMargin,
            self.reduction,
        ))
    }

    fn row_inputs<'t>(&'t self, (x, y): (&'t Tensor, &'t Tensor)) -> RowInputs<'t> {
        RowInputs {
            floats: [Some(x), Some(y), None],
            y: None,
            weight: self.weight.as_ref(),
        }
    }
}

row_loss!(MultilabelSoftMarginLoss, (input, target), (&'a Tensor, &'a Tensor), Tensor,
    /// Computes the loss and its gradient in the scores, `w_c (σ(x_c) - y_c) / C`, divided by
    /// the rows for a mean.
    ///
    /// ```
    /// use wgpu_loss::{Device, MultilabelSoftMarginLoss, Tensor};
    /// let dev = Device::new()?;
    /// let x = Tensor::from_slice(&dev, &[0.0f32, 0.0], &[2])?;
    /// let y = Tensor::from_slice(&dev, &[1.0f32, 0.0], &[2])?;
    /// let (_, g) = MultilabelSoftMarginLoss::new().forward_with_grad(&x, &y)?;
    /// assert_eq!(g.to_vec::<f32>()?, vec![-0.25, 0.25]);
    /// # Ok::<(), wgpu_loss::Error>(())
    /// ```
);

/// Multilabel margin loss, as `torch.nn.functional.multilabel_margin_loss`: per row of scores
/// `x` `[N, C]` (or `[C]`) and targets `y` of its shape, `i32` class indices ended by the first
/// `-1`, `Σ_{j ∈ targets} Σ_{i ∉ targets} max(0, 1 - x_{y_j} + x_i) / C`. A target outside
/// `-1..C` anywhere in a row (after its `-1` too, as PyTorch checks) is
/// [`Error::LabelOutOfRange`](crate::Error::LabelOutOfRange) when read. See
/// [`MultilabelMarginLoss`].
///
/// ```
/// use wgpu_loss::{Device, Reduction, Tensor};
/// let dev = Device::new()?;
/// let x = Tensor::from_slice(&dev, &[0.1f32, 0.2, 0.4, 0.8], &[1, 4])?;
/// // Classes 3 and 0; the -1 ends the list.
/// let y = Tensor::from_slice(&dev, &[3i32, 0, -1, 1], &[1, 4])?;
/// let l = wgpu_loss::multilabel_margin_loss(&x, &y, Reduction::Mean)?;
/// // (1.1 + 1.3 + 0.4 + 0.6) / 4, PyTorch's documented example
/// assert!((l.to_vec::<f32>()?[0] - 0.85).abs() < 1e-6);
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
pub fn multilabel_margin_loss(
    input: &Tensor,
    target: &Tensor,
    reduction: Reduction,
) -> Result<Tensor> {
    MultilabelMarginLoss::new()
        .reduction(reduction)
        .forward(input, target)
}

/// Multilabel margin loss as a module, like `torch.nn.MultiLabelMarginLoss`: the reduction
/// (default mean over the rows). A target listed twice counts twice, as in PyTorch. Each row
/// takes three passes (its targets counted, one invocation per score, the row's sum), so any
/// number of targets stays within Mesa's loop budget.
#[derive(Debug, Clone, Default)]
pub struct MultilabelMarginLoss {
    reduction: Reduction,
}

impl MultilabelMarginLoss {
    fn call(&self) -> Result<RowCall> {
        Ok(RowCall::new(
            "multilabel_margin_loss",
            RowLoss::MultilabelMargin,
            self.reduction,
        ))
    }

    fn row_inputs<'t>(&'t self, (x, y): (&'t Tensor, &'t Tensor)) -> RowInputs<'t> {
        RowInputs {
            floats: [Some(x), None, None],
            y: Some(y),
            weight: None,
        }
    }
}

row_loss!(MultilabelMarginLoss, (input, target), (&'a Tensor, &'a Tensor), Tensor,
    /// Computes the loss and its gradient in the scores: `1 / C` in a non-target `x_i` per
    /// target `j` with `1 - x_{y_j} + x_i > 0` (none at 0, as PyTorch), minus `1 / C` in
    /// `x_{y_j}` per such non-target, divided by the rows for a mean.
    ///
    /// ```
    /// use wgpu_loss::{Device, MultilabelMarginLoss, Reduction, Tensor};
    /// let dev = Device::new()?;
    /// let x = Tensor::from_slice(&dev, &[0.1f32, 0.2, 0.4, 0.8], &[4])?;
    /// let y = Tensor::from_slice(&dev, &[3i32, 0, -1, 1], &[4])?;
    /// let (_, g) = MultilabelMarginLoss::new().reduction(Reduction::Sum).forward_with_grad(&x, &y)?;
    /// assert_eq!(g.to_vec::<f32>()?, vec![-0.5, 0.5, 0.5, -0.5]);
    /// # Ok::<(), wgpu_loss::Error>(())
    /// ```
);
