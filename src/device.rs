//! The GPU context: adapter choice, the wgpu device and queue, and the compiled pipelines.

use std::sync::{Arc, Mutex, OnceLock};

use crate::bind_groups::BindGroupCache;
use crate::error::{Error, Result};
use crate::pipeline::PipelineCache;
use crate::pool::{BufferPool, TensorPool};
use crate::timing::KernelClock;

/// A graphics API that wgpu can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// Vulkan (Linux, Windows, Android; Mesa lavapipe as a software adapter).
    Vulkan,
    /// Metal (macOS, iOS).
    Metal,
    /// Direct3D 12 (Windows).
    Dx12,
    /// OpenGL / OpenGL ES (Mesa llvmpipe as a software adapter).
    Gl,
    /// Something else (the browser's WebGPU, a custom backend).
    Other,
}

impl Backend {
    fn to_wgpu(self) -> wgpu::Backends {
        match self {
            Backend::Vulkan => wgpu::Backends::VULKAN,
            Backend::Metal => wgpu::Backends::METAL,
            Backend::Dx12 => wgpu::Backends::DX12,
            Backend::Gl => wgpu::Backends::GL,
            Backend::Other => wgpu::Backends::BROWSER_WEBGPU,
        }
    }

    fn from_wgpu(backend: wgpu::Backend) -> Self {
        match backend {
            wgpu::Backend::Vulkan => Backend::Vulkan,
            wgpu::Backend::Metal => Backend::Metal,
            wgpu::Backend::Dx12 => Backend::Dx12,
            wgpu::Backend::Gl => Backend::Gl,
            _ => Backend::Other,
        }
    }
}

/// What kind of processor the adapter is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeviceType {
    /// A GPU with its own memory.
    DiscreteGpu,
    /// A GPU sharing memory with the CPU.
    IntegratedGpu,
    /// A virtualised GPU.
    VirtualGpu,
    /// A software adapter running on the CPU (lavapipe, llvmpipe, WARP).
    Cpu,
    /// The adapter did not say.
    Other,
}

impl DeviceType {
    fn from_wgpu(t: wgpu::DeviceType) -> Self {
        match t {
            wgpu::DeviceType::DiscreteGpu => DeviceType::DiscreteGpu,
            wgpu::DeviceType::IntegratedGpu => DeviceType::IntegratedGpu,
            wgpu::DeviceType::VirtualGpu => DeviceType::VirtualGpu,
            wgpu::DeviceType::Cpu => DeviceType::Cpu,
            _ => DeviceType::Other,
        }
    }
}

/// Which adapter to prefer when several exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PowerPreference {
    /// The fastest adapter, usually a discrete GPU (the default).
    #[default]
    HighPerformance,
    /// The most frugal adapter, usually an integrated GPU.
    LowPower,
}

/// The adapter a [`Device`] runs on, as reported by the driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdapterInfo {
    /// Adapter name, e.g. `"llvmpipe (LLVM 15.0.6, 256 bits)"`.
    pub name: String,
    /// Graphics API in use.
    pub backend: Backend,
    /// Kind of processor.
    pub device_type: DeviceType,
    /// Driver name and version, where the backend reports them.
    pub driver: String,
}

impl std::fmt::Display for AdapterInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({:?}, {:?}",
            self.name, self.backend, self.device_type
        )?;
        if !self.driver.is_empty() {
            write!(f, ", {}", self.driver)?;
        }
        write!(f, ")")
    }
}

/// How many workgroups a pass launches: each invocation loops over about
/// `items_per_invocation` work items (four elements, or a row), up to `max_workgroups`
/// workgroups of 256 invocations.
///
/// A software adapter runs workgroups one after another on a few CPU threads and pays for each
/// (~13 µs on lavapipe, ~50 µs on llvmpipe), so [`Grid::for_device_type`] gives it few, long
/// workgroups; a GPU gets enough short ones to fill every multiprocessor. Override it with
/// [`DeviceOptions::grid`] to tune for an adapter.
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

