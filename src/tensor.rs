//! `Tensor`: a shaped, typed handle over a GPU buffer; upload and readback live here.

use std::sync::Arc;

use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::gpu::{Allocation, Device, Slot, Staged, Submission};

/// Buffers are padded to this many bytes so that kernels may read them as `vec4<f32>`.
const PAD: u64 = 16;

/// A word that a kernel sets when it meets input it cannot use (a label out of range, say),
/// read together with the result it guards: the loss that made the tensor says what a
/// non-zero word means.
pub(crate) trait StatusCheck: wgpu::WasmNotSendSync {
    /// The status word: one u32, zero when all was well.
    fn word(&self) -> &Tensor;
    /// Bytes that explain a non-zero `word`, to read before reporting it: `(tensor, byte
    /// offset, bytes)`, a multiple of 4.
    fn detail(&self, word: u32) -> (&Tensor, u64, u64);
    /// The error that a non-zero `word` and its `detail` bytes mean.
    fn error(&self, word: u32, detail: &[u8]) -> Error;
}

/// An n-dimensional array in GPU memory: a buffer, a shape and an element type.
///
/// Cloning is cheap (reference counts); clones share the buffer. Losses return tensors that
/// stay on the GPU until [`to_vec`](Tensor::to_vec) reads them.
///
/// ```
/// use wgpu_loss::{Device, Tensor};
/// let dev = Device::new()?;
/// let t = Tensor::from_slice(&dev, &[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3])?;
/// assert_eq!(t.shape(), &[2, 3]);
/// assert_eq!(t.to_vec::<f32>()?, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
#[derive(Clone)]
pub struct Tensor {
    alloc: Arc<Allocation>,
    device: Device,
    shape: Arc<[usize]>,
    dtype: DType,
    check: Option<Arc<dyn StatusCheck>>,
    /// Whether the caller's encoder this tensor was recorded into has been submitted.
    submission: Option<Submission>,
}

impl std::fmt::Debug for Tensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tensor")
            .field("shape", &self.shape)
            .field("dtype", &self.dtype)
            .finish()
    }
}

fn numel(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
}

/// The bytes of `len` elements of `dtype` rounded up to [`PAD`]; `None` past `u64`.
fn padded_bytes(len: usize, dtype: DType) -> Option<u64> {
    let bytes = (len as u64).checked_mul(dtype.size() as u64)?;
    bytes.div_ceil(PAD).max(1).checked_mul(PAD)
}

/// The element count of `shape` and its padded bytes, or the error that they overflow.
fn extent(shape: &[usize], dtype: DType) -> Result<(usize, u64)> {
    numel(shape)
        .and_then(|len| Some((len, padded_bytes(len, dtype)?)))
        .ok_or_else(|| {
            Error::Shape(format!(
                "shape {shape:?} of {dtype:?} overflows the address space"
            ))
        })
}

impl Tensor {
    /// Uploads `data` with the given `shape` (row-major). `T` is any [`Element`]: `f32`,
    /// `u32`, `i32`, `half::f16` or `half::bf16`.
    ///
    /// Errors: [`Error::Shape`] when `data.len()` is not the product of `shape` (or that
    /// product overflows), [`Error::Empty`] when it is zero, [`Error::TooLarge`] past the
    /// adapter's buffer limit.
    pub fn from_slice<T: Element>(device: &Device, data: &[T], shape: &[usize]) -> Result<Self> {
        let (expected, _) = extent(shape, T::DTYPE)?;
        if data.len() != expected {
            return Err(Error::Shape(format!(
                "{} values given for shape {shape:?} ({expected} elements)",
                data.len()
            )));
        }
        let tensor = Self::alloc(device, shape, T::DTYPE, "tensor")?;
        // The buffer may be a dropped tensor's: the data, then zeros to its end. Writes cover
        // whole 4-byte words, so an odd count of halves ends with the first word of zeros.
        let bytes: &[u8] = bytemuck::cast_slice(data);
        let whole_words = bytes.len() / 4 * 4;
        let tail = [&bytes[whole_words..], &[0u8; PAD as usize]].concat();
        let tail = &tail[..(tensor.buffer().size() - whole_words as u64) as usize];
        let mut writes = vec![(whole_words as u64, tail)];
        if whole_words > 0 {
            writes.insert(0, (0, &bytes[..whole_words]));
        }
        device.upload(tensor.buffer(), &writes)?;
        Ok(tensor)
    }

