//! The losses: one file each, sharing the argument checks and the element-wise runner here.

pub mod bce;
pub mod cross_entropy;
pub mod mse;

use crate::device::Device;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::record::Recorder;
use crate::reduce::{self, Denominator};
use crate::shaders::{Kernel, Pointwise};
use crate::tensor::Tensor;

/// How the per-element (or per-sample) losses are combined, as in PyTorch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Reduction {
    /// No reduction: one loss per element (per sample for cross-entropy).
    None,
    /// The mean: a scalar tensor of shape `[]` (the default, as in PyTorch).
    #[default]
    Mean,
    /// The sum: a scalar tensor of shape `[]`.
    Sum,
}

/// Refuses a tensor of the wrong element type.
pub(crate) fn expect_dtype(
    t: &Tensor,
    what: &'static str,
    expected: &'static str,
    ok: &[DType],
) -> Result<()> {
    if ok.contains(&t.dtype()) {
        Ok(())
    } else {
        Err(Error::DType {
            what,
            expected,
            got: t.dtype(),
        })
    }
}

/// Refuses tensors from another device, and tensors larger than one binding may cover.
pub(crate) fn expect_bindable(dev: &Device, tensors: &[(&Tensor, &'static str)]) -> Result<()> {
    for (t, what) in tensors {
        if !t.device().same(dev) {
            return Err(Error::DeviceMismatch);
        }
        let limit = dev.max_binding_size();
        if t.bytes() > limit {
            return Err(Error::TooLarge {
                what,
                bytes: t.bytes(),
                limit_name: "max_storage_buffer_binding_size",
                limit,
            });
        }
    }
    Ok(())
}

/// Refuses two tensors whose shapes differ.
pub(crate) fn expect_same_shape(a: &Tensor, b: &Tensor, op: &str) -> Result<()> {
    if a.shape() == b.shape() {
        Ok(())
    } else {
        Err(Error::Shape(format!(
            "{op}: input has shape {:?} but target has shape {:?}",
            a.shape(),
            b.shape()
        )))
    }
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct ElementwiseParams {
    n: u32,
    n4: u32,
    flags: u32,
    partial_base: u32,
    grad_scale: f32,
    alpha: f32,
    _pad: [u32; 2],
}

const WRITE_OUT: u32 = 1;

/// Runs an element-wise loss on `input` and `target` (checked by the caller: same shape, f32).
pub(crate) fn elementwise(
    op: &str,
    math: Pointwise,
    input: &Tensor,
    target: &Tensor,
    reduction: Reduction,
) -> Result<Tensor> {
    let dev = input.device();
    expect_dtype(input, "input", "f32", &[DType::F32])?;
    expect_dtype(target, "target", "f32", &[DType::F32])?;
    expect_same_shape(input, target, op)?;
    expect_bindable(dev, &[(input, "input"), (target, "target")])?;
    let n = input.len();
    let n4 = n.div_ceil(4);
    let groups = reduce::workgroups_for(dev, n4 as u64);
    let out = match reduction {
        Reduction::None => Some(Tensor::alloc(dev, input.shape(), DType::F32, "loss")?),
        _ => None,
    };
    let mut rec = Recorder::new(dev);
    let params = rec.uniform(&ElementwiseParams {
        n: n as u32,
        n4: n4 as u32,
        flags: if out.is_some() { WRITE_OUT } else { 0 },
        partial_base: 0,
        grad_scale: 1.0,
        alpha: 0.0,
        _pad: [0; 2],
    });
    let partials = rec.storage(&vec![0f32; groups as usize]);
    let unused = rec.storage(&[0f32; 4]);
    let out_buffer = out.as_ref().map_or(&unused, |t| t.buffer());
    rec.dispatch(
        Kernel::Elementwise(math),
        "elementwise",
        &[
            &params,
            input.buffer(),
            target.buffer(),
            input.buffer(),
            &partials,
            out_buffer,
            &unused,
        ],
        groups,
    )?;
    let result = match out {
        Some(out) => out,
        None => {
            let divisor = if reduction == Reduction::Mean {
                n as f32
            } else {
                1.0
            };
            reduce::finalize(
                &mut rec,
                dev,
                &partials,
                groups,
                Denominator::Fixed(divisor),
            )?
        }
    };
    rec.submit()?;
    Ok(result)
}
