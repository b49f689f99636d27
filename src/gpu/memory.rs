//! A device's reusable memory: pooled scratch and tensor buffers, cached bind groups, and
//! [`Allocation`], the buffer behind a tensor, which goes back to the pool when dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::gpu::bind_groups::BindGroupCache;
use crate::gpu::pool::{BufferPool, TensorPool};

/// The pools and caches of one device.
#[derive(Default)]
pub(crate) struct Memory {
    /// Uniforms, partial sums, staging buffers.
    pub(crate) scratch: BufferPool,
    tensors: TensorPool,
    pub(crate) bind_groups: BindGroupCache,
}

impl Memory {
    /// Gives a scratch buffer back to the pool after its call's submission.
    pub(crate) fn recycle_scratch(&self, buffer: wgpu::Buffer) {
        if let Some(dropped) = self.scratch.give(buffer) {
            self.release(&dropped);
        }
    }

    /// The buffer of a dropped tensor of exactly `size` bytes, if the pool has one.
    pub(crate) fn take_tensor(&self, size: u64) -> Option<wgpu::Buffer> {
        self.tensors.take(size)
    }

    /// Keeps the buffer of a dropped tensor for a later one.
    fn recycle_tensor(&self, buffer: wgpu::Buffer) {
        for dropped in self.tensors.give(buffer) {
            self.release(&dropped);
        }
    }

    /// Lets go of a buffer: drops the cached bind groups that hold it.
    fn release(&self, buffer: &wgpu::Buffer) {
        self.bind_groups.forget(buffer);
    }
}

/// A tensor's buffer. One that the crate allocated goes back to the device's pool when the
/// last tensor using it is dropped, for a later tensor of the same size, unless a call
/// recorded into the caller's encoder bound it (that encoder may be submitted after the drop);
/// a buffer the caller gave is let go.
pub(crate) struct Allocation {
    buffer: wgpu::Buffer,
    memory: Arc<Memory>,
    reuse: AtomicBool,
}

impl Allocation {
    /// Memory that goes back to `memory`'s pool when dropped (`reuse`), or is let go.
    pub(crate) fn new(buffer: wgpu::Buffer, memory: Arc<Memory>, reuse: bool) -> Self {
        Allocation {
            buffer,
            memory,
            reuse: AtomicBool::new(reuse),
        }
    }

    pub(crate) fn buffer(&self) -> &wgpu::Buffer {
        &self.buffer
    }

    /// Keeps the buffer out of the pool once dropped: work that uses it may still be
    /// submitted by the caller.
    pub(crate) fn pin(&self) {
        self.reuse.store(false, Ordering::Relaxed);
    }
}

impl Drop for Allocation {
    fn drop(&mut self) {
        let buffer = self.buffer.clone();
        match *self.reuse.get_mut() {
            true => self.memory.recycle_tensor(buffer),
            false => self.memory.release(&buffer),
        }
    }
}

/// A byte range of a buffer to bind: a scratch buffer, or (a chunk of) a tensor's memory.
#[derive(Clone, Copy)]
pub(crate) struct Slot<'a> {
    pub buffer: &'a wgpu::Buffer,
    pub offset: u64,
    /// `None`: to the end of the buffer.
    pub size: Option<u64>,
    /// The tensor memory the range belongs to, if any: a call that binds it holds it until
    /// its submission.
    pub owner: Option<&'a Arc<Allocation>>,
}

impl<'a> From<&'a wgpu::Buffer> for Slot<'a> {
    fn from(buffer: &'a wgpu::Buffer) -> Self {
        Slot {
            buffer,
            offset: 0,
            size: None,
            owner: None,
        }
    }
}
