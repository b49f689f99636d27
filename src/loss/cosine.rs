//! Losses of the angle between rows: PyTorch's cosine embedding loss and MLX's cosine
//! similarity loss.

use crate::error::Result;
use crate::kernels::check;
use crate::kernels::row_pairs::{RowCall, RowInputs, RowLoss};
use crate::loss::{Loss, Reduction, row_loss};
use crate::tensor::Tensor;

/// Cosine embedding loss with margin 0, as `torch.nn.functional.cosine_embedding_loss`:
/// per row of `input1`, `input2` `[N, D]` (or `[D]`), `1 - cos` where `target` is 1 and
/// `max(0, cos - margin)` where it is -1 (0 for any other target, as PyTorch), with
/// `cos = x1·x2 / sqrt((|x1|² + 1e-12)(|x2|² + 1e-12))`. `target` `[N]` (`[]` for one row),
/// f32 or i32.
///
/// ```
/// use wgpu_loss::{Device, Reduction, Tensor};
/// let dev = Device::new()?;
/// let x1 = Tensor::from_slice(&dev, &[1.0f32, 0.0, 1.0, 0.0], &[2, 2])?;
/// let x2 = Tensor::from_slice(&dev, &[0.0f32, 1.0, 1.0, 0.0], &[2, 2])?;
/// let y = Tensor::from_slice(&dev, &[1.0f32, -1.0], &[2])?;
/// let l = wgpu_loss::cosine_embedding_loss(&x1, &x2, &y, Reduction::None)?;
/// let l = l.to_vec::<f32>()?; // orthogonal but similar: 1; identical but dissimilar: 1
/// assert!((l[0] - 1.0).abs() < 1e-6 && (l[1] - 1.0).abs() < 1e-6);
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
pub fn cosine_embedding_loss(
    input1: &Tensor,
    input2: &Tensor,
    target: &Tensor,
    reduction: Reduction,
) -> Result<Tensor> {
    CosineEmbeddingLoss::new()
        .reduction(reduction)
        .forward(input1, input2, target)
}

/// Cosine embedding loss as a module, like `torch.nn.CosineEmbeddingLoss`: `margin` (default
/// 0, finite) and the reduction (default mean over the rows).
#[derive(Debug, Clone, Copy, Default)]
pub struct CosineEmbeddingLoss {
    reduction: Reduction,
    margin: f32,
}

impl CosineEmbeddingLoss {
    /// The similarity below which a dissimilar pair costs nothing (default 0).
    pub fn margin(mut self, margin: f32) -> Self {
        self.margin = margin;
        self
    }

    fn call(&self) -> Result<RowCall> {
        let op = "cosine_embedding_loss";
        let m = self.margin;
        check::option(op, "margin", m, m.is_finite(), "be finite")?;
        let mut call = RowCall::new(op, RowLoss::CosineEmbedding, self.reduction);
        call.margin = m;
        Ok(call)
    }

    fn row_inputs<'t>(&self, (x1, x2, y): (&'t Tensor, &'t Tensor, &'t Tensor)) -> RowInputs<'t> {
        RowInputs {
            floats: [Some(x1), Some(x2), None],
            y: Some(y),
            weight: None,
        }
    }
}

