//! Bind groups kept across calls: a call that binds the same buffer ranges to the same
//! pipeline as an earlier call (the same tensors, and the pooled uniforms and partial sums
//! that a repeated call gets back) reuses the earlier call's bind group.
//!
//! A cached bind group keeps its buffers alive, so the cache lets go of every bind group of
//! a buffer that the crate releases (a tensor wrapping the caller's buffer, dropped; a pooled
//! buffer, dropped from its pool), and of all of them past [`CAPACITY`].

use std::collections::HashMap;
use std::sync::Mutex;

use crate::gpu::pipelines::PipelineKey;

/// Bind groups kept per device.
const CAPACITY: usize = 256;

/// One binding: its number, the buffer, the offset and size of the range.
pub(crate) type Binding = (u32, wgpu::Buffer, u64, Option<u64>);

#[derive(Default)]
pub(crate) struct BindGroupCache {
    groups: Mutex<HashMap<(PipelineKey, Vec<Binding>), wgpu::BindGroup>>,
}

impl BindGroupCache {
    /// The bind group of `bindings` for the pipeline `key`, made by `make` the first time.
    pub(crate) fn get_or_make(
        &self,
        key: PipelineKey,
        bindings: Vec<Binding>,
        make: impl FnOnce() -> wgpu::BindGroup,
    ) -> wgpu::BindGroup {
        let Ok(mut groups) = self.groups.lock() else {
            return make();
        };
        let key = (key, bindings);
        if let Some(group) = groups.get(&key) {
            return group.clone();
        }
        if groups.len() >= CAPACITY {
            groups.clear();
        }
        groups.entry(key).or_insert_with(make).clone()
    }

    /// Lets go of every bind group that binds `buffer`.
    pub(crate) fn forget(&self, buffer: &wgpu::Buffer) {
        if let Ok(mut groups) = self.groups.lock() {
            groups.retain(|(_, bindings), _| bindings.iter().all(|b| &b.1 != buffer));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{DType, Device, MseLoss, Reduction, Tensor, mse_loss};

    fn cached(dev: &Device) -> usize {
        dev.gpu.memory.bind_groups.groups.lock().unwrap().len()
    }

    #[test]
    fn repeated_calls_reuse_bind_groups_and_released_buffers_leave_the_cache() {
        let dev = Device::new().expect("no adapter for the GPU tests");
        let x = Tensor::from_slice(&dev, &[1.0f32, 2.0, 3.0], &[3]).unwrap();
        let y = Tensor::from_slice(&dev, &[0.0f32; 3], &[3]).unwrap();
        let first = mse_loss(&x, &y, Reduction::Sum)
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
        let after_one = cached(&dev);
        assert!(after_one > 0);
        for _ in 0..10 {
            let again = mse_loss(&x, &y, Reduction::Sum).unwrap();
            assert_eq!(again.to_vec::<f32>().unwrap(), first);
        }
        assert_eq!(
            cached(&dev),
            after_one,
            "a repeated call made new bind groups"
        );

        // Calls recorded into the caller's encoder make their bind groups afresh.
        let mut encoder = dev
            .wgpu_device()
            .create_command_encoder(&Default::default());
        let recorded = MseLoss::new()
            .reduction(Reduction::Sum)
            .record(&mut encoder, &x, &y)
            .unwrap();
        dev.wgpu_queue().submit([encoder.finish()]);
        assert_eq!(recorded.to_vec::<f32>().unwrap(), first);
        assert_eq!(cached(&dev), after_one);

        // A tensor over the caller's buffer takes its bind groups with it when dropped.
        let buffer = dev.wgpu_device().create_buffer(&wgpu::BufferDescriptor {
            label: Some("theirs"),
            size: Tensor::required_bytes(&[3], DType::F32),
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let theirs = Tensor::from_buffer(&dev, buffer, &[3], DType::F32).unwrap();
        mse_loss(&theirs, &y, Reduction::Sum).unwrap();
        assert!(cached(&dev) > after_one);
        drop(theirs);
        assert_eq!(cached(&dev), after_one);
    }
}
