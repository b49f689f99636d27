//! The GPU runtime: opening a device, its memory and caches, compiling pipelines from kernel
//! contracts, recording and submitting passes, reading results back, timing them.
//!
//! Nothing here knows a loss. Above it, `kernels` states each kernel family's contract in
//! the terms of [`kernel`] and records its passes through a [`Recorder`]; `tensor` keeps its
//! data in an [`Allocation`].

mod adapter;
mod bind_groups;
mod calibration;
mod device;
mod kernel;
mod memory;
mod open;
mod options;
mod pipelines;
mod pool;
mod readback;
mod recorder;
mod scope;
mod timing;

pub use adapter::{AdapterInfo, Backend, DeviceType, PowerPreference};
pub use calibration::Calibration;
pub use device::Device;
pub(crate) use device::Limits;
pub use kernel::{Access, BindingDecl, Scalar, UniformLayout};
pub(crate) use kernel::{
    EntryPoint, Kernel, Overrides, Uniform, UniformField, entry_points, overrides, uniform,
};
pub(crate) use memory::{Allocation, Slot};
pub use options::{DeviceOptions, Grid};
pub(crate) use readback::Staged;
pub(crate) use recorder::{Destination, Recorder, Submission};
