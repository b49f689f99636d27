//! Plans made without a GPU: what a call will dispatch, from shapes, types and limits alone.

use crate::dtype::DType;
use crate::error::Error;
use crate::gpu::{DeviceType, Grid, Limits};
use crate::kernels::check::Meta;
use crate::kernels::class_rows::{self, ClassCall, ClassEntry, GradScale, RowKind, Window};
use crate::kernels::ctc::{self, CtcCall, CtcMetas};
use crate::kernels::elementwise::{self, ElementwiseCall, Pointwise};
use crate::kernels::finalize::Denominator;
use crate::kernels::linear_ce::{self, LinearCeCall, LinearCeMetas};
use crate::kernels::linear_ce_tiles::{LceTiles, TilesCall, TilesPlan};
use crate::kernels::matmul::{self, MAX_K, Product};
use crate::kernels::plan::{MAX_LOOP, SCRATCH_BYTES};
use crate::kernels::wgsl::Precision;
use crate::reduction::Reduction;

/// A software adapter's limits, with the binding limit given.
fn cpu(max_binding: u64) -> Limits {
    Limits {
        subgroups: false,
        max_binding,
        max_buffer: 1 << 31,
        max_workgroups: 65_535,
        offset_alignment: 256,
        grid: Grid::for_device_type(DeviceType::Cpu),
        device_type: DeviceType::Cpu,
    }
}

fn meta(shape: &[usize], dtype: DType) -> Meta<'_> {
    Meta { shape, dtype }
}

#[test]
fn a_small_mean_is_one_pass_that_writes_the_result() {
    let call = ElementwiseCall::new("mse_loss", Pointwise::Mse, Some(10.0));
    let x = meta(&[10], DType::F32);
    let plan = elementwise::plan(&cpu(1 << 27), &call, x, x, false).unwrap();
    assert_eq!(plan.chunks, vec![(0, 10, 1)]);
    assert!(plan.overrides.final_result);
    assert!(!plan.kernel.out && !plan.kernel.grad && plan.kernel.w.is_none());
}

#[test]
fn inputs_past_a_binding_are_chunked_at_aligned_starts() {
    let call = ElementwiseCall::new("mse_loss", Pointwise::Mse, None);
    let x = meta(&[5000], DType::BF16);
    let y = meta(&[5000], DType::F32);
    // 4096 bytes hold 1024 f32: chunk starts must also be 256-byte aligned for bf16 (128).
    let plan = elementwise::plan(&cpu(4096), &call, x, y, true).unwrap();
    let starts: Vec<usize> = plan.chunks.iter().map(|c| c.0).collect();
    assert_eq!(starts, vec![0, 1024, 2048, 3072, 4096]);
    assert_eq!(plan.chunks.iter().map(|c| c.1).sum::<usize>(), 5000);
    assert!(plan.kernel.out && plan.kernel.grad);
    assert_eq!(
        (plan.kernel.x, plan.kernel.y),
        (Precision::Bf16, Precision::F32)
    );
    assert!(!plan.overrides.final_result);
}

#[test]
fn element_wise_arguments_are_checked_while_planning() {
    let call = ElementwiseCall::new("mse_loss", Pointwise::Mse, Some(1.0));
    let limits = cpu(1 << 27);
    let refused = [
        ((DType::F32, [3]), (DType::F32, [4]), "shape mismatch"),
        ((DType::F16, [3]), (DType::BF16, [3]), "for target"),
        ((DType::U32, [3]), (DType::F32, [3]), "for input"),
    ];
    for ((xt, xs), (yt, ys), message) in refused {
        let err = elementwise::plan(&limits, &call, meta(&xs, xt), meta(&ys, yt), false);
        let err = err.expect_err(message).to_string();
        assert!(err.contains(message), "{err}");
    }
}

fn ce(reduction: Reduction) -> ClassCall<'static> {
    ClassCall {
        op: "cross_entropy",
        kind: RowKind::Logits,
        weight: None,
        ignore_index: -100,
        smoothing: 0.0,
        reduction,
    }
}

