//! Recording kernels into one command encoder, and turning wgpu errors into ours.

use wgpu::util::DeviceExt;

use crate::device::Device;
use crate::error::{Error, Result};
use crate::shaders::Kernel;

/// A byte range of a buffer to bind: the whole buffer, or one chunk of a large tensor.
#[derive(Clone, Copy)]
pub(crate) struct Slot<'a> {
    pub buffer: &'a wgpu::Buffer,
    pub offset: u64,
    /// `None`: to the end of the buffer.
    pub size: Option<u64>,
}

impl<'a> From<&'a wgpu::Buffer> for Slot<'a> {
    fn from(buffer: &'a wgpu::Buffer) -> Self {
        Slot {
            buffer,
            offset: 0,
            size: None,
        }
    }
}

/// The encoder a call records into.
enum Target<'e> {
    /// Ours, submitted by [`Recorder::submit`].
    Own(wgpu::CommandEncoder),
    /// The caller's, submitted by the caller (interop).
    Caller(&'e mut wgpu::CommandEncoder),
}

/// Collects the dispatches of one loss call and submits them together.
///
/// Everything between [`Recorder::new`] and [`Recorder::submit`] runs inside a wgpu validation
/// error scope, so a mistake comes back as [`Error::Gpu`] instead of aborting the process.
pub(crate) struct Recorder<'d, 'e> {
    dev: &'d Device,
    encoder: Target<'e>,
    /// Out-of-memory, then validation errors (popped in reverse).
    scopes: [wgpu::ErrorScopeGuard; 2],
    /// Pooled buffers this call uses, given back after its submission.
    taken: Vec<wgpu::Buffer>,
}

impl<'d, 'e> Recorder<'d, 'e> {
    /// Records into the caller's `encoder`, or into one of ours when `None`.
    pub(crate) fn new(
        dev: &'d Device,
        encoder: Option<&'e mut wgpu::CommandEncoder>,
    ) -> Result<Self> {
        dev.check_alive()?;
        let device = &dev.inner.device;
        let scopes = [
            device.push_error_scope(wgpu::ErrorFilter::OutOfMemory),
            device.push_error_scope(wgpu::ErrorFilter::Validation),
        ];
        let encoder = match encoder {
            Some(encoder) => Target::Caller(encoder),
            None => Target::Own(
                device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("wgpu-loss"),
                }),
            ),
        };
        Ok(Recorder {
            dev,
            encoder,
            scopes,
            taken: Vec::new(),
        })
    }

    /// A uniform buffer holding `value`, from the device's pool.
    pub(crate) fn uniform<T: bytemuck::Pod>(&mut self, value: &T) -> wgpu::Buffer {
        let usage = wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST;
        self.pooled(bytemuck::bytes_of(value), usage)
    }

    /// A storage buffer holding `data` for this call alone (partial sums), from the pool.
    pub(crate) fn scratch<T: bytemuck::Pod>(&mut self, data: &[T]) -> wgpu::Buffer {
        let usage = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST;
        self.pooled(bytemuck::cast_slice(data), usage)
    }

    fn pooled(&mut self, bytes: &[u8], usage: wgpu::BufferUsages) -> wgpu::Buffer {
        let inner = &self.dev.inner;
        if let Target::Caller(_) = self.encoder {
            // The caller submits when it likes: a pooled buffer could be rewritten by another
            // call before then, so this call's buffers are its own.
            return inner
                .device
                .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some("wgpu-loss scratch"),
                    contents: bytes,
                    usage,
                });
        }
        let buffer = inner.pool.take(&inner.device, bytes.len() as u64, usage);
        inner.queue.write_buffer(&buffer, 0, bytes);
        self.taken.push(buffer.clone());
        buffer
    }

    /// A storage buffer holding `data` that outlives the call (a status word read later).
    pub(crate) fn storage<T: bytemuck::Pod>(&self, data: &[T]) -> wgpu::Buffer {
        self.dev
            .inner
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("wgpu-loss status"),
                contents: bytemuck::cast_slice(data),
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            })
    }

    /// Records `workgroups` workgroups of `entry`, specialised by `flags` (see
    /// [`Kernel::flag_names`]), with each `(binding, buffer)` bound. The bindings must be
    /// exactly those that the entry point uses.
    pub(crate) fn dispatch(
        &mut self,
        kernel: Kernel,
        entry: &'static str,
        flags: u32,
        bindings: &[(u32, Slot)],
        workgroups: u32,
    ) -> Result<()> {
        let inner = &self.dev.inner;
        let pipeline =
            inner
                .pipelines
                .get(&inner.device, inner.caps.subgroups, kernel, entry, flags)?;
        let entries: Vec<wgpu::BindGroupEntry> = bindings
            .iter()
            .map(|&(binding, slot)| wgpu::BindGroupEntry {
                binding,
                resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer: slot.buffer,
                    offset: slot.offset,
                    size: slot.size.and_then(wgpu::BufferSize::new),
                }),
            })
            .collect();
        let bind_group = inner.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(entry),
            layout: &pipeline.get_bind_group_layout(0),
            entries: &entries,
        });
        let encoder = match &mut self.encoder {
            Target::Own(e) => e,
            Target::Caller(e) => &mut **e,
        };
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some(entry),
            timestamp_writes: None,
        });
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind_group, &[]);
        pass.dispatch_workgroups(workgroups, 1, 1);
        Ok(())
    }

    /// Submits the recorded work (unless it went into the caller's encoder); reports any
    /// validation error raised while recording.
    pub(crate) fn submit(self) -> Result<()> {
        let inner = &self.dev.inner;
        if let Target::Own(encoder) = self.encoder {
            inner.queue.submit([encoder.finish()]);
        }
        for buffer in self.taken {
            inner.pool.give(buffer);
        }
        let [out_of_memory, validation] = self.scopes;
        let errors = [validation, out_of_memory].map(|s| pollster::block_on(s.pop()));
        match errors.into_iter().flatten().next() {
            Some(e) => Err(Error::Gpu(e.to_string())),
            None => self.dev.check_alive(),
        }
    }
}
