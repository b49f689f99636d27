//! Kernel time from timestamp queries ([`crate::Device::time_kernels`]).
//!
//! A timed call brackets each of its compute passes with two timestamps, resolves them and
//! copies them to a staging buffer in the same submission, then waits for them and adds the
//! passes' durations to the device's total. Copies to and from the host are not counted.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use std::sync::Arc;

use crate::error::Result;
use crate::gpu::memory::Memory;
use crate::gpu::readback::{self, Staged};
use crate::gpu::scope::Scopes;

/// Passes one call can time: a call records a few per chunk of its input, and chunks are
/// hundreds of MiB, so only a tensor of tens of GiB would go past it (its later passes are
/// then left out of the total, with a warning in the log).
const MAX_PASSES: u32 = 256;

/// Whether a device times its calls, and the time summed so far.
#[derive(Default)]
pub(crate) struct KernelClock {
    on: AtomicBool,
    nanos: AtomicU64,
}

impl KernelClock {
    pub(crate) fn set(&self, on: bool) {
        self.on.store(on, Ordering::Relaxed);
    }

    pub(crate) fn is_on(&self) -> bool {
        self.on.load(Ordering::Relaxed)
    }

    pub(crate) fn total(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::Relaxed))
    }

    /// Takes `spent` back out of the total (the time of calls the caller's sum should not
    /// count), never below zero.
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) fn remove(&self, spent: Duration) {
        let spent = u64::try_from(spent.as_nanos()).unwrap_or(u64::MAX);
        let _ = self
            .nanos
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                Some(n.saturating_sub(spent))
            });
    }

    /// Waits for the timestamps [`PassTimer::resolve`] staged and adds the passes' durations,
    /// at `period` nanoseconds per tick. Natively only: timing is never on on the web
    /// ([`crate::Device::time_kernels`]), where a call cannot wait.
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) fn add_when_done(&self, staged: Staged, period: f32) -> Result<()> {
        self.add(&staged.wait()?, period);
        Ok(())
    }

    #[cfg(target_arch = "wasm32")]
    pub(crate) fn add_when_done(&self, staged: Staged, _period: f32) -> Result<()> {
        drop(staged);
        Err(crate::error::Error::Gpu(
            "kernel timing is not available on the web".into(),
        ))
    }

    /// Adds the passes' durations, read back as `bytes`, at `period` nanoseconds per tick.
    #[cfg(not(target_arch = "wasm32"))]
    fn add(&self, bytes: &[u8], period: f32) {
        let stamps: Vec<u64> = bytemuck::pod_collect_to_vec(bytes);
        let ticks: u64 = stamps
            .chunks_exact(2)
            .map(|pass| pass[1].saturating_sub(pass[0]))
            .sum();
        let nanos = (ticks as f64 * f64::from(period)).round() as u64;
        self.nanos.fetch_add(nanos, Ordering::Relaxed);
    }
}

/// The timestamps of one call's passes.
pub(crate) struct PassTimer {
    queries: wgpu::QuerySet,
    used: u32,
}

impl PassTimer {
    pub(crate) fn new(device: &wgpu::Device) -> Self {
        PassTimer {
            queries: device.create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("wgpu-loss pass timestamps"),
                ty: wgpu::QueryType::Timestamp,
                count: 2 * MAX_PASSES,
            }),
            used: 0,
        }
    }

    /// The timestamps of the next pass, or `None` once the query set is full.
    pub(crate) fn next_pass(&mut self) -> Option<wgpu::ComputePassTimestampWrites<'_>> {
        if self.used == 2 * MAX_PASSES {
            log::warn!("wgpu-loss: a call of over {MAX_PASSES} passes is timed in part");
            return None;
        }
        self.used += 2;
        Some(wgpu::ComputePassTimestampWrites {
            query_set: &self.queries,
            beginning_of_pass_write_index: Some(self.used - 2),
            end_of_pass_write_index: Some(self.used - 1),
        })
    }

    /// Records the resolve of the timestamps and their copy to the host into `encoder`; the
    /// pooled buffer it resolves into goes to `taken`, to be given back after submission.
    pub(crate) fn resolve(
        &self,
        scopes: &Scopes,
        memory: &Arc<Memory>,
        encoder: &mut wgpu::CommandEncoder,
        taken: &mut Vec<wgpu::Buffer>,
    ) -> Staged {
        let bytes = u64::from(self.used) * 8;
        let usage = wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC;
        let resolved = memory.scratch.take(scopes.device(), bytes, usage);
        encoder.resolve_query_set(&self.queries, 0..self.used, &resolved, 0);
        let staged = readback::stage_into(scopes, memory, encoder, &[(&resolved, 0, bytes)]);
        taken.push(resolved);
        staged
    }
}
