//! Finding an adapter: the process's wgpu instance, and the choice among its adapters by
//! name, graphics API and power preference.

#[cfg(not(target_arch = "wasm32"))]
use std::sync::Mutex;
use std::sync::OnceLock;

use crate::error::{Error, Result};
use crate::gpu::adapter::PowerPreference;
use crate::gpu::options::DeviceOptions;

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

/// Picks an adapter (see [`choose_adapter`]): on the web, the browser's.
pub(crate) async fn pick_adapter(options: &DeviceOptions) -> Result<wgpu::Adapter> {
    #[cfg(target_arch = "wasm32")]
    return choose_adapter(instance(), options).await;
    #[cfg(not(target_arch = "wasm32"))]
    pick_native_adapter(options)
}

/// Picks an adapter natively. One thread at a time: wgpu's GL backend makes an instance's
/// EGL context current while it enumerates, and two threads doing so at once fail (EGL
/// BadAccess). Enumeration does not wait for the GPU, so blocking on it is brief.
#[cfg(not(target_arch = "wasm32"))]
fn pick_native_adapter(options: &DeviceOptions) -> Result<wgpu::Adapter> {
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
