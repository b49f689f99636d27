//! `rows_pair.wgsl` and one file per loss: row-wise losses over rows of `D` values, one
//! invocation per row — cosine embedding, MLX's cosine similarity, triplet margin, multi
//! margin, multilabel soft margin and multilabel margin. A row's loss needs sums over the
//! whole row (dot products, norms, the target's score) before any of its gradient, so each
//! invocation goes over its row twice; rows are independent, so tensors larger than a binding
//! go in chunks of whole rows. Multilabel margin sums over pairs of scores, so it takes three
//! passes (targets counted, one invocation per score, the row's sum) to stay within the loop
//! budget whatever the number of targets.

use std::sync::Arc;

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::gpu::{BindingDecl, Kernel, Limits, Recorder, entry_points, overrides, uniform};
use crate::kernels::check::{self, Meta};
use crate::kernels::class_rows::LabelCheck;
use crate::kernels::convert;
use crate::kernels::finalize::{self, Denominator};
use crate::kernels::plan::MAX_LOOP;
use crate::kernels::wgsl::{self, Part, Precision};
use crate::reduction::Reduction;
use crate::tensor::Tensor;

/// One module variant: how the float inputs are stored, and whether gradients are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct RowPairs {
    pub x: Precision,
    pub grad: bool,
}

entry_points! {
    /// One per loss.
    pub(crate) enum RowLoss {
        CosineEmbedding = "cosine_embedding",
        CosineSimilarity = "cosine_similarity",
        TripletMargin = "triplet_margin",
        MultiMargin = "multi_margin",
        MultilabelSoftMargin = "multilabel_soft_margin",
        MultilabelMargin = "multilabel_margin",
        /// Multilabel margin's first pass: counts how often each class is listed as a target.
        MultilabelMarginMask = "multilabel_margin_mask",
        /// Multilabel margin's last pass: each row's sum.
        MultilabelMarginSum = "multilabel_margin_sum",
    }
}

overrides! {
    /// None: every choice is a runtime one.
    pub(crate) struct RowPairsOverrides {}
}

uniform! {
    pub(crate) struct RowParams as "RowParams" {
        rows: u32,
        dim: u32,
        row_offset: u32,
        a_off: u32,
        b_off: u32,
        c_off: u32,
        ga_off: u32,
        gb_off: u32,
        gc_off: u32,
        margin: f32,
        p: f32,
        eps: f32,
        swap: u32,
        scale: f32,
        has_weight: u32,
        y_int: u32,
        y_off: u32,
    }
}

const PARAMS: BindingDecl = BindingDecl::uniform(0, "params");
const A: BindingDecl = BindingDecl::read(1, "a_data");
const B: BindingDecl = BindingDecl::read(2, "b_data");
const C: BindingDecl = BindingDecl::read(3, "c_data");
const Y: BindingDecl = BindingDecl::read(4, "y_data");
const WEIGHT: BindingDecl = BindingDecl::read(5, "weight");
const LOSSES: BindingDecl = BindingDecl::read_write(6, "losses");
const GRAD_A: BindingDecl = BindingDecl::read_write(7, "grad_a");
const GRAD_B: BindingDecl = BindingDecl::read_write(8, "grad_b");
const GRAD_C: BindingDecl = BindingDecl::read_write(9, "grad_c");
const STATUS: BindingDecl = BindingDecl::read_write(10, "status");
const MASK: BindingDecl = BindingDecl::read_write(11, "mask");
const PARTS: BindingDecl = BindingDecl::read_write(12, "parts");

/// Invocations (rows) per workgroup: `WGR` in `rows_pair.wgsl`.
const ROWS_PER_GROUP: usize = 64;

/// The most values per row: an invocation goes over its row twice, under the loop budget.
pub(crate) const MAX_DIM: usize = MAX_LOOP as usize / 3;

impl RowLoss {
    /// How many float row tensors the loss reads (`a`, `b`, `c`), and how many of them get a
    /// gradient.
    fn floats(self) -> (usize, usize) {
        match self {
            RowLoss::CosineEmbedding | RowLoss::CosineSimilarity => (2, 2),
            RowLoss::TripletMargin => (3, 3),
            RowLoss::MultiMargin => (1, 1),
            RowLoss::MultilabelSoftMargin => (2, 1),
            RowLoss::MultilabelMargin => (1, 1),
            RowLoss::MultilabelMarginMask | RowLoss::MultilabelMarginSum => (0, 0),
        }
    }

