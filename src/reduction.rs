//! How per-element losses are combined into the result.

/// How the per-element (or per-sample) losses are combined, as in PyTorch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Reduction {
    /// No reduction: one loss per element (per sample for cross-entropy).
    None,
    /// The mean: a scalar tensor of shape `[]` (the default, as in PyTorch).
    #[default]
    Mean,
    /// The sum: a scalar tensor of shape `[]`.
    Sum,
}

impl Reduction {
    /// What an element-wise sum over `count` elements is divided by; `None` keeps each.
    pub(crate) fn divisor(self, count: usize) -> Option<f32> {
        match self {
            Reduction::None => None,
            Reduction::Mean => Some(count as f32),
            Reduction::Sum => Some(1.0),
        }
    }
}
