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
    /// IEEE 754 half precision (`half::f16`): inputs, read as two per 32-bit word and
    /// widened to f32 in the shaders.
    F16,
    /// bfloat16 (`half::bf16`), the high half of an f32: inputs, widened likewise.
    BF16,
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
            DType::F16 | DType::BF16 => 2,
        }
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for u32 {}
    impl Sealed for i32 {}
    impl Sealed for half::f16 {}
    impl Sealed for half::bf16 {}
}

/// A Rust type that a [`Tensor`](crate::Tensor) can be built from and read back into.
///
/// Implemented for `f32`, `u32`, `i32`, `half::f16` and `half::bf16`; sealed.
pub trait Element: bytemuck::Pod + sealed::Sealed {
    /// The matching [`DType`].
    const DTYPE: DType;
}

macro_rules! elements {
    ($($ty:ty => $dtype:ident),*) => {$(
        impl Element for $ty {
            const DTYPE: DType = DType::$dtype;
        }
    )*};
}

elements!(f32 => F32, u32 => U32, i32 => I32, half::f16 => F16, half::bf16 => BF16);
