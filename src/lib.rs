#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod bind_groups;
mod device;
mod dtype;
mod error;
mod loss;
mod pipeline;
mod pool;
mod readback;
mod record;
mod reduce;
pub mod shaders;
mod tensor;
mod timing;

pub use device::{AdapterInfo, Backend, Device, DeviceOptions, DeviceType, Grid, PowerPreference};
pub use dtype::{DType, Element};
pub use error::{Error, Result};
pub use half;
pub use loss::bce::{BceLoss, binary_cross_entropy};
pub use loss::bce_logits::{BceWithLogitsLoss, binary_cross_entropy_with_logits};
pub use loss::cross_entropy::{CrossEntropyLoss, cross_entropy};
pub use loss::huber::{HuberLoss, SmoothL1Loss, huber_loss, smooth_l1_loss};
pub use loss::kl_div::{KlDivLoss, KlReduction, kl_div};
pub use loss::l1::{L1Loss, l1_loss};
pub use loss::mse::{MseLoss, mse_loss};
pub use loss::nll::{NllLoss, nll_loss};
pub use loss::{Loss, Reduction};
pub use tensor::Tensor;
pub use wgpu;
