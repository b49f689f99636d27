//! `linear_ce_tiles.wgsl`: the loss of a linear cross-entropy with its logits only ever in
//! registers. Each workgroup makes a band of 64 × 64 tiles of logits (`matmul_tile.wgsl`) and
//! folds them at once into per-row statistics (max, Σ exp, Σ centred logits, count); one
//! partial per row and band reaches device memory, and a second pass folds a row's partials
//! in band order into its loss. The call's working memory is O(tokens · bands).

use crate::dtype::DType;
use crate::error::Result;
use crate::gpu::{BindingDecl, Kernel, Limits, Recorder, entry_points, overrides, uniform};
use crate::kernels::matmul::{self, Window};
use crate::kernels::plan::{Chunks, MAX_LOOP, SCRATCH_BYTES};
use crate::kernels::wgsl::{self, Part, Precision};
use crate::tensor::Tensor;

/// One module variant: how the hidden states, the classifier and the bias are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct LceTiles {
    pub hidden: Precision,
    pub classifier: Precision,
    pub bias: Option<Precision>,
}

entry_points! {
    pub(crate) enum LceTilesEntry {
        /// One band of tiles of 64 rows per workgroup: the band's partial of each row.
        Tiles = "lce_tiles",
        /// One row per invocation: its partials folded, its loss.
        Merge = "lce_merge",
    }
}

overrides! {
    /// None: every choice is a runtime one.
    pub(crate) struct LceTilesOverrides {}
}

uniform! {
    pub(crate) struct LceTileParams as "LceTileParams" {
        m: u32,
        n: u32,
        k: u32,
        a_off: u32,
        a_rs: u32,
        a_cs: u32,
        b_off: u32,
        b_rs: u32,
        b_cs: u32,
        group_base: u32,
        bands_n: u32,
        band_tiles: u32,
        bands: u32,
        band_base: u32,
        row_offset: u32,
        col_offset: u32,
        classes: u32,
        tokens: u32,
        ignore_index: i32,
        has_ignore: u32,
        smoothing: f32,
        softcap: f32,
        z_loss: f32,
        counts: u32,
        neg_inf: f32,
        skip_zero: u32,
    }
}

const PARAMS: BindingDecl = BindingDecl::uniform(0, "params");
const HIDDEN: BindingDecl = BindingDecl::read(1, "a_data");
const CLASSIFIER: BindingDecl = BindingDecl::read(2, "b_data");
const LABELS: BindingDecl = BindingDecl::read(3, "labels");
const PARTIALS: BindingDecl = BindingDecl::read_write(4, "partials");
const LABEL_LOGITS: BindingDecl = BindingDecl::read_write(5, "label_logits");
const BIAS: BindingDecl = BindingDecl::read(6, "bias_data");
const LOSSES: BindingDecl = BindingDecl::read_write(7, "losses");

/// Rows and columns of a tile: `TILE` in `matmul_tile.wgsl`.
const TILE: usize = 64;
/// Loop iterations of a tile per 16 of the hidden size (`matmul_tile.wgsl`).
const STEP_LOOPS: usize = 25;
/// Loop iterations of a band besides its tiles: the fold of a row's 8 invocations.
const BAND_LOOPS: usize = 8;
/// Workgroups a call aims for: enough to fill a GPU, few enough that the partials stay small.
const TARGET_GROUPS: usize = 2048;
/// Bytes of one partial: a vec4 of f32.
const PARTIAL_BYTES: u64 = 16;

impl LceTiles {
    /// Every variant the crate builds.
    pub(crate) fn all() -> Vec<LceTiles> {
        let biases = std::iter::once(None).chain(Precision::ALL.map(Some));
        biases
            .flat_map(|bias| {
                Precision::ALL.into_iter().flat_map(move |hidden| {
                    Precision::ALL.map(|classifier| LceTiles {
                        hidden,
                        classifier,
                        bias,
                    })
                })
            })
            .collect()
    }
}

impl Kernel for LceTiles {
    type Entry = LceTilesEntry;
    type Overrides = LceTilesOverrides;
    type Params = LceTileParams;
    const FAMILY: &'static str = "linear_ce_tiles";

    fn code(self) -> u32 {
        (self.bias.map_or(0, |p| 1 + p.code()) * 3 + self.hidden.code()) * 3
            + self.classifier.code()
    }

    fn name(self) -> String {
        let bias = self
            .bias
            .map_or(String::new(), |p| format!("_bias{}", p.name()));
        format!(
            "linear_ce_tiles_h{}_w{}{bias}",
            self.hidden.name(),
            self.classifier.name()
        )
    }

