//! Planning a pass, without a GPU: how many workgroups it launches and how a tensor larger
//! than one storage binding is split into chunks, from the device's [`Limits`].

use crate::error::{Error, Result};
use crate::gpu::{DeviceType, Limits};

/// Invocations per workgroup: `WG` in `wgsl/reduce_*.wgsl`.
pub(crate) const WG: u32 = 256;

/// Mesa's software adapters (llvmpipe, lavapipe) stop an invocation's loops after 65,535
/// iterations in all (one counter for every loop of the shader, nested or not), silently: a
/// row of 128,256 classes lost half its terms. Passes are sized so that no invocation loops
/// more than this, leaving room for the reductions' own loops.
pub(crate) const MAX_LOOP: u64 = 32_768;

/// The most bytes of scratch a linear cross-entropy's chunk of tokens holds: its logits, or
/// its partials of tiles folded on chip.
pub(crate) const SCRATCH_BYTES: u64 = 32 << 20;

/// Workgroups for a grid-stride pass over `items` work items (vec4s, rows), following the
/// device's [`Grid`](crate::Grid), and enough that no invocation loops more than `MAX_LOOP`
/// times.
pub(crate) fn workgroups_for(limits: &Limits, items: u64) -> u32 {
    let grid = limits.grid;
    let groups = items.div_ceil(grid.items_per_invocation.max(1) as u64 * WG as u64);
    clamp_groups(
        limits,
        groups
            .min(grid.max_workgroups as u64)
            .max(loop_floor(items)),
    )
}

/// Loop iterations one workgroup reduction may take, per invocation: a subgroup reduction
/// sums one slot per subgroup (64 with subgroups of 4, lavapipe's narrowest), a tree takes
/// log2(WG) = 8 levels.
pub(crate) const REDUCE_LOOPS: u64 = 64;

/// The most bytes of its input a tile covers: a quarter of the smallest binding limit WebGPU
/// allows (128 MiB), so whole tiles fit every chunk. Only a smaller limit (which tests set,
/// to force chunks) shrinks tiles, and then the sums' order.
const MAX_TILE_BYTES: u64 = 32 << 20;

/// How large tiles are on a kind of processor. A GPU wants many tiles in flight (each tile's
/// reduction is cheap); a software adapter pays about 0.1 ms for each workgroup reduction on
/// lavapipe, so it wants few tiles, each a long stretch of work per invocation.
struct TileRule {
    /// Tiles a pass aims at, where the input allows.
    target_tiles: u64,
    /// Loop iterations an invocation spends on a tile at least (so a small input is one tile
    /// and one pass).
    min_work: u64,
    /// Work items per invocation in a tile at most (added in sequence, so also a bound on
    /// the rounding error).
    max_items: u64,
}

fn tile_rule(device_type: DeviceType) -> TileRule {
    match device_type {
        DeviceType::Cpu => TileRule {
            target_tiles: 16,
            min_work: 256,
            // Each invocation adds up to this many terms one after the other: at 8192, MSE
            // over a billion elements lost 2e-5 of its sum.
            max_items: 1024,
        },
        _ => TileRule {
            target_tiles: 1024,
            min_work: 4,
            max_items: 64,
        },
    }
}

/// How a reduction pass sums its input: in tiles of `span` work items (vec4s, rows), each
/// summed in a fixed order (invocation `i` takes items `i`, `i + WG`, … of the tile; then a
/// fixed workgroup reduction, or on a software adapter each invocation's own partial) into
/// partial sums of its own, which `finalize` adds in a fixed tree. The tile depends on the
/// input's size and the kind of processor alone, and chunks start on tile boundaries, so the
/// summation order, and the result's bits, are the same for every grid and chunking. (Only a
/// binding limit too small for a tile, which covers 32 MiB at most, shrinks it: no adapter's
/// is, WebGPU guarantees 128 MiB, but tests set tiny ones to force chunks.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tiling {
    /// Work items in one tile.
    pub span: u64,
}

impl Tiling {
    /// The tiling of a pass over `total` work items (of the whole tensor, not of a chunk)
    /// that `lanes` invocations share (`WG`, or 1 where a workgroup takes one item at a time),
    /// each item costing `cost` loop iterations and covering `bytes` bytes of the chunked
    /// input, where one binding holds at most `fit` items. It depends on the input's size and
    /// the kind of processor, never on the grid, and a tile covers at most `MAX_TILE_BYTES`,
    /// so any binding limit of an adapter holds whole tiles.
    pub(crate) fn new(
        limits: &Limits,
        total: u64,
        lanes: u64,
        cost: u64,
        bytes: u64,
        fit: u64,
    ) -> Tiling {
        let rule = tile_rule(limits.device_type);
        let cost = cost.max(1);
        // A tile's items and reduction stay within half the loop budget of an invocation.
        let loops = (MAX_LOOP / 2 / cost).clamp(1, rule.max_items);
        let size = (MAX_TILE_BYTES / (lanes * bytes.max(1))).max(1);
        // Powers of two, so the tilings of two passes start together every max(span)
        // items and chunks can start on both.
        let max = 1 << loops.min(size).ilog2();
        let min = rule.min_work.div_ceil(cost).next_power_of_two().min(max);
        let items = total
            .div_ceil(lanes * rule.target_tiles)
            .next_power_of_two()
            .clamp(min, max);
        let span = match items * lanes {
            span if span <= fit => span,
            // The largest power of two that fits.
            _ => 1 << fit.max(1).ilog2(),
        };
        Tiling { span }
    }

