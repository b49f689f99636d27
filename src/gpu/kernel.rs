//! The language a kernel's contract is written in: what the runtime needs to know of a WGSL
//! module to build its pipelines and bind its buffers, stated once per kernel family in Rust.
//!
//! A family (`crate::kernels::*`) implements [`Kernel`] for its module variants and declares:
//! - its bindings as [`BindingDecl`] constants (number, WGSL name, access), from which the
//!   explicit bind group layout of each entry point is made;
//! - its pipeline-overridable constants as a struct made by [`overrides!`](overrides);
//! - its uniform parameters as a struct made by [`uniform!`](uniform);
//! - its entry points as an enum made by [`entry_points!`](entry_points).
//!
//! `tests/contract.rs` reads every composed module with naga and checks each of these
//! against the WGSL, so a mismatch fails `cargo test` rather than a user's call.

/// How a kernel reads a binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Access {
    /// `var<uniform>`.
    Uniform,
    /// `var<storage, read>`.
    Read,
    /// `var<storage, read_write>` (atomics included).
    ReadWrite,
}

/// One binding of group 0: its number, the name of its WGSL variable, and its access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BindingDecl {
    /// `@binding(N)`.
    pub binding: u32,
    /// The WGSL variable bound there.
    pub name: &'static str,
    /// How the kernel accesses it.
    pub access: Access,
}

impl BindingDecl {
    pub(crate) const fn uniform(binding: u32, name: &'static str) -> Self {
        BindingDecl {
            binding,
            name,
            access: Access::Uniform,
        }
    }

    pub(crate) const fn read(binding: u32, name: &'static str) -> Self {
        BindingDecl {
            binding,
            name,
            access: Access::Read,
        }
    }

    pub(crate) const fn read_write(binding: u32, name: &'static str) -> Self {
        BindingDecl {
            binding,
            name,
            access: Access::ReadWrite,
        }
    }

    /// The layout entry of this binding for a compute pipeline.
    pub(crate) fn layout_entry(self) -> wgpu::BindGroupLayoutEntry {
        let ty = match self.access {
            Access::Uniform => wgpu::BufferBindingType::Uniform,
            Access::Read => wgpu::BufferBindingType::Storage { read_only: true },
            Access::ReadWrite => wgpu::BufferBindingType::Storage { read_only: false },
        };
        wgpu::BindGroupLayoutEntry {
            binding: self.binding,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty,
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        }
    }
}

/// The scalar type of a uniform's field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    /// `u32`.
    U32,
    /// `i32`.
    I32,
    /// `f32`.
    F32,
}

/// How the crate lays out a kernel's uniform struct: what the WGSL struct must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UniformLayout {
    /// The WGSL struct's name.
    pub wgsl_name: &'static str,
    /// Its size in bytes.
    pub size: usize,
    /// `(name, byte offset, type)` of each field, in order.
    pub fields: &'static [(&'static str, usize, Scalar)],
}

/// A Rust type that may be a field of a [`Uniform`].
pub(crate) trait UniformField: bytemuck::Pod {
    const SCALAR: Scalar;
}

impl UniformField for u32 {
    const SCALAR: Scalar = Scalar::U32;
}
impl UniformField for i32 {
    const SCALAR: Scalar = Scalar::I32;
}
impl UniformField for f32 {
    const SCALAR: Scalar = Scalar::F32;
}

/// A kernel's uniform parameters: a `#[repr(C)]` struct of 32-bit scalars, mirrored by a WGSL
/// struct of the same field names, order and types. Made by [`uniform!`](uniform).
pub(crate) trait Uniform: bytemuck::Pod {
    /// The WGSL struct's name.
    const WGSL_NAME: &'static str;
    /// `(name, byte offset, type)` of each field, in order.
    const FIELDS: &'static [(&'static str, usize, Scalar)];

    /// The layout the WGSL struct must have.
    fn layout() -> UniformLayout {
        UniformLayout {
            wgsl_name: Self::WGSL_NAME,
            size: std::mem::size_of::<Self>(),
            fields: Self::FIELDS,
        }
    }
}

