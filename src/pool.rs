//! Reused scratch buffers: uniforms, partial sums and readback staging, so a warm call
//! allocates only its result.
//!
//! A buffer is taken for one call and given back after the call's submission. The queue runs
//! submissions in order and applies each `write_buffer` between them, so the next call may
//! overwrite a given-back buffer while the GPU still runs the previous one: that write lands
//! after the previous submission has read it.

use std::collections::HashMap;
use std::sync::Mutex;

/// Buffers kept per (size class, usage); more are dropped.
const KEEP: usize = 8;

#[derive(Default)]
pub(crate) struct BufferPool {
    free: Mutex<HashMap<(u64, wgpu::BufferUsages), Vec<wgpu::Buffer>>>,
}

impl BufferPool {
    /// A buffer of at least `size` bytes (a power of two, 16 or more) with `usage`.
    pub(crate) fn take(
        &self,
        device: &wgpu::Device,
        size: u64,
        usage: wgpu::BufferUsages,
    ) -> wgpu::Buffer {
        let class = size.max(16).next_power_of_two();
        let reused = self
            .free
            .lock()
            .ok()
            .and_then(|mut free| free.get_mut(&(class, usage))?.pop());
        reused.unwrap_or_else(|| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("wgpu-loss scratch"),
                size: class,
                usage,
                mapped_at_creation: false,
            })
        })
    }

    /// Returns a buffer taken with [`BufferPool::take`] (unmapped).
    pub(crate) fn give(&self, buffer: wgpu::Buffer) {
        if let Ok(mut free) = self.free.lock() {
            let list = free.entry((buffer.size(), buffer.usage())).or_default();
            if list.len() < KEEP {
                list.push(buffer);
            }
        }
    }
}