    /// No reduction: the same module on both paths.
    fn parts(self, _subgroups: bool) -> Vec<Part> {
        vec![
            wgsl::named(self.hidden.scalar_input(), "a", HIDDEN.binding),
            wgsl::named(self.classifier.scalar_input(), "b", CLASSIFIER.binding),
            match self.bias {
                Some(p) => wgsl::named(p.scalar_input(), "bias", BIAS.binding),
                None => wgsl::whole(wgsl::BIAS_NONE),
            },
            wgsl::whole(wgsl::MATMUL_TILE),
            wgsl::whole(wgsl::LINEAR_CE_MATH),
            wgsl::whole(wgsl::LINEAR_CE_TILES),
        ]
    }

    fn layout(self, entry: LceTilesEntry) -> Vec<BindingDecl> {
        match entry {
            LceTilesEntry::Tiles => {
                let mut layout = vec![PARAMS, HIDDEN, CLASSIFIER, LABELS, PARTIALS, LABEL_LOGITS];
                layout.extend(self.bias.map(|_| BIAS));
                layout
            }
            LceTilesEntry::Merge => vec![PARAMS, LABELS, PARTIALS, LABEL_LOGITS, LOSSES],
        }
    }
}

/// What the loss pass of a call will do, made without a GPU; `None` from [`TilesPlan::new`]
/// where one tile's loop is past the loop budget (a hidden size past about 20,900), a tile of
/// the classifier or a row of hidden states past a binding, or a row's bands past the loop
/// budget (the call then takes the chunked path of stored logits).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TilesPlan {
    pub kernel: LceTiles,
    pub tokens: usize,
    pub hidden: usize,
    pub vocab: usize,
    /// Column tiles per band: per workgroup.
    pub band_tiles: usize,
    /// Bands across the vocabulary: partials per row.
    pub bands: usize,
    /// Bands per classifier block: a block's columns fit one binding.
    pub block_bands: usize,
    /// Tokens per chunk: a chunk's partials fit the scratch, its hidden states one binding.
    pub chunk_rows: usize,
    hidden_elem: u64,
    classifier_elem: u64,
}

/// The options a pass needs, as the call gives them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TilesCall {
    pub ignore_index: i32,
    pub has_ignore: bool,
    pub smoothing: f32,
    pub softcap: f32,
    pub z_loss: f32,
    pub counts: bool,
}

/// One dispatch of `lce_tiles`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TilesDispatch {
    pub params: LceTileParams,
    pub hidden: Window,
    pub classifier: Window,
    pub groups: u32,
}

impl TilesPlan {
    /// Sizes bands, blocks and chunks for `[tokens, hidden] · [vocab, hidden]ᵀ`: every
    /// invocation under [`MAX_LOOP`] iterations, every operand window in one binding.
    pub(crate) fn new(
        limits: &Limits,
        kernel: LceTiles,
        (tokens, hidden, vocab): (usize, usize, usize),
        (hidden_elem, classifier_elem): (u64, u64),
    ) -> Option<TilesPlan> {
        // The tile's steps, and one turn of the band's own loop.
        let per_tile = STEP_LOOPS * hidden.div_ceil(16) + 1;
        let budget = (MAX_LOOP as usize).checked_sub(BAND_LOOPS)? / per_tile;
        let max = limits.max_binding.min(limits.max_buffer);
        // What a window may hold past its aligned start.
        let room = max.checked_sub(limits.offset_alignment)?;
        let tile_bytes = (TILE * hidden) as u64 * classifier_elem;
        let fit = (room / tile_bytes) as usize;
        let tiles = vocab.div_ceil(TILE);
        let row_tiles = tokens.div_ceil(TILE);
        let band_tiles = (tiles * row_tiles)
            .div_ceil(TARGET_GROUPS)
            .min(budget)
            .min(fit)
            .min(tiles);
        if band_tiles == 0 {
            return None;
        }
        let bands = tiles.div_ceil(band_tiles);
        // `lce_merge` loops over a row's bands.
        if bands as u64 > MAX_LOOP {
            return None;
        }
        let block_bands = (fit / band_tiles).min(bands);
        let cap = SCRATCH_BYTES.min(max);
        let by_hidden = room / (hidden as u64 * hidden_elem);
        let by_partials = cap / (bands as u64 * PARTIAL_BYTES);
        let mut chunk_rows = by_hidden.min(by_partials) as usize;
        chunk_rows = chunk_rows
            .min(TILE * limits.max_workgroups as usize)
            .min(tokens);
        if chunk_rows >= TILE {
            chunk_rows -= chunk_rows % TILE;
        }
        (chunk_rows > 0).then_some(TilesPlan {
            kernel,
            tokens,
            hidden,
            vocab,
            band_tiles,
            bands,
            block_bands,
            chunk_rows,
            hidden_elem,
            classifier_elem,
        })
    }

    /// The token chunks, as `(first token, tokens)`.
    pub(crate) fn chunks(&self) -> impl Iterator<Item = (usize, usize)> {
        let chunks = Chunks {
            total: self.tokens,
            per_chunk: self.chunk_rows,
        };
        chunks.iter()
    }