/// A kernel's boolean pipeline-overridable constants. Made by [`overrides!`](overrides).
pub(crate) trait Overrides: Copy + Default + Eq + std::hash::Hash + std::fmt::Debug {
    /// The WGSL `override` names, in field order.
    const NAMES: &'static [&'static str];
    /// One bit per constant that is true, in [`Overrides::NAMES`] order (part of a pipeline's key).
    fn bits(&self) -> u32;
    /// The constants as wgpu takes them.
    fn constants(&self) -> Vec<(&'static str, f64)> {
        let bits = self.bits();
        Self::NAMES
            .iter()
            .enumerate()
            .map(|(i, &name)| (name, f64::from((bits >> i) & 1)))
            .collect()
    }
}

/// A module's entry points. Made by [`entry_points!`](entry_points).
pub(crate) trait EntryPoint:
    Copy + Eq + std::hash::Hash + std::fmt::Debug + 'static
{
    /// Every entry point of the family.
    const ALL: &'static [Self];
    /// Its name in the WGSL.
    fn name(self) -> &'static str;
}

/// One WGSL module variant of a kernel family, as the runtime builds pipelines from it.
pub(crate) trait Kernel: Copy + std::fmt::Debug {
    type Entry: EntryPoint;
    type Overrides: Overrides;
    type Params: Uniform;
    /// The family's name (part of a pipeline's key and of the variants' names).
    const FAMILY: &'static str;
    /// This variant among the family's, as a number (part of a pipeline's key).
    fn code(self) -> u32;
    /// The variant's name, e.g. `mse_xf32_yf32`.
    fn name(self) -> String;
    /// The files of `wgsl/` the module is made of, in order, with the text each contributes.
    fn parts(self, subgroups: bool) -> Vec<(&'static str, String)>;
    /// The entry points this variant has.
    fn entries(self) -> Vec<Self::Entry> {
        Self::Entry::ALL.to_vec()
    }
    /// The bindings `entry` uses in this variant: its bind group layout.
    fn layout(self, entry: Self::Entry) -> Vec<BindingDecl>;

    /// The module's WGSL.
    fn source(self, subgroups: bool) -> String {
        let texts: Vec<String> = self.parts(subgroups).into_iter().map(|p| p.1).collect();
        texts.join("\n")
    }
}

/// Declares a kernel's uniform parameters: the `#[repr(C)]` Rust struct and its [`Uniform`]
/// description, from one list of fields.
macro_rules! uniform {
    ($(#[$meta:meta])* $vis:vis struct $name:ident as $wgsl:literal {
        $($(#[$fmeta:meta])* $field:ident: $ty:ty),* $(,)?
    }) => {
        $(#[$meta])*
        #[repr(C)]
        #[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
        $vis struct $name {
            $($(#[$fmeta])* pub $field: $ty),*
        }

        impl $crate::gpu::Uniform for $name {
            const WGSL_NAME: &'static str = $wgsl;
            const FIELDS: &'static [(&'static str, usize, $crate::gpu::Scalar)] = &[$((
                stringify!($field),
                std::mem::offset_of!($name, $field),
                <$ty as $crate::gpu::UniformField>::SCALAR,
            )),*];
        }
    };
}
pub(crate) use uniform;

/// Declares a kernel's boolean pipeline constants: a struct of `bool` fields, each named
/// after the WGSL `override` it sets (`"FINAL" => final_result`).
macro_rules! overrides {
    ($(#[$meta:meta])* $vis:vis struct $name:ident {
        $($(#[$fmeta:meta])* $wgsl:literal => $field:ident),* $(,)?
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
        $vis struct $name {
            $($(#[$fmeta])* pub $field: bool),*
        }

        impl $crate::gpu::Overrides for $name {
            const NAMES: &'static [&'static str] = &[$($wgsl),*];
            #[allow(unused_mut, unused_variables, unused_assignments)]
            fn bits(&self) -> u32 {
                let (mut bits, mut bit) = (0u32, 0u32);
                $(
                    bits |= u32::from(self.$field) << bit;
                    bit += 1;
                )*
                bits
            }
        }
    };
}
pub(crate) use overrides;

/// Declares a module's entry points: an enum, each variant tied to its WGSL function's name.
macro_rules! entry_points {
    ($(#[$meta:meta])* $vis:vis enum $name:ident {
        $($(#[$vmeta:meta])* $variant:ident = $wgsl:literal),* $(,)?
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $($(#[$vmeta])* $variant),*
        }

        impl $crate::gpu::EntryPoint for $name {
            const ALL: &'static [Self] = &[$($name::$variant),*];
            fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $wgsl),*
                }
            }
        }
    };
}
pub(crate) use entry_points;