#[test]
fn a_weighted_mean_gradient_sums_its_denominator_first() {
    // i32 labels may hold the ignore_index: the mean divides by the rows that count.
    let logits = meta(&[300, 10], DType::F32);
    let labels = meta(&[300], DType::I32);
    let plan = class_rows::plan(&cpu(1 << 27), &ce(Reduction::Mean), logits, labels, true).unwrap();
    assert_eq!(plan.kernel.grad, GradScale::FromBuffer);
    assert_eq!(
        plan.denominator.as_ref().map(|p| p.entry),
        Some(ClassEntry::CeDenominator)
    );
    assert_eq!(plan.main.entry, ClassEntry::CeSmall);
    assert!(plan.main.overrides.has_ignore);
    assert_eq!(plan.finalize, Denominator::Partials);
    // Without the gradient, or with u32 labels, the scale is known.
    let plain = class_rows::plan(
        &cpu(1 << 27),
        &ce(Reduction::Mean),
        logits,
        meta(&[300], DType::U32),
        true,
    )
    .unwrap();
    assert_eq!(
        (plain.kernel.grad, plain.denominator),
        (GradScale::Known, None)
    );
}

#[test]
fn long_rows_go_to_whole_workgroups_and_probabilities_to_their_entry() {
    let logits = meta(&[3, 5000], DType::F16);
    let labels = meta(&[3], DType::U32);
    let plan =
        class_rows::plan(&cpu(1 << 27), &ce(Reduction::None), logits, labels, false).unwrap();
    assert_eq!(plan.main.entry, ClassEntry::CeRows);
    assert!(plan.kernel.out);
    let probs = meta(&[3, 5000], DType::F16);
    let plan = class_rows::plan(&cpu(1 << 27), &ce(Reduction::Sum), logits, probs, false).unwrap();
    assert_eq!(plan.main.entry, ClassEntry::CeProbsRows);
    assert_eq!(plan.kernel.targets, Precision::F16);
    let wrong = class_rows::plan(
        &cpu(1 << 27),
        &ce(Reduction::Sum),
        logits,
        meta(&[3, 4999], DType::F32),
        false,
    );
    assert!(matches!(wrong, Err(Error::Shape(_))));
}

#[test]
fn class_rows_are_chunked_by_whole_samples() {
    // [8, 10, 4] f32: one sample is 160 bytes of logits and 16 of labels, both multiples of
    // the 16-byte alignment, so any sample may start a binding; 1024 bytes hold 6 samples, 24
    // rows. Chunks also start on a tile of rows, here 16 rows (the largest power of two in
    // 24): every 4th sample.
    let logits = meta(&[8, 10, 4], DType::F32);
    let labels = meta(&[8, 4], DType::U32);
    let limits = Limits {
        offset_alignment: 16,
        ..cpu(1024)
    };
    let plan = class_rows::plan(&limits, &ce(Reduction::Sum), logits, labels, false).unwrap();
    assert_eq!(plan.main.tiling.span, 16);
    assert_eq!(plan.windows, samples(&[(0, 4), (4, 4)]));
    assert_eq!(plan.shape.rows, 32);
}

#[test]
fn half_logits_start_chunks_where_every_binding_is_aligned() {
    // f16 [400, 3]: a sample is 6 bytes of logits, 12 of f32 gradient, 4 of label. With a
    // 256-byte alignment a chunk must start at a multiple of 128 samples.
    let logits = meta(&[400, 3], DType::F16);
    let labels = meta(&[400], DType::U32);
    let plan = class_rows::plan(&cpu(3936), &ce(Reduction::Sum), logits, labels, true).unwrap();
    assert_eq!(plan.windows, samples(&[(0, 256), (256, 144)]));
}

