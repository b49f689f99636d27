//! `convert.wgsl`: rounds an f32 tensor (a gradient) to half precision, once, on the GPU.

use crate::error::Result;
use crate::gpu::{BindingDecl, Kernel, Limits, Recorder, entry_points, overrides, uniform};
use crate::kernels::plan::{self, Chunks};
use crate::kernels::wgsl::{self, CONVERT, Part, Precision};
use crate::tensor::Tensor;

/// The module: one variant per half precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Convert {
    pub to: Precision,
}

entry_points! {
    pub(crate) enum ConvertEntry {
        Convert = "convert",
    }
}

overrides! {
    /// None.
    pub(crate) struct ConvertOverrides {}
}

uniform! {
    pub(crate) struct ConvertParams as "ConvertParams" {
        n4: u32,
    }
}

const PARAMS: BindingDecl = BindingDecl::uniform(0, "cparams");
const SOURCE: BindingDecl = BindingDecl::read(1, "source");
const OUTPUT: BindingDecl = BindingDecl::read_write(6, "grad");

impl Convert {
    pub(crate) fn all() -> Vec<Convert> {
        [Precision::F16, Precision::Bf16]
            .map(|to| Convert { to })
            .to_vec()
    }
}

impl Kernel for Convert {
    type Entry = ConvertEntry;
    type Overrides = ConvertOverrides;
    type Params = ConvertParams;
    const FAMILY: &'static str = "convert";

    fn code(self) -> u32 {
        self.to.code()
    }

    fn name(self) -> String {
        format!("convert_{}", self.to.name())
    }

    fn parts(self, subgroups: bool) -> Vec<Part> {
        vec![
            wgsl::reduce(subgroups),
            wgsl::named(self.to.vec4_output(), "grad", OUTPUT.binding),
            wgsl::whole(CONVERT),
        ]
    }

    fn layout(self, _: ConvertEntry) -> Vec<BindingDecl> {
        vec![PARAMS, SOURCE, OUTPUT]
    }
}

/// One dispatch per chunk: `(first element, elements, workgroups)`.
pub(crate) fn plan(limits: &Limits, n: usize) -> Result<Vec<(usize, usize, u32)>> {
    let chunks = Chunks::plan(limits, n, 4, plan::align_units(limits, &[2]), "gradient")?;
    Ok(chunks
        .iter()
        .map(|(first, len)| {
            let groups = plan::workgroups_for(limits, len.div_ceil(4) as u64);
            (first, len, groups)
        })
        .collect())
}

/// Records the rounding of the f32 tensor `source` into `out`, of the same shape in half
/// precision.
pub(crate) fn record(rec: &mut Recorder<'_, '_>, source: &Tensor, out: &Tensor) -> Result<()> {
    let to = Precision::of(out.dtype()).unwrap_or(Precision::F16);
    for (first, len, groups) in plan(&rec.device().limits(), source.len())? {
        let params = rec.uniform(&ConvertParams {
            n4: len.div_ceil(4) as u32,
        });
        rec.dispatch(
            Convert { to },
            ConvertEntry::Convert,
            ConvertOverrides::default(),
            &[
                (PARAMS, (&params).into()),
                (SOURCE, source.slot(first, len)),
                (OUTPUT, out.slot(first, len)),
            ],
            groups,
        )?;
    }
    Ok(())
}
