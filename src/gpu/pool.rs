//! Reused buffers: uniforms, partial sums and readback staging (by size class), and the
//! buffers of dropped tensors (by exact size), so a warm call allocates nothing.
//!
//! A buffer is taken for one call and given back after the call's submission. The queue runs
//! submissions in order and applies each `write_buffer` between them, so the next call may
//! overwrite a given-back buffer while the GPU still runs the previous one: that write lands
//! after the previous submission has read it.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// Scratch buffers kept per (size class, usage); more are dropped.
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

    /// Returns a buffer taken with [`BufferPool::take`] (unmapped); gives back the buffer
    /// when the pool is full and lets it go.
    pub(crate) fn give(&self, buffer: wgpu::Buffer) -> Option<wgpu::Buffer> {
        let Ok(mut free) = self.free.lock() else {
            return Some(buffer);
        };
        let list = free.entry((buffer.size(), buffer.usage())).or_default();
        if list.len() < KEEP {
            list.push(buffer);
            return None;
        }
        Some(buffer)
    }
}

/// Bytes of dropped tensors a device keeps for reuse; the oldest go first.
const TENSOR_POOL_BYTES: u64 = 512 << 20;
/// Buffers of dropped tensors a device keeps for reuse.
const TENSOR_POOL_BUFFERS: usize = 64;

/// The buffers of dropped tensors, for later tensors of the same padded size: a training
/// loop's gradient and loss reuse last step's buffers (and their cached bind groups), which
/// wgpu need not allocate and zero-fill again.
#[derive(Default)]
pub(crate) struct TensorPool {
    free: Mutex<FreeTensors>,
}

#[derive(Default)]
struct FreeTensors {
    buffers: VecDeque<wgpu::Buffer>,
    bytes: u64,
}

impl TensorPool {
    /// The most recently dropped buffer of exactly `size` bytes, if any.
    pub(crate) fn take(&self, size: u64) -> Option<wgpu::Buffer> {
        let mut free = self.free.lock().ok()?;
        let at = free.buffers.iter().rposition(|b| b.size() == size)?;
        let buffer = free.buffers.remove(at)?;
        free.bytes -= size;
        Some(buffer)
    }

    /// Keeps the buffer of a dropped tensor; returns those let go to stay within bounds.
    pub(crate) fn give(&self, buffer: wgpu::Buffer) -> Vec<wgpu::Buffer> {
        let Ok(mut free) = self.free.lock() else {
            return vec![buffer];
        };
        if buffer.size() > TENSOR_POOL_BYTES {
            return vec![buffer];
        }
        free.bytes += buffer.size();
        free.buffers.push_back(buffer);
        let mut dropped = Vec::new();
        while free.bytes > TENSOR_POOL_BYTES || free.buffers.len() > TENSOR_POOL_BUFFERS {
            let Some(oldest) = free.buffers.pop_front() else {
                break;
            };
            free.bytes -= oldest.size();
            dropped.push(oldest);
        }
        dropped
    }
}
