//! The WGSL this crate runs, composed from the files in `wgsl/`.
//!
//! Each kernel is one module made by putting small files one after the other: a workgroup
//! reduction (a shared-memory tree, or subgroup operations where the adapter has them), the
//! math of one loss, how each input is stored (f32, or two f16 or bf16 per word), and the
//! driver that reads the inputs and writes the outputs. This module lists every variant, so a
//! test (or a user) can validate or translate all of them without a GPU.

use crate::DType;

/// Every file in `wgsl/`, by name, with its text.
pub const FILES: &[(&str, &str)] = &[
    ("reduce_tree.wgsl", REDUCE_TREE),
    ("reduce_subgroup.wgsl", REDUCE_SUBGROUP),
    ("finalize.wgsl", FINALIZE),
    ("elementwise.wgsl", ELEMENTWISE),
    ("mse.wgsl", MSE),
    ("l1.wgsl", L1),
    ("huber.wgsl", HUBER),
    ("bce.wgsl", BCE),
    ("bce_logits.wgsl", BCE_LOGITS),
    ("kl_div.wgsl", KL_DIV),
    ("log1p.wgsl", LOG1P),
    ("softmax_stats.wgsl", SOFTMAX_STATS),
    ("cross_entropy.wgsl", CROSS_ENTROPY),
    ("input_f32.wgsl", INPUT_F32),
    ("input_f16.wgsl", INPUT_F16),
    ("input_bf16.wgsl", INPUT_BF16),
    ("scalar_f32.wgsl", SCALAR_F32),
    ("scalar_f16.wgsl", SCALAR_F16),
    ("scalar_bf16.wgsl", SCALAR_BF16),
    ("grad_f32.wgsl", GRAD_F32),
    ("grad_f16.wgsl", GRAD_F16),
    ("grad_bf16.wgsl", GRAD_BF16),
    ("convert.wgsl", CONVERT),
];

const REDUCE_TREE: &str = include_str!("../wgsl/reduce_tree.wgsl");
const REDUCE_SUBGROUP: &str = include_str!("../wgsl/reduce_subgroup.wgsl");
const FINALIZE: &str = include_str!("../wgsl/finalize.wgsl");
const ELEMENTWISE: &str = include_str!("../wgsl/elementwise.wgsl");
const MSE: &str = include_str!("../wgsl/mse.wgsl");
const L1: &str = include_str!("../wgsl/l1.wgsl");
const HUBER: &str = include_str!("../wgsl/huber.wgsl");
const BCE: &str = include_str!("../wgsl/bce.wgsl");
const BCE_LOGITS: &str = include_str!("../wgsl/bce_logits.wgsl");
const KL_DIV: &str = include_str!("../wgsl/kl_div.wgsl");
const LOG1P: &str = include_str!("../wgsl/log1p.wgsl");
const SOFTMAX_STATS: &str = include_str!("../wgsl/softmax_stats.wgsl");
const CROSS_ENTROPY: &str = include_str!("../wgsl/cross_entropy.wgsl");
const INPUT_F32: &str = include_str!("../wgsl/input_f32.wgsl");
const INPUT_F16: &str = include_str!("../wgsl/input_f16.wgsl");
const INPUT_BF16: &str = include_str!("../wgsl/input_bf16.wgsl");
const SCALAR_F32: &str = include_str!("../wgsl/scalar_f32.wgsl");
const SCALAR_F16: &str = include_str!("../wgsl/scalar_f16.wgsl");
const SCALAR_BF16: &str = include_str!("../wgsl/scalar_bf16.wgsl");
const GRAD_F32: &str = include_str!("../wgsl/grad_f32.wgsl");
const GRAD_F16: &str = include_str!("../wgsl/grad_f16.wgsl");
const GRAD_BF16: &str = include_str!("../wgsl/grad_bf16.wgsl");
const CONVERT: &str = include_str!("../wgsl/convert.wgsl");

/// The math of an element-wise loss, composed in front of `elementwise.wgsl`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Pointwise {
    Mse,
    L1,
    Huber,
    Bce,
    BceLogits,
    KlDiv,
}