#[test]
fn one_sample_that_fits_a_binding_is_one_chunk() {
    // Labelled samples of f32 logits of `shape`, planned with a 128 MiB binding limit.
    let chunks = |shape: &[usize]| {
        let labels: Vec<usize> = [&shape[..1], &shape[2..]].concat();
        let (logits, labels) = (meta(shape, DType::F32), meta(&labels, DType::U32));
        class_rows::plan(&cpu(1 << 27), &ce(Reduction::Mean), logits, labels, true)
            .map(|plan| plan.windows)
    };
    // [1, 21, 512, 512] is 22 MB and [1, 5_000_000] 20 MB: one binding, whatever the
    // alignment in samples.
    assert_eq!(chunks(&[1, 21, 512, 512]).unwrap(), samples(&[(0, 1)]));
    assert_eq!(chunks(&[1, 5_000_000]).unwrap(), samples(&[(0, 1)]));
    // A sample larger than a binding is split along its positions: 19 classes of
    // 1024 x 2048 are 159 MB, 1,766,022 positions of them fit 128 MiB.
    let windows = chunks(&[2, 19, 1024, 2048]).unwrap();
    let (d, fit) = (1024 * 2048, 1_766_022);
    let expected: Vec<Window> = (0..2)
        .flat_map(|sample| {
            [(0, fit), (fit, d - fit)].map(|(first, len)| Window::Positions { sample, first, len })
        })
        .collect();
    assert_eq!(windows, expected);
    // A row of classes larger than a binding cannot be split, and is refused with its size.
    match chunks(&[2, 40_000_000]) {
        Err(Error::TooLarge { bytes, .. }) => assert_eq!(bytes, 160_000_000),
        other => panic!("{other:?}"),
    }
}

#[test]
fn half_samples_split_into_an_even_number_of_positions() {
    // Copies move 4-byte words: f16 [1, 3, 1001] under a 4000-byte limit (the f32 gradient
    // holds 333 positions of 3 classes) takes windows of 332 positions, and an odd number of
    // positions in a sample cannot be split.
    let plan = |shape: &[usize], dtype| {
        let labels: Vec<usize> = [&shape[..1], &shape[2..]].concat();
        let (logits, labels) = (meta(shape, dtype), meta(&labels, DType::U32));
        class_rows::plan(&cpu(4000), &ce(Reduction::Mean), logits, labels, true)
            .map(|plan| plan.windows)
    };
    let lens = |w: Vec<Window>| -> Vec<usize> {
        w.iter()
            .map(|w| match *w {
                Window::Positions { len, .. } => len,
                Window::Samples { .. } => panic!("not split: {w:?}"),
            })
            .collect()
    };
    assert_eq!(
        lens(plan(&[1, 3, 1000], DType::F16).unwrap()),
        [332, 332, 332, 4]
    );
    assert_eq!(
        lens(plan(&[1, 3, 1001], DType::F32).unwrap()),
        [333, 333, 333, 2]
    );
    assert!(matches!(
        plan(&[1, 3, 1001], DType::F16),
        Err(Error::TooLarge { bytes: 12_012, .. })
    ));
}

fn samples(chunks: &[(usize, usize)]) -> Vec<Window> {
    chunks
        .iter()
        .map(|&(first, len)| Window::Samples { first, len })
        .collect()
}

#[test]
fn tiles_depend_on_the_input_and_the_processor_not_on_the_grid() {
    use crate::kernels::plan::Tiling;
    let gpu = Limits {
        grid: Grid::for_device_type(DeviceType::DiscreteGpu),
        device_type: DeviceType::DiscreteGpu,
        ..cpu(1 << 27)
    };
    let sizes = [1u64, 1000, 1 << 20, (1 << 28) + 3];
    for base in [cpu(1 << 27), gpu] {
        for total in sizes {
            let tiling = |grid: Grid| {
                let limits = Limits { grid, ..base };
                Tiling::new(&limits, total, 256, 1, 16, limits.max_binding / 16)
            };
            let t = tiling(base.grid);
            for (items_per_invocation, max_workgroups) in [(1, 65_535), (256, 1), (8, 300)] {
                let grid = Grid {
                    items_per_invocation,
                    max_workgroups,
                };
                assert_eq!(tiling(grid), t, "{total} items, {grid:?}");
            }
            // Powers of two, within a quarter of WebGPU's least binding limit.
            assert!(t.span.is_power_of_two() && t.span * 16 <= 32 << 20, "{t:?}");
        }
    }
    // A GPU gets many small tiles, a software adapter few large ones.
    let n = 1 << 24;
    let on = |l: &Limits| Tiling::new(l, n, 256, 1, 16, 1 << 23).tiles(n);
    assert_eq!((on(&gpu), on(&cpu(1 << 27))), (1024, 64));
}

