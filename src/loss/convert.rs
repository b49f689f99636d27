//! Rounding an f32 gradient to half precision, once, on the GPU.

use crate::dtype::DType;
use crate::error::Result;
use crate::record::Recorder;
use crate::reduce::{self, Chunks};
use crate::shaders::{Kernel, Precision};
use crate::tensor::Tensor;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct ConvertParams {
    n4: u32,
    _pad: [u32; 3],
}

/// Records the conversion of the f32 tensor `source` to a new tensor of `dtype` (f16 or bf16).
pub(crate) fn to_half(rec: &mut Recorder<'_, '_>, source: &Tensor, dtype: DType) -> Result<Tensor> {
    let dev = source.device();
    let out = Tensor::alloc(dev, source.shape(), dtype, "gradient")?;
    let kernel = Kernel::Convert(Precision::of(dtype).unwrap_or(Precision::F16));
    let n = source.len();
    let chunks = Chunks::plan(dev, n, 4, reduce::align_elements(dev, 2), "gradient")?;
    for (first, len) in chunks.iter() {
        let n4 = len.div_ceil(4);
        let params = rec.uniform(&ConvertParams {
            n4: n4 as u32,
            _pad: [0; 3],
        });
        rec.dispatch(
            kernel,
            "convert",
            0,
            &[
                (0, (&params).into()),
                (1, source.slot(first, len)),
                (6, out.slot(first, len)),
            ],
            reduce::workgroups_for(dev, n4 as u64),
        )?;
    }
    Ok(out)
}
