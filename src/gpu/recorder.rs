//! Recording the passes of one loss call into one command encoder, and turning wgpu errors
//! into ours.

use std::sync::atomic::{AtomicBool, Ordering};

use std::sync::Arc;

use wgpu::util::DeviceExt;

use crate::error::{Error, Result};
use crate::gpu::device::Device;
use crate::gpu::kernel::{Access, BindingDecl, EntryPoint, Kernel, Uniform};
use crate::gpu::memory::{Allocation, Slot};
use crate::gpu::pipelines::PipelineKey;
use crate::gpu::scope::ErrorScope;
use crate::gpu::timing::PassTimer;

/// Where a call records its GPU work.
pub(crate) enum Destination<'e> {
    /// An encoder of the call's own, submitted before the call returns.
    Submit,
    /// The caller's encoder, submitted by the caller (interop).
    Encoder(&'e mut wgpu::CommandEncoder),
}

/// Whether the caller's encoder that a call was recorded into has been submitted and its
/// work done: set by wgpu once that submission completes.
#[derive(Clone, Debug)]
pub(crate) struct Submission(Arc<AtomicBool>);

impl Submission {
    pub(crate) fn is_done(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// The encoder being recorded into.
enum Encoding<'e> {
    Own(wgpu::CommandEncoder),
    Caller(&'e mut wgpu::CommandEncoder),
}

impl Encoding<'_> {
    fn get(&mut self) -> &mut wgpu::CommandEncoder {
        match self {
            Encoding::Own(e) => e,
            Encoding::Caller(e) => e,
        }
    }
}

/// Collects the dispatches of one loss call and submits them together.
///
/// Everything between [`Recorder::new`] and [`Recorder::submit`] runs inside wgpu error
/// scopes, so a mistake comes back as [`Error::Gpu`] instead of aborting the process.
pub(crate) struct Recorder<'d, 'e> {
    dev: &'d Device,
    encoder: Encoding<'e>,
    /// Catches what goes wrong while recording and submitting.
    scope: ErrorScope,
    /// Pooled buffers this call uses, given back after its submission.
    taken: Vec<wgpu::Buffer>,
    /// The passes' timestamps, while the device times its kernels (own encoder only).
    timer: Option<PassTimer>,
    /// The tensor memory this call's passes bind, kept until submission.
    held: Vec<Arc<Allocation>>,
    /// Set when the caller's encoder has been submitted and done (caller's encoder only).
    submission: Option<Submission>,
}

impl<'d, 'e> Recorder<'d, 'e> {
    pub(crate) fn new(dev: &'d Device, destination: Destination<'e>) -> Result<Self> {
        dev.check_alive()?;
        let gpu = &dev.gpu;
        let scope = gpu.scopes.push();
        let mut submission = None;
        let (encoder, timer) = match destination {
            Destination::Encoder(encoder) => {
                let done = Submission(Arc::default());
                let flag = done.0.clone();
                encoder.on_submitted_work_done(move || flag.store(true, Ordering::Release));
                submission = Some(done);
                (Encoding::Caller(encoder), None)
            }
            Destination::Submit => (
                Encoding::Own(
                    gpu.device
                        .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                            label: Some("wgpu-loss"),
                        }),
                ),
                gpu.clock.is_on().then(|| PassTimer::new(&gpu.device)),
            ),
        };
        Ok(Recorder {
            dev,
            encoder,
            scope,
            taken: Vec::new(),
            timer,
            held: Vec::new(),
            submission,
        })
    }

    /// For a call recorded into the caller's encoder: whether that encoder was submitted.
    pub(crate) fn submission(&self) -> Option<Submission> {
        self.submission.clone()
    }

    /// The device the call runs on.
    pub(crate) fn device(&self) -> &'d Device {
        self.dev
    }

    /// A uniform buffer holding `value`, from the device's pool.
    pub(crate) fn uniform<T: Uniform>(&mut self, value: &T) -> wgpu::Buffer {
        let usage = wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST;
        self.pooled(bytemuck::bytes_of(value), usage)
    }

    /// A storage buffer holding `data` for this call alone (partial sums), from the pool.
    pub(crate) fn scratch<T: bytemuck::Pod>(&mut self, data: &[T]) -> wgpu::Buffer {
        let usage = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST;
        self.pooled(bytemuck::cast_slice(data), usage)
    }

    fn pooled(&mut self, bytes: &[u8], usage: wgpu::BufferUsages) -> wgpu::Buffer {
        let gpu = &self.dev.gpu;
        if let Encoding::Caller(_) = self.encoder {
            // The caller submits when it likes: a pooled buffer could be rewritten by another
            // call before then, so this call's buffers are its own.
            return gpu
                .device
                .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some("wgpu-loss scratch"),
                    contents: bytes,
                    usage,
                });
        }
        let buffer = gpu
            .memory
            .scratch
            .take(&gpu.device, bytes.len() as u64, usage);
        gpu.queue.write_buffer(&buffer, 0, bytes);
        self.taken.push(buffer.clone());
        buffer
    }

    /// Keeps the tensor memory of `slot` alive until the call's work is submitted: an
    /// intermediate tensor (a denominator, an f32 gradient) dropped earlier would give its
    /// buffer to another thread's tensor while this call's commands still write it. In the
    /// caller's encoder, submitted whenever the caller likes, the memory is also kept out of
    /// the pool for good.
    fn hold(&mut self, slot: &Slot) {
        if let Some(owner) = slot.owner {
            if let Encoding::Caller(_) = self.encoder {
                owner.pin();
            }
            self.held.push(owner.clone());
        }
    }

    /// Records the zeroing of `slot`.
    pub(crate) fn clear(&mut self, slot: Slot) {
        self.hold(&slot);
        self.encoder
            .get()
            .clear_buffer(slot.buffer, slot.offset, slot.size);
    }

    /// Records the copy of `from` into `to`, two ranges of the size of `from`, both
    /// multiples of 4 bytes from offsets that are.
    pub(crate) fn copy(&mut self, from: Slot, to: Slot) {
        self.hold(&from);
        self.hold(&to);
        let size = from.size.unwrap_or(from.buffer.size() - from.offset);
        self.encoder.get().copy_buffer_to_buffer(
            from.buffer,
            from.offset,
            to.buffer,
            to.offset,
            size,
        );
    }

    /// Records `workgroups` workgroups of `entry` of `kernel` with `overrides` set, binding
    /// each declared binding to its slot. The bindings must be exactly the entry point's
    /// layout ([`Kernel::layout`]).
    pub(crate) fn dispatch<K: Kernel>(
        &mut self,
        kernel: K,
        entry: K::Entry,
        overrides: K::Overrides,
        bindings: &[(BindingDecl, Slot)],
        workgroups: u32,
    ) -> Result<()> {
        let gpu = &self.dev.gpu;
        let pipeline =
            gpu.pipelines
                .get(&gpu.scopes, gpu.limits.subgroups, kernel, entry, overrides)?;
        let bound = |decl: &BindingDecl| bindings.iter().any(|(d, _)| d == decl);
        if bindings.len() != pipeline.layout.len() || !pipeline.layout.iter().all(bound) {
            return Err(Error::Gpu(format!(
                "internal error: {kernel:?}::{} binds {:?}, its layout is {:?}",
                entry.name(),
                bindings.iter().map(|(d, _)| d.name).collect::<Vec<_>>(),
                pipeline.layout.iter().map(|d| d.name).collect::<Vec<_>>(),
            )));
        }
        let ranges: Vec<_> = bindings
            .iter()
            .map(|(d, s)| (s.buffer, s.offset, s.size, d.access == Access::ReadWrite))
            .collect();
        if let Some((a, b)) = aliased(&ranges) {
            // WebGPU rejects such a dispatch, and drivers that accept it race.
            return Err(Error::Gpu(format!(
                "internal error: {kernel:?}::{} binds one buffer range as both {} and {}, \
                 one of them writable",
                entry.name(),
                bindings[a].0.name,
                bindings[b].0.name,
            )));
        }
        let make = || {
            let entries: Vec<wgpu::BindGroupEntry> = bindings
                .iter()
                .map(|(decl, slot)| wgpu::BindGroupEntry {
                    binding: decl.binding,
                    resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                        buffer: slot.buffer,
                        offset: slot.offset,
                        size: slot.size.and_then(wgpu::BufferSize::new),
                    }),
                })
                .collect();
            gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some(entry.name()),
                layout: &pipeline.bind_group_layout,
                entries: &entries,
            })
        };
        let bind_group = match self.encoder {
            // Submitted by us before the call returns: the bind group may serve later calls.
            Encoding::Own(_) => {
                let key = bindings
                    .iter()
                    .map(|(d, s)| (d.binding, s.buffer.clone(), s.offset, s.size))
                    .collect();
                gpu.memory.bind_groups.get_or_make(
                    PipelineKey::of(kernel, entry, overrides),
                    key,
                    make,
                )
            }
            // Submitted whenever the caller likes: what it binds stays out of the pools.
            Encoding::Caller(_) => make(),
        };
        for (_, slot) in bindings {
            self.hold(slot);
        }
        let mut pass = self
            .encoder
            .get()
            .begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some(entry.name()),
                timestamp_writes: self.timer.as_mut().and_then(PassTimer::next_pass),
            });
        pass.set_pipeline(&pipeline.pipeline);
        pass.set_bind_group(0, &bind_group, &[]);
        pass.dispatch_workgroups(workgroups, 1, 1);
        Ok(())
    }

    /// Submits the recorded work (unless it went into the caller's encoder); reports any
    /// validation error raised while recording. A timed call waits for its timestamps.
    pub(crate) fn submit(mut self) -> Result<()> {
        let gpu = &self.dev.gpu;
        let mut timestamps = None;
        if let Encoding::Own(mut encoder) = self.encoder {
            if let Some(timer) = &self.timer {
                timestamps =
                    Some(timer.resolve(&gpu.scopes, &gpu.memory, &mut encoder, &mut self.taken));
            }
            gpu.queue.submit([encoder.finish()]);
        }
        for buffer in self.taken {
            gpu.memory.recycle_scratch(buffer);
        }
        drop(self.held);
        self.scope.pop("recording a loss")?;
        self.dev.check_alive()?;
        if let Some(staged) = timestamps {
            gpu.clock
                .add_when_done(staged, gpu.queue.get_timestamp_period())?;
        }
        Ok(())
    }
}

