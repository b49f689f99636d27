//! The argument checks every kernel family makes while planning, on tensors' shapes and
//! element types alone (no GPU needed).

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::gpu::{Device, Limits};
use crate::kernels::wgsl::Precision;
use crate::tensor::Tensor;

/// What a plan knows of a tensor: its shape and element type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Meta<'a> {
    pub shape: &'a [usize],
    pub dtype: DType,
}

impl<'a> Meta<'a> {
    pub(crate) fn of(t: &'a Tensor) -> Self {
        Meta {
            shape: t.shape(),
            dtype: t.dtype(),
        }
    }

    /// Elements (the shape's product; shapes of existing tensors never overflow).
    pub(crate) fn len(self) -> usize {
        self.shape.iter().product()
    }

    /// Bytes of data, without padding.
    pub(crate) fn bytes(self) -> u64 {
        self.len() as u64 * self.dtype.size() as u64
    }
}

/// Refuses a tensor of the wrong element type.
pub(crate) fn dtype(
    t: Meta,
    what: &'static str,
    expected: &'static str,
    ok: &[DType],
) -> Result<()> {
    match ok.contains(&t.dtype) {
        true => Ok(()),
        false => Err(Error::DType {
            what,
            expected,
            got: t.dtype,
        }),
    }
}

/// The storage of a floating-point tensor; refuses integers.
pub(crate) fn float(t: Meta, what: &'static str) -> Result<Precision> {
    Precision::of(t.dtype).ok_or(Error::DType {
        what,
        expected: "f32, f16 or bf16",
        got: t.dtype,
    })
}

/// The storage of a tensor that goes with an input of precision `x`: f32, or `x` itself. A
/// bf16 target for f16 logits, say, is refused: one of them is surely a mistake.
pub(crate) fn same_or_f32(t: Meta, x: Precision, what: &'static str) -> Result<Precision> {
    match Precision::of(t.dtype) {
        Some(p) if p == x || p == Precision::F32 => Ok(p),
        _ => Err(Error::DType {
            what,
            expected: "f32 or the input's element type",
            got: t.dtype,
        }),
    }
}

/// Refuses an option `name` of `op` whose `value` is not `valid`, saying what it `must` be.
pub(crate) fn option(op: &str, name: &str, value: f32, valid: bool, must: &str) -> Result<()> {
    match valid {
        true => Ok(()),
        false => Err(Error::InvalidOption(format!(
            "{op}: {name} must {must}, got {value}"
        ))),
    }
}

/// Refuses two tensors whose shapes differ.
pub(crate) fn same_shape(op: &str, input: Meta, target: Meta) -> Result<()> {
    match input.shape == target.shape {
        true => Ok(()),
        false => Err(Error::Shape(format!(
            "{op}: input has shape {:?} but target has shape {:?}",
            input.shape, target.shape
        ))),
    }
}

/// Refuses a tensor that is bound whole (weights) but is larger than one binding may cover.
pub(crate) fn one_binding(limits: &Limits, t: Meta, what: &'static str) -> Result<()> {
    let limit = limits.max_binding;
    match t.bytes() > limit {
        true => Err(Error::TooLarge {
            what,
            bytes: t.bytes(),
            limit_name: "max_storage_buffer_binding_size",
            limit,
        }),
        false => Ok(()),
    }
}

/// Refuses tensors of another device than `dev`.
pub(crate) fn same_device<'a>(
    dev: &Device,
    tensors: impl IntoIterator<Item = &'a Tensor>,
) -> Result<()> {
    match tensors.into_iter().all(|t| t.device().same(dev)) {
        true => Ok(()),
        false => Err(Error::DeviceMismatch),
    }
}