    /// A tensor on `device` whose contents are whatever its buffer last held: a dropped
    /// tensor's buffer of the same size when the device's pool has one, else a new one.
    pub(crate) fn alloc(
        device: &Device,
        shape: &[usize],
        dtype: DType,
        what: &'static str,
    ) -> Result<Self> {
        let (len, bytes) = extent(shape, dtype)?;
        if len == 0 {
            return Err(Error::Empty(what));
        }
        let limit = device.limits().max_buffer;
        if bytes > limit {
            return Err(Error::TooLarge {
                what,
                bytes,
                limit_name: "max_buffer_size",
                limit,
            });
        }
        let alloc = device.alloc(bytes, what)?;
        Ok(Self::wrap(device, alloc, shape, dtype))
    }

    fn wrap(device: &Device, alloc: Allocation, shape: &[usize], dtype: DType) -> Self {
        Tensor {
            alloc: Arc::new(alloc),
            device: device.clone(),
            shape: shape.into(),
            dtype,
            check: None,
            submission: None,
        }
    }

    /// This tensor, read only after `check`'s status word says all was well.
    pub(crate) fn with_check(mut self, check: Arc<dyn StatusCheck>) -> Self {
        self.check = Some(check);
        self
    }

    /// The dimensions, outermost first. A scalar (a reduced loss) has shape `[]`.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// Number of elements (1 for a scalar).
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether the tensor has no elements: never, since every constructor refuses an empty
    /// shape with [`Error::Empty`].
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The device whose memory holds this tensor.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The wgpu buffer holding the data, to use in your own pipelines (interop).
    ///
    /// It holds [`Tensor::required_bytes`] bytes: the data, row-major, then padding up to a
    /// multiple of 16 bytes (zeros in a tensor made by [`Tensor::from_slice`]). Its usages
    /// are `STORAGE | COPY_SRC | COPY_DST`.
    ///
    /// The buffer belongs to the tensor: once every handle to a tensor that this crate
    /// allocated is dropped, its buffer is reused for a later tensor. Keep the tensor alive
    /// until the work that uses the buffer has been submitted.
    pub fn buffer(&self) -> &wgpu::Buffer {
        self.alloc.buffer()
    }

    /// This tensor, readable only once `loss`'s status check (if any) passes: a gradient is
    /// as wrong as its loss when a label was out of range.
    pub(crate) fn guarded_by(mut self, loss: &Tensor) -> Self {
        self.check = loss.check.clone();
        self.submission = loss.submission.clone();
        self
    }

    /// This tensor, readable only once `submission` (of the caller's encoder it was
    /// recorded into) is done.
    pub(crate) fn recorded_in(mut self, submission: Option<Submission>) -> Self {
        self.submission = submission;
        self
    }