    fn base_params(&self, call: &TilesCall, first: usize, rows: usize) -> LceTileParams {
        LceTileParams {
            m: rows as u32,
            n: 0,
            k: self.hidden as u32,
            a_off: 0,
            a_rs: self.hidden as u32,
            a_cs: 1,
            b_off: 0,
            b_rs: 1,
            b_cs: self.hidden as u32,
            group_base: 0,
            bands_n: 0,
            band_tiles: self.band_tiles as u32,
            bands: self.bands as u32,
            band_base: 0,
            row_offset: first as u32,
            col_offset: 0,
            classes: self.vocab as u32,
            tokens: self.tokens as u32,
            ignore_index: call.ignore_index,
            has_ignore: u32::from(call.has_ignore),
            smoothing: call.smoothing,
            softcap: call.softcap,
            z_loss: call.z_loss,
            counts: u32::from(call.counts),
            neg_inf: f32::NEG_INFINITY,
            skip_zero: 0,
        }
    }

    /// The `lce_tiles` dispatches of one chunk: per classifier block, its (row tile, band)
    /// workgroups, at most `max_workgroups` a dispatch.
    pub(crate) fn dispatches(
        &self,
        limits: &Limits,
        call: &TilesCall,
        (first, rows): (usize, usize),
    ) -> Vec<TilesDispatch> {
        let band_cols = self.band_tiles * TILE;
        let (hidden, a_off) = matmul::window(
            limits,
            self.hidden_elem,
            first * self.hidden,
            (rows * self.hidden) as u64,
        );
        let row_tiles = rows.div_ceil(TILE);
        let per_dispatch = limits.max_workgroups.max(1) as usize;
        let mut all = Vec::new();
        for band_base in (0..self.bands).step_by(self.block_bands) {
            let bands_n = self.block_bands.min(self.bands - band_base);
            let col0 = band_base * band_cols;
            let cols = (bands_n * band_cols).min(self.vocab - col0);
            // The block's classes, read as columns of the product: rows of the classifier.
            let (classifier, b_off) = matmul::window(
                limits,
                self.classifier_elem,
                col0 * self.hidden,
                (cols * self.hidden) as u64,
            );
            let groups = row_tiles * bands_n;
            for group_base in (0..groups).step_by(per_dispatch) {
                let params = LceTileParams {
                    n: cols as u32,
                    a_off: a_off as u32,
                    b_off: b_off as u32,
                    group_base: group_base as u32,
                    bands_n: bands_n as u32,
                    band_base: band_base as u32,
                    col_offset: col0 as u32,
                    ..self.base_params(call, first, rows)
                };
                all.push(TilesDispatch {
                    params,
                    hidden,
                    classifier,
                    groups: per_dispatch.min(groups - group_base) as u32,
                });
            }
        }
        all
    }

    /// Records the loss of every token into `losses` (`[tokens]`, then `[tokens]` of 1 for a
    /// row that counts where `call.counts`): per chunk the tiles, then the merge.
    pub(crate) fn record(
        &self,
        rec: &mut Recorder<'_, '_>,
        call: &TilesCall,
        (hidden, classifier, labels, bias): (&Tensor, &Tensor, &Tensor, Option<&Tensor>),
        losses: &Tensor,
    ) -> Result<()> {
        let dev = rec.device();
        let limits = dev.limits();
        let f32s = |shape: &[usize], what| Tensor::alloc(dev, shape, DType::F32, what);
        let partials = f32s(&[self.chunk_rows * self.bands, 4], "band partials")?;
        let label_logits = f32s(&[self.chunk_rows], "label logits")?;
        for chunk in self.chunks() {
            for d in self.dispatches(&limits, call, chunk) {
                let params = rec.uniform(&d.params);
                let mut bindings = vec![
                    (PARAMS, (&params).into()),
                    (HIDDEN, hidden.slot(d.hidden.first, d.hidden.len)),
                    (
                        CLASSIFIER,
                        classifier.slot(d.classifier.first, d.classifier.len),
                    ),
                    (LABELS, labels.whole()),
                    (PARTIALS, partials.whole()),
                    (LABEL_LOGITS, label_logits.whole()),
                ];
                bindings.extend(bias.map(|b| (BIAS, b.whole())));
                rec.dispatch(
                    self.kernel,
                    LceTilesEntry::Tiles,
                    LceTilesOverrides::default(),
                    &bindings,
                    d.groups,
                )?;
            }
            let params = rec.uniform(&self.base_params(call, chunk.0, chunk.1));
            rec.dispatch(
                self.kernel,
                LceTilesEntry::Merge,
                LceTilesOverrides::default(),
                &[
                    (PARAMS, (&params).into()),
                    (LABELS, labels.whole()),
                    (PARTIALS, partials.whole()),
                    (LABEL_LOGITS, label_logits.whole()),
                    (LOSSES, losses.whole()),
                ],
                chunk.1.div_ceil(TILE) as u32,
            )?;
        }
        Ok(())
    }
}