#[test]
fn ctc_splits_time_to_the_loop_budget_and_refuses_what_it_cannot_run() {
    let call = CtcCall {
        blank: 0,
        zero_infinity: false,
        reduction: Reduction::Mean,
    };
    let lengths = [4];
    let metas = |lp: &'static [usize], targets: &'static [usize]| CtcMetas {
        log_probs: meta(lp, DType::F32),
        targets: meta(targets, DType::U32),
        input_lengths: meta(&lengths, DType::U32),
        target_lengths: meta(&lengths, DType::I32),
    };
    let limits = cpu(1 << 30);
    // [T = 20,000, N = 4, C = 30], padded to 40 labels: 81 states, two per invocation of 64.
    let plan = ctc::plan(&limits, &call, metas(&[20_000, 4, 30], &[4, 40])).unwrap();
    assert_eq!((plan.max_labels, plan.max_states), (40, 4 * 81));
    // Each step: its states twice, a 6-level max, the loop itself.
    assert_eq!(plan.recursion_steps, 32_768 / (1 + 2 * 2 + 6));
    assert_eq!(plan.grad_steps, 65_535 * 256 / (4 * 30));
    // Concatenated targets: a sequence may hold them all, within the budget.
    let plan = ctc::plan(&limits, &call, metas(&[50, 4, 30], &[100])).unwrap();
    assert_eq!((plan.max_labels, plan.max_states), (100, 2 * 100 + 4));
    // Too many labels for one invocation's loops; a blank that is no class; a binding
    // limit below the recursions' variables.
    let err = ctc::plan(&limits, &call, metas(&[50, 4, 30], &[4, 20_000])).unwrap_err();
    assert!(matches!(err, Error::Shape(_)), "{err}");
    let blank = CtcCall { blank: 30, ..call };
    let err = ctc::plan(&limits, &blank, metas(&[50, 4, 30], &[4, 2])).unwrap_err();
    assert!(matches!(err, Error::InvalidOption(_)), "{err}");
    let err = ctc::plan(&cpu(1 << 20), &call, metas(&[20_000, 4, 30], &[4, 40])).unwrap_err();
    assert!(matches!(err, Error::TooLarge { .. }), "{err}");
}

/// Every dispatch of `p`: its windows fit a binding and start aligned, its k-range fits the
/// loop budget, its tiles a dispatch; and the blocks cover `c` once per k-range.
fn check_product(limits: &Limits, p: &Product) -> usize {
    let dispatches = matmul::plan(limits, p).unwrap();
    let mut covered = 0u64;
    for d in &dispatches {
        for (w, elem) in [(d.a, p.a.elem), (d.b, p.b.elem), (d.c, 4)] {
            assert!(w.len as u64 * elem <= limits.max_binding, "{d:?}");
            assert_eq!(w.first as u64 * elem % limits.offset_alignment, 0);
        }
        assert!(d.params.k as usize <= MAX_K);
        assert!(d.groups <= limits.max_workgroups);
        if d.params.accumulate == 0 || p.accumulate {
            covered += u64::from(d.groups) * 64 * 64;
        }
    }
    if !p.accumulate {
        assert!(covered >= (p.m * p.n) as u64);
    }
    dispatches.len()
}