    /// All of the tensor's buffer, to bind.
    pub(crate) fn whole(&self) -> Slot<'_> {
        self.slot(0, self.len())
    }

    /// The bytes of elements `first .. first + len`, rounded up to 16 bytes within the buffer:
    /// one chunk of a tensor larger than a binding.
    pub(crate) fn slot(&self, first: usize, len: usize) -> Slot<'_> {
        let elem = self.dtype.size() as u64;
        let offset = first as u64 * elem;
        let size = ((len as u64 * elem).div_ceil(PAD) * PAD).min(self.buffer().size() - offset);
        Slot {
            buffer: self.buffer(),
            offset,
            size: Some(size),
            owner: Some(&self.alloc),
        }
    }

    /// Exactly the bytes of elements `first .. first + len`, to copy.
    pub(crate) fn range(&self, first: usize, len: usize) -> Slot<'_> {
        let elem = self.dtype.size() as u64;
        Slot {
            buffer: self.buffer(),
            offset: first as u64 * elem,
            size: Some(len as u64 * elem),
            owner: Some(&self.alloc),
        }
    }

    /// Bytes a buffer needs to hold a tensor of `shape` and `dtype`: the data rounded up to a
    /// multiple of 16 bytes, because the kernels read four elements at a time.
    ///
    /// ```
    /// use wgpu_loss::{DType, Tensor};
    /// assert_eq!(Tensor::required_bytes(&[3], DType::F32), 16);
    /// assert_eq!(Tensor::required_bytes(&[2, 4], DType::F32), 32);
    /// ```
    ///
    /// A shape whose bytes overflow `u64` needs `u64::MAX`: no buffer holds it.
    pub fn required_bytes(shape: &[usize], dtype: DType) -> u64 {
        extent(shape, dtype).map_or(u64::MAX, |(_, bytes)| bytes)
    }

    /// Wraps a buffer that your own wgpu code filled, without copying it (interop).
    ///
    /// The buffer must come from `device`'s wgpu device, have `STORAGE` and `COPY_SRC` usage
    /// (`COPY_SRC` for [`Tensor::to_vec`]) and hold at least
    /// [`Tensor::required_bytes`]`(shape, dtype)` bytes. A mismatch gives an [`Error`], not a
    /// wgpu validation abort. A buffer of another device of the same `wgpu::Instance` (every
    /// device this crate opens shares one, on every backend, GL included) is reported as
    /// [`Error::Gpu`] by the first loss that binds it. wgpu cannot check a buffer of another
    /// instance: one of your own instance wrapped on a device this crate opened, or the reverse
    /// through [`Device::from_wgpu`].
    ///
    /// ```
    /// use wgpu_loss::{wgpu, DType, Device, Tensor};
    /// let dev = Device::new()?;
    /// let buffer = dev.wgpu_device().create_buffer(&wgpu::BufferDescriptor {
    ///     label: Some("predictions"),
    ///     size: Tensor::required_bytes(&[4], DType::F32),
    ///     usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
    ///     mapped_at_creation: false,
    /// });
    /// dev.wgpu_queue().write_buffer(&buffer, 0, bytemuck::cast_slice(&[1.0f32, 2.0, 3.0, 4.0]));
    /// let pred = Tensor::from_buffer(&dev, buffer, &[4], DType::F32)?;
    /// let zero = Tensor::from_slice(&dev, &[0.0f32; 4], &[4])?;
    /// let loss = wgpu_loss::mse_loss(&pred, &zero, wgpu_loss::Reduction::Sum)?;
    /// assert_eq!(loss.to_vec::<f32>()?, vec![30.0]);
    /// # Ok::<(), wgpu_loss::Error>(())
    /// ```
    pub fn from_buffer(
        device: &Device,
        buffer: wgpu::Buffer,
        shape: &[usize],
        dtype: DType,
    ) -> Result<Self> {
        let (len, needed) = extent(shape, dtype)?;
        if len == 0 {
            return Err(Error::Empty("buffer"));
        }
        if buffer.size() < needed {
            return Err(Error::Shape(format!(
                "a buffer of {} bytes cannot hold shape {shape:?} of {dtype:?}: it needs {needed} \
                 (the data rounded up to 16 bytes, see Tensor::required_bytes)",
                buffer.size()
            )));
        }
        let usage = buffer.usage();
        let wanted = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC;
        if !usage.contains(wanted) {
            return Err(Error::InvalidBuffer(format!(
                "its usages {usage:?} lack {:?}",
                wanted - usage
            )));
        }
        Ok(Self::wrap(device, device.adopt(buffer), shape, dtype))
    }

    /// Bytes of data, without padding.
    pub(crate) fn bytes(&self) -> u64 {
        (self.len() * self.dtype.size()) as u64
    }

    /// Copies the tensor to host memory, waiting (blocking this thread) for the GPU work that
    /// produces it. In an async runtime use [`Tensor::to_vec_async`]; on the web (wasm32),
    /// where a thread may not block, only the async form exists.
    ///
    /// Errors: [`Error::DType`] when `T` is not the tensor's element type;
    /// [`Error::LabelOutOfRange`] when the loss that made this tensor found a bad label.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn to_vec<T: Element>(&self) -> Result<Vec<T>> {
        let mut all = Self::read_many::<T>(&[self])?;
        all.pop()
            .ok_or_else(|| Error::Gpu("internal error: nothing was read".into()))
    }

    /// [`Tensor::to_vec`] without blocking the caller's thread, for async runtimes and the
    /// web. The future is woken once, when the data is there (natively a helper thread waits
    /// in the device's poll; on the web the browser's event loop finishes the copy).
    ///
    /// On the web it also returns the GPU errors of this device's earlier calls: a browser
    /// reports those only through its event loop, so the synchronous calls (the losses,
    /// [`Tensor::from_slice`]) cannot, and the first awaited read after them does.
    ///
    /// ```
    /// use wgpu_loss::{Device, Reduction, Tensor};
    /// let dev = Device::new()?;
    /// let x = Tensor::from_slice(&dev, &[1.0f32, 3.0], &[2])?;
    /// let loss = wgpu_loss::mse_loss(&x, &x, Reduction::Sum)?;
    /// let value = pollster::block_on(loss.to_vec_async::<f32>())?;
    /// assert_eq!(value, vec![0.0]);
    /// # Ok::<(), wgpu_loss::Error>(())
    /// ```
    pub async fn to_vec_async<T: Element>(&self) -> Result<Vec<T>> {
        let mut all = Self::read_many_async::<T>(&[self]).await?;
        all.pop()
            .ok_or_else(|| Error::Gpu("internal error: nothing was read".into()))
    }

    /// Reads several tensors (of one device and element type) in one round trip: one copy
    /// and one map for all of them, e.g. the losses of several heads of a model.
    ///
    /// ```
    /// use wgpu_loss::{Device, Reduction, Tensor};
    /// let dev = Device::new()?;
    /// let x = Tensor::from_slice(&dev, &[1.0f32, 3.0], &[2])?;
    /// let y = Tensor::from_slice(&dev, &[0.0f32, 0.0], &[2])?;
    /// let mse = wgpu_loss::mse_loss(&x, &y, Reduction::Mean)?;
    /// let l1 = wgpu_loss::l1_loss(&x, &y, Reduction::Mean)?;
    /// assert_eq!(Tensor::read_many::<f32>(&[&mse, &l1])?, vec![vec![5.0], vec![2.0]]);
    /// # Ok::<(), wgpu_loss::Error>(())
    /// ```
    #[cfg(not(target_arch = "wasm32"))]
    pub fn read_many<T: Element>(tensors: &[&Tensor]) -> Result<Vec<Vec<T>>> {
        let Some(staged) = Self::stage_many::<T>(tensors)? else {
            return Ok(Vec::new());
        };
        let bytes = staged.wait()?;
        unsubmitted(tensors)?;
        match first_failed_check(tensors, &bytes) {
            Some((check, word)) => {
                let detail = stage_detail(check.as_ref(), word)?.wait()?;
                Err(check.error(word, &detail))
            }
            None => Ok(decode(tensors, &bytes)),
        }
    }

    /// [`Tensor::read_many`] without blocking a thread, the one form on the web (see
    /// [`Tensor::to_vec_async`]).
    pub async fn read_many_async<T: Element>(tensors: &[&Tensor]) -> Result<Vec<Vec<T>>> {
        let Some(staged) = Self::stage_many::<T>(tensors)? else {
            return Ok(Vec::new());
        };
        let bytes = staged.wait_async().await?;
        unsubmitted(tensors)?;
        match first_failed_check(tensors, &bytes) {
            Some((check, word)) => {
                let detail = stage_detail(check.as_ref(), word)?.wait_async().await?;
                Err(check.error(word, &detail))
            }
            None => Ok(decode(tensors, &bytes)),
        }
    }

    /// Checks `tensors` and copies their data, then their status words, into one
    /// staging buffer.
    fn stage_many<T: Element>(tensors: &[&Tensor]) -> Result<Option<Staged>> {
        let Some(first) = tensors.first() else {
            return Ok(None);
        };
        let mut parts = Vec::new();
        for t in tensors {
            if T::DTYPE != t.dtype {
                return Err(Error::DType {
                    what: "to_vec",
                    expected: std::any::type_name::<T>(),
                    got: t.dtype,
                });
            }
            if !t.device().same(first.device()) {
                return Err(Error::DeviceMismatch);
            }
            parts.push((t.buffer(), 0, t.bytes().div_ceil(4) * 4));
        }
        parts.extend(
            tensors
                .iter()
                .filter_map(|t| t.check.as_ref())
                .map(|c| (c.word().buffer(), 0, 4)),
        );
        first.device().stage(&parts).map(Some)
    }
}