/// How [`Device::with_options`] picks and opens an adapter.
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
    backends: Vec<Backend>,
    power_preference: Option<PowerPreference>,
    adapter_name: Option<String>,
    max_binding_size: Option<u64>,
    disable_subgroups: bool,
    grid: Option<Grid>,
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
    /// `max_storage_buffer_binding_size`. Larger tensors are refused with [`Error::TooLarge`].
    pub fn max_binding_size(mut self, bytes: u64) -> Self {
        self.max_binding_size = Some(bytes);
        self
    }

    /// Sizes the passes' grids this way instead of by the adapter's type.
    pub fn grid(mut self, grid: Grid) -> Self {
        self.grid = Some(grid);
        self
    }

    /// Use the workgroup-memory reduction even where the adapter has subgroup operations
    /// (to compare the two paths, or to work around a driver bug).
    pub fn disable_subgroups(mut self) -> Self {
        self.disable_subgroups = true;
        self
    }
}

/// What the kernels may use on this device.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Caps {
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
}

pub(crate) struct DeviceInner {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: AdapterInfo,
    pub caps: Caps,
    pub grid: Grid,
    pub pipelines: PipelineCache,
    pub bind_groups: BindGroupCache,
    /// Uniforms, partial sums and staging buffers.
    pub pool: BufferPool,
    /// Buffers of dropped tensors.
    pub tensors: TensorPool,
    /// 16 bytes bound where a kernel declares an output that a call does not write.
    pub placeholder: wgpu::Buffer,
    /// Why the device was lost, once it is (devices this crate opened).
    pub lost: Arc<Mutex<Option<String>>>,
    /// Kernel timing ([`Device::time_kernels`]).
    pub clock: KernelClock,
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
    pub(crate) inner: Arc<DeviceInner>,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("adapter", &self.inner.info)
            .finish()
    }
}

impl Device {
    /// Opens the best adapter headlessly (no window or display needed), honouring
    /// `WGPU_BACKEND`, `WGPU_ADAPTER_NAME` and `WGPU_POWER_PREF`, with the adapter's own limits.
    ///
    /// Blocks until the device is ready. Returns [`Error::NoAdapter`] when no adapter exists.
    pub fn new() -> Result<Self> {
        Self::with_options(DeviceOptions::new())
    }

    /// Opens an adapter chosen by `options` (see [`DeviceOptions`]).
    pub fn with_options(options: DeviceOptions) -> Result<Self> {
        pollster::block_on(Self::with_options_async(options))
    }

