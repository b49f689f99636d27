//! Categorical cross-entropy on logits with integer class labels.

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::loss::{Reduction, expect_bindable, expect_dtype};
use crate::record::Recorder;
use crate::reduce::{self, Denominator};
use crate::shaders::Kernel;
use crate::tensor::{LabelCheck, Tensor};

/// Cross-entropy of logits `[N, C]` against class labels `[N]` (`u32`, or `i32`).
///
/// Per row: `logsumexp(x) - x[label]`, with a stable log-sum-exp (the row's maximum is
/// subtracted before exponentiating), so logits of ±1e4 give exact finite losses. With
/// [`Reduction::None`] the result has shape `[N]`; with `Mean` or `Sum` it is a scalar of
/// shape `[]`. A label outside `0..C` makes reading the result fail with
/// [`Error::LabelOutOfRange`].
///
/// ```
/// use wgpu_loss::{Device, Reduction, Tensor};
/// let dev = Device::new()?;
/// let logits = Tensor::from_slice(&dev, &[1.2f32, 0.9, 0.1, 0.4, 1.5, 1.1], &[2, 3])?;
/// let labels = Tensor::from_slice(&dev, &[0u32, 2], &[2])?;
/// let ce = wgpu_loss::cross_entropy(&logits, &labels, Reduction::Mean)?.to_vec::<f32>()?[0];
/// assert!((ce - 0.912035).abs() < 1e-6);
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
pub fn cross_entropy(logits: &Tensor, labels: &Tensor, reduction: Reduction) -> Result<Tensor> {
    CrossEntropyLoss::new()
        .reduction(reduction)
        .forward(logits, labels)
}

/// Cross-entropy as a module, like `torch.nn.CrossEntropyLoss`.
///
/// ```
/// use wgpu_loss::{CrossEntropyLoss, Device, Reduction, Tensor};
/// let dev = Device::new()?;
/// let logits = Tensor::from_slice(&dev, &[0.0f32, 0.0, 0.0, 0.0], &[2, 2])?;
/// let labels = Tensor::from_slice(&dev, &[1u32, 0], &[2])?;
/// let loss = CrossEntropyLoss::new().reduction(Reduction::None).forward(&logits, &labels)?;
/// let ln2 = 2f32.ln();
/// assert_eq!(loss.to_vec::<f32>()?, vec![ln2, ln2]);
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct CrossEntropyLoss {
    reduction: Reduction,
}

/// Below this many classes a row goes to one invocation, from there to a whole workgroup.
const SMALL_CLASSES: usize = 64;

const WRITE_OUT: u32 = 1;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct CeParams {
    rows: u32,
    classes: u32,
    flags: u32,
    ignore_index: i32,
    smoothing: f32,
    grad_scale: f32,
    weight_total: f32,
    partial_base: u32,
    partial_count: u32,
    _pad: [u32; 3],
}

impl CrossEntropyLoss {
    /// Mean reduction.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the reduction.
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }

    /// Computes the loss of `logits` `[N, C]` against `labels` `[N]`.
    pub fn forward(&self, logits: &Tensor, labels: &Tensor) -> Result<Tensor> {
        let dev = logits.device();
        expect_dtype(logits, "logits", "f32", &[DType::F32])?;
        expect_dtype(labels, "labels", "u32 or i32", &[DType::U32, DType::I32])?;
        let (rows, classes) = match *logits.shape() {
            [rows, classes] => (rows, classes),
            _ => {
                return Err(Error::Shape(format!(
                    "cross_entropy takes logits of shape [N, C], got {:?}",
                    logits.shape()
                )));
            }
        };
        if labels.shape() != [rows] {
            return Err(Error::Shape(format!(
                "cross_entropy: logits {:?} need labels of shape [{rows}], got {:?}",
                logits.shape(),
                labels.shape()
            )));
        }
        expect_bindable(dev, &[(logits, "logits"), (labels, "labels")])?;

        let small = classes < SMALL_CLASSES;
        let groups = if small {
            reduce::workgroups_for(dev, (rows * classes).div_ceil(4) as u64)
        } else {
            (rows as u32).min(reduce::workgroups_for(dev, u64::MAX))
        };
        let out = match self.reduction {
            Reduction::None => Some(Tensor::alloc(dev, &[rows], DType::F32, "loss")?),
            _ => None,
        };
        let mut rec = Recorder::new(dev);
        let params = rec.uniform(&CeParams {
            rows: rows as u32,
            classes: classes as u32,
            flags: if out.is_some() { WRITE_OUT } else { 0 },
            ignore_index: 0,
            smoothing: 0.0,
            grad_scale: 1.0,
            weight_total: classes as f32,
            partial_base: 0,
            partial_count: groups,
            _pad: [0; 3],
        });
        let partials = rec.storage(&vec![0f32; 2 * groups as usize]);
        let status = rec.storage(&[u32::MAX]);
        let unused = rec.storage(&[0f32; 4]);
        let out_buffer = out.as_ref().map_or(&unused, |t| t.buffer());
        rec.dispatch(
            Kernel::CrossEntropy,
            if small { "ce_small" } else { "ce_rows" },
            &[
                &params,
                logits.buffer(),
                labels.buffer(),
                logits.buffer(),
                logits.buffer(),
                &partials,
                out_buffer,
                &unused,
                &status,
            ],
            groups,
        )?;
        let result = match out {
            Some(out) => out,
            None => {
                let denominator = match self.reduction {
                    Reduction::Mean => Denominator::Partials,
                    _ => Denominator::Fixed(1.0),
                };
                reduce::finalize(&mut rec, dev, &partials, groups, denominator)?
            }
        };
        rec.submit()?;
        Ok(result.with_check(LabelCheck {
            status,
            labels: labels.clone(),
            classes: classes as u32,
        }))
    }
}
