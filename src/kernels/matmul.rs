//! `matmul.wgsl` (its tiles from `matmul_tile.wgsl`): a tiled matrix product `c (+)= a · b`
//! in f32, for operands stored either way round in f32, f16 or bf16, split into blocks whose
//! operands fit one storage binding each and whose k-range fits Mesa's loop budget.

use crate::error::{Error, Result};
use crate::gpu::{BindingDecl, Kernel, Limits, Recorder, entry_points, overrides, uniform};
use crate::kernels::wgsl::{self, Part, Precision};
use crate::tensor::Tensor;

/// One module variant: how each operand is stored (`c` is f32).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct MatmulTiles {
    pub a: Precision,
    pub b: Precision,
}

entry_points! {
    pub(crate) enum MatmulEntry {
        /// One 64 × 64 tile of `c` per workgroup.
        Matmul = "matmul",
    }
}

overrides! {
    /// None: every choice is a runtime one.
    pub(crate) struct MatmulOverrides {}
}

uniform! {
    pub(crate) struct MatmulParams as "MatmulParams" {
        m: u32,
        n: u32,
        k: u32,
        a_off: u32,
        a_rs: u32,
        a_cs: u32,
        b_off: u32,
        b_rs: u32,
        b_cs: u32,
        c_off: u32,
        c_rs: u32,
        tiles_n: u32,
        tile_base: u32,
        accumulate: u32,
        skip_zero: u32,
    }
}

const PARAMS: BindingDecl = BindingDecl::uniform(0, "params");
const A: BindingDecl = BindingDecl::read(1, "a_data");
const B: BindingDecl = BindingDecl::read(2, "b_data");
const C: BindingDecl = BindingDecl::read_write(3, "c");

/// Output rows and columns of one workgroup's tile: `TILE` in `matmul.wgsl`.
const TILE: usize = 64;

/// The longest k-range of one dispatch: 25 loop iterations per 16 of k keep an invocation
/// under [`MAX_LOOP`](crate::kernels::plan::MAX_LOOP).
pub(crate) const MAX_K: usize = 16_384;

impl MatmulTiles {
    /// Every variant the crate builds.
    pub(crate) fn all() -> Vec<MatmulTiles> {
        Precision::ALL
            .into_iter()
            .flat_map(|a| Precision::ALL.map(|b| MatmulTiles { a, b }))
            .collect()
    }
}

impl Kernel for MatmulTiles {
    type Entry = MatmulEntry;
    type Overrides = MatmulOverrides;
    type Params = MatmulParams;
    const FAMILY: &'static str = "matmul";

    fn code(self) -> u32 {
        self.a.code() * 3 + self.b.code()
    }

    fn name(self) -> String {
        format!("matmul_a{}_b{}", self.a.name(), self.b.name())
    }

    /// No reduction: the same module on both paths.
    fn parts(self, _subgroups: bool) -> Vec<Part> {
        vec![
            wgsl::named(self.a.scalar_input(), "a", A.binding),
            wgsl::named(self.b.scalar_input(), "b", B.binding),
            wgsl::whole(wgsl::MATMUL_TILE),
            wgsl::whole(wgsl::MATMUL),
        ]
    }

    fn layout(self, _: MatmulEntry) -> Vec<BindingDecl> {
        vec![PARAMS, A, B, C]
    }
}

/// A matrix inside a tensor's elements: element `(i, j)` at `offset + i * rs + j * cs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct View {
    pub offset: usize,
    pub rs: usize,
    pub cs: usize,
}

impl View {
    /// A row-major matrix of `cols` columns from element `offset`.
    pub(crate) fn rows(offset: usize, cols: usize) -> View {
        View {
            offset,
            rs: cols,
            cs: 1,
        }
    }

    /// The transpose of a row-major matrix of `cols` columns from element `offset`.
    pub(crate) fn columns(offset: usize, cols: usize) -> View {
        View {
            offset,
            rs: 1,
            cs: cols,
        }
    }

    /// Elements from the block's first to its last, inclusive, of `rows × cols`.
    fn span(self, rows: usize, cols: usize) -> u64 {
        ((rows.max(1) - 1) * self.rs + (cols.max(1) - 1) * self.cs + 1) as u64
    }

    fn at(self, i: usize, j: usize) -> usize {
        self.offset + i * self.rs + j * self.cs
    }
}

/// One operand of a product: where the matrix lies and how large an element is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Operand {
    pub view: View,
    pub elem: u64,
}

/// `c (+)= a · b` with `a` `[m, k]`, `b` `[k, n]`, `c` `[m, n]` (f32).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Product {
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub a: Operand,
    pub b: Operand,
    pub c: View,
    /// Add to `c` rather than overwrite it.
    pub accumulate: bool,
    /// Skip each step of 16 along k whose slice of `a` (a tile's rows) is all 0.
    pub skip_zero: bool,
}

/// The elements `first .. first + len` of a tensor one dispatch binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    pub first: usize,
    pub len: usize,
}

/// One dispatch of a product.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct MatmulDispatch {
    pub params: MatmulParams,
    pub a: Window,
    pub b: Window,
    pub c: Window,
    pub groups: u32,
}

impl PartialEq for MatmulParams {
    fn eq(&self, other: &Self) -> bool {
        bytemuck::bytes_of(self) == bytemuck::bytes_of(other)
    }
}

