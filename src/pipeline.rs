//! Compiled compute pipelines, one per (kernel, entry point) and device, built on first use.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::shaders::Kernel;

/// A pipeline's identity: kernel, entry point, and the flags of its pipeline constants.
pub(crate) type PipelineKey = (Kernel, &'static str, u32);

#[derive(Default)]
pub(crate) struct PipelineCache {
    pipelines: Mutex<HashMap<PipelineKey, Arc<wgpu::ComputePipeline>>>,
}

impl PipelineCache {
    /// The pipeline for `entry` of `kernel` with the pipeline constants of `flags` set,
    /// compiling it the first time it is asked for.
    pub(crate) fn get(
        &self,
        device: &wgpu::Device,
        subgroups: bool,
        kernel: Kernel,
        entry: &'static str,
        flags: u32,
    ) -> Result<Arc<wgpu::ComputePipeline>> {
        let mut map = self.pipelines.lock().map_err(|_| {
            Error::Gpu("pipeline cache poisoned by a panic in another thread".into())
        })?;
        if let Some(p) = map.get(&(kernel, entry, flags)) {
            return Ok(p.clone());
        }
        let constants: Vec<(&str, f64)> = kernel
            .flag_names()
            .iter()
            .enumerate()
            .map(|(bit, &name)| (name, ((flags >> bit) & 1) as f64))
            .collect();
        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(entry),
            source: wgpu::ShaderSource::Wgsl(kernel.source(subgroups).into()),
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(entry),
            layout: None,
            module: &module,
            entry_point: Some(entry),
            compilation_options: wgpu::PipelineCompilationOptions {
                constants: &constants,
                // Every kernel writes its workgroup memory before reading it.
                zero_initialize_workgroup_memory: false,
            },
            cache: None,
        });
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(Error::Gpu(format!("compiling {kernel:?}::{entry}: {e}")));
        }
        log::debug!(
            "wgpu-loss: compiled {kernel:?}::{entry} (flags {flags:#x}, subgroups: {subgroups})"
        );
        let pipeline = Arc::new(pipeline);
        map.insert((kernel, entry, flags), pipeline.clone());
        Ok(pipeline)
    }
}
