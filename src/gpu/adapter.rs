//! What a caller may ask of an adapter (graphics API, power preference) and what it reports
//! of itself (name, kind of processor, driver).

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
    /// The browser's WebGPU (wasm32).
    WebGpu,
    /// Something else (a custom backend).
    Other,
}

impl Backend {
    pub(crate) fn to_wgpu(self) -> wgpu::Backends {
        match self {
            Backend::Vulkan => wgpu::Backends::VULKAN,
            Backend::Metal => wgpu::Backends::METAL,
            Backend::Dx12 => wgpu::Backends::DX12,
            Backend::Gl => wgpu::Backends::GL,
            Backend::WebGpu => wgpu::Backends::BROWSER_WEBGPU,
            // A custom backend: wgpu has no flag to enable it by.
            Backend::Other => wgpu::Backends::empty(),
        }
    }

    pub(crate) fn from_wgpu(backend: wgpu::Backend) -> Self {
        match backend {
            wgpu::Backend::Vulkan => Backend::Vulkan,
            wgpu::Backend::Metal => Backend::Metal,
            wgpu::Backend::Dx12 => Backend::Dx12,
            wgpu::Backend::Gl => Backend::Gl,
            wgpu::Backend::BrowserWebGpu => Backend::WebGpu,
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
    pub(crate) fn from_wgpu(t: wgpu::DeviceType) -> Self {
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

/// The adapter a [`Device`](crate::Device) runs on, as reported by the driver.
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
        // Browsers keep the adapter's name to themselves.
        let name = match self.name.as_str() {
            "" => "unnamed adapter",
            name => name,
        };
        write!(f, "{name} ({:?}, {:?}", self.backend, self.device_type)?;
        if !self.driver.is_empty() {
            write!(f, ", {}", self.driver)?;
        }
        write!(f, ")")
    }
}
