//! Element types a [`Tensor`](crate::Tensor) can hold.

/// The element type of a tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DType {
    /// 32-bit float: predictions, logits, probabilities, targets, weights.
    F32,
    /// 32-bit unsigned integer: class labels.
    U32,
    /// 32-bit signed integer: class labels that may hold a negative `ignore_index`.
    I32,
}

impl DType {
    /// Bytes per element.
    ///
    /// ```
    /// assert_eq!(wgpu_loss::DType::F32.size(), 4);
    /// ```
    pub fn size(self) -> usize {
        match self {
            DType::F32 | DType::U32 | DType::I32 => 4,
        }
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for u32 {}
    impl Sealed for i32 {}
}

/// A Rust type that a [`Tensor`](crate::Tensor) can be built from and read back into.
///
/// Implemented for `f32`, `u32` and `i32`; sealed.
pub trait Element: bytemuck::Pod + sealed::Sealed {
    /// The matching [`DType`].
    const DTYPE: DType;
}

impl Element for f32 {
    const DTYPE: DType = DType::F32;
}
impl Element for u32 {
    const DTYPE: DType = DType::U32;
}
impl Element for i32 {
    const DTYPE: DType = DType::I32;
}