/// The read bytes of `tensors` (as laid out by `stage_many`) as values.
fn decode<T: Element>(tensors: &[&Tensor], bytes: &[u8]) -> Vec<Vec<T>> {
    let mut at = 0;
    tensors
        .iter()
        .map(|t| {
            let values = bytemuck::pod_collect_to_vec(&bytes[at..at + t.bytes() as usize]);
            at += (t.bytes().div_ceil(4) * 4) as usize;
            values
        })
        .collect()
}

/// [`Error::NotSubmitted`] if a tensor was recorded into an encoder that was not submitted
/// before it was read. Called once the read is done: every submission before it is done too,
/// and has set its tensors' flags.
fn unsubmitted(tensors: &[&Tensor]) -> Result<()> {
    let pending = |t: &&Tensor| t.submission.as_ref().is_some_and(|s| !s.is_done());
    match tensors.iter().any(pending) {
        true => Err(Error::NotSubmitted),
        false => Ok(()),
    }
}

/// The first tensor whose status word is set, with the word.
fn first_failed_check(tensors: &[&Tensor], bytes: &[u8]) -> Option<(Arc<dyn StatusCheck>, u32)> {
    let data: usize = tensors
        .iter()
        .map(|t| (t.bytes().div_ceil(4) * 4) as usize)
        .sum();
    let checks = tensors.iter().filter_map(|t| t.check.clone());
    checks.enumerate().find_map(|(k, check)| {
        let word = bytes.get(data + 4 * k..data + 4 * k + 4)?;
        let word = u32::from_le_bytes(word.try_into().ok()?);
        (word != 0).then_some((check, word))
    })
}

