//! Compiled compute pipelines, one per (kernel, entry point) and device, built on first use.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::shaders::Kernel;

#[derive(Default)]
pub(crate) struct PipelineCache {
    pipelines: Mutex<HashMap<(Kernel, &'static str), Arc<wgpu::ComputePipeline>>>,
}

impl PipelineCache {
    /// The pipeline for `entry` of `kernel`, compiling it the first time it is asked for.
    pub(crate) fn get(
        &self,
        device: &wgpu::Device,
        subgroups: bool,
        kernel: Kernel,
        entry: &'static str,
    ) -> Result<Arc<wgpu::ComputePipeline>> {
        let mut map = self.pipelines.lock().map_err(|_| {
            Error::Gpu("pipeline cache poisoned by a panic in another thread".into())
        })?;
        if let Some(p) = map.get(&(kernel, entry)) {
            return Ok(p.clone());
        }
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
            compilation_options: Default::default(),
            cache: None,
        });
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(Error::Gpu(format!("compiling {kernel:?}::{entry}: {e}")));
        }
        log::debug!("wgpu-loss: compiled {kernel:?}::{entry} (subgroups: {subgroups})");
        let pipeline = Arc::new(pipeline);
        map.insert((kernel, entry), pipeline.clone());
        Ok(pipeline)
    }
}
