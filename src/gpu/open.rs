//! Finding an adapter: the process's wgpu instance and its adapters, and the choice among
//! them by name, graphics API and power preference.

use std::sync::OnceLock;

use crate::error::{Error, Result};
use crate::gpu::adapter::PowerPreference;
use crate::gpu::options::DeviceOptions;

/// The process's one wgpu instance, made from the environment (`WGPU_BACKEND`). Every device
/// this crate opens comes from it, so wgpu can tell their resources apart: a buffer of one
/// device bound on another is a validation error (an [`Error`]), where two instances would
/// confuse their handles (wgpu-core looks a buffer up by an index that each instance counts
/// from zero: it panicked, or bound this instance's buffer of that index).
fn instance() -> &'static wgpu::Instance {
    static INSTANCE: OnceLock<wgpu::Instance> = OnceLock::new();
    INSTANCE.get_or_init(|| {
        wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env())
    })
}

/// Picks an adapter (see [`choose_adapter`]): on the web, the browser's.
pub(crate) async fn pick_adapter(options: &DeviceOptions) -> Result<wgpu::Adapter> {
    #[cfg(target_arch = "wasm32")]
    let adapters = instance().enumerate_adapters(backends(options)).await;
    #[cfg(not(target_arch = "wasm32"))]
    let adapters = native_adapters().to_vec();
    choose_adapter(adapters, options)
}

/// The instance's adapters, enumerated once, natively. wgpu's GL backend makes the
/// instance's one EGL context current while it enumerates, and gives each adapter it
/// enumerates a lock of its own over that context: devices of one adapter take turns, but an
/// enumeration, or a device of another enumeration's adapter, beside them fails to make the
/// context current (EGL BadAccess). Adapters that appear later are not seen.
#[cfg(not(target_arch = "wasm32"))]
fn native_adapters() -> &'static [wgpu::Adapter] {
    static ADAPTERS: OnceLock<Vec<wgpu::Adapter>> = OnceLock::new();
    ADAPTERS
        .get_or_init(|| pollster::block_on(instance().enumerate_adapters(wgpu::Backends::all())))
}

/// The backends `options` allow: all when it names none.
fn backends(options: &DeviceOptions) -> wgpu::Backends {
    match options.backends.as_slice() {
        [] => wgpu::Backends::all(),
        list => list
            .iter()
            .fold(wgpu::Backends::empty(), |acc, b| acc | b.to_wgpu()),
    }
}

/// Chooses an adapter: by name if one is asked for (options, then `WGPU_ADAPTER_NAME`), else
/// the best of the allowed backends for the power preference (options, then
/// `WGPU_POWER_PREF`).
fn choose_adapter(adapters: Vec<wgpu::Adapter>, options: &DeviceOptions) -> Result<wgpu::Adapter> {
    let backends = backends(options);
    let adapters: Vec<_> = adapters
        .into_iter()
        .filter(|a| backends.contains(a.get_info().backend.into()))
        .collect();
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
