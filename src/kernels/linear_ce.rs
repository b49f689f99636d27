//! `linear_ce.wgsl`: cross-entropy of `hidden · classifierᵀ (+ bias)` without the whole
//! batch's logits. The loss alone comes from
//! [`linear_ce_tiles`](crate::kernels::linear_ce_tiles), whose logits stay in registers, where
//! its plan fits. With the gradients (or without, past that), the tokens go in chunks whose
//! f32 logits fit a fixed scratch (32 MiB); per chunk: the logits by
//! [`matmul`](crate::kernels::matmul), the rows' losses and, in place, their gradient, then
//! `d hidden` of the chunk's rows (`G · classifier`) and `d classifier += Gᵀ · hidden`
//! (chunks add up in order: the same bits every run).

use std::sync::Arc;

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::gpu::{BindingDecl, Kernel, Limits, Recorder, entry_points, overrides, uniform};
use crate::kernels::check::{self, Meta};
use crate::kernels::class_rows::LabelCheck;
use crate::kernels::convert;
use crate::kernels::finalize::{self, Denominator};
use crate::kernels::linear_ce_tiles::{LceTiles, TilesCall, TilesPlan};
use crate::kernels::matmul::{self, Operand, Product, View};
use crate::kernels::plan::{Chunks, MAX_LOOP, SCRATCH_BYTES, WG};
use crate::kernels::wgsl::{self, Part, Precision};
use crate::reduction::Reduction;
use crate::tensor::Tensor;

/// One module variant: whether there is a bias, and how it is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct LinearCe {
    pub bias: Option<Precision>,
}

entry_points! {
    pub(crate) enum LinearCeEntry {
        /// Counts the rows that count; flags the first label out of range.
        Count = "lce_count",
        /// One row of a chunk per workgroup: its loss, and its gradient in place.
        Rows = "lce_rows",
        /// Adds a chunk's gradient rows into the bias's gradient (with a bias only).
        Bias = "lce_bias",
    }
}

overrides! {
    /// None: every choice is a runtime one.
    pub(crate) struct LinearCeOverrides {}
}

uniform! {
    pub(crate) struct LceParams as "LceParams" {
        rows: u32,
        row_offset: u32,
        classes: u32,
        tokens: u32,
        ignore_index: i32,
        has_ignore: u32,
        smoothing: f32,
        softcap: f32,
        z_loss: f32,
        grad: u32,
        mean: u32,
        counts: u32,
        neg_inf: f32,
        filter_eps: f32,
    }
}

const PARAMS: BindingDecl = BindingDecl::uniform(0, "params");
const LABELS: BindingDecl = BindingDecl::read(1, "labels");
const LOGITS: BindingDecl = BindingDecl::read_write(2, "logits");
const LOSSES: BindingDecl = BindingDecl::read_write(3, "losses");
const STATUS: BindingDecl = BindingDecl::read_write(4, "status");
const COUNT: BindingDecl = BindingDecl::read_write(5, "count");
const BIAS: BindingDecl = BindingDecl::read(6, "bias_data");
const DBIAS: BindingDecl = BindingDecl::read_write(7, "dbias");

impl LinearCe {
    /// Every variant the crate builds.
    pub(crate) fn all() -> Vec<LinearCe> {
        std::iter::once(None)
            .chain(Precision::ALL.map(Some))
            .map(|bias| LinearCe { bias })
            .collect()
    }
}

impl Kernel for LinearCe {
    type Entry = LinearCeEntry;
    type Overrides = LinearCeOverrides;
    type Params = LceParams;
    const FAMILY: &'static str = "linear_ce";

    fn code(self) -> u32 {
        self.bias.map_or(0, |p| 1 + p.code())
    }

    fn name(self) -> String {
        match self.bias {
            Some(p) => format!("linear_ce_bias{}", p.name()),
            None => "linear_ce".into(),
        }
    }

    fn parts(self, subgroups: bool) -> Vec<Part> {
        let mut parts = vec![wgsl::reduce(subgroups)];
        parts.push(match self.bias {
            Some(p) => wgsl::named(p.scalar_input(), "bias", BIAS.binding),
            None => wgsl::whole(wgsl::BIAS_NONE),
        });
        parts.push(wgsl::whole(wgsl::LINEAR_CE_MATH));
        parts.push(wgsl::whole(wgsl::LINEAR_CE));
        if self.bias.is_some() {
            parts.push(wgsl::whole(wgsl::LINEAR_CE_BIAS));
        }
        parts
    }

