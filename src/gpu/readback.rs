//! Reading GPU buffers back to the host: one copy into a pooled staging buffer, one map.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use crate::error::{Error, Result};
use crate::gpu::memory::Memory;
use crate::gpu::scope::Scopes;

const STAGING: wgpu::BufferUsages =
    wgpu::BufferUsages::MAP_READ.union(wgpu::BufferUsages::COPY_DST);

/// Byte ranges copied into one staging buffer, on their way to the host.
pub(crate) struct Staged {
    scopes: Scopes,
    memory: Arc<Memory>,
    staging: wgpu::Buffer,
    size: u64,
}

/// Records the copy of each `(buffer, offset, size)` range into one pooled staging buffer,
/// back to back, into `encoder`, which the caller submits. Sizes are multiples of 4.
pub(crate) fn stage_into(
    scopes: &Scopes,
    memory: &Arc<Memory>,
    encoder: &mut wgpu::CommandEncoder,
    parts: &[(&wgpu::Buffer, u64, u64)],
) -> Staged {
    let size: u64 = parts.iter().map(|p| p.2).sum();
    let staging = memory.scratch.take(scopes.device(), size, STAGING);
    let mut at = 0;
    for &(buffer, offset, len) in parts {
        encoder.copy_buffer_to_buffer(buffer, offset, &staging, at, len);
        at += len;
    }
    Staged {
        scopes: scopes.clone(),
        memory: memory.clone(),
        staging,
        size,
    }
}

impl Staged {
    /// Waits for the copy, blocking this thread in the device's poll. Not on the web, where
    /// only the browser's event loop can finish it.
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) fn wait(self) -> Result<Vec<u8>> {
        let (tx, rx) = std::sync::mpsc::channel();
        let scope = self.scopes.push();
        self.staging
            .map_async(wgpu::MapMode::Read, ..self.size, move |r| {
                let _ = tx.send(r);
            });
        scope.pop("mapping the readback buffer")?;
        self.scopes
            .device()
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Gpu(format!("waiting for the GPU: {e}")))?;
        rx.recv()
            .map_err(|_| Error::Gpu("readback callback never ran".into()))?
            .map_err(|e| Error::Gpu(format!("mapping the readback buffer: {e}")))?;
        self.finish()
    }

    /// Waits for the copy without blocking the caller's thread, after returning the first
    /// error of the device's earlier calls not yet reported (on the web, where their error
    /// scopes could not be waited for). The future is woken by the map's callback, which the
    /// browser's event loop runs on the web and a thread waiting in the device's poll runs
    /// natively: it is never polled in vain.
    pub(crate) async fn wait_async(self) -> Result<Vec<u8>> {
        self.scopes.settle().await?;
        let state = Arc::new(Mutex::new(MapState::default()));
        let callback_state = state.clone();
        let scope = self.scopes.push();
        self.staging
            .map_async(wgpu::MapMode::Read, ..self.size, move |r| {
                MapState::finish(&callback_state, r.map_err(|e| e.to_string()));
            });
        scope.pop_async("mapping the readback buffer").await?;
        #[cfg(not(target_arch = "wasm32"))]
        {
            let (device, poll_state) = (self.scopes.device().clone(), state.clone());
            std::thread::Builder::new()
                .name("wgpu-loss readback".into())
                .spawn(move || {
                    // The map's callback runs inside this poll; if the poll fails it never
                    // will, and the failure is the result.
                    if let Err(e) = device.poll(wgpu::PollType::wait_indefinitely()) {
                        MapState::finish(&poll_state, Err(format!("waiting for the GPU: {e}")));
                    }
                })
                .map_err(|e| Error::Gpu(format!("starting the readback thread: {e}")))?;
        }
        MapFuture { state }
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

impl MapState {
    /// Sets the result (the first one given) and wakes the waiting future.
    fn finish(state: &Mutex<MapState>, result: std::result::Result<(), String>) {
        if let Ok(mut s) = state.lock() {
            s.result.get_or_insert(result);
            if let Some(w) = s.waker.take() {
                w.wake();
            }
        }
    }
}

/// Ready once [`MapState::finish`] has run.
struct MapFuture {
    state: Arc<Mutex<MapState>>,
}

impl Future for MapFuture {
    type Output = std::result::Result<(), String>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Ok(mut state) = self.state.lock() else {
            return Poll::Ready(Err("readback state poisoned".into()));
        };
        match state.result.take() {
            Some(result) => Poll::Ready(result),
            None => {
                state.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}