impl Pointwise {
    const ALL: [Pointwise; 6] = [
        Pointwise::Mse,
        Pointwise::L1,
        Pointwise::Huber,
        Pointwise::Bce,
        Pointwise::BceLogits,
        Pointwise::KlDiv,
    ];

    /// The loss's math, after the helpers it calls.
    fn wgsl(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Pointwise::Mse => &[("mse.wgsl", MSE)],
            Pointwise::L1 => &[("l1.wgsl", L1)],
            Pointwise::Huber => &[("huber.wgsl", HUBER)],
            Pointwise::Bce => &[("bce.wgsl", BCE)],
            Pointwise::BceLogits => &[("log1p.wgsl", LOG1P), ("bce_logits.wgsl", BCE_LOGITS)],
            Pointwise::KlDiv => &[("kl_div.wgsl", KL_DIV)],
        }
    }
}

/// How a kernel's input (or a gradient) is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Precision {
    F32,
    F16,
    Bf16,
}

impl Precision {
    const ALL: [Precision; 3] = [Precision::F32, Precision::F16, Precision::Bf16];

    /// The storage of a floating-point tensor; `None` for integers.
    pub(crate) fn of(dtype: DType) -> Option<Precision> {
        match dtype {
            DType::F32 => Some(Precision::F32),
            DType::F16 => Some(Precision::F16),
            DType::BF16 => Some(Precision::Bf16),
            DType::U32 | DType::I32 => None,
        }
    }

    fn vec4_input(self) -> (&'static str, &'static str) {
        match self {
            Precision::F32 => ("input_f32.wgsl", INPUT_F32),
            Precision::F16 => ("input_f16.wgsl", INPUT_F16),
            Precision::Bf16 => ("input_bf16.wgsl", INPUT_BF16),
        }
    }

    fn scalar_input(self) -> (&'static str, &'static str) {
        match self {
            Precision::F32 => ("scalar_f32.wgsl", SCALAR_F32),
            Precision::F16 => ("scalar_f16.wgsl", SCALAR_F16),
            Precision::Bf16 => ("scalar_bf16.wgsl", SCALAR_BF16),
        }
    }

    fn grad(self) -> (&'static str, &'static str) {
        match self {
            Precision::F32 => ("grad_f32.wgsl", GRAD_F32),
            Precision::F16 => ("grad_f16.wgsl", GRAD_F16),
            Precision::Bf16 => ("grad_bf16.wgsl", GRAD_BF16),
        }
    }
}

/// An element-wise loss's storage: input x (and its gradient), target y, weights w.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Storage {
    pub x: Precision,
    pub y: Precision,
    pub w: Precision,
}

impl Storage {
    /// Every combination the crate accepts: targets and weights in f32 or in x's precision.
    fn all() -> impl Iterator<Item = Storage> {
        Precision::ALL.into_iter().flat_map(|x| {
            let mut list = vec![];
            for y in [Precision::F32, x] {
                for w in [Precision::F32, x] {
                    let s = Storage { x, y, w };
                    if !list.contains(&s) {
                        list.push(s);
                    }
                }
            }
            list
        })
    }
}

/// One compiled shader module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kernel {
    Finalize,
    Elementwise(Pointwise, Storage),
    /// Logits' and probability targets' precisions.
    CrossEntropy(Precision, Precision),
    /// f32 to this half precision.
    Convert(Precision),
}

impl Kernel {
    fn all() -> impl Iterator<Item = Kernel> {
        let elementwise = Pointwise::ALL
            .into_iter()
            .flat_map(|p| Storage::all().map(move |s| Kernel::Elementwise(p, s)));
        let ce = Precision::ALL.into_iter().flat_map(|l| {
            let targets = if l == Precision::F32 {
                vec![l]
            } else {
                vec![Precision::F32, l]
            };
            targets.into_iter().map(move |t| Kernel::CrossEntropy(l, t))
        });
        let convert = [Precision::F16, Precision::Bf16].map(Kernel::Convert);
        std::iter::once(Kernel::Finalize)
            .chain(elementwise)
            .chain(ce)
            .chain(convert)
    }

