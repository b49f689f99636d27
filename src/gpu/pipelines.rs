//! Compiled compute pipelines, one per (module variant, entry point, pipeline constants) and
//! device, built on first use with an explicit bind group layout.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::gpu::kernel::{BindingDecl, EntryPoint, Kernel, Overrides};
use crate::gpu::scope::Scopes;

/// A pipeline's identity: family, variant, entry point, and the bits of its constants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct PipelineKey {
    family: &'static str,
    variant: u32,
    entry: &'static str,
    constants: u32,
}

impl PipelineKey {
    pub(crate) fn of<K: Kernel>(kernel: K, entry: K::Entry, overrides: K::Overrides) -> Self {
        PipelineKey {
            family: K::FAMILY,
            variant: kernel.code(),
            entry: entry.name(),
            constants: overrides.bits(),
        }
    }
}

/// A compiled pipeline and the bindings of its layout.
pub(crate) struct Pipeline {
    pub pipeline: wgpu::ComputePipeline,
    pub layout: Vec<BindingDecl>,
    pub bind_group_layout: wgpu::BindGroupLayout,
}

#[derive(Default)]
pub(crate) struct PipelineCache {
    pipelines: Mutex<HashMap<PipelineKey, Arc<Pipeline>>>,
}

impl PipelineCache {
    /// The pipeline for `entry` of `kernel` with `overrides` set, compiling it the first time
    /// it is asked for.
    pub(crate) fn get<K: Kernel>(
        &self,
        scopes: &Scopes,
        subgroups: bool,
        kernel: K,
        entry: K::Entry,
        overrides: K::Overrides,
    ) -> Result<Arc<Pipeline>> {
        let key = PipelineKey::of(kernel, entry, overrides);
        let mut map = self.pipelines.lock().map_err(|_| {
            Error::Gpu("pipeline cache poisoned by a panic in another thread".into())
        })?;
        if let Some(p) = map.get(&key) {
            return Ok(p.clone());
        }
        let name = entry.name();
        let layout = kernel.layout(entry);
        let entries: Vec<wgpu::BindGroupLayoutEntry> =
            layout.iter().map(|b| b.layout_entry()).collect();
        let device = scopes.device();
        let scope = scopes.push();
        let bind_group_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some(name),
            entries: &entries,
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some(name),
            bind_group_layouts: &[Some(&bind_group_layout)],
            immediate_size: 0,
        });
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(name),
            source: wgpu::ShaderSource::Wgsl(kernel.source(subgroups).into()),
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(name),
            layout: Some(&pipeline_layout),
            module: &module,
            entry_point: Some(name),
            compilation_options: wgpu::PipelineCompilationOptions {
                constants: &overrides.constants(),
                // Every kernel writes its workgroup memory before reading it.
                zero_initialize_workgroup_memory: false,
            },
            cache: None,
        });
        scope.pop(&format!("compiling {kernel:?}::{name}"))?;
        log::debug!(
            "wgpu-loss: compiled {kernel:?}::{name} ({overrides:?}, subgroups: {subgroups})"
        );
        let pipeline = Arc::new(Pipeline {
            pipeline,
            layout,
            bind_group_layout,
        });
        map.insert(key, pipeline.clone());
        Ok(pipeline)
    }
}
