#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod device;
mod dtype;
mod error;
mod loss;
mod pipeline;
mod record;
mod reduce;
pub mod shaders;
mod tensor;

pub use device::{AdapterInfo, Backend, Device, DeviceOptions, DeviceType, PowerPreference};
pub use dtype::{DType, Element};
pub use error::{Error, Result};
pub use loss::Reduction;
pub use loss::bce::{BceLoss, binary_cross_entropy};
pub use loss::cross_entropy::{CrossEntropyLoss, cross_entropy};
pub use loss::mse::{MseLoss, mse_loss};
pub use tensor::Tensor;
pub use wgpu;