#[test]
fn linear_cross_entropy_chunks_tokens_and_splits_a_classifier_past_a_binding() {
    let call = LinearCeCall {
        reduction: Reduction::Mean,
        ignore_index: -100,
        smoothing: 0.0,
        softcap: None,
        z_loss: 0.0,
        filter_eps: 0.0,
    };
    // 8,192 tokens of a 128,256 x 4,096 bf16 classifier: 1 GB, eight times a 128 MiB binding.
    let limits = cpu(128 << 20);
    let metas = LinearCeMetas {
        hidden: meta(&[8192, 4096], DType::BF16),
        classifier: meta(&[128_256, 4096], DType::BF16),
        labels: meta(&[8192], DType::I32),
        bias: None,
    };
    let plan = linear_ce::plan(&limits, &call, metas).unwrap();
    // 32 MiB of f32 logits: 65 rows of 128,256, rounded down to a tile's 64.
    assert_eq!(plan.chunk_rows, 64);
    let products = plan.products(true);
    assert_eq!(products.len(), 3 * 8192 / 64);
    for p in products.iter().take(3) {
        assert!(check_product(&limits, p) > 1, "split: {p:?}");
    }
    // A vocabulary of 32,000: 262 rows fit, 256 taken.
    let metas = LinearCeMetas {
        classifier: meta(&[32_000, 4096], DType::BF16),
        ..metas
    };
    assert_eq!(
        linear_ce::plan(&limits, &call, metas).unwrap().chunk_rows,
        256
    );
    // A row of logits larger than a binding is refused, as are shapes that disagree.
    let tiny = cpu(1 << 16);
    assert!(matches!(
        linear_ce::plan(&tiny, &call, metas),
        Err(Error::TooLarge { .. })
    ));
    let wrong = LinearCeMetas {
        hidden: meta(&[8192, 4095], DType::BF16),
        ..metas
    };
    assert!(matches!(
        linear_ce::plan(&limits, &call, wrong),
        Err(Error::Shape(_))
    ));
}

/// The loss alone's plan for `[tokens, hidden] · [vocab, hidden]ᵀ` in `elem`-byte elements,
/// checked: every invocation within the loop budget, every window in one aligned binding and
/// holding what its dispatch reads, the bands covering the vocabulary once per row tile and
/// chunk, the chunks covering the tokens. Returns the plan.
fn check_tiles(limits: &Limits, (n, h, v): (usize, usize, usize), elem: u64) -> Option<TilesPlan> {
    let p = if elem == 2 {
        Precision::Bf16
    } else {
        Precision::F32
    };
    let kernel = LceTiles {
        hidden: p,
        classifier: p,
        bias: None,
    };
    let plan = TilesPlan::new(limits, kernel, (n, h, v), (elem, elem))?;
    let call = TilesCall {
        ignore_index: -100,
        has_ignore: true,
        smoothing: 0.0,
        softcap: 0.0,
        z_loss: 0.0,
        counts: true,
    };
    let loops = plan.band_tiles as u64 * (25 * h.div_ceil(16) as u64 + 1) + 8;
    assert!(loops <= MAX_LOOP, "{loops} loops: {plan:?}");
    let max = limits.max_binding;
    assert!((plan.chunk_rows * plan.bands * 16) as u64 <= SCRATCH_BYTES.min(max));
    let mut tokens = 0;
    for (first, rows) in plan.chunks() {
        assert_eq!(first, tokens);
        tokens += rows;
        let mut groups = 0;
        let mut classes = 0;
        let mut blocks = std::collections::BTreeSet::new();
        for d in plan.dispatches(limits, &call, (first, rows)) {
            let q = &d.params;
            for (w, off, span) in [
                (d.hidden, q.a_off, rows * h),
                (d.classifier, q.b_off, q.n as usize * h),
            ] {
                assert!(w.len as u64 * elem <= max, "{w:?} past a binding");
                assert_eq!(w.first as u64 * elem % limits.offset_alignment, 0);
                assert!(off as usize + span <= w.len, "{w:?} misses what it reads");
            }
            assert_eq!(d.hidden.first + q.a_off as usize, first * h);
            assert_eq!(
                d.classifier.first + q.b_off as usize,
                q.col_offset as usize * h
            );
            assert!(d.groups <= limits.max_workgroups);
            assert_eq!(q.band_tiles as usize, plan.band_tiles);
            groups += d.groups as usize;
            if blocks.insert(q.band_base) {
                classes += q.n as usize;
                assert_eq!(
                    q.col_offset as usize,
                    q.band_base as usize * plan.band_tiles * 64
                );
            }
        }
        assert_eq!(classes, v);
        assert_eq!(groups, rows.div_ceil(64) * plan.bands);
    }
    assert_eq!(tokens, n);
    Some(plan)
}

