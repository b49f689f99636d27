//! The WGSL this crate runs, composed from the files in `wgsl/`.
//!
//! Each kernel is one module made by putting small files one after the other: a workgroup
//! reduction (a shared-memory tree, or subgroup operations where the adapter has them), the
//! math of one loss, how each input is stored (f32, or two f16 or bf16 per word), which
//! optional bindings exist (weights, per-element output, gradient), and the driver that reads
//! the inputs and writes the outputs. This module lists every variant, so a test (or a user)
//! can validate or translate all of them without a GPU.

use crate::gpu::{EntryPoint, Kernel, Overrides, Uniform};
use crate::kernels::class_rows::ClassRows;
use crate::kernels::convert::Convert;
use crate::kernels::ctc::Ctc;
use crate::kernels::elementwise::Elementwise;
use crate::kernels::finalize::Finalize;
use crate::kernels::linear_ce::LinearCe;
use crate::kernels::linear_ce_tiles::LceTiles;
use crate::kernels::matmul::MatmulTiles;
use crate::kernels::row_pairs::RowPairs;

pub use crate::gpu::{Access, BindingDecl, Scalar, UniformLayout};
pub use crate::kernels::wgsl::FILES;

/// One shader module as the crate compiles it.
#[derive(Debug, Clone)]
pub struct ShaderVariant {
    /// Kernel, storage and reduction path, e.g. `"class_rows_logitsf32_targetsf32+tree"`.
    pub name: String,
    /// The complete WGSL module.
    pub source: String,
    /// The files of `wgsl/` it is made of (see [`FILES`]).
    pub files: Vec<&'static str>,
    /// Whether it needs `Features::SUBGROUP` (the subgroup reduction path).
    pub needs_subgroups: bool,
    /// Its boolean pipeline-overridable constants (`override NAME: bool`): the crate builds
    /// one pipeline per combination a call needs.
    pub overrides: &'static [&'static str],
    /// Each entry point, with the bindings it uses: its bind group layout.
    pub entry_points: Vec<(&'static str, Vec<BindingDecl>)>,
    /// The layout of its uniform parameters.
    pub uniform: UniformLayout,
}

/// Every shader module the crate can compile: each kernel, in each storage it accepts, with
/// both reduction paths.
///
/// ```
/// let variants = wgpu_loss::shaders::variants();
/// assert!(variants.iter().any(|v| v.name == "class_rows_logitsf32_targetsf32+tree"));
/// ```
pub fn variants() -> Vec<ShaderVariant> {
    let mut all = family(vec![Finalize]);
    all.extend(family(Elementwise::all()));
    all.extend(family(ClassRows::all()));
    all.extend(family(Convert::all()));
    all.extend(family(Ctc::all()));
    all.extend(family(MatmulTiles::all()));
    all.extend(family(LinearCe::all()));
    all.extend(family(LceTiles::all()));
    all.extend(family(RowPairs::all()));
    all
}

/// The variants of one kernel family, in both reduction paths.
fn family<K: Kernel>(kernels: Vec<K>) -> Vec<ShaderVariant> {
    kernels
        .into_iter()
        .flat_map(|k| {
            [false, true].map(|subgroups| ShaderVariant {
                name: format!(
                    "{}+{}",
                    k.name(),
                    if subgroups { "subgroup" } else { "tree" }
                ),
                source: k.source(subgroups),
                files: k.parts(subgroups).into_iter().map(|p| p.0).collect(),
                needs_subgroups: subgroups,
                overrides: K::Overrides::NAMES,
                entry_points: k
                    .entries()
                    .into_iter()
                    .map(|e| (e.name(), k.layout(e)))
                    .collect(),
                uniform: K::Params::layout(),
            })
        })
        .collect()
}