    /// The async form of [`Device::with_options`], for use inside an async runtime.
    pub async fn with_options_async(options: DeviceOptions) -> Result<Self> {
        let adapter = pick_adapter(&options)?;
        let adapter_features = adapter.features();
        // A lowered binding limit is asked of wgpu too, so its validation enforces it.
        let mut limits = adapter.limits();
        if let Some(max) = options.max_binding_size {
            limits.max_storage_buffer_binding_size =
                limits.max_storage_buffer_binding_size.min(max);
        }
        let wanted =
            wgpu::Features::SUBGROUP | wgpu::Features::SHADER_F16 | wgpu::Features::TIMESTAMP_QUERY;
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
        let lost = dev.inner.lost.clone();
        dev.inner
            .device
            .set_device_lost_callback(move |reason, message| {
                log::error!("wgpu-loss: device lost ({reason:?}): {message}");
                if let Ok(mut lost) = lost.lock() {
                    *lost = Some(format!("{reason:?}: {message}"));
                }
            });
        log::info!("wgpu-loss: adapter {}", dev.info());
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
        let limits = device.limits();
        let max_binding = limits.max_storage_buffer_binding_size;
        let caps = Caps {
            subgroups: device.features().contains(wgpu::Features::SUBGROUP)
                && !options.disable_subgroups,
            max_binding: options
                .max_binding_size
                .map_or(max_binding, |m| m.min(max_binding)),
            max_buffer: limits.max_buffer_size,
            max_workgroups: limits.max_compute_workgroups_per_dimension,
            offset_alignment: limits.min_storage_buffer_offset_alignment as u64,
        };
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
        let grid = options
            .grid
            .unwrap_or_else(|| Grid::for_device_type(info.device_type));
        log::debug!("wgpu-loss: {caps:?}, {grid:?}");
        let placeholder = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("wgpu-loss placeholder"),
            size: 16,
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: false,
        });
        Device {
            inner: Arc::new(DeviceInner {
                device,
                queue,
                info,
                caps,
                grid,
                pipelines: PipelineCache::default(),
                bind_groups: BindGroupCache::default(),
                pool: BufferPool::default(),
                tensors: TensorPool::default(),
                placeholder,
                lost: Arc::default(),
                clock: KernelClock::default(),
            }),
        }
    }

    /// The adapter this device runs on.
    pub fn info(&self) -> &AdapterInfo {
        &self.inner.info
    }

    /// Whether the reductions use subgroup operations on this device.
    pub fn uses_subgroups(&self) -> bool {
        self.inner.caps.subgroups
    }

    /// The largest tensor, in bytes, that one loss call binds at once.
    pub fn max_binding_size(&self) -> u64 {
        self.inner.caps.max_binding
    }

    /// The wgpu device, for sharing buffers with the caller's own pipelines.
    pub fn wgpu_device(&self) -> &wgpu::Device {
        &self.inner.device
    }

    /// The wgpu queue that this crate submits to.
    pub fn wgpu_queue(&self) -> &wgpu::Queue {
        &self.inner.queue
    }

    /// Starts (`true`) or stops timing the GPU passes of this device's loss calls with
    /// timestamp queries; [`Device::kernel_time`] sums them. Returns whether timing is on: it
    /// stays off where the device lacks `Features::TIMESTAMP_QUERY` (devices this crate
    /// opens ask for it wherever the adapter has it).
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
            && self
                .inner
                .device
                .features()
                .contains(wgpu::Features::TIMESTAMP_QUERY);
        self.inner.clock.set(on);
        on
    }

    /// The GPU time of the compute passes of every call made while [`Device::time_kernels`]
    /// was on, summed; zero if it never was. Copies to and from the host are not counted.
    pub fn kernel_time(&self) -> std::time::Duration {
        self.inner.clock.total()
    }

    /// [`Error::Gpu`] once the device is lost.
    pub(crate) fn check_alive(&self) -> Result<()> {
        match self.inner.lost.lock().ok().and_then(|l| l.clone()) {
            Some(why) => Err(Error::Gpu(format!("the device was lost ({why})"))),
            None => Ok(()),
        }
    }

    /// Gives a scratch buffer back to the pool after its call's submission.
    pub(crate) fn recycle_scratch(&self, buffer: wgpu::Buffer) {
        if let Some(dropped) = self.inner.pool.give(buffer) {
            self.release(&dropped);
        }
    }

    /// Keeps the buffer of a dropped tensor for a later one.
    pub(crate) fn recycle_tensor(&self, buffer: wgpu::Buffer) {
        for dropped in self.inner.tensors.give(buffer) {
            self.release(&dropped);
        }
    }

    /// Lets go of a buffer: drops the cached bind groups that hold it.
    pub(crate) fn release(&self, buffer: &wgpu::Buffer) {
        self.inner.bind_groups.forget(buffer);
    }

    /// A buffer to bind for outputs a call leaves unwritten (compiled out by its flags).
    pub(crate) fn placeholder(&self) -> &wgpu::Buffer {
        &self.inner.placeholder
    }

    pub(crate) fn same(&self, other: &Device) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

/// The process's one wgpu instance, made from the environment (`WGPU_BACKEND`). Every device
/// this crate opens on Vulkan, Metal or DX12 comes from it, so wgpu can tell their resources
/// apart: a buffer of one device bound on another is a validation error (an [`Error`]), where
/// two instances would confuse their handles.
fn instance() -> &'static wgpu::Instance {
    static INSTANCE: OnceLock<wgpu::Instance> = OnceLock::new();
    INSTANCE.get_or_init(|| {
        wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env())
    })
}

