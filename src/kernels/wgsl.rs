//! The files of `wgsl/`, and the parts that store a tensor in one precision.
//!
//! A module is made by putting parts one after the other (see [`Kernel::parts`](crate::gpu::Kernel::parts));
//! a part is a file's text, with `NAME` and `BINDING` filled in for the files that serve
//! several inputs.

use crate::dtype::DType;

/// A file of `wgsl/`: its name and its text.
pub(crate) type File = (&'static str, &'static str);

/// One part of a composed module: the file it comes from and the text it contributes.
pub(crate) type Part = (&'static str, String);

/// Declares each file of `wgsl/` as a constant, and [`FILES`], the list of them all.
macro_rules! wgsl_files {
    ($($name:ident = $file:literal,)*) => {
        $(pub(crate) const $name: File = (
            concat!($file, ".wgsl"),
            include_str!(concat!("../../wgsl/", $file, ".wgsl")),
        );)*

        /// Every file in `wgsl/`, by name, with its text.
        pub const FILES: &[File] = &[$($name),*];
    };
}

wgsl_files! {
    BCE = "bce",
    BCE_LOGITS = "bce_logits",
    BIAS_NONE = "bias_none",
    BROADCAST = "broadcast",
    CLASS_WEIGHT = "class_weight",
    CLASS_WEIGHT_NONE = "class_weight_none",
    CONVERT = "convert",
    COSINE_EMBEDDING = "cosine_embedding",
    COSINE_SIMILARITY = "cosine_similarity",
    CROSS_ENTROPY = "cross_entropy",
    CTC = "ctc",
    ELEMENTWISE = "elementwise",
    ELEMENTWISE_NO_OUT = "elementwise_no_out",
    ELEMENTWISE_OUT = "elementwise_out",
    FINALIZE = "finalize",
    GAUSSIAN_NLL = "gaussian_nll",
    GRAD_BF16 = "grad_bf16",
    GRAD_F16 = "grad_f16",
    GRAD_F32 = "grad_f32",
    GRAD_NONE = "grad_none",
    HINGE = "hinge",
    HINGE_EMBEDDING = "hinge_embedding",
    HUBER = "huber",
    INPUT_BF16 = "input_bf16",
    INPUT_F16 = "input_f16",
    INPUT_F32 = "input_f32",
    INPUT_ONE = "input_one",
    WEIGHT_BROADCAST = "weight_broadcast",
    KL_DIV = "kl_div",
    L1 = "l1",
    LINEAR_CE = "linear_ce",
    LINEAR_CE_BIAS = "linear_ce_bias",
    LINEAR_CE_MATH = "linear_ce_math",
    LINEAR_CE_TILES = "linear_ce_tiles",
    LOG1P = "log1p",
    LOG_COSH = "log_cosh",
    MARGIN_RANKING = "margin_ranking",
    MATMUL = "matmul",
    MATMUL_TILE = "matmul_tile",
    MSE = "mse",
    MULTI_MARGIN = "multi_margin",
    MULTILABEL_MARGIN = "multilabel_margin",
    MULTILABEL_SOFT_MARGIN = "multilabel_soft_margin",
    PAIR_GRAD = "pair_grad",
    PAIR_NO_GRAD = "pair_no_grad",
    POISSON_NLL = "poisson_nll",
    POS_WEIGHT = "pos_weight",
    POS_WEIGHT_NONE = "pos_weight_none",
    RANGE_CHECK = "range_check",
    RANGE_CHECK_NONE = "range_check_none",
    REDUCE_SUBGROUP = "reduce_subgroup",
    REDUCE_TREE = "reduce_tree",
    ROW_GRAD_OUT = "row_grad_out",
    ROW_GRAD_SKIP = "row_grad_skip",
    ROWS_GRAD = "rows_grad",
    ROWS_GRAD_SCALE_BUFFER = "rows_grad_scale_buffer",
    ROWS_GRAD_SCALE_PARAMS = "rows_grad_scale_params",
    ROWS_NO_GRAD = "rows_no_grad",
    ROWS_NO_OUT = "rows_no_out",
    ROWS_OUT = "rows_out",
    ROWS_PAIR = "rows_pair",
    SCALAR_BF16 = "scalar_bf16",
    SCALAR_F16 = "scalar_f16",
    SCALAR_F32 = "scalar_f32",
    SECOND_GRAD_NONE = "second_grad_none",
    SIGMOID_FOCAL = "sigmoid_focal",
    SMOOTH_L1 = "smooth_l1",
    SOFT_MARGIN = "soft_margin",
    SOFTPLUS = "softplus",
    SOFTMAX_STATS = "softmax_stats",
    TRIPLET_MARGIN = "triplet_margin",
}

/// A file's whole text as a part.
pub(crate) fn whole((file, text): File) -> Part {
    (file, text.to_string())
}

/// A file serving one of several inputs, with its name and binding filled in.
pub(crate) fn named((file, text): File, name: &str, binding: u32) -> Part {
    let text = text
        .replace("NAME", name)
        .replace("BINDING", &binding.to_string());
    (file, text)
}

/// The workgroup reduction: subgroup operations, or a tree in workgroup memory.
pub(crate) fn reduce(subgroups: bool) -> Part {
    whole(if subgroups {
        REDUCE_SUBGROUP
    } else {
        REDUCE_TREE
    })
}

/// How a floating-point tensor is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Precision {
    F32,
    F16,
    Bf16,
}

impl Precision {
    pub(crate) const ALL: [Precision; 3] = [Precision::F32, Precision::F16, Precision::Bf16];

    /// The storage of a floating-point tensor; `None` for integers.
    pub(crate) fn of(dtype: DType) -> Option<Precision> {
        match dtype {
            DType::F32 => Some(Precision::F32),
            DType::F16 => Some(Precision::F16),
            DType::BF16 => Some(Precision::Bf16),
            DType::U32 | DType::I32 => None,
        }
    }

    /// A small number for pipeline keys.
    pub(crate) fn code(self) -> u32 {
        self as u32
    }

    /// Its name in variant names: `f32`, `f16`, `bf16`.
    pub(crate) fn name(self) -> &'static str {
        ["f32", "f16", "bf16"][self as usize]
    }

    /// Bytes of one element.
    pub(crate) fn elem(self) -> u64 {
        [4, 2, 2][self as usize]
    }

    /// Reading four elements at a time as `vec4<f32>` (`load_NAME`).
    pub(crate) fn vec4_input(self) -> File {
        [INPUT_F32, INPUT_F16, INPUT_BF16][self as usize]
    }

    /// Reading one element at a time as `f32` (`load_NAME`).
    pub(crate) fn scalar_input(self) -> File {
        [SCALAR_F32, SCALAR_F16, SCALAR_BF16][self as usize]
    }

    /// Storing four f32 at a time, rounded to this precision (`store_grad`).
    pub(crate) fn vec4_output(self) -> File {
        [GRAD_F32, GRAD_F16, GRAD_BF16][self as usize]
    }
}
