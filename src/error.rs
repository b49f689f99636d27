//! The one error type of the crate.

use crate::dtype::DType;

/// Everything that can go wrong in `wgpu-loss`, as a value with a message a person understands.
///
/// No function of this crate panics or aborts on user input: bad shapes, wrong element types,
/// oversized tensors and GPU failures all come back as one of these.
///
/// ```
/// use wgpu_loss::{Device, Error, Tensor};
/// let dev = Device::new()?;
/// let err = Tensor::from_slice(&dev, &[1.0f32, 2.0, 3.0], &[2, 2]).unwrap_err();
/// assert!(matches!(err, Error::Shape(_)));
/// assert_eq!(err.to_string(), "shape mismatch: 3 values given for shape [2, 2] (4 elements)");
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No adapter matched the request (backend, name), or none exists on this machine.
    #[error("no GPU adapter found: {0}")]
    NoAdapter(String),
    /// The adapter was found but refused to open a device.
    #[error("could not open a device on the adapter: {0}")]
    RequestDevice(String),
    /// Shapes or ranks of the arguments do not fit together.
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// A tensor holds the wrong element type for the place it was passed to.
    #[error("wrong element type for {what}: expected {expected}, got {got:?}")]
    DType {
        /// Which argument.
        what: &'static str,
        /// The types accepted there.
        expected: &'static str,
        /// The type that was passed.
        got: DType,
    },
    /// A tensor with no elements. PyTorch returns NaN for the mean over nothing; we refuse the
    /// input instead, because an empty batch is almost always a bug upstream.
    #[error("empty input: {0} has no elements")]
    Empty(&'static str),
    /// A tensor is larger than the adapter can bind or allocate.
    #[error("{what} needs {bytes} bytes, more than the adapter's {limit_name} of {limit} bytes")]
    TooLarge {
        /// Which tensor or buffer.
        what: &'static str,
        /// Bytes it needs.
        bytes: u64,
        /// The limit's name as wgpu spells it.
        limit_name: &'static str,
        /// The limit in bytes.
        limit: u64,
    },
    /// The arguments were made on two different [`Device`](crate::Device)s.
    #[error("tensors belong to different devices")]
    DeviceMismatch,
    /// An option has a value outside its domain (a negative Huber delta, say).
    #[error("invalid option: {0}")]
    InvalidOption(String),
    /// A class label is outside `0..classes` (and is not the `ignore_index`).
    #[error("label {label} at index {index} is out of range for {classes} classes")]
    LabelOutOfRange {
        /// Flat index of the first bad label.
        index: u64,
        /// Its value.
        label: i64,
        /// Number of classes of the logits.
        classes: u32,
    },
    /// A value outside the domain a loss accepts, found by the kernel and reported when the
    /// result (or its gradient) is read: binary cross-entropy takes probabilities and
    /// targets in [0, 1], and refuses others as PyTorch does ("all elements of input should
    /// be between 0 and 1"). NaN is not refused: it gives a NaN loss.
    #[error("{what} value {value} at index {index} is outside [0, 1]")]
    ValueOutOfRange {
        /// Which tensor: `"input"` or `"target"`.
        what: &'static str,
        /// Flat index of the first bad element (the input's before the target's at one
        /// index). In a tensor of more than 2^31 - 2 elements, a bad element past that index
        /// is reported at 2^31 - 2.
        index: u64,
        /// Its value.
        value: f32,
    },
    /// A length that [`ctc_loss`](crate::ctc_loss) read on the GPU does not fit its tensors:
    /// an input length above the time steps of the log-probabilities, a target length above
    /// the padded targets' columns or past the end of concatenated targets, or a negative
    /// one. Reported when the loss (or its gradient) is read.
    #[error("{what}[{index}] = {value} is invalid: {why}")]
    InvalidLength {
        /// `"input_lengths"` or `"target_lengths"`.
        what: &'static str,
        /// The sequence.
        index: u64,
        /// The length given.
        value: i64,
        /// What is wrong with it.
        why: &'static str,
    },
    /// A CTC target label is the blank, which only alignments may hold. Reported when the
    /// loss (or its gradient) is read.
    #[error("target label at index {index} is the blank ({blank})")]
    BlankLabel {
        /// Flat index of the first such label in the targets.
        index: u64,
        /// The blank class.
        blank: u32,
    },
    /// A buffer given to [`Tensor::from_buffer`](crate::Tensor::from_buffer) cannot serve as
    /// a tensor (it lacks a usage the crate needs).
    #[error("invalid buffer: {0}")]
    InvalidBuffer(String),
    /// A tensor that a loss recorded into your command encoder was read before that encoder
    /// was submitted: submit it first.
    #[error("the tensor was read before the command encoder it was recorded into was submitted")]
    NotSubmitted,
    /// wgpu reported an error: validation, out of memory, device lost, failed readback.
    #[error("GPU error: {0}")]
    Gpu(String),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
