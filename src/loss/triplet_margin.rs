//! Triplet margin loss: an anchor nearer its positive than its negative, by a margin.

use crate::error::Result;
use crate::kernels::check;
use crate::kernels::row_pairs::{RowCall, RowInputs, RowLoss};
use crate::loss::{Loss, Reduction, row_loss};
use crate::tensor::Tensor;

/// Triplet margin loss with PyTorch's defaults (margin 1, p = 2, eps 1e-6, no swap), as
/// `torch.nn.functional.triplet_margin_loss`: per row of `anchor`, `positive`, `negative`
/// `[N, D]` (or `[D]`), `max(0, margin + d(a, p) - d(a, n))` with `d(u, v) = ||u - v +
/// eps||_p`. See [`TripletMarginLoss`].
///
/// ```
/// use wgpu_loss::{Device, Reduction, Tensor};
/// let dev = Device::new()?;
/// let a = Tensor::from_slice(&dev, &[0.0f32, 0.0], &[1, 2])?;
/// let p = Tensor::from_slice(&dev, &[3.0f32, 4.0], &[1, 2])?;
/// let n = Tensor::from_slice(&dev, &[6.0f32, 8.0], &[1, 2])?;
/// let l = wgpu_loss::triplet_margin_loss(&a, &p, &n, Reduction::Sum)?;
/// assert_eq!(l.to_vec::<f32>()?, vec![0.0]); // 1 + 5 - 10 < 0 (eps aside)
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
pub fn triplet_margin_loss(
    anchor: &Tensor,
    positive: &Tensor,
    negative: &Tensor,
    reduction: Reduction,
) -> Result<Tensor> {
    TripletMarginLoss::new()
        .reduction(reduction)
        .forward(anchor, positive, negative)
}

/// Triplet margin loss as a module, like `torch.nn.TripletMarginLoss`: `margin` (default 1),
/// the norm's `p` (default 2; at least 1), `eps` (default 1e-6, added to each difference),
/// `swap` (the negative's distance is the smaller of `d(a, n)` and `d(p, n)`), reduction.
#[derive(Debug, Clone, Copy)]
pub struct TripletMarginLoss {
    reduction: Reduction,
    margin: f32,
    p: f32,
    eps: f32,
    swap: bool,
}

impl Default for TripletMarginLoss {
    fn default() -> Self {
        TripletMarginLoss {
            reduction: Reduction::Mean,
            margin: 1.0,
            p: 2.0,
            eps: 1e-6,
            swap: false,
        }
    }
}

impl TripletMarginLoss {
    /// How much nearer the positive must be (default 1; finite).
    pub fn margin(mut self, margin: f32) -> Self {
        self.margin = margin;
        self
    }

    /// The norm of the distances (default 2; finite, at least 1).
    pub fn p(mut self, p: f32) -> Self {
        self.p = p;
        self
    }

    /// Added to every difference before its norm (default 1e-6; finite).
    pub fn eps(mut self, eps: f32) -> Self {
        self.eps = eps;
        self
    }

    /// Whether the negative's distance is `min(d(a, n), d(p, n))` (default false).
    pub fn swap(mut self, on: bool) -> Self {
        self.swap = on;
        self
    }

    fn call(&self) -> Result<RowCall> {
        let op = "triplet_margin_loss";
        check::option(
            op,
            "margin",
            self.margin,
            self.margin.is_finite(),
            "be finite",
        )?;
        let p = self.p;
        check::option(
            op,
            "p",
            p,
            p.is_finite() && p >= 1.0,
            "be finite and at least 1",
        )?;
        check::option(op, "eps", self.eps, self.eps.is_finite(), "be finite")?;
        let mut call = RowCall::new(op, RowLoss::TripletMargin, self.reduction);
        call.margin = self.margin;
        call.p = p;
        call.eps = self.eps;
        call.swap = self.swap;
        Ok(call)
    }

    fn row_inputs<'t>(&self, (a, p, n): (&'t Tensor, &'t Tensor, &'t Tensor)) -> RowInputs<'t> {
        RowInputs {
            floats: [Some(a), Some(p), Some(n)],
            y: None,
            weight: None,
        }
    }
}

row_loss!(TripletMarginLoss, (anchor, positive, negative), (&'a Tensor, &'a Tensor, &'a Tensor), (Tensor, Tensor, Tensor),
    /// Computes the loss and its gradients in the anchor, the positive and the negative,
    /// where `margin + d(a, p) - d(a, n) >= 0` (PyTorch's subgradient at the kink): the
    /// distances' gradients `sign(v) |v|^(p-1) / d^(p-1)` (0 at a distance of 0), divided by
    /// the rows for a mean.
    ///
    /// ```
    /// use wgpu_loss::{Device, Reduction, Tensor, TripletMarginLoss};
    /// let dev = Device::new()?;
    /// let a = Tensor::from_slice(&dev, &[0.0f32, 0.0], &[2])?;
    /// let p = Tensor::from_slice(&dev, &[2.0f32, 0.0], &[2])?;
    /// let n = Tensor::from_slice(&dev, &[0.0f32, 1.0], &[2])?;
    /// let loss = TripletMarginLoss::new().eps(0.0).reduction(Reduction::Sum);
    /// let (l, (ga, gp, gn)) = loss.forward_with_grad(&a, &p, &n)?;
    /// assert_eq!(l.to_vec::<f32>()?, vec![2.0]); // 1 + 2 - 1
    /// assert_eq!(ga.to_vec::<f32>()?, vec![-1.0, 1.0]);
    /// assert_eq!(gp.to_vec::<f32>()?, vec![1.0, 0.0]);
    /// assert_eq!(gn.to_vec::<f32>()?, vec![0.0, -1.0]);
    /// # Ok::<(), wgpu_loss::Error>(())
    /// ```
);