    /// Whether it reads a per-row target or label (`y_data`), class weights, a status word.
    fn extras(self) -> (bool, bool, bool) {
        match self {
            RowLoss::CosineEmbedding => (true, false, false),
            RowLoss::CosineSimilarity | RowLoss::TripletMargin => (false, false, false),
            RowLoss::MultiMargin => (true, true, true),
            RowLoss::MultilabelSoftMargin => (false, true, false),
            RowLoss::MultilabelMargin => (true, false, true),
            RowLoss::MultilabelMarginMask | RowLoss::MultilabelMarginSum => (false, false, false),
        }
    }

    /// The passes of one call, in order.
    fn passes(self) -> Vec<RowLoss> {
        match self {
            RowLoss::MultilabelMargin => vec![
                RowLoss::MultilabelMarginMask,
                RowLoss::MultilabelMargin,
                RowLoss::MultilabelMarginSum,
            ],
            other => vec![other],
        }
    }

    /// Whether the pass has one invocation per score rather than per row.
    fn per_score(self) -> bool {
        self == RowLoss::MultilabelMargin
    }
}

impl RowPairs {
    /// Every variant the crate builds.
    pub(crate) fn all() -> Vec<RowPairs> {
        Precision::ALL
            .into_iter()
            .flat_map(|x| [false, true].map(|grad| RowPairs { x, grad }))
            .collect()
    }
}

impl Kernel for RowPairs {
    type Entry = RowLoss;
    type Overrides = RowPairsOverrides;
    type Params = RowParams;
    const FAMILY: &'static str = "row_pairs";

    fn code(self) -> u32 {
        self.x.code() * 2 + u32::from(self.grad)
    }

    fn name(self) -> String {
        format!(
            "row_pairs_x{}{}",
            self.x.name(),
            if self.grad { "_grad" } else { "" }
        )
    }

    /// No workgroup reduction: the same module on both paths.
    fn parts(self, _subgroups: bool) -> Vec<Part> {
        let mut parts = vec![wgsl::whole(if self.grad {
            wgsl::PAIR_GRAD
        } else {
            wgsl::PAIR_NO_GRAD
        })];
        for (name, decl) in [("a", A), ("b", B), ("c", C)] {
            parts.push(wgsl::named(self.x.scalar_input(), name, decl.binding));
        }
        for (name, decl) in [("a", GRAD_A), ("b", GRAD_B), ("c", GRAD_C)] {
            let file = if self.grad {
                wgsl::ROW_GRAD_OUT
            } else {
                wgsl::ROW_GRAD_SKIP
            };
            parts.push(wgsl::named(file, name, decl.binding));
        }
        parts.extend(
            [
                wgsl::LOG1P,
                wgsl::ROWS_PAIR,
                wgsl::COSINE_EMBEDDING,
                wgsl::COSINE_SIMILARITY,
                wgsl::TRIPLET_MARGIN,
                wgsl::MULTI_MARGIN,
                wgsl::MULTILABEL_SOFT_MARGIN,
                wgsl::MULTILABEL_MARGIN,
            ]
            .map(wgsl::whole),
        );
        parts
    }

    fn layout(self, entry: RowLoss) -> Vec<BindingDecl> {
        match entry {
            RowLoss::MultilabelMarginMask => return vec![PARAMS, Y, MASK, STATUS],
            RowLoss::MultilabelMarginSum => return vec![PARAMS, LOSSES, PARTS],
            RowLoss::MultilabelMargin => {
                let grad = self.grad.then_some(GRAD_A);
                return [PARAMS, A]
                    .into_iter()
                    .chain(grad)
                    .chain([Y, MASK, PARTS])
                    .collect();
            }
            _ => {}
        }
        let (floats, grads) = entry.floats();
        let (y, weight, status) = entry.extras();
        let mut layout = vec![PARAMS, LOSSES];
        layout.extend([A, B, C].into_iter().take(floats));
        if self.grad {
            layout.extend([GRAD_A, GRAD_B, GRAD_C].into_iter().take(grads));
        }
        layout.extend(
            [(y, Y), (weight, WEIGHT), (status, STATUS)]
                .iter()
                .filter(|o| o.0)
                .map(|o| o.1),
        );
        layout
    }
}

