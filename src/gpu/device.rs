//! [`Device`]: the GPU runtime a loss runs on. Its state (device, queue, limits, pools, caches,
//! clock) is private to this layer; the kernels reach it through methods.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::error::{Error, Result};
use crate::gpu::adapter::{AdapterInfo, Backend, DeviceType};
use crate::gpu::calibration::Calibration;
use crate::gpu::memory::{Allocation, Memory};
use crate::gpu::open;
use crate::gpu::options::{DeviceOptions, Grid};
use crate::gpu::pipelines::PipelineCache;
use crate::gpu::readback::{self, Staged};
use crate::gpu::scope::Scopes;
use crate::gpu::timing::KernelClock;

/// What the kernels may use on a device, and how its passes are sized: everything a plan
/// needs to know of the device, as plain data (so plans are tested without a GPU).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// `subgroupAdd`/`subgroupMax` are available and enabled.
    pub subgroups: bool,
    /// Largest byte range one storage binding may cover.
    pub max_binding: u64,
    /// Largest buffer the device can create.
    pub max_buffer: u64,
    /// Largest workgroup count along one dispatch dimension.
    pub max_workgroups: u32,
    /// Storage bindings must start at a multiple of this many bytes.
    pub offset_alignment: u64,
    /// How passes are sized.
    pub grid: Grid,
    /// The adapter's kind of processor.
    pub device_type: DeviceType,
}

/// The state behind a [`Device`], shared by its clones.
pub(super) struct Gpu {
    pub(super) device: wgpu::Device,
    pub(super) queue: wgpu::Queue,
    /// Its error scopes.
    pub(super) scopes: Scopes,
    info: AdapterInfo,
    pub(super) limits: Limits,
    /// The grid passes are sized by: the adapter type's default, forced by
    /// [`DeviceOptions::grid`], or chosen by [`Device::calibrate_grid`].
    grid: Mutex<Grid>,
    /// The last calibration's measurements.
    calibration: Mutex<Option<Calibration>>,
    /// Whether the first loss call calibrates the grid first.
    calibration_pending: AtomicBool,
    /// Held by a calibration while it runs: one at a time (natively; the web does not
    /// calibrate).
    #[cfg(not(target_arch = "wasm32"))]
    calibrating: Mutex<()>,
    pub(super) pipelines: PipelineCache,
    /// Scratch and tensor buffers, bind groups.
    pub(super) memory: Arc<Memory>,
    /// Why the device was lost, once it is (devices this crate opened).
    lost: Arc<Mutex<Option<String>>>,
    /// Kernel timing ([`Device::time_kernels`]).
    pub(super) clock: KernelClock,
}

/// The GPU context: a wgpu device and queue plus the pipelines compiled for it.
///
/// Cheap to clone (a reference count) and safe to share between threads. Each shader is
/// compiled once per `Device`, on first use.
///
/// ```
/// let dev = wgpu_loss::Device::new()?;
/// println!("running on {}", dev.info());
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
#[derive(Clone)]
pub struct Device {
    pub(super) gpu: Arc<Gpu>,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("adapter", &self.gpu.info)
            .finish()
    }
}

impl Device {
    /// Opens the best adapter headlessly (no window or display needed), honouring
    /// `WGPU_BACKEND`, `WGPU_ADAPTER_NAME` and `WGPU_POWER_PREF`, with the adapter's own limits.
    ///
    /// Blocks until the device is ready. Returns [`Error::NoAdapter`] when no adapter exists.
    /// Not on the web (wasm32), where a thread may not block: use [`Device::new_async`].
    #[cfg(not(target_arch = "wasm32"))]
    pub fn new() -> Result<Self> {
        Self::with_options(DeviceOptions::new())
    }

    /// Opens an adapter chosen by `options` (see [`DeviceOptions`]). Not on the web: use
    /// [`Device::with_options_async`].
    #[cfg(not(target_arch = "wasm32"))]
    pub fn with_options(options: DeviceOptions) -> Result<Self> {
        pollster::block_on(Self::with_options_async(options))
    }