/// Starts reading the bytes that explain a set status word; a word that names no element of
/// its tensor (the GPU wrote it wrongly) is an error, not an out-of-bounds copy.
fn stage_detail(check: &dyn StatusCheck, word: u32) -> Result<Staged> {
    let (tensor, offset, size) = check.detail(word);
    if offset.saturating_add(size) > tensor.buffer().size() {
        return Err(Error::Gpu(format!(
            "the status word {word:#010x} names byte {offset} of a {}-byte tensor: \
             the GPU wrote a wrong value",
            tensor.buffer().size()
        )));
    }
    tensor.device().stage(&[(tensor.buffer(), offset, size)])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A check whose detail lies past its tensor's end, as a corrupt status word would give.
    struct Corrupt(Tensor);

    impl StatusCheck for Corrupt {
        fn word(&self) -> &Tensor {
            &self.0
        }
        fn detail(&self, word: u32) -> (&Tensor, u64, u64) {
            (&self.0, u64::from(word) * 4, 4)
        }
        fn error(&self, _: u32, _: &[u8]) -> Error {
            Error::Empty("unreachable in this test")
        }
    }

    #[test]
    fn a_status_word_past_its_tensor_is_an_error_not_a_wgpu_fault() {
        let dev = Device::new().expect("no adapter for the GPU tests");
        let t = Tensor::from_slice(&dev, &[1.0f32; 4], &[4]).unwrap();
        let check = Corrupt(t);
        assert!(stage_detail(&check, 3).is_ok());
        let err = stage_detail(&check, 0x7f80_0000)
            .err()
            .expect("read past the tensor");
        assert!(err.to_string().contains("0x7f800000"), "{err}");
    }
}
