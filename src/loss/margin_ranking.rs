//! Margin ranking loss: which of two scores should be the larger.

use crate::error::Result;
use crate::kernels::check;
use crate::kernels::elementwise::{ElementwiseCall, Pointwise};
use crate::loss::{Loss, Reduction, three_input_loss};
use crate::tensor::Tensor;

/// Margin ranking loss with margin 0, as `torch.nn.functional.margin_ranking_loss`:
/// `max(0, -y (x1 - x2))` per element, `y = 1` where `x1` should rank higher, `-1` where `x2`.
///
/// ```
/// use wgpu_loss::{Device, Reduction, Tensor};
/// let dev = Device::new()?;
/// let x1 = Tensor::from_slice(&dev, &[2.0f32, 0.5], &[2])?;
/// let x2 = Tensor::from_slice(&dev, &[1.0f32, 1.5], &[2])?;
/// let y = Tensor::from_slice(&dev, &[1.0f32, 1.0], &[2])?;
/// let l = wgpu_loss::margin_ranking_loss(&x1, &x2, &y, Reduction::None)?;
/// assert_eq!(l.to_vec::<f32>()?, vec![0.0, 1.0]);
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
pub fn margin_ranking_loss(
    input1: &Tensor,
    input2: &Tensor,
    target: &Tensor,
    reduction: Reduction,
) -> Result<Tensor> {
    MarginRankingLoss::new()
        .reduction(reduction)
        .forward(input1, input2, target)
}

/// Margin ranking loss as a module, like `torch.nn.MarginRankingLoss`:
/// `max(0, -y (x1 - x2) + margin)`, with gradients in both inputs.
#[derive(Debug, Clone, Copy, Default)]
pub struct MarginRankingLoss {
    reduction: Reduction,
    margin: f32,
}

impl MarginRankingLoss {
    /// How far the higher-ranked input must lead to cost nothing (default 0; finite).
    pub fn margin(mut self, margin: f32) -> Self {
        self.margin = margin;
        self
    }

    fn call(&self, input: &Tensor) -> Result<ElementwiseCall<'_>> {
        let op = "margin_ranking_loss";
        check::option(
            op,
            "margin",
            self.margin,
            self.margin.is_finite(),
            "be finite",
        )?;
        let divisor = self.reduction.divisor(input.len());
        let mut call = ElementwiseCall::new(op, Pointwise::MarginRanking, divisor);
        call.delta = self.margin;
        Ok(call)
    }

    /// `(input1, input2, target)`: the kernel's input is `input1`, its third input `input2`.
    fn roles<'t>(
        (x1, x2, y): (&'t Tensor, &'t Tensor, &'t Tensor),
    ) -> (&'t Tensor, &'t Tensor, &'t Tensor) {
        (x1, y, x2)
    }
}

three_input_loss!(MarginRankingLoss, input1, input2, target,
    /// Computes the loss and its gradients in `input1` and `input2` in one pass: `-y` and `y`
    /// where `-y (x1 - x2) + margin >= 0` (PyTorch's subgradient at the kink), else 0,
    /// divided by the element count for a mean.
    ///
    /// ```
    /// use wgpu_loss::{Device, MarginRankingLoss, Reduction, Tensor};
    /// let dev = Device::new()?;
    /// let x1 = Tensor::from_slice(&dev, &[2.0f32, 0.5], &[2])?;
    /// let x2 = Tensor::from_slice(&dev, &[1.0f32, 1.5], &[2])?;
    /// let y = Tensor::from_slice(&dev, &[1.0f32, 1.0], &[2])?;
    /// let loss = MarginRankingLoss::new().reduction(Reduction::Sum);
    /// let (_, (g1, g2)) = loss.forward_with_grad(&x1, &x2, &y)?;
    /// assert_eq!(g1.to_vec::<f32>()?, vec![0.0, -1.0]);
    /// assert_eq!(g2.to_vec::<f32>()?, vec![0.0, 1.0]);
    /// # Ok::<(), wgpu_loss::Error>(())
    /// ```
);