row_loss!(CosineEmbeddingLoss, (input1, input2, target), (&'a Tensor, &'a Tensor, &'a Tensor), (Tensor, Tensor),
    /// Computes the loss and its gradients in `input1` and `input2`: `dcos · (x2 / denom -
    /// cos · x1 / (|x1|² + 1e-12))` and the same with the inputs exchanged, `dcos` -1 where
    /// the target is 1 and 1 where it is -1 and `cos >= margin` (PyTorch's subgradient at the
    /// kink), divided by the rows for a mean.
    ///
    /// ```
    /// use wgpu_loss::{CosineEmbeddingLoss, Device, Reduction, Tensor};
    /// let dev = Device::new()?;
    /// let x1 = Tensor::from_slice(&dev, &[1.0f32, 0.0], &[1, 2])?;
    /// let x2 = Tensor::from_slice(&dev, &[0.0f32, 1.0], &[1, 2])?;
    /// let y = Tensor::from_slice(&dev, &[1i32], &[1])?;
    /// let (_, (g1, _)) = CosineEmbeddingLoss::new().forward_with_grad(&x1, &x2, &y)?;
    /// // Turning x1 towards x2 lowers the loss.
    /// let g1 = g1.to_vec::<f32>()?;
    /// assert!(g1[0].abs() < 1e-6 && (g1[1] + 1.0).abs() < 1e-5);
    /// # Ok::<(), wgpu_loss::Error>(())
    /// ```
);

/// MLX's cosine similarity loss, `mlx.nn.losses.cosine_similarity_loss(x1, x2, axis=-1,
/// eps=1e-8, reduction="none")`: per row `x1·x2 / max(|x1| |x2|, eps)` (the similarity
/// itself, as MLX: minimise its negative to align). Rows are the last dimension of `[N, D]`
/// or `[D]`. See [`CosineSimilarityLoss`].
///
/// ```
/// use wgpu_loss::{Device, Reduction, Tensor};
/// let dev = Device::new()?;
/// let x1 = Tensor::from_slice(&dev, &[3.0f32, 4.0], &[2])?;
/// let x2 = Tensor::from_slice(&dev, &[4.0f32, 3.0], &[2])?;
/// let l = wgpu_loss::cosine_similarity_loss(&x1, &x2, Reduction::None)?;
/// assert!((l.to_vec::<f32>()?[0] - 0.96).abs() < 1e-6);
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
pub fn cosine_similarity_loss(x1: &Tensor, x2: &Tensor, reduction: Reduction) -> Result<Tensor> {
    CosineSimilarityLoss::new()
        .reduction(reduction)
        .forward(x1, x2)
}

/// MLX's cosine similarity loss as a module: `eps` (default 1e-8, finite and at least 0) and
/// the reduction (default none, as MLX).
#[derive(Debug, Clone, Copy)]
pub struct CosineSimilarityLoss {
    reduction: Reduction,
    eps: f32,
}

impl Default for CosineSimilarityLoss {
    fn default() -> Self {
        CosineSimilarityLoss {
            reduction: Reduction::None,
            eps: 1e-8,
        }
    }
}

impl CosineSimilarityLoss {
    /// The floor of the norms' product (default 1e-8).
    pub fn eps(mut self, eps: f32) -> Self {
        self.eps = eps;
        self
    }

    fn call(&self) -> Result<RowCall> {
        let op = "cosine_similarity_loss";
        let e = self.eps;
        check::option(
            op,
            "eps",
            e,
            e.is_finite() && e >= 0.0,
            "be finite and at least 0",
        )?;
        let mut call = RowCall::new(op, RowLoss::CosineSimilarity, self.reduction);
        call.eps = e;
        Ok(call)
    }

    fn row_inputs<'t>(&self, (x1, x2): (&'t Tensor, &'t Tensor)) -> RowInputs<'t> {
        RowInputs {
            floats: [Some(x1), Some(x2), None],
            y: None,
            weight: None,
        }
    }
}

row_loss!(CosineSimilarityLoss, (x1, x2), (&'a Tensor, &'a Tensor), (Tensor, Tensor),
    /// Computes the loss and its gradients in `x1` and `x2`: `x2 / den - loss · x1 / |x1|²`
    /// where `|x1| |x2| > eps`, `x2 / eps` where the floor holds (and the same exchanged).
    ///
    /// ```
    /// use wgpu_loss::{CosineSimilarityLoss, Device, Tensor};
    /// let dev = Device::new()?;
    /// let x1 = Tensor::from_slice(&dev, &[1.0f32, 0.0], &[2])?;
    /// let x2 = Tensor::from_slice(&dev, &[1.0f32, 1.0], &[2])?;
    /// let (_, (g1, _)) = CosineSimilarityLoss::new().forward_with_grad(&x1, &x2)?;
    /// let g1 = g1.to_vec::<f32>()?; // (0, 1/√2): towards x2, across x1
    /// assert!(g1[0].abs() < 1e-6 && (g1[1] - 0.5f32.sqrt()).abs() < 1e-6);
    /// # Ok::<(), wgpu_loss::Error>(())
    /// ```
);
