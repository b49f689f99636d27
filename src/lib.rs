#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
// On the web wgpu's handles are neither Send nor Sync (one thread), natively they are both:
// the same Arc-shared types serve both.
#![cfg_attr(target_arch = "wasm32", allow(clippy::arc_with_non_send_sync))]

mod calibrate;
mod dtype;
mod error;
mod gpu;
mod kernels;
mod loss;
mod matmul;
mod reduction;
pub mod shaders;
mod tensor;

pub use dtype::{DType, Element};
pub use error::{Error, Result};
pub use gpu::{
    AdapterInfo, Backend, Calibration, Device, DeviceOptions, DeviceType, Grid, PowerPreference,
};
pub use half;
pub use loss::Loss;
pub use loss::bce::{BceLoss, binary_cross_entropy};
pub use loss::bce_logits::{BceWithLogitsLoss, binary_cross_entropy_with_logits};
pub use loss::cosine::{
    CosineEmbeddingLoss, CosineSimilarityLoss, cosine_embedding_loss, cosine_similarity_loss,
};
pub use loss::cross_entropy::{CrossEntropyLoss, cross_entropy};
pub use loss::ctc::{CtcLoss, ctc_loss};
pub use loss::gaussian_nll::{GaussianNllLoss, gaussian_nll_loss};
pub use loss::hinge::{HingeEmbeddingLoss, HingeLoss, hinge_embedding_loss, hinge_loss};
pub use loss::huber::{HuberLoss, SmoothL1Loss, huber_loss, smooth_l1_loss};
pub use loss::kl_div::{KlDivLoss, KlReduction, kl_div};
pub use loss::l1::{L1Loss, l1_loss};
pub use loss::linear_cross_entropy::{
    LinearCrossEntropyGrads, LinearCrossEntropyLoss, linear_cross_entropy,
};
pub use loss::log_cosh::{LogCoshLoss, log_cosh_loss};
pub use loss::margin_ranking::{MarginRankingLoss, margin_ranking_loss};
pub use loss::mse::{MseLoss, mse_loss};
pub use loss::multi_margin::{
    MultiMarginLoss, MultilabelMarginLoss, MultilabelSoftMarginLoss, multi_margin_loss,
    multilabel_margin_loss, multilabel_soft_margin_loss,
};
pub use loss::nll::{NllLoss, nll_loss};
pub use loss::poisson_nll::{PoissonNllLoss, poisson_nll_loss};
pub use loss::sigmoid_focal::{SigmoidFocalLoss, sigmoid_focal_loss};
pub use loss::soft_margin::{SoftMarginLoss, soft_margin_loss};
pub use loss::triplet_margin::{TripletMarginLoss, triplet_margin_loss};
pub use matmul::{Matmul, matmul};
pub use reduction::Reduction;
pub use tensor::Tensor;
pub use wgpu;