/// One call, as its loss configures it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RowCall {
    pub op: &'static str,
    pub loss: RowLoss,
    pub reduction: Reduction,
    pub margin: f32,
    pub p: f32,
    pub eps: f32,
    pub swap: bool,
}

impl RowCall {
    pub(crate) fn new(op: &'static str, loss: RowLoss, reduction: Reduction) -> Self {
        RowCall {
            op,
            loss,
            reduction,
            margin: 0.0,
            p: 2.0,
            eps: 0.0,
            swap: false,
        }
    }
}

/// The tensors of one call: the float rows `a`, `b`, `c` (as many as the loss reads), the
/// per-row target or label, the class weights.
#[derive(Clone, Copy, Default)]
pub(crate) struct RowInputs<'t> {
    pub floats: [Option<&'t Tensor>; 3],
    pub y: Option<&'t Tensor>,
    pub weight: Option<&'t Tensor>,
}

/// What a call will do. Made without a GPU.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RowPlan {
    kernel: RowPairs,
    pub rows: usize,
    pub dim: usize,
    /// `[N]`, or `[]` for one row.
    loss_shape: Vec<usize>,
    /// Rows per dispatch.
    pub chunk_rows: usize,
    y_int: bool,
}

/// Checks shapes, element types and options, and sizes the chunks.
pub(crate) fn plan(
    limits: &Limits,
    call: &RowCall,
    floats: &[Meta],
    y: Option<Meta>,
    weight: Option<Meta>,
    grad: bool,
) -> Result<RowPlan> {
    let op = call.op;
    let names = ["input1", "input2", "input3"];
    let x = check::float(floats[0], names[0])?;
    for (i, m) in floats.iter().enumerate().skip(1) {
        if check::float(*m, names[i])? != x {
            return Err(Error::DType {
                what: names[i],
                expected: "the first input's type",
                got: m.dtype,
            });
        }
        if m.shape != floats[0].shape {
            return Err(Error::Shape(format!(
                "{op}: inputs of one shape, got {:?} and {:?}",
                floats[0].shape, m.shape
            )));
        }
    }
    let (rows, dim, loss_shape) = match *floats[0].shape {
        [n, d] => (n, d, vec![n]),
        [d] => (1, d, vec![]),
        ref s => {
            return Err(Error::Shape(format!(
                "{op}: input must be [N, D] or [D], got {s:?}"
            )));
        }
    };
    if dim > MAX_DIM {
        return Err(Error::Shape(format!(
            "{op}: at most {MAX_DIM} values per row, got {dim}"
        )));
    }
    let mut y_int = false;
    let per_score = call.loss.per_score();
    if let (Some(y), true) = (y, per_score) {
        // One i32 target per score, read in the rows' windows.
        check::dtype(y, "target", "i32", &[DType::I32])?;
        if y.shape != floats[0].shape {
            return Err(Error::Shape(format!(
                "{op}: input {:?} needs a target of its shape, got {:?}",
                floats[0].shape, y.shape
            )));
        }
    } else if let Some(y) = y {
        let (label, ok): (&str, &[DType]) = match call.loss {
            RowLoss::MultiMargin => ("u32 or i32", &[DType::U32, DType::I32]),
            _ => ("f32 or i32", &[DType::F32, DType::I32]),
        };
        check::dtype(y, "target", label, ok)?;
        y_int = y.dtype == DType::I32;
        let fits = y.shape == [rows] || (loss_shape.is_empty() && y.shape.is_empty());
        if !fits {
            return Err(Error::Shape(format!(
                "{op}: input {:?} needs a target of shape {}, got {:?}",
                floats[0].shape,
                if loss_shape.is_empty() {
                    "[] or [1]".to_string()
                } else {
                    format!("[{rows}]")
                },
                y.shape
            )));
        }
        check::one_binding(limits, y, "target")?;
    }
    if let Some(w) = weight {
        check::dtype(w, "weight", "f32", &[DType::F32])?;
        if w.shape != [dim] {
            return Err(Error::Shape(format!(
                "{op}: input {:?} needs a class weight of shape [{dim}], got {:?}",
                floats[0].shape, w.shape
            )));
        }
        check::one_binding(limits, w, "weight")?;
    }
    // Rows per dispatch: every input's window (f32 gradients included) fits a binding, and
    // the grid fits one dispatch.
    let row_bytes = dim as u64 * 4;
    let room = limits.max_binding.min(limits.max_buffer);
    if row_bytes + limits.offset_alignment > room || (rows as u64 * 4) > room {
        return Err(Error::TooLarge {
            what: "one row of a row-wise loss",
            bytes: row_bytes.max(rows as u64 * 4),
            limit_name: "max_storage_buffer_binding_size",
            limit: room,
        });
    }
    // A pass with one invocation per score fits the rows' scores in one dispatch.
    let invocations = limits.max_workgroups as usize * ROWS_PER_GROUP;
    let chunk_rows = (((room - limits.offset_alignment) / row_bytes) as usize)
        .min(match per_score {
            true => invocations / dim,
            false => invocations,
        })
        .min(rows)
        .max(1);
    if rows >= 1 << 31 || (per_score && rows.saturating_mul(dim) >= 1 << 31) {
        return Err(Error::Shape(format!(
            "{op}: at most 2^31 {} per call",
            if per_score { "scores" } else { "rows" }
        )));
    }
    Ok(RowPlan {
        kernel: RowPairs { x, grad },
        rows,
        dim,
        loss_shape,
        chunk_rows,
        y_int,
    })
}