    fn entries(self) -> Vec<LinearCeEntry> {
        match self.bias {
            Some(_) => vec![
                LinearCeEntry::Count,
                LinearCeEntry::Rows,
                LinearCeEntry::Bias,
            ],
            None => vec![LinearCeEntry::Count, LinearCeEntry::Rows],
        }
    }

    fn layout(self, entry: LinearCeEntry) -> Vec<BindingDecl> {
        match entry {
            LinearCeEntry::Count => vec![PARAMS, LABELS, STATUS, COUNT],
            LinearCeEntry::Rows => {
                let mut layout = vec![PARAMS, LABELS, LOGITS, LOSSES, COUNT];
                layout.extend(self.bias.map(|_| BIAS));
                layout
            }
            LinearCeEntry::Bias => vec![PARAMS, LOGITS, DBIAS],
        }
    }
}

/// The options of one call, as [`LinearCrossEntropyLoss`](crate::LinearCrossEntropyLoss)
/// configures it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LinearCeCall {
    pub reduction: Reduction,
    pub ignore_index: i32,
    pub smoothing: f32,
    pub softcap: Option<f32>,
    pub z_loss: f32,
    /// Gradient entries below this (before the mean's scale) count as 0; 0 is off.
    pub filter_eps: f32,
}

/// What a call will do. Made without a GPU.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LinearCePlan {
    kernel: LinearCe,
    pub tokens: usize,
    pub hidden: usize,
    pub vocab: usize,
    /// Tokens per chunk.
    pub chunk_rows: usize,
    /// The loss alone, where a tile of the classifier fits a binding.
    pub tiles: Option<TilesPlan>,
    /// The gradient filter is on: its products skip the zeros it writes.
    filter: bool,
    has_ignore: bool,
    hidden_elem: u64,
    classifier_elem: u64,
}

/// The tensors of one call.
#[derive(Clone, Copy)]
pub(crate) struct LinearCeInputs<'t> {
    pub hidden: &'t Tensor,
    pub classifier: &'t Tensor,
    pub labels: &'t Tensor,
    pub bias: Option<&'t Tensor>,
}

/// What a plan knows of the tensors of one call.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LinearCeMetas<'t> {
    pub hidden: Meta<'t>,
    pub classifier: Meta<'t>,
    pub labels: Meta<'t>,
    pub bias: Option<Meta<'t>>,
}

impl<'t> LinearCeMetas<'t> {
    pub(crate) fn of(inputs: LinearCeInputs<'t>) -> Self {
        LinearCeMetas {
            hidden: Meta::of(inputs.hidden),
            classifier: Meta::of(inputs.classifier),
            labels: Meta::of(inputs.labels),
            bias: inputs.bias.map(Meta::of),
        }
    }
}

/// The gradients a call writes: of the hidden states, of the classifier and of the bias.
#[derive(Clone, Copy)]
pub(crate) struct LinearCeGrads<'t> {
    pub hidden: &'t Tensor,
    pub classifier: &'t Tensor,
    pub bias: Option<&'t Tensor>,
}

fn check_options(op: &str, call: &LinearCeCall) -> Result<()> {
    let s = call.smoothing;
    check::option(
        op,
        "label_smoothing",
        s,
        (0.0..=1.0).contains(&s),
        "lie in [0, 1]",
    )?;
    if let Some(c) = call.softcap {
        check::option(
            op,
            "softcap",
            c,
            c.is_finite() && c > 0.0,
            "be finite and above 0",
        )?;
    }
    for (name, v) in [("z_loss", call.z_loss), ("filter_eps", call.filter_eps)] {
        let ok = v.is_finite() && v >= 0.0;
        check::option(op, name, v, ok, "be finite and at least 0")?;
    }
    Ok(())
}

