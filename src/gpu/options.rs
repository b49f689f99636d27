//! How a [`Device`](crate::Device) is opened and sized: [`DeviceOptions`] and [`Grid`].

use crate::gpu::adapter::{Backend, DeviceType, PowerPreference};

/// How many workgroups a pass launches: each invocation loops over about
/// `items_per_invocation` work items (four elements, or a row), up to `max_workgroups`
/// workgroups of 256 invocations.
///
/// A software adapter runs workgroups one after another on a few CPU threads and pays for each
/// (~13 µs on lavapipe, ~50 µs on llvmpipe), so [`Grid::for_device_type`] gives it few, long
/// workgroups; a GPU gets enough short ones to fill every multiprocessor. A device opened
/// natively times a few grids and keeps the fastest
/// ([`Device::calibrate_grid`](crate::Device::calibrate_grid)); [`DeviceOptions::grid`]
/// forces one. Results are the same bits whatever the grid.
///
/// ```
/// use wgpu_loss::{DeviceType, Grid};
/// let gpu = Grid::for_device_type(DeviceType::DiscreteGpu);
/// assert!(gpu.max_workgroups > Grid::for_device_type(DeviceType::Cpu).max_workgroups);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grid {
    /// Work items each invocation handles, about.
    pub items_per_invocation: u32,
    /// Upper bound on the workgroups of one pass.
    pub max_workgroups: u32,
}

impl Grid {
    /// The default for an adapter of this type.
    pub fn for_device_type(device_type: DeviceType) -> Grid {
        match device_type {
            // Measured on lavapipe and llvmpipe, 2 cores: MSE at 16M takes the same 24 ms
            // with 64 to 256 items per invocation; cross-entropy's row-per-invocation pass at
            // [16384 x 1024] takes 20 ms with 256, 40 ms with 64 (fewer, fuller workgroups).
            DeviceType::Cpu => Grid {
                items_per_invocation: 256,
                max_workgroups: 256,
            },
            _ => Grid {
                items_per_invocation: 4,
                max_workgroups: 2048,
            },
        }
    }
}

/// How [`Device::with_options`](crate::Device::with_options) picks and opens an adapter.
///
/// Every field left unset falls back to the standard wgpu environment variables
/// (`WGPU_BACKEND`, `WGPU_ADAPTER_NAME`, `WGPU_POWER_PREF`), then to wgpu's defaults.
///
/// ```
/// use wgpu_loss::{Device, DeviceOptions, PowerPreference};
/// let dev = Device::with_options(
///     DeviceOptions::new()
///         .power_preference(PowerPreference::HighPerformance)
///         .max_binding_size(1 << 20),
/// )?;
/// assert_eq!(dev.max_binding_size(), 1 << 20);
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct DeviceOptions {
    pub(crate) backends: Vec<Backend>,
    pub(crate) power_preference: Option<PowerPreference>,
    pub(crate) adapter_name: Option<String>,
    pub(crate) max_binding_size: Option<u64>,
    pub(crate) disable_subgroups: bool,
    pub(crate) grid: Option<Grid>,
    pub(crate) no_calibration: bool,
}

impl DeviceOptions {
    /// Options that follow the environment and wgpu's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only consider adapters of these graphics APIs (overrides `WGPU_BACKEND`).
    pub fn backends(mut self, backends: &[Backend]) -> Self {
        self.backends = backends.to_vec();
        self
    }

    /// Prefer a fast or a frugal adapter (overrides `WGPU_POWER_PREF`).
    pub fn power_preference(mut self, preference: PowerPreference) -> Self {
        self.power_preference = Some(preference);
        self
    }

    /// Pick the first adapter whose name contains this text, ignoring case
    /// (overrides `WGPU_ADAPTER_NAME`).
    pub fn adapter_name(mut self, name: impl Into<String>) -> Self {
        self.adapter_name = Some(name.into());
        self
    }

    /// Bind at most this many bytes of a tensor at once, below the adapter's own
    /// `max_storage_buffer_binding_size`. Larger tensors are split into chunks; what
    /// cannot be split (one row of classes larger than this) is refused with
    /// [`Error::TooLarge`](crate::Error::TooLarge).
    pub fn max_binding_size(mut self, bytes: u64) -> Self {
        self.max_binding_size = Some(bytes);
        self
    }

    /// Sizes the passes' grids this way instead of by measurement or the adapter's type.
    pub fn grid(mut self, grid: Grid) -> Self {
        self.grid = Some(grid);
        self
    }

    /// Whether the device times a few grids before its first loss call and keeps the fastest
    /// ([`Device::calibrate_grid`](crate::Device::calibrate_grid); on by default, natively):
    /// off, it uses its type's default ([`Grid::for_device_type`]) and its first call returns
    /// a few milliseconds sooner.
    pub fn calibrate(mut self, on: bool) -> Self {
        self.no_calibration = !on;
        self
    }

    /// Use the workgroup-memory reduction even where the adapter has subgroup operations
    /// (to compare the two paths, or to work around a driver bug).
    pub fn disable_subgroups(mut self) -> Self {
        self.disable_subgroups = true;
        self
    }
}