/// Picks an adapter (see [`choose_adapter`]). One thread at a time: wgpu's GL backend makes
/// an instance's EGL context current while it enumerates, and two threads doing so at once
/// fail (EGL BadAccess). Enumeration does not wait for the GPU, so blocking on it is brief.
fn pick_adapter(options: &DeviceOptions) -> Result<wgpu::Adapter> {
    static PICKING: Mutex<()> = Mutex::new(());
    let _one_at_a_time = PICKING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let adapter = pollster::block_on(choose_adapter(instance(), options))?;
    if adapter.get_info().backend != wgpu::Backend::Gl {
        return Ok(adapter);
    }
    // wgpu's GL backend shares one EGL context among the devices of an adapter, and devices
    // used from several threads then fail to make it current (EGL BadAccess): each GL device
    // gets an instance, and so an adapter, of its own.
    let gl = wgpu::Instance::new(wgpu::InstanceDescriptor {
        backends: wgpu::Backends::GL,
        ..wgpu::InstanceDescriptor::new_without_display_handle_from_env()
    });
    let name = adapter.get_info().name;
    pollster::block_on(gl.enumerate_adapters(wgpu::Backends::GL))
        .into_iter()
        .find(|a| a.get_info().name == name)
        .ok_or_else(|| Error::NoAdapter(format!("GL adapter {name:?} vanished")))
}

/// Chooses an adapter: by name if one is asked for (options, then `WGPU_ADAPTER_NAME`), else
/// the best of the allowed backends for the power preference (options, then
/// `WGPU_POWER_PREF`).
async fn choose_adapter(
    instance: &wgpu::Instance,
    options: &DeviceOptions,
) -> Result<wgpu::Adapter> {
    let backends = match options.backends.as_slice() {
        [] => wgpu::Backends::all(),
        list => list
            .iter()
            .fold(wgpu::Backends::empty(), |acc, b| acc | b.to_wgpu()),
    };
    let adapters = instance.enumerate_adapters(backends).await;
    let found: Vec<String> = adapters
        .iter()
        .map(|a| format!("{} ({:?})", a.get_info().name, a.get_info().backend))
        .collect();
    let name = options
        .adapter_name
        .clone()
        .or_else(|| std::env::var("WGPU_ADAPTER_NAME").ok())
        .map(|n| n.to_lowercase());
    if let Some(name) = name {
        return adapters
            .into_iter()
            .find(|a| a.get_info().name.to_lowercase().contains(&name))
            .ok_or_else(|| {
                Error::NoAdapter(format!(
                    "no adapter's name contains {name:?}; found {found:?}"
                ))
            });
    }
    let low_power = match options.power_preference {
        Some(p) => p == PowerPreference::LowPower,
        None => wgpu::PowerPreference::from_env() == Some(wgpu::PowerPreference::LowPower),
    };
    let rank = |a: &wgpu::Adapter| {
        let info = a.get_info();
        let kind = match (info.device_type, low_power) {
            (wgpu::DeviceType::DiscreteGpu, false) | (wgpu::DeviceType::IntegratedGpu, true) => 0,
            (wgpu::DeviceType::DiscreteGpu | wgpu::DeviceType::IntegratedGpu, _) => 1,
            (wgpu::DeviceType::VirtualGpu, _) => 2,
            (wgpu::DeviceType::Cpu, _) => 3,
            _ => 4,
        };
        // Among equals, the native APIs before GL.
        (kind, info.backend == wgpu::Backend::Gl)
    };
    adapters.into_iter().min_by_key(rank).ok_or_else(|| {
        Error::NoAdapter(format!(
            "none for backends {backends:?} (on Linux without a GPU, install Mesa's software \
             Vulkan driver: apt-get install mesa-vulkan-drivers libvulkan1, or use \
             WGPU_BACKEND=gl)"
        ))
    })
}
