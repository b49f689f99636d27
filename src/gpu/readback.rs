//! Reading GPU buffers back to the host: one copy into a pooled staging buffer, one map.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use crate::error::{Error, Result};
use crate::gpu::memory::Memory;
use crate::gpu::scope::ErrorScope;

const STAGING: wgpu::BufferUsages =
    wgpu::BufferUsages::MAP_READ.union(wgpu::BufferUsages::COPY_DST);

/// Byte ranges copied into one staging buffer, on their way to the host.
pub(crate) struct Staged {
    device: wgpu::Device,
    memory: Arc<Memory>,
    staging: wgpu::Buffer,
    size: u64,
}

/// Records the copy of each `(buffer, offset, size)` range into one pooled staging buffer,
/// back to back, into `encoder`, which the caller submits. Sizes are multiples of 4.
pub(crate) fn stage_into(
    device: &wgpu::Device,
    memory: &Arc<Memory>,
    encoder: &mut wgpu::CommandEncoder,
    parts: &[(&wgpu::Buffer, u64, u64)],
) -> Staged {
    let size: u64 = parts.iter().map(|p| p.2).sum();
    let staging = memory.scratch.take(device, size, STAGING);
    let mut at = 0;
    for &(buffer, offset, len) in parts {
        encoder.copy_buffer_to_buffer(buffer, offset, &staging, at, len);
        at += len;
    }
    Staged {
        device: device.clone(),
        memory: memory.clone(),
        staging,
        size,
    }
}

impl Staged {
    /// Waits for the copy, blocking this thread in the device's poll.
    pub(crate) fn wait(self) -> Result<Vec<u8>> {
        let (tx, rx) = std::sync::mpsc::channel();
        let scope = ErrorScope::push(&self.device);
        self.staging
            .map_async(wgpu::MapMode::Read, ..self.size, move |r| {
                let _ = tx.send(r);
            });
        scope.pop("mapping the readback buffer")?;
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Gpu(format!("waiting for the GPU: {e}")))?;
        rx.recv()
            .map_err(|_| Error::Gpu("readback callback never ran".into()))?
            .map_err(|e| Error::Gpu(format!("mapping the readback buffer: {e}")))?;
        self.finish()
    }

    /// Waits for the copy without blocking: each time it is polled it polls the device
    /// without waiting, then yields to the executor until the map is done.
    pub(crate) async fn wait_async(self) -> Result<Vec<u8>> {
        let state = Arc::new(Mutex::new(MapState::default()));
        let callback_state = state.clone();
        let scope = ErrorScope::push(&self.device);
        self.staging
            .map_async(wgpu::MapMode::Read, ..self.size, move |r| {
                if let Ok(mut s) = callback_state.lock() {
                    s.result = Some(r.map_err(|e| e.to_string()));
                    if let Some(w) = s.waker.take() {
                        w.wake();
                    }
                }
            });
        scope.pop_async("mapping the readback buffer").await?;
        MapFuture {
            device: self.device.clone(),
            state,
        }
        .await
        .map_err(|e| Error::Gpu(format!("mapping the readback buffer: {e}")))?;
        self.finish()
    }

    fn finish(self) -> Result<Vec<u8>> {
        let bytes = self
            .staging
            .get_mapped_range(..self.size)
            .map_err(|e| Error::Gpu(format!("reading the mapped buffer: {e}")))?
            .to_vec();
        self.staging.unmap();
        self.memory.recycle_scratch(self.staging);
        Ok(bytes)
    }
}

#[derive(Default)]
struct MapState {
    result: Option<std::result::Result<(), String>>,
    waker: Option<Waker>,
}

struct MapFuture {
    device: wgpu::Device,
    state: Arc<Mutex<MapState>>,
}

impl Future for MapFuture {
    type Output = std::result::Result<(), String>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Err(e) = self.device.poll(wgpu::PollType::Poll) {
            return Poll::Ready(Err(e.to_string()));
        }
        let Ok(mut state) = self.state.lock() else {
            return Poll::Ready(Err("readback state poisoned".into()));
        };
        match state.result.take() {
            Some(result) => Poll::Ready(result),
            None => {
                // wgpu runs map callbacks only inside a device poll: ask to be polled again.
                state.waker = Some(cx.waker().clone());
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        }
    }
}
