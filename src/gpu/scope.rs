//! wgpu error scopes, pushed and popped in the one order wgpu accepts, so that a mistake or a
//! device fault comes back as an [`Error`] instead of reaching the uncaptured-error handler
//! (which panics by default).
//!
//! Natively a popped scope's result is waited for at once, and the call that raised the error
//! returns it. On the web a scope's result arrives only through the browser's event loop,
//! which a synchronous call cannot wait for: the popped scopes are kept on the device, and the
//! next awaited call ([`Scopes::settle`], from the readbacks) returns their first error.

#[cfg(target_arch = "wasm32")]
use std::future::Future;
#[cfg(target_arch = "wasm32")]
use std::pin::Pin;
#[cfg(target_arch = "wasm32")]
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};

/// A popped scope whose result has not arrived: its error, if any, and what was being done.
#[cfg(target_arch = "wasm32")]
type Pending = (Pin<Box<dyn Future<Output = Option<wgpu::Error>>>>, String);

/// The error scopes of one device.
#[derive(Clone)]
pub(crate) struct Scopes {
    device: wgpu::Device,
    /// Scopes popped, their results not yet looked at (web only).
    #[cfg(target_arch = "wasm32")]
    pending: Arc<Mutex<Vec<Pending>>>,
}

impl Scopes {
    pub(crate) fn new(device: &wgpu::Device) -> Self {
        Scopes {
            device: device.clone(),
            #[cfg(target_arch = "wasm32")]
            pending: Arc::default(),
        }
    }

    pub(crate) fn device(&self) -> &wgpu::Device {
        &self.device
    }

    /// Pushes a validation and an out-of-memory scope.
    pub(crate) fn push(&self) -> ErrorScope {
        let out_of_memory = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        ErrorScope {
            guards: [validation, out_of_memory],
            scopes: self.clone(),
        }
    }

    /// Runs `f` inside an [`ErrorScope`].
    pub(crate) fn scoped<T>(&self, doing: &str, f: impl FnOnce() -> T) -> Result<T> {
        let scope = self.push();
        let value = f();
        scope.pop(doing)?;
        Ok(value)
    }

    /// Waits for the scopes popped so far and returns the first error among them. Natively
    /// there are none: each was waited for when it was popped.
    pub(crate) async fn settle(&self) -> Result<()> {
        #[cfg(target_arch = "wasm32")]
        {
            let pending = match self.pending.lock() {
                Ok(mut p) => std::mem::take(&mut *p),
                Err(_) => return Err(Error::Gpu("error scopes poisoned".into())),
            };
            let mut first = Ok(());
            for (error, doing) in pending {
                if let (Some(e), Ok(())) = (error.await, &first) {
                    first = Err(Error::Gpu(format!("{doing}: {e}")));
                }
            }
            first
        }
        #[cfg(not(target_arch = "wasm32"))]
        Ok(())
    }

    /// The first of `errors`, as [`Error::Gpu`] saying what was being done.
    fn first(&self, errors: [Option<wgpu::Error>; 2], doing: &str) -> Result<()> {
        match errors.into_iter().flatten().next() {
            Some(e) => {
                // If the device is lost, wgpu says so (to its device-lost callback) when it is
                // next polled: poll it now, on this failure path only, so that the next call
                // finds the device lost before it records anything.
                let _ = self.device.poll(wgpu::PollType::wait_indefinitely());
                Err(Error::Gpu(format!("{doing}: {e}")))
            }
            None => Ok(()),
        }
    }
}

/// Validation and out-of-memory scopes, pushed together. Popped by [`ErrorScope::pop`], or
/// by dropping, always innermost first.
pub(crate) struct ErrorScope {
    /// Validation, then out-of-memory: the reverse of the order they were pushed in, which
    /// is the order they must be popped in (an array drops its elements first to last).
    guards: [wgpu::ErrorScopeGuard; 2],
    scopes: Scopes,
}

impl ErrorScope {
    /// Natively: the first error raised inside the scope, as [`Error::Gpu`] saying what was
    /// being done. On the web: `Ok`, the result kept for [`Scopes::settle`].
    pub(crate) fn pop(self, doing: &str) -> Result<()> {
        #[cfg(not(target_arch = "wasm32"))]
        {
            let errors = self.guards.map(|g| pollster::block_on(g.pop()));
            self.scopes.first(errors, doing)
        }
        #[cfg(target_arch = "wasm32")]
        {
            // Both pops happen now, in order; only their results are awaited later.
            let [validation, out_of_memory] = self.guards.map(|g| g.pop());
            let error = Box::pin(async move { validation.await.or(out_of_memory.await) });
            match self.scopes.pending.lock() {
                Ok(mut p) => p.push((error, doing.to_string())),
                Err(_) => return Err(Error::Gpu("error scopes poisoned".into())),
            }
            Ok(())
        }
    }

    /// [`ErrorScope::pop`] without blocking, on every platform.
    pub(crate) async fn pop_async(self, doing: &str) -> Result<()> {
        let [validation, out_of_memory] = self.guards.map(|g| g.pop());
        let errors = [validation.await, out_of_memory.await];
        self.scopes.first(errors, doing)
    }
}
