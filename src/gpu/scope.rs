//! wgpu error scopes, pushed and popped in the one order wgpu accepts, so that a mistake or a
//! device fault comes back as an [`Error`] instead of reaching the uncaptured-error handler
//! (which panics by default).

use crate::error::{Error, Result};

/// Validation and out-of-memory scopes, pushed together. Popped by [`ErrorScope::pop`], or
/// by dropping, always innermost first.
pub(crate) struct ErrorScope {
    /// Validation, then out-of-memory: the reverse of the order they were pushed in, which
    /// is the order they must be popped in (an array drops its elements first to last).
    guards: [wgpu::ErrorScopeGuard; 2],
    device: wgpu::Device,
}

impl ErrorScope {
    pub(crate) fn push(device: &wgpu::Device) -> Self {
        let out_of_memory = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = device.push_error_scope(wgpu::ErrorFilter::Validation);
        ErrorScope {
            guards: [validation, out_of_memory],
            device: device.clone(),
        }
    }

    /// The first error raised inside the scope, as [`Error::Gpu`] saying what was being done.
    pub(crate) fn pop(self, doing: &str) -> Result<()> {
        let errors = self.guards.map(|g| pollster::block_on(g.pop()));
        Self::first(&self.device, errors, doing)
    }

    /// [`ErrorScope::pop`] without blocking.
    pub(crate) async fn pop_async(self, doing: &str) -> Result<()> {
        let [validation, out_of_memory] = self.guards;
        let errors = [validation.pop().await, out_of_memory.pop().await];
        Self::first(&self.device, errors, doing)
    }

    fn first(device: &wgpu::Device, errors: [Option<wgpu::Error>; 2], doing: &str) -> Result<()> {
        match errors.into_iter().flatten().next() {
            Some(e) => {
                // If the device is lost, wgpu says so (to its device-lost callback) when it is
                // next polled: poll it now, on this failure path only, so that the next call
                // finds the device lost before it records anything.
                let _ = device.poll(wgpu::PollType::wait_indefinitely());
                Err(Error::Gpu(format!("{doing}: {e}")))
            }
            None => Ok(()),
        }
    }
}

/// Runs `f` inside an [`ErrorScope`].
pub(crate) fn scoped<T>(device: &wgpu::Device, doing: &str, f: impl FnOnce() -> T) -> Result<T> {
    let scope = ErrorScope::push(device);
    let value = f();
    scope.pop(doing)?;
    Ok(value)
}