/// The first pair of `(buffer, offset, size or to the end, writable)` ranges that overlap
/// with at least one of them writable: WebGPU forbids binding such a pair in one dispatch.
fn aliased<B: PartialEq>(ranges: &[(B, u64, Option<u64>, bool)]) -> Option<(usize, usize)> {
    let end = |&(_, offset, size, _): &(B, u64, Option<u64>, bool)| {
        size.map_or(u64::MAX, |s| offset.saturating_add(s))
    };
    (0..ranges.len())
        .flat_map(|i| (i + 1..ranges.len()).map(move |j| (i, j)))
        .find(|&(i, j)| {
            let (a, b) = (&ranges[i], &ranges[j]);
            (a.3 || b.3) && a.0 == b.0 && a.1 < end(b) && b.1 < end(a)
        })
}

#[cfg(test)]
mod tests {
    use super::{Destination, Recorder, aliased};
    use crate::{DType, Device, Tensor};

    #[test]
    fn memory_bound_by_a_call_stays_out_of_the_pool_until_submitted() {
        // A call's intermediate tensor (cross-entropy's weighted-mean denominator) was dropped
        // when its kernels were recorded, before the submission: another thread's new tensor
        // got its buffer and read this call's values (tests/gradients.rs, 4 runs in 24 under
        // load on lavapipe).
        let dev = Device::new().expect("no adapter for the GPU tests");
        let shape = [1000];
        let bytes = Tensor::required_bytes(&shape, DType::F32);
        let mut rec = Recorder::new(&dev, Destination::Submit).unwrap();
        let scratch = Tensor::alloc(&dev, &shape, DType::F32, "intermediate").unwrap();
        rec.clear(scratch.whole());
        drop(scratch);
        assert!(
            dev.gpu.memory.take_tensor(bytes).is_none(),
            "a dropped tensor's buffer went back to the pool before the call was submitted"
        );
        rec.submit().unwrap();
        assert!(dev.gpu.memory.take_tensor(bytes).is_some());
    }

    #[test]
    fn overlapping_writable_ranges_are_found() {
        // The placeholder buffer once bound to an output and a gradient binding at once.
        assert_eq!(
            aliased(&[(1, 0, None, false), (7, 0, None, true), (7, 0, None, true)]),
            Some((1, 2))
        );
        // A writable range overlapping a read one of the same buffer.
        assert_eq!(
            aliased(&[(1, 0, Some(64), false), (1, 60, Some(8), true)]),
            Some((0, 1))
        );
        // Two reads of one range are allowed (mse_loss(&x, &x)).
        assert_eq!(aliased(&[(1, 0, None, false), (1, 0, None, false)]), None);
        // Neighbouring chunks of one buffer, and equal ranges of different buffers.
        assert_eq!(
            aliased(&[(1, 0, Some(64), true), (1, 64, None, true)]),
            None
        );
        assert_eq!(aliased(&[(1, 0, None, true), (2, 0, None, true)]), None);
    }
}