    fn name(self) -> String {
        let p = |p: Precision| format!("{p:?}").to_lowercase();
        match self {
            Kernel::Finalize => "finalize".into(),
            Kernel::Elementwise(l, s) => format!(
                "{}_x{}_y{}_w{}",
                format!("{l:?}").to_lowercase(),
                p(s.x),
                p(s.y),
                p(s.w)
            ),
            Kernel::CrossEntropy(l, t) => format!("cross_entropy_logits{}_targets{}", p(l), p(t)),
            Kernel::Convert(to) => format!("convert_{}", p(to)),
        }
    }

    /// The names of the module's boolean pipeline constants, bit `i` of a call's flags
    /// setting the `i`-th.
    pub(crate) fn flag_names(self) -> &'static [&'static str] {
        match self {
            Kernel::Finalize | Kernel::Convert(_) => &[],
            Kernel::Elementwise(..) => &[
                "WRITE_OUT",
                "WRITE_GRAD",
                "WEIGHTED",
                "POS_WEIGHTED",
                "LOG_TARGET",
                "FINAL",
            ],
            Kernel::CrossEntropy(..) => &[
                "WRITE_OUT",
                "WRITE_GRAD",
                "WEIGHTED",
                "HAS_IGNORE",
                "SCALE_FROM_BUFFER",
                "SMOOTHED",
                "FINAL",
                "MEAN_BY_WEIGHT",
            ],
        }
    }

    /// The files the module is made of, in order, with the text each contributes (an input's
    /// file with its name and binding filled in).
    fn parts(self, subgroups: bool) -> Vec<(&'static str, String)> {
        let reduce = if subgroups {
            ("reduce_subgroup.wgsl", REDUCE_SUBGROUP)
        } else {
            ("reduce_tree.wgsl", REDUCE_TREE)
        };
        let whole = |(file, text): (&'static str, &'static str)| (file, text.to_string());
        let input = |(file, text): (&'static str, &'static str), name: &str, binding: u32| {
            let text = text
                .replace("NAME", name)
                .replace("BINDING", &binding.to_string());
            (file, text)
        };
        let mut parts = vec![whole(reduce)];
        match self {
            Kernel::Finalize => parts.push(whole(("finalize.wgsl", FINALIZE))),
            Kernel::Elementwise(loss, s) => {
                parts.extend(loss.wgsl().iter().copied().map(whole));
                parts.push(input(s.x.vec4_input(), "x", 1));
                parts.push(input(s.y.vec4_input(), "y", 2));
                parts.push(input(s.w.vec4_input(), "w", 3));
                parts.push(whole(s.x.grad()));
                parts.push(whole(("elementwise.wgsl", ELEMENTWISE)));
            }
            Kernel::CrossEntropy(logits, targets) => {
                parts.push(whole(("log1p.wgsl", LOG1P)));
                parts.push(whole(("softmax_stats.wgsl", SOFTMAX_STATS)));
                parts.push(input(logits.scalar_input(), "logits", 1));
                parts.push(input(targets.scalar_input(), "targets", 9));
                parts.push(whole(("cross_entropy.wgsl", CROSS_ENTROPY)));
            }
            Kernel::Convert(to) => {
                parts.push(whole(to.grad()));
                parts.push(whole(("convert.wgsl", CONVERT)));
            }
        }
        parts
    }

    /// The module's WGSL.
    pub(crate) fn source(self, subgroups: bool) -> String {
        let texts: Vec<String> = self.parts(subgroups).into_iter().map(|p| p.1).collect();
        texts.join("\n")
    }
}

/// One shader module as the crate compiles it.
#[derive(Debug, Clone)]
pub struct ShaderVariant {
    /// Kernel, storage and reduction path, e.g. `"cross_entropy_logitsf32_targetsf32+tree"`.
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
}

/// Every shader module the crate can compile: each kernel, in each storage it accepts, with
/// both reduction paths.
///
/// ```
/// let variants = wgpu_loss::shaders::variants();
/// assert!(variants.iter().any(|v| v.name == "cross_entropy_logitsf32_targetsf32+tree"));
/// ```
pub fn variants() -> Vec<ShaderVariant> {
    Kernel::all()
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
                overrides: k.flag_names(),
            })
        })
        .collect()
}
