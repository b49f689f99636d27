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
    /// Plans chunks over `total` units of `unit_bytes` bytes each. `align_units` is the
    /// smallest number of units whose bytes start a binding legally (and 16-byte aligned).
    pub(crate) fn plan(
        limits: &Limits,
        total: usize,
        unit_bytes: u64,
        align_units: usize,
        what: &'static str,
    ) -> Result<Chunks> {
        let limit = limits.max_binding;
        let fit = (limit / unit_bytes.max(1)) as usize / align_units * align_units;
        if fit == 0 {
            return Err(Error::TooLarge {
                what,
                bytes: unit_bytes * align_units as u64,
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

/// Elements of `elem_bytes` bytes that make a legal binding offset, and a multiple of 16 bytes
/// (the kernels read four elements at a time).
pub(crate) fn align_elements(limits: &Limits, elem_bytes: u64) -> usize {
    (limits.offset_alignment.max(16) / elem_bytes) as usize
}