    /// [`Device::new`] without blocking: for async runtimes, and the one way to open a device
    /// in a browser (WebGPU).
    ///
    /// ```
    /// let dev = pollster::block_on(wgpu_loss::Device::new_async())?;
    /// println!("running on {}", dev.info());
    /// # Ok::<(), wgpu_loss::Error>(())
    /// ```
    pub async fn new_async() -> Result<Self> {
        Self::with_options_async(DeviceOptions::new()).await
    }

    /// [`Device::with_options`] without blocking (see [`Device::new_async`]).
    pub async fn with_options_async(options: DeviceOptions) -> Result<Self> {
        let adapter = open::pick_adapter(&options).await?;
        let adapter_features = adapter.features();
        // A lowered binding limit is asked of wgpu too, so its validation enforces it.
        let mut limits = adapter.limits();
        if let Some(max) = options.max_binding_size {
            limits.max_storage_buffer_binding_size =
                limits.max_storage_buffer_binding_size.min(max);
        }
        // Kernel timing waits for its timestamps, which a browser cannot: not asked there.
        let timing = match cfg!(target_arch = "wasm32") {
            true => wgpu::Features::empty(),
            false => wgpu::Features::TIMESTAMP_QUERY,
        };
        let wanted = wgpu::Features::SUBGROUP | wgpu::Features::SHADER_F16 | timing;
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("wgpu-loss"),
                required_features: adapter_features & wanted,
                required_limits: limits,
                experimental_features: wgpu::ExperimentalFeatures::disabled(),
                memory_hints: wgpu::MemoryHints::Performance,
                trace: wgpu::Trace::Off,
            })
            .await
            .map_err(|e| Error::RequestDevice(e.to_string()))?;
        device.on_uncaptured_error(Arc::new(|e: wgpu::Error| {
            log::error!("uncaptured wgpu error: {e}");
        }));
        let dev = Self::build(device, queue, &options);
        let lost = dev.gpu.lost.clone();
        dev.gpu
            .device
            .set_device_lost_callback(move |reason, message| {
                log::error!("wgpu-loss: device lost ({reason:?}): {message}");
                if let Ok(mut lost) = lost.lock() {
                    *lost = Some(format!("{reason:?}: {message}"));
                }
            });
        log::info!("wgpu-loss: adapter {}", dev.info());
        // Natively, where a call may wait: a browser's device keeps its type's default.
        let calibrate = options.grid.is_none() && !options.no_calibration;
        dev.gpu.calibration_pending.store(
            calibrate && cfg!(not(target_arch = "wasm32")),
            Ordering::Relaxed,
        );
        Ok(dev)
    }

    /// Wraps a device the caller already has, to share buffers with its own pipelines.
    ///
    /// The features the caller enabled decide the kernels used: with `Features::SUBGROUP`
    /// the reductions use subgroup operations. The caller's error handler and device-lost
    /// callback stay in place; errors of this crate's calls still come back as [`Error`]s.
    pub fn from_wgpu(device: wgpu::Device, queue: wgpu::Queue) -> Self {
        Self::build(device, queue, &DeviceOptions::new())
    }

    fn build(device: wgpu::Device, queue: wgpu::Queue, options: &DeviceOptions) -> Self {
        let raw = device.adapter_info();
        let wgpu_limits = device.limits();
        let max_binding = wgpu_limits.max_storage_buffer_binding_size;
        let info = AdapterInfo {
            name: raw.name,
            backend: Backend::from_wgpu(raw.backend),
            device_type: DeviceType::from_wgpu(raw.device_type),
            driver: [raw.driver, raw.driver_info]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" "),
        };
        let limits = Limits {
            subgroups: device.features().contains(wgpu::Features::SUBGROUP)
                && !options.disable_subgroups,
            max_binding: options
                .max_binding_size
                .map_or(max_binding, |m| m.min(max_binding)),
            max_buffer: wgpu_limits.max_buffer_size,
            max_workgroups: wgpu_limits.max_compute_workgroups_per_dimension,
            offset_alignment: wgpu_limits.min_storage_buffer_offset_alignment as u64,
            grid: options
                .grid
                .unwrap_or_else(|| Grid::for_device_type(info.device_type)),
            device_type: info.device_type,
        };
        let grid = Mutex::new(limits.grid);
        log::debug!("wgpu-loss: {limits:?}");
        Device {
            gpu: Arc::new(Gpu {
                scopes: Scopes::new(&device),
                device,
                queue,
                info,
                limits,
                grid,
                calibration: Mutex::default(),
                calibration_pending: AtomicBool::new(false),
                #[cfg(not(target_arch = "wasm32"))]
                calibrating: Mutex::default(),
                pipelines: PipelineCache::default(),
                memory: Arc::default(),
                lost: Arc::default(),
                clock: KernelClock::default(),
            }),
        }
    }

    /// The adapter this device runs on.
    pub fn info(&self) -> &AdapterInfo {
        &self.gpu.info
    }

    /// Whether the reductions use subgroup operations on this device.
    pub fn uses_subgroups(&self) -> bool {
        self.gpu.limits.subgroups
    }

    /// The largest tensor, in bytes, that one loss call binds at once.
    pub fn max_binding_size(&self) -> u64 {
        self.gpu.limits.max_binding
    }

    /// The wgpu device, for sharing buffers with the caller's own pipelines.
    pub fn wgpu_device(&self) -> &wgpu::Device {
        &self.gpu.device
    }

    /// The wgpu queue that this crate submits to.
    pub fn wgpu_queue(&self) -> &wgpu::Queue {
        &self.gpu.queue
    }

    /// Starts (`true`) or stops timing the GPU passes of this device's loss calls with
    /// timestamp queries; [`Device::kernel_time`] sums them. Returns whether timing is on: it
    /// stays off where the device lacks `Features::TIMESTAMP_QUERY` (devices this crate
    /// opens ask for it wherever the adapter has it) and on the web, where a call cannot wait
    /// for its timestamps.
    ///
    /// While timing, each call waits for its passes to finish before it returns. Calls
    /// recorded into your own encoder ([`crate::Loss`]) are not timed.
    ///
    /// ```
    /// use wgpu_loss::{mse_loss, Device, Reduction, Tensor};
    /// let dev = Device::new()?;
    /// let x = Tensor::from_slice(&dev, &vec![1.0f32; 1 << 16], &[1 << 16])?;
    /// if dev.time_kernels(true) {
    ///     let before = dev.kernel_time();
    ///     mse_loss(&x, &x, Reduction::Mean)?;
    ///     println!("MSE of 65,536 elements: {:?} on the GPU", dev.kernel_time() - before);
    /// }
    /// # Ok::<(), wgpu_loss::Error>(())
    /// ```
    pub fn time_kernels(&self, on: bool) -> bool {
        let on = on
            && !cfg!(target_arch = "wasm32")
            && self
                .gpu
                .device
                .features()
                .contains(wgpu::Features::TIMESTAMP_QUERY);
        self.gpu.clock.set(on);
        on
    }

    /// The GPU time of the compute passes of every call made while [`Device::time_kernels`]
    /// was on, summed; zero if it never was. Copies to and from the host are not counted.
    pub fn kernel_time(&self) -> std::time::Duration {
        self.gpu.clock.total()
    }

    /// Whether [`Device::time_kernels`] is on: what calls that must not count (calibration)
    /// put back with [`Device::restore_kernel_timing`].
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) fn kernel_timing_on(&self) -> bool {
        self.gpu.clock.is_on()
    }

    /// Sets timing back `on` or off and takes `spent` out of the kernel time.
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) fn restore_kernel_timing(&self, on: bool, spent: std::time::Duration) {
        self.gpu.clock.set(on);
        self.gpu.clock.remove(spent);
    }

    /// What plans need to know of this device, with the grid of the moment.
    pub(crate) fn limits(&self) -> Limits {
        Limits {
            grid: self.grid(),
            ..self.gpu.limits
        }
    }

    /// The grid this device's passes are sized by: the one [`Device::calibrate_grid`] chose
    /// last (before the first loss call of a device opened natively, unless
    /// [`DeviceOptions::grid`] forced one), else the forced one, else the default for the
    /// adapter's type
    /// ([`Grid::for_device_type`]): before that call, on the web, for [`Device::from_wgpu`]
    /// until calibrated, or with calibration turned off.
    pub fn grid(&self) -> Grid {
        *self.gpu.grid.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Keeps `calibration`'s grid for later calls and its report.
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) fn keep_calibration(&self, calibration: Calibration) {
        self.set_grid(calibration.chosen);
        *self
            .gpu
            .calibration
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(calibration);
    }

    /// The turn of one calibration, while the guard lives.
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) fn calibration_lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.gpu
            .calibrating
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// True once, for the call that is to calibrate a device opened asking for it.
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) fn take_calibration_turn(&self) -> bool {
        self.gpu.calibration_pending.swap(false, Ordering::Relaxed)
    }

    /// What the last [`Device::calibrate_grid`] measured and chose, if it ran.
    pub fn calibration(&self) -> Option<Calibration> {
        self.gpu
            .calibration
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Sizes later calls' passes by `grid` (calibration tries candidates this way).
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) fn set_grid(&self, grid: Grid) {
        *self.gpu.grid.lock().unwrap_or_else(PoisonError::into_inner) = grid;
    }

    /// [`Error::Gpu`] once the device is lost.
    pub(crate) fn check_alive(&self) -> Result<()> {
        match self.gpu.lost.lock().ok().and_then(|l| l.clone()) {
            Some(why) => Err(Error::Gpu(format!("the device was lost ({why})"))),
            None => Ok(()),
        }
    }

    pub(crate) fn same(&self, other: &Device) -> bool {
        Arc::ptr_eq(&self.gpu, &other.gpu)
    }

    /// Memory for a tensor of `bytes` bytes: a dropped tensor's buffer of that size when the
    /// pool has one, else a new buffer. Its contents are whatever the buffer last held.
    pub(crate) fn alloc(&self, bytes: u64, what: &'static str) -> Result<Allocation> {
        self.check_alive()?;
        let gpu = &self.gpu;
        let buffer = match gpu.memory.take_tensor(bytes) {
            Some(buffer) => buffer,
            None => gpu
                .scopes
                .scoped(&format!("allocating {bytes} bytes for {what}"), || {
                    gpu.device.create_buffer(&wgpu::BufferDescriptor {
                        label: Some(what),
                        size: bytes,
                        usage: wgpu::BufferUsages::STORAGE
                            | wgpu::BufferUsages::COPY_SRC
                            | wgpu::BufferUsages::COPY_DST,
                        mapped_at_creation: false,
                    })
                })?,
        };
        Ok(Allocation::new(buffer, gpu.memory.clone(), true))
    }

    /// Memory over the caller's `buffer`, let go (not pooled) when dropped.
    pub(crate) fn adopt(&self, buffer: wgpu::Buffer) -> Allocation {
        Allocation::new(buffer, self.gpu.memory.clone(), false)
    }

    /// Writes `writes` (`(offset, bytes)`, whole 4-byte words) into `buffer`.
    pub(crate) fn upload(&self, buffer: &wgpu::Buffer, writes: &[(u64, &[u8])]) -> Result<()> {
        self.gpu.scopes.scoped("uploading the tensor", || {
            for &(offset, bytes) in writes {
                self.gpu.queue.write_buffer(buffer, offset, bytes);
            }
        })
    }

    /// Copies each `(buffer, offset, size)` range into one staging buffer and submits the
    /// copy; the result is read with [`Staged::wait`] or [`Staged::wait_async`].
    pub(crate) fn stage(&self, parts: &[(&wgpu::Buffer, u64, u64)]) -> Result<Staged> {
        self.check_alive()?;
        let gpu = &self.gpu;
        let staged = gpu.scopes.scoped("copying for readback", || {
            let mut encoder = gpu
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("wgpu-loss readback"),
                });
            let staged = readback::stage_into(&gpu.scopes, &gpu.memory, &mut encoder, parts);
            gpu.queue.submit([encoder.finish()]);
            staged
        })?;
        Ok(staged)
    }
}