/// Checks shapes, element types and options, and sizes the chunks.
pub(crate) fn plan(
    limits: &Limits,
    call: &LinearCeCall,
    metas: LinearCeMetas,
) -> Result<LinearCePlan> {
    let op = "linear_cross_entropy";
    let LinearCeMetas {
        hidden,
        classifier,
        labels,
        bias,
    } = metas;
    let hidden_p = check::float(hidden, "hidden")?;
    let classifier_p = check::float(classifier, "classifier")?;
    check::dtype(labels, "labels", "u32 or i32", &[DType::U32, DType::I32])?;
    let bias_p = bias.map(|b| check::float(b, "bias")).transpose()?;
    check_options(op, call)?;
    let (&[tokens, h], &[vocab, h2]) = (hidden.shape, classifier.shape) else {
        return Err(Error::Shape(format!(
            "{op}: hidden must be [N, H] and classifier [V, H], got {:?} and {:?}",
            hidden.shape, classifier.shape
        )));
    };
    if h != h2 {
        return Err(Error::Shape(format!(
            "{op}: hidden {:?} and classifier {:?} differ in H",
            hidden.shape, classifier.shape
        )));
    }
    if labels.shape != [tokens] {
        return Err(Error::Shape(format!(
            "{op}: hidden {:?} needs labels of shape [{tokens}], got {:?}",
            hidden.shape, labels.shape
        )));
    }
    if let Some(b) = bias {
        if b.shape != [vocab] {
            return Err(Error::Shape(format!(
                "{op}: classifier {:?} needs a bias of shape [{vocab}], got {:?}",
                classifier.shape, b.shape
            )));
        }
        check::one_binding(limits, b, "bias")?;
    }
    check::one_binding(limits, labels, "labels")?;
    // Loops: `lce_count` goes over the tokens in steps of WG, `lce_rows` three times over a
    // row in steps of WG, `lce_bias` over a chunk's rows; `lce_bias` takes V / WG workgroups.
    let wg = WG as usize;
    let max_tokens = MAX_LOOP as usize * wg;
    if tokens > max_tokens {
        return Err(Error::Shape(format!(
            "{op}: at most {max_tokens} tokens per call, got {tokens}"
        )));
    }
    let max_vocab = (MAX_LOOP as usize / 3 * wg).min(limits.max_workgroups as usize * wg);
    if vocab > max_vocab {
        return Err(Error::Shape(format!(
            "{op}: at most {max_vocab} classes per call, got {vocab}"
        )));
    }
    let row_bytes = vocab as u64 * 4;
    let cap = SCRATCH_BYTES.min(limits.max_binding).min(limits.max_buffer);
    if row_bytes > cap {
        return Err(Error::TooLarge {
            what: "one token's logits",
            bytes: row_bytes,
            limit_name: "max_storage_buffer_binding_size",
            limit: cap,
        });
    }
    let mut chunk_rows = ((cap / row_bytes) as usize)
        .min(tokens)
        .min(limits.max_workgroups as usize)
        .min(MAX_LOOP as usize)
        .max(1);
    if chunk_rows >= 64 {
        chunk_rows -= chunk_rows % 64;
    }
    let tiles = LceTiles {
        hidden: hidden_p,
        classifier: classifier_p,
        bias: bias_p,
    };
    let elems = (hidden_p.elem(), classifier_p.elem());
    Ok(LinearCePlan {
        kernel: LinearCe { bias: bias_p },
        tokens,
        hidden: h,
        vocab,
        chunk_rows,
        tiles: TilesPlan::new(limits, tiles, (tokens, h, vocab), elems),
        filter: call.filter_eps > 0.0,
        has_ignore: labels.dtype == DType::I32 || call.ignore_index >= 0,
        hidden_elem: hidden_p.elem(),
        classifier_elem: classifier_p.elem(),
    })
}

impl LinearCePlan {
    fn params(&self, call: &LinearCeCall, first: usize, rows: usize, grad: bool) -> LceParams {
        LceParams {
            rows: rows as u32,
            row_offset: first as u32,
            classes: self.vocab as u32,
            tokens: self.tokens as u32,
            ignore_index: call.ignore_index,
            has_ignore: u32::from(self.has_ignore),
            smoothing: call.smoothing,
            softcap: call.softcap.unwrap_or(0.0),
            z_loss: call.z_loss,
            grad: u32::from(grad),
            mean: u32::from(call.reduction == Reduction::Mean),
            counts: u32::from(call.reduction != Reduction::None),
            neg_inf: f32::NEG_INFINITY,
            filter_eps: call.filter_eps,
        }
    }