#[test]
fn the_loss_alone_folds_bands_of_tiles_within_the_loop_budget_and_a_binding() {
    let limits = cpu(128 << 20);
    // 8,192 tokens of a 128,256 x 4,096 bf16 classifier (1 GB): five tiles a band (the loop
    // budget), blocks of the classifier's columns a binding holds.
    let plan = check_tiles(&limits, (8192, 4096, 128_256), 2).unwrap();
    assert_eq!(plan.band_tiles, 5);
    assert!(plan.block_bands < plan.bands);
    // The benchmark's shapes: sixteen tiles a band, about 2,048 workgroups.
    let plan = check_tiles(&limits, (1024, 256, 128_256), 4).unwrap();
    assert_eq!(
        (plan.band_tiles, plan.bands, plan.chunk_rows),
        (16, 126, 1024)
    );
    check_tiles(&limits, (4096, 256, 32_000), 4).unwrap();
    // Odd sizes, and a tiny binding: a band of one tile, chunks of 64 tokens, many blocks.
    check_tiles(&limits, (1, 1, 1), 4).unwrap();
    check_tiles(&limits, (130, 17, 1000), 2).unwrap();
    let plan = check_tiles(&cpu(16 << 10), (300, 40, 1000), 4).unwrap();
    assert_eq!(
        (plan.band_tiles, plan.block_bands, plan.chunk_rows),
        (1, 1, 64)
    );
    // Past 65,535 workgroups a chunk takes several dispatches.
    check_tiles(&limits, (1 << 20, 16, 300_000), 4).unwrap();
    // A tile's loop past the budget, or a tile of the classifier past a binding: no plan (the
    // call takes the chunked path).
    assert!(check_tiles(&limits, (64, 30_000, 100), 4).is_none());
    assert!(check_tiles(&limits, (64, 16_384, 100), 4).is_some());
    assert!(check_tiles(&cpu(1 << 12), (64, 40, 100), 4).is_none());
    // One tile a band (a hidden size of 16,384) over 2,796,202 classes: 43,691 bands, more
    // than `lce_merge` may loop over.
    assert!(check_tiles(&limits, (64, 16_384, 2_796_202), 4).is_none());
}

#[test]
fn a_long_inner_dimension_is_added_up_in_blocks_the_loop_budget_allows() {
    let limits = cpu(1 << 27);
    let p = Product {
        m: 3,
        n: 5,
        k: 40_000,
        a: matmul::Operand {
            view: matmul::View::rows(0, 40_000),
            elem: 4,
        },
        b: matmul::Operand {
            view: matmul::View::rows(0, 5),
            elem: 2,
        },
        c: matmul::View::rows(0, 5),
        accumulate: false,
        skip_zero: false,
    };
    let dispatches = matmul::plan(&limits, &p).unwrap();
    let ks: Vec<u32> = dispatches.iter().map(|d| d.params.k).collect();
    assert_eq!(ks, vec![16_384, 16_384, 7_232]);
    let adds: Vec<u32> = dispatches.iter().map(|d| d.params.accumulate).collect();
    assert_eq!(adds, vec![0, 1, 1]);
    check_product(&limits, &p);
}
