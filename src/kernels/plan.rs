//! Planning a pass, without a GPU: how many workgroups it launches and how a tensor larger
//! than one storage binding is split into chunks, from the device's [`Limits`].

use crate::error::{Error, Result};
use crate::gpu::Limits;

/// Invocations per workgroup: `WG` in `wgsl/reduce_*.wgsl`.
pub(crate) const WG: u32 = 256;

/// Mesa's software adapters (llvmpipe, lavapipe) stop an invocation's loops after 65,535
/// iterations in all (one counter for every loop of the shader, nested or not), silently: a
/// row of 128,256 classes lost half its terms. Passes are sized so that no invocation loops
/// more than this, leaving room for the reductions' own loops.
pub(crate) const MAX_LOOP: u64 = 32_768;

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

/// Workgroups for one workgroup per row (rows in a grid-stride loop).
pub(crate) fn workgroup_per_row(limits: &Limits, rows: u64) -> u32 {
    let floor = rows.div_ceil(MAX_LOOP);
    clamp_groups(
        limits,
        rows.min(limits.grid.max_workgroups as u64).max(floor),
    )
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