    /// The chunk's logits: `hidden[first .. first + rows] · classifierᵀ`.
    fn logits(&self, first: usize, rows: usize) -> Product {
        Product {
            m: rows,
            n: self.vocab,
            k: self.hidden,
            a: Operand {
                view: View::rows(first * self.hidden, self.hidden),
                elem: self.hidden_elem,
            },
            b: Operand {
                view: View::columns(0, self.hidden),
                elem: self.classifier_elem,
            },
            c: View::rows(0, self.vocab),
            accumulate: false,
            skip_zero: false,
        }
    }

    /// The chunk's rows of `d hidden`: `G · classifier`.
    fn hidden_grad(&self, first: usize, rows: usize) -> Product {
        Product {
            m: rows,
            n: self.hidden,
            k: self.vocab,
            a: Operand {
                view: View::rows(0, self.vocab),
                elem: 4,
            },
            b: Operand {
                view: View::rows(0, self.hidden),
                elem: self.classifier_elem,
            },
            c: View::rows(first * self.hidden, self.hidden),
            accumulate: false,
            skip_zero: self.filter,
        }
    }

    /// The chunk's part of `d classifier`: `+= Gᵀ · hidden[first .. first + rows]`.
    fn classifier_grad(&self, first: usize, rows: usize) -> Product {
        Product {
            m: self.vocab,
            n: self.hidden,
            k: rows,
            a: Operand {
                view: View::columns(0, self.vocab),
                elem: 4,
            },
            b: Operand {
                view: View::rows(first * self.hidden, self.hidden),
                elem: self.hidden_elem,
            },
            c: View::rows(0, self.hidden),
            accumulate: true,
            skip_zero: self.filter,
        }
    }

    /// Every product the call records, as `(first token, tokens)` chunks: for plan tests.
    #[cfg(test)]
    pub(crate) fn products(&self, grad: bool) -> Vec<Product> {
        self.chunks()
            .flat_map(|(first, rows)| {
                let mut p = vec![self.logits(first, rows)];
                if grad {
                    p.push(self.hidden_grad(first, rows));
                    p.push(self.classifier_grad(first, rows));
                }
                p
            })
            .collect()
    }

    fn chunks(&self) -> impl Iterator<Item = (usize, usize)> {
        let chunks = Chunks {
            total: self.tokens,
            per_chunk: self.chunk_rows,
        };
        chunks.iter()
    }

