//! Kernel families: each is one Rust file and the WGSL it composes, with its contract —
//! bindings, pipeline constants, uniform layout, entry points — stated once in the Rust and
//! checked against the WGSL by `tests/contract.rs`.
//!
//! A family plans a call without a GPU (checks, module variant, constants, chunks, grid) and
//! records the plan through a [`Recorder`](crate::gpu::Recorder).

pub(crate) mod broadcast;
pub(crate) mod check;
pub(crate) mod class_rows;
pub(crate) mod convert;
pub(crate) mod ctc;
pub(crate) mod elementwise;
pub(crate) mod finalize;
pub(crate) mod linear_ce;
pub(crate) mod linear_ce_tiles;
pub(crate) mod matmul;
pub(crate) mod plan;
pub(crate) mod row_pairs;
pub(crate) mod wgsl;

#[cfg(test)]
mod plan_tests;