    /// Tiles over `items` work items.
    pub(crate) fn tiles(self, items: u64) -> u64 {
        items.div_ceil(self.span)
    }

    /// Workgroups for a pass over `tiles` tiles of items costing `cost` loop iterations each,
    /// `lanes` invocations to an item (as in [`Tiling::new`]): as the device's
    /// [`Grid`](crate::Grid) asks for their work, at most one per tile, and enough that no
    /// invocation loops more than `MAX_LOOP` times (its tiles' items and reductions).
    pub(crate) fn workgroups(self, limits: &Limits, tiles: u64, lanes: u64, cost: u64) -> u32 {
        let grid = limits.grid;
        let work = tiles * self.span * cost.max(1) * (WG as u64 / lanes);
        let groups = work
            .div_ceil(grid.items_per_invocation.max(1) as u64 * WG as u64)
            .min(grid.max_workgroups as u64)
            .min(tiles);
        let per_tile = self.span.div_ceil(lanes) * cost.max(1) + REDUCE_LOOPS;
        clamp_groups(limits, groups.max((tiles * per_tile).div_ceil(MAX_LOOP)))
    }
}

/// Whether each invocation of a pass writes its own partial sum of a tile, `kinds` kinds of
/// them (losses, denominators), instead of its workgroup reducing the tile: on a software
/// adapter, which runs a barrier inside a loop as a coroutine, a third slower (lavapipe, MSE
/// 16M and cross-entropy [16384 x 1024]); unless the `tiles` tiles' partial sums would
/// overflow one binding (only tests set such limits).
pub(crate) fn lane_partials(limits: &Limits, tiles: u32, kinds: u64) -> bool {
    limits.device_type == DeviceType::Cpu
        && kinds * u64::from(tiles) * u64::from(WG) * 4 <= limits.max_binding
}

/// The partial sums of one kind that `tiles` tiles write: one per tile, or one per invocation
/// of each tile ([`lane_partials`]).
pub(crate) fn partial_slots(tiles: u32, lane_partials: bool) -> u32 {
    match lane_partials {
        true => tiles * WG,
        false => tiles,
    }
}

/// The least common multiple of two chunk alignments.
pub(crate) fn lcm(a: usize, b: usize) -> usize {
    fn gcd(a: usize, b: usize) -> usize {
        if b == 0 { a } else { gcd(b, a % b) }
    }
    a / gcd(a, b).max(1) * b
}

/// At least as many workgroups as keep each invocation within `MAX_LOOP` iterations, when
/// the pass does `iterations` in all.
pub(crate) fn loop_floor(iterations: u64) -> u64 {
    iterations.div_ceil(MAX_LOOP * WG as u64)
}

pub(crate) fn clamp_groups(limits: &Limits, groups: u64) -> u32 {
    groups.clamp(1, limits.max_workgroups as u64) as u32
}

/// How a tensor too large for one storage binding is split: chunks of `unit`s (elements, or
/// outer samples of cross-entropy), each chunk's bytes within the binding limit and its start
/// aligned as bindings require.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Chunks {
    /// Units in the whole tensor.
    pub total: usize,
    /// Units in every chunk but the last.
    pub per_chunk: usize,
}

impl Chunks {
    /// Plans chunks over `total` units of at most `unit_bytes` bytes each (in the largest
    /// tensor bound in chunks). `align_units` is the smallest number of units whose bytes
    /// start a binding legally in every tensor bound in chunks ([`align_units`]). A tensor
    /// that fits one binding is one chunk, whatever the alignment.
    pub(crate) fn plan(
        limits: &Limits,
        total: usize,
        unit_bytes: u64,
        align_units: usize,
        what: &'static str,
    ) -> Result<Chunks> {
        let limit = limits.max_binding;
        let whole = (total as u64).checked_mul(unit_bytes);
        if whole.is_some_and(|bytes| bytes <= limit) {
            return Ok(Chunks {
                total,
                per_chunk: total,
            });
        }
        let fit = (limit / unit_bytes.max(1)) as usize / align_units * align_units;
        if fit == 0 {
            // What does not fit: one unit, or else the fewest units a chunk may hold.
            let units = match limit / unit_bytes.max(1) {
                0 => 1,
                _ => align_units.min(total) as u64,
            };
            return Err(Error::TooLarge {
                what,
                bytes: unit_bytes.saturating_mul(units),
                limit_name: "max_storage_buffer_binding_size",
                limit,
            });
        }
        Ok(Chunks {
            total,
            per_chunk: fit.min(total),
        })
    }

    /// `(first unit, units)` of each chunk.
    pub(crate) fn iter(self) -> impl Iterator<Item = (usize, usize)> {
        (0..self.total)
            .step_by(self.per_chunk.max(1))
            .map(move |start| (start, self.per_chunk.min(self.total - start)))
    }
}

/// The fewest units that start a legal binding in every tensor bound in chunks, given the
/// bytes one unit takes in each: each start must be a multiple of the device's storage
/// offset alignment, and of 16 bytes (kernels read four elements at a time).
pub(crate) fn align_units(limits: &Limits, unit_bytes: &[u64]) -> usize {
    fn gcd(a: u64, b: u64) -> u64 {
        if b == 0 { a } else { gcd(b, a % b) }
    }
    let align = limits.offset_alignment.max(16);
    let units = unit_bytes
        .iter()
        .map(|&b| align / gcd(align, b.max(1)))
        .fold(1, |acc, u| acc / gcd(acc, u) * u);
    units as usize
}