    /// Records the call: the label count, then per chunk the logits, the rows and with
    /// `grads` the three gradients (f32 sums, rounded into half-precision gradients by a last
    /// pass). Returns the loss, guarded by the labels' check.
    pub(crate) fn record(
        &self,
        rec: &mut Recorder<'_, '_>,
        call: &LinearCeCall,
        inputs: LinearCeInputs,
        grads: Option<LinearCeGrads>,
    ) -> Result<Tensor> {
        let dev = rec.device();
        let LinearCeInputs {
            hidden,
            classifier,
            labels,
            bias,
        } = inputs;
        let grad_tensors = grads
            .iter()
            .flat_map(|g| [Some(g.hidden), Some(g.classifier), g.bias])
            .flatten();
        check::same_device(
            dev,
            [hidden, classifier, labels]
                .into_iter()
                .chain(bias)
                .chain(grad_tensors),
        )?;
        let scratch = |shape: &[usize], what| Tensor::alloc(dev, shape, DType::F32, what);
        let status = Tensor::alloc(dev, &[1], DType::U32, "label status")?;
        rec.clear(status.whole());
        let count = scratch(&[1], "rows that count")?;
        let losses = match call.reduction {
            Reduction::None => scratch(&[self.tokens], "loss")?,
            _ => scratch(&[2 * self.tokens], "row losses")?,
        };
        // The f32 sums of the gradients: the gradients themselves where they are f32.
        let f32_sum = |g: &Tensor, what| match g.dtype() {
            DType::F32 => Ok(None),
            _ => scratch(g.shape(), what).map(Some),
        };
        let sums = match grads {
            Some(g) => Some((
                f32_sum(g.hidden, "hidden gradient sum")?,
                f32_sum(g.classifier, "classifier gradient sum")?,
                g.bias
                    .map(|b| f32_sum(b, "bias gradient sum"))
                    .transpose()?
                    .flatten(),
            )),
            None => None,
        };
        let targets = grads.zip(sums.as_ref()).map(|(g, (h, c, b))| {
            (
                h.as_ref().unwrap_or(g.hidden),
                c.as_ref().unwrap_or(g.classifier),
                g.bias.map(|gb| b.as_ref().unwrap_or(gb)),
            )
        });
        if let Some((_, dw, db)) = targets {
            rec.clear(dw.whole());
            if let Some(db) = db {
                rec.clear(db.whole());
            }
        }
        let with_grad = grads.is_some();
        let params = |rec: &mut Recorder, first, rows| {
            rec.uniform(&self.params(call, first, rows, with_grad))
        };
        let p = params(rec, 0, self.tokens);
        rec.dispatch(
            self.kernel,
            LinearCeEntry::Count,
            LinearCeOverrides::default(),
            &[
                (PARAMS, (&p).into()),
                (LABELS, labels.whole()),
                (STATUS, status.whole()),
                (COUNT, count.whole()),
            ],
            1,
        )?;
        if let Some(tiles) = self.tiles.as_ref().filter(|_| grads.is_none()) {
            let tiles_call = TilesCall {
                ignore_index: call.ignore_index,
                has_ignore: self.has_ignore,
                smoothing: call.smoothing,
                softcap: call.softcap.unwrap_or(0.0),
                z_loss: call.z_loss,
                counts: call.reduction != Reduction::None,
            };
            tiles.record(
                rec,
                &tiles_call,
                (hidden, classifier, labels, bias),
                &losses,
            )?;
        } else {
            // The chunks of stored logits.
            let logits = scratch(&[self.chunk_rows, self.vocab], "chunk logits")?;
            for (first, rows) in self.chunks() {
                matmul::record(rec, &self.logits(first, rows), hidden, classifier, &logits)?;
                let p = params(rec, first, rows);
                let mut bindings = vec![
                    (PARAMS, (&p).into()),
                    (LABELS, labels.whole()),
                    (LOGITS, logits.whole()),
                    (LOSSES, losses.whole()),
                    (COUNT, count.whole()),
                ];
                bindings.extend(bias.map(|b| (BIAS, b.whole())));
                let entry = LinearCeEntry::Rows;
                rec.dispatch(
                    self.kernel,
                    entry,
                    LinearCeOverrides::default(),
                    &bindings,
                    rows as u32,
                )?;
                let Some((dh, dw, db)) = targets else {
                    continue;
                };
                if let Some(db) = db {
                    rec.dispatch(
                        self.kernel,
                        LinearCeEntry::Bias,
                        LinearCeOverrides::default(),
                        &[
                            (PARAMS, (&p).into()),
                            (LOGITS, logits.whole()),
                            (DBIAS, db.whole()),
                        ],
                        self.vocab.div_ceil(WG as usize) as u32,
                    )?;
                }
                matmul::record(rec, &self.hidden_grad(first, rows), &logits, classifier, dh)?;
                matmul::record(rec, &self.classifier_grad(first, rows), &logits, hidden, dw)?;
            }
        }
        if let (Some(g), Some((h, c, b))) = (grads, &sums) {
            let rounded = [(h, Some(g.hidden)), (c, Some(g.classifier)), (b, g.bias)];
            for (sum, grad) in rounded {
                if let (Some(sum), Some(grad)) = (sum, grad) {
                    convert::record(rec, sum, grad)?;
                }
            }
        }
        let loss = match call.reduction {
            Reduction::None => losses,
            Reduction::Mean => finalize::record(
                rec,
                losses.whole(),
                self.tokens as u32,
                Denominator::Partials,
            )?,
            Reduction::Sum => finalize::record(
                rec,
                losses.whole(),
                self.tokens as u32,
                Denominator::Fixed(1.0),
            )?,
        };
        Ok(loss.with_check(Arc::new(LabelCheck {
            status,
            labels: labels.clone(),
            classes: self.vocab as u32,
        })))
    }
}