/// The window of `len` elements from element `first` of `t`, started at a binding offset the
/// device accepts: its slot and where `first` lies in it.
fn window<'t>(
    limits: &Limits,
    t: &'t Tensor,
    first: usize,
    len: usize,
) -> (crate::gpu::Slot<'t>, u32) {
    let elem = t.dtype().size() as u64;
    let align = limits.offset_alignment.max(elem);
    let start = ((first as u64 * elem) / align * align / elem) as usize;
    (t.slot(start, first - start + len), (first - start) as u32)
}

impl RowPlan {
    /// Records the call; `grads` are the gradients of the float inputs that get one.
    /// Returns the loss (guarded by the label check where the loss has labels).
    pub(crate) fn record(
        &self,
        rec: &mut Recorder<'_, '_>,
        call: &RowCall,
        inputs: RowInputs,
        grads: &[&Tensor],
    ) -> Result<Tensor> {
        let dev = rec.device();
        let limits = dev.limits();
        let floats: Vec<&Tensor> = inputs.floats.iter().flatten().copied().collect();
        check::same_device(
            dev,
            floats
                .iter()
                .copied()
                .chain(inputs.y)
                .chain(inputs.weight)
                .chain(grads.iter().copied()),
        )?;
        let losses = Tensor::alloc(
            dev,
            match call.reduction {
                Reduction::None => &self.loss_shape,
                _ => std::slice::from_ref(&self.rows),
            },
            DType::F32,
            "loss",
        )?;
        let (_, _, has_status) = call.loss.extras();
        let status = match has_status {
            true => {
                let s = Tensor::alloc(dev, &[1], DType::U32, "label status")?;
                rec.clear(s.whole());
                Some(s)
            }
            false => None,
        };
        // f32 gradients: the gradients themselves where f32, else sums rounded at the end.
        let sums: Vec<Option<Tensor>> = grads
            .iter()
            .map(|g| match g.dtype() {
                DType::F32 => Ok(None),
                _ => Tensor::alloc(dev, g.shape(), DType::F32, "gradient").map(Some),
            })
            .collect::<Result<_>>()?;
        let f32_grads: Vec<&Tensor> = grads
            .iter()
            .zip(&sums)
            .map(|(g, s)| s.as_ref().unwrap_or(g))
            .collect();
        let scale = match call.reduction {
            Reduction::Mean => 1.0 / self.rows as f32,
            _ => 1.0,
        };
        // The losses with class weights read them whether or not they were given.
        let unweighted = match (call.loss.extras().1, inputs.weight) {
            (true, None) => Some(Tensor::alloc(dev, &[1], DType::F32, "no weight")?),
            _ => None,
        };
        let weight = inputs.weight.or(unweighted.as_ref());
        // Multilabel margin's marks and parts of each row's sum, for the rows of one chunk.
        let scratch = match call.loss {
            RowLoss::MultilabelMargin => {
                let n = [self.chunk_rows * self.dim];
                Some((
                    Tensor::alloc(dev, &n, DType::U32, "target marks")?,
                    Tensor::alloc(dev, &n, DType::F32, "parts of row sums")?,
                ))
            }
            _ => None,
        };
        let (a_decls, g_decls) = ([A, B, C], [GRAD_A, GRAD_B, GRAD_C]);
        for first in (0..self.rows).step_by(self.chunk_rows) {
            let rows = self.chunk_rows.min(self.rows - first);
            let (e0, len) = (first * self.dim, rows * self.dim);
            let mut offsets = [0u32; 6];
            let mut bindings = vec![(LOSSES, losses.whole())];
            for (i, t) in floats.iter().enumerate() {
                let (slot, off) = window(&limits, t, e0, len);
                offsets[i] = off;
                bindings.push((a_decls[i], slot));
            }
            for (i, g) in f32_grads.iter().enumerate() {
                let (slot, off) = window(&limits, g, e0, len);
                offsets[3 + i] = off;
                bindings.push((g_decls[i], slot));
            }
            let mut y_off = 0;
            if let Some(y) = inputs.y {
                bindings.push(match call.loss.per_score() {
                    true => {
                        let (slot, off) = window(&limits, y, e0, len);
                        y_off = off;
                        (Y, slot)
                    }
                    false => (Y, y.whole()),
                });
            }
            bindings.extend(status.as_ref().map(|s| (STATUS, s.whole())));
            bindings.extend(weight.map(|w| (WEIGHT, w.whole())));
            if let Some((mask, parts)) = &scratch {
                let mask = mask.slot(0, len);
                rec.clear(mask);
                bindings.extend([(MASK, mask), (PARTS, parts.slot(0, len))]);
            }
            let params = rec.uniform(&RowParams {
                rows: rows as u32,
                dim: self.dim as u32,
                row_offset: first as u32,
                a_off: offsets[0],
                b_off: offsets[1],
                c_off: offsets[2],
                ga_off: offsets[3],
                gb_off: offsets[4],
                gc_off: offsets[5],
                margin: call.margin,
                p: call.p,
                eps: call.eps,
                swap: u32::from(call.swap),
                scale,
                has_weight: u32::from(inputs.weight.is_some()),
                y_int: u32::from(self.y_int),
                y_off,
            });
            bindings.push((PARAMS, (&params).into()));
            for pass in call.loss.passes() {
                let layout = self.kernel.layout(pass);
                let bound: Vec<_> = bindings
                    .iter()
                    .filter(|(d, _)| layout.contains(d))
                    .cloned()
                    .collect();
                let invocations = if pass.per_score() { len } else { rows };
                let groups = invocations.div_ceil(ROWS_PER_GROUP) as u32;
                rec.dispatch(
                    self.kernel,
                    pass,
                    RowPairsOverrides::default(),
                    &bound,
                    groups,
                )?;
            }
        }
        for (sum, grad) in sums.iter().zip(grads) {
            if let Some(sum) = sum {
                convert::record(rec, sum, grad)?;
            }
        }
        let loss = match call.reduction {
            Reduction::None => losses,
            r => {
                let divisor = if r == Reduction::Mean {
                    self.rows as f32
                } else {
                    1.0
                };
                finalize::record(
                    rec,
                    losses.whole(),
                    self.rows as u32,
                    Denominator::Fixed(divisor),
                )?
            }
        };
        Ok(match (status, inputs.y) {
            (Some(status), Some(labels)) => loss.with_check(Arc::new(LabelCheck {
                status,
                labels: labels.clone(),
                classes: self.dim as u32,
            })),
            _ => loss,
        })
    }
}

/// Plans and records one call: the loss, and the gradients in `grads` (of the float inputs
/// that get one, in order) when given.
pub(crate) fn run(
    rec: &mut Recorder<'_, '_>,
    call: &RowCall,
    inputs: RowInputs,
    grads: Option<Vec<&Tensor>>,
) -> Result<Tensor> {
    let metas: Vec<Meta> = inputs
        .floats
        .iter()
        .flatten()
        .map(|t| Meta::of(t))
        .collect();
    let plan = plan(
        &rec.device().limits(),
        call,
        &metas,
        inputs.y.map(Meta::of),
        inputs.weight.map(Meta::of),
        grads.is_some(),
    )?;
    plan.record(rec, call, inputs, grads.as_deref().unwrap_or(&[]))
}

/// How many of a loss's float inputs get a gradient.
pub(crate) fn grad_count(loss: RowLoss) -> usize {
    loss.floats().1
}