/// The window of `span` elements from element `first`, started at a binding offset the
/// device accepts; returns it and where `first` lies in it.
pub(crate) fn window(limits: &Limits, elem: u64, first: usize, span: u64) -> (Window, usize) {
    let align = limits.offset_alignment.max(elem);
    let start = ((first as u64 * elem) / align * align / elem) as usize;
    let len = (first - start) + span as usize;
    (Window { first: start, len }, first - start)
}

/// Bytes a block's window of an operand may need, with room for the offset's alignment.
fn window_bytes(limits: &Limits, elem: u64, span: u64) -> u64 {
    span * elem + limits.offset_alignment
}

/// Halves whichever of a block's two dimensions spans more of an operand (`(size, stride)`);
/// false when both are down to 1.
fn shrink(x: (&mut usize, usize), y: (&mut usize, usize)) -> bool {
    let spans = |(d, s): &(&mut usize, usize)| (**d > 1).then_some((**d - 1) * s);
    let d = match (spans(&x), spans(&y)) {
        (None, None) => return false,
        (Some(a), Some(b)) if b > a => y.0,
        (Some(_), _) => x.0,
        (None, Some(_)) => y.0,
    };
    *d = d.div_ceil(2);
    true
}

/// Splits a product into dispatches: blocks of `c` and of the k-range whose operands each fit
/// one binding, k-ranges of at most [`MAX_K`], and at most `max_workgroups` tiles each.
pub(crate) fn plan(limits: &Limits, p: &Product) -> Result<Vec<MatmulDispatch>> {
    if p.m == 0 || p.n == 0 || p.k == 0 {
        return Err(Error::Empty("matmul operand"));
    }
    let max = limits.max_binding.min(limits.max_buffer);
    let (mut bm, mut bn, mut bk) = (p.m, p.n, p.k.min(MAX_K));
    // Halve the dimension that spans most of the operand that does not fit, until all fit.
    loop {
        let a = window_bytes(limits, p.a.elem, p.a.view.span(bm, bk));
        let b = window_bytes(limits, p.b.elem, p.b.view.span(bk, bn));
        let c = window_bytes(limits, 4, p.c.span(bm, bn));
        let shrunk = if a > max {
            shrink((&mut bm, p.a.view.rs), (&mut bk, p.a.view.cs))
        } else if b > max {
            shrink((&mut bk, p.b.view.rs), (&mut bn, p.b.view.cs))
        } else if c > max {
            shrink((&mut bm, p.c.rs), (&mut bn, 1))
        } else {
            break;
        };
        if !shrunk {
            return Err(Error::TooLarge {
                what: "a row of a matmul operand",
                bytes: a.max(b).max(c),
                limit_name: "max_storage_buffer_binding_size",
                limit: max,
            });
        }
    }
    let mut dispatches = Vec::new();
    for m0 in (0..p.m).step_by(bm) {
        let m = bm.min(p.m - m0);
        for n0 in (0..p.n).step_by(bn) {
            let n = bn.min(p.n - n0);
            for k0 in (0..p.k).step_by(bk) {
                let k = bk.min(p.k - k0);
                let (a, a_off) = window(limits, p.a.elem, p.a.view.at(m0, k0), p.a.view.span(m, k));
                let (b, b_off) = window(limits, p.b.elem, p.b.view.at(k0, n0), p.b.view.span(k, n));
                let (c, c_off) = window(limits, 4, p.c.at(m0, n0), p.c.span(m, n));
                let tiles_n = n.div_ceil(TILE);
                let tiles = m.div_ceil(TILE) * tiles_n;
                let per_dispatch = limits.max_workgroups.max(1) as usize;
                for tile_base in (0..tiles).step_by(per_dispatch) {
                    dispatches.push(MatmulDispatch {
                        params: MatmulParams {
                            m: m as u32,
                            n: n as u32,
                            k: k as u32,
                            a_off: a_off as u32,
                            a_rs: p.a.view.rs as u32,
                            a_cs: p.a.view.cs as u32,
                            b_off: b_off as u32,
                            b_rs: p.b.view.rs as u32,
                            b_cs: p.b.view.cs as u32,
                            c_off: c_off as u32,
                            c_rs: p.c.rs as u32,
                            tiles_n: tiles_n as u32,
                            tile_base: tile_base as u32,
                            accumulate: u32::from(p.accumulate || k0 > 0),
                            skip_zero: u32::from(p.skip_zero),
                        },
                        a,
                        b,
                        c,
                        groups: per_dispatch.min(tiles - tile_base) as u32,
                    });
                }
            }
        }
    }
    Ok(dispatches)
}

/// Records `c (+)= a · b` as planned for these tensors.
pub(crate) fn record(
    rec: &mut Recorder<'_, '_>,
    p: &Product,
    a: &Tensor,
    b: &Tensor,
    c: &Tensor,
) -> Result<()> {
    let precision = |t: &Tensor| {
        Precision::of(t.dtype())
            .ok_or_else(|| Error::Gpu(format!("internal error: matmul of {:?}", t.dtype())))
    };
    let kernel = MatmulTiles {
        a: precision(a)?,
        b: precision(b)?,
    };
    for d in plan(&rec.device().limits(), p)? {
        let params = rec.uniform(&d.params);
        rec.dispatch(
            kernel,
            MatmulEntry::Matmul,
            MatmulOverrides::default(),
            &[
                (PARAMS, (&params).into()),
                (A, a.slot(d.a.first, d.a.len)),
                (B, b.slot(d.b.first, d.b.len)),
                (C, c.slot(d.c.first, d.c.len)),
            ],
            d.groups,
        )?;
    }
    Ok(())
}
