//! `finalize.wgsl`: the second pass of every reduction. One workgroup sums the first pass's
//! per-workgroup partial sums and divides by the reduction's denominator.

use crate::dtype::DType;
use crate::error::Result;
use crate::gpu::{BindingDecl, Kernel, Recorder, Slot, entry_points, overrides, uniform};
use crate::kernels::wgsl::{self, FINALIZE, Part};
use crate::tensor::Tensor;

/// The module: one variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Finalize;

entry_points! {
    pub(crate) enum FinalizeEntry {
        Finalize = "finalize",
    }
}

overrides! {
    /// None: the denominator is a runtime choice.
    pub(crate) struct FinalizeOverrides {}
}

uniform! {
    pub(crate) struct FinalizeParams as "FinalizeParams" {
        count: u32,
        has_denom: u32,
        divisor: f32,
    }
}

const PARAMS: BindingDecl = BindingDecl::uniform(0, "fparams");
const PARTIALS: BindingDecl = BindingDecl::read(1, "fpartials");
const RESULT: BindingDecl = BindingDecl::read_write(2, "result");

impl Kernel for Finalize {
    type Entry = FinalizeEntry;
    type Overrides = FinalizeOverrides;
    type Params = FinalizeParams;
    const FAMILY: &'static str = "finalize";

    fn code(self) -> u32 {
        0
    }

    fn name(self) -> String {
        "finalize".into()
    }

    fn parts(self, subgroups: bool) -> Vec<Part> {
        vec![wgsl::reduce(subgroups), wgsl::whole(FINALIZE)]
    }

    fn layout(self, _: FinalizeEntry) -> Vec<BindingDecl> {
        vec![PARAMS, PARTIALS, RESULT]
    }
}

/// How `finalize` turns the sum of the partials into the result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Denominator {
    /// Divide by this number (the element count for a mean, 1 for a sum).
    Fixed(f32),
    /// Divide by the sum of the second half of the partials (a weighted mean).
    Partials,
}

/// Records the second pass: one workgroup sums `count` partials into a new scalar tensor.
pub(crate) fn record(
    rec: &mut Recorder<'_, '_>,
    partials: Slot,
    count: u32,
    denominator: Denominator,
) -> Result<Tensor> {
    let result = Tensor::alloc(rec.device(), &[], DType::F32, "loss")?;
    let (has_denom, divisor) = match denominator {
        Denominator::Fixed(d) => (0, d),
        Denominator::Partials => (1, 1.0),
    };
    let params = rec.uniform(&FinalizeParams {
        count,
        has_denom,
        divisor,
    });
    rec.dispatch(
        Finalize,
        FinalizeEntry::Finalize,
        FinalizeOverrides::default(),
        &[
            (PARAMS, (&params).into()),
            (PARTIALS, partials),
            (RESULT, result.whole()),
        ],
        1,
    )?;
    Ok(result)
}
