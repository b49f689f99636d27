//! Recording kernels into one command encoder, and turning wgpu errors into ours.

use wgpu::util::DeviceExt;

use crate::device::Device;
use crate::error::{Error, Result};
use crate::shaders::Kernel;
use crate::tensor::{Allocation, Tensor};
use crate::timing::PassTimer;

/// A byte range of a buffer to bind: the whole buffer, or one chunk of a large tensor.
#[derive(Clone, Copy)]
pub(crate) struct Slot<'a> {
    pub buffer: &'a wgpu::Buffer,
    pub offset: u64,
    /// `None`: to the end of the buffer.
    pub size: Option<u64>,
    /// The tensor memory the range belongs to, if any.
    pub owner: Option<&'a Allocation>,
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

impl<'a> From<&'a Tensor> for Slot<'a> {
    fn from(tensor: &'a Tensor) -> Self {
        tensor.slot(0, tensor.len())
    }
}

/// The encoder a call records into.
enum Target<'e> {
    /// Ours, submitted by [`Recorder::submit`].
    Own(wgpu::CommandEncoder),
    /// The caller's, submitted by the caller (interop).
    Caller(&'e mut wgpu::CommandEncoder),
}

impl Target<'_> {
    fn get(&mut self) -> &mut wgpu::CommandEncoder {
        match self {
            Target::Own(e) => e,
            Target::Caller(e) => e,
        }
    }
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
    /// The passes' timestamps, while the device times its kernels (own encoder only).
    timer: Option<PassTimer>,
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
        let timer = match encoder.is_none() && dev.inner.clock.is_on() {
            true => Some(PassTimer::new(device)),
            false => None,
        };
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
            timer,
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

    /// Records the zeroing of `tensor`.
    pub(crate) fn clear(&mut self, tensor: &Tensor) {
        if let Target::Caller(_) = self.encoder {
            tensor.pin();
        }
        self.encoder.get().clear_buffer(tensor.buffer(), 0, None);
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
        let make = || {
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
            inner.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some(entry),
                layout: &pipeline.get_bind_group_layout(0),
                entries: &entries,
            })
        };
        let bind_group = match self.encoder {
            // Submitted by us before the call returns: the bind group may serve later calls.
            Target::Own(_) => {
                let key = bindings
                    .iter()
                    .map(|(b, s)| (*b, s.buffer.clone(), s.offset, s.size))
                    .collect();
                inner
                    .bind_groups
                    .get_or_make((kernel, entry, flags), key, make)
            }
            // Submitted whenever the caller likes: what it binds stays out of the pools.
            Target::Caller(_) => {
                for owner in bindings.iter().filter_map(|(_, s)| s.owner) {
                    owner.pin();
                }
                make()
            }
        };
        let mut pass = self
            .encoder
            .get()
            .begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some(entry),
                timestamp_writes: self.timer.as_mut().and_then(PassTimer::next_pass),
            });
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind_group, &[]);
        pass.dispatch_workgroups(workgroups, 1, 1);
        Ok(())
    }

    /// Submits the recorded work (unless it went into the caller's encoder); reports any
    /// validation error raised while recording. A timed call waits for its timestamps.
    pub(crate) fn submit(mut self) -> Result<()> {
        let inner = &self.dev.inner;
        let mut timestamps = None;
        if let Target::Own(mut encoder) = self.encoder {
            if let Some(timer) = &self.timer {
                timestamps = Some(timer.resolve(self.dev, &mut encoder, &mut self.taken));
            }
            inner.queue.submit([encoder.finish()]);
        }
        for buffer in self.taken {
            self.dev.recycle_scratch(buffer);
        }
        let [out_of_memory, validation] = self.scopes;
        let errors = [validation, out_of_memory].map(|s| pollster::block_on(s.pop()));
        if let Some(e) = errors.into_iter().flatten().next() {
            return Err(Error::Gpu(e.to_string()));
        }
        self.dev.check_alive()?;
        if let Some(staged) = timestamps {
            PassTimer::add_to(self.dev, &staged.wait()?);
        }
        Ok(())
    }
}
