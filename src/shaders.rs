//! The WGSL this crate runs, composed from the files in `wgsl/`.
//!
//! Each kernel is one module made by putting small files one after the other: a workgroup
//! reduction (a shared-memory tree, or subgroup operations where the adapter has them), the
//! math of one loss, and the driver that reads the inputs and writes the outputs. This module
//! lists every variant, so a test (or a user) can validate or translate all of them without a GPU.

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
    fn wgsl(self) -> &'static [&'static str] {
        match self {
            Pointwise::Mse => &[MSE],
            Pointwise::L1 => &[L1],
            Pointwise::Huber => &[HUBER],
            Pointwise::Bce => &[BCE],
            Pointwise::BceLogits => &[LOG1P, BCE_LOGITS],
            Pointwise::KlDiv => &[KL_DIV],
        }
    }
}

/// One compiled shader module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kernel {
    Finalize,
    Elementwise(Pointwise),
    CrossEntropy,
}

impl Kernel {
    fn all() -> impl Iterator<Item = Kernel> {
        [Kernel::Finalize, Kernel::CrossEntropy]
            .into_iter()
            .chain(Pointwise::ALL.into_iter().map(Kernel::Elementwise))
    }

    fn name(self) -> String {
        match self {
            Kernel::Finalize => "finalize".into(),
            Kernel::Elementwise(p) => format!("elementwise_{p:?}").to_lowercase(),
            Kernel::CrossEntropy => "cross_entropy".into(),
        }
    }

    /// The names of the module's boolean pipeline constants, bit `i` of a call's flags
    /// setting the `i`-th.
    pub(crate) fn flag_names(self) -> &'static [&'static str] {
        match self {
            Kernel::Finalize => &[],
            Kernel::Elementwise(_) => &[
                "WRITE_OUT",
                "WRITE_GRAD",
                "WEIGHTED",
                "POS_WEIGHTED",
                "LOG_TARGET",
                "FINAL",
            ],
            Kernel::CrossEntropy => &[
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

    /// The module's WGSL: reduction, then the loss's math, then the driver.
    pub(crate) fn source(self, subgroups: bool) -> String {
        let reduce = if subgroups {
            REDUCE_SUBGROUP
        } else {
            REDUCE_TREE
        };
        let mut parts = vec![reduce];
        match self {
            Kernel::Finalize => parts.push(FINALIZE),
            Kernel::Elementwise(p) => {
                parts.extend(p.wgsl());
                parts.push(ELEMENTWISE);
            }
            Kernel::CrossEntropy => parts.extend([LOG1P, SOFTMAX_STATS, CROSS_ENTROPY]),
        }
        parts.join("\n")
    }
}

/// One shader module as the crate compiles it.
#[derive(Debug, Clone)]
pub struct ShaderVariant {
    /// Kernel name and reduction path, e.g. `"cross_entropy+subgroup"`.
    pub name: String,
    /// The complete WGSL module.
    pub source: String,
    /// Whether it needs `Features::SUBGROUP` (the subgroup reduction path).
    pub needs_subgroups: bool,
    /// Its boolean pipeline-overridable constants (`override NAME: bool`): the crate builds
    /// one pipeline per combination a call needs.
    pub overrides: &'static [&'static str],
}

/// Every shader module the crate can compile: each kernel with both reduction paths.
///
/// ```
/// let variants = wgpu_loss::shaders::variants();
/// assert!(variants.iter().any(|v| v.name == "cross_entropy+tree"));
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
                needs_subgroups: subgroups,
                overrides: k.flag_names(),
            })
        })
        .collect()
}
