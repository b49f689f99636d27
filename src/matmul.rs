//! The tiled matrix product the linear cross-entropy is built on, for your own layers (and
//! to compare the linear cross-entropy with logits made in full).

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::gpu::{Destination, Recorder};
use crate::kernels::check::{self, Meta};
use crate::kernels::matmul::{self, Operand, Product, View};
use crate::tensor::Tensor;

/// `a · b` in f32: `a` `[M, K]`, `b` `[K, N]`, each f32, f16 or bf16; the product `[M, N]`
/// is f32, accumulated in f32. See [`Matmul`] for transposed operands.
///
/// ```
/// use wgpu_loss::{Device, Tensor};
/// let dev = Device::new()?;
/// let a = Tensor::from_slice(&dev, &[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
/// let b = Tensor::from_slice(&dev, &[1.0f32, 0.0, 1.0, 1.0], &[2, 2])?;
/// assert_eq!(wgpu_loss::matmul(&a, &b)?.to_vec::<f32>()?, vec![3.0, 2.0, 7.0, 4.0]);
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
pub fn matmul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    Matmul::new().forward(a, b)
}

/// A matrix product `op(a) · op(b)` where `op` transposes an operand stored the other way
/// round, without copying it: `Matmul::new().transpose_b(true)` is `torch.nn.functional
/// .linear` (`x · wᵀ`, `w` `[out, in]`). Operands larger than one storage binding, and
/// inner dimensions of any length, are split into blocks the device takes.
///
/// ```
/// use wgpu_loss::{Device, Matmul, Tensor};
/// let dev = Device::new()?;
/// let x = Tensor::from_slice(&dev, &[1.0f32, 2.0], &[1, 2])?;
/// let w = Tensor::from_slice(&dev, &[1.0f32, 1.0, 0.0, 1.0, 1.0, 0.0], &[3, 2])?;
/// let y = Matmul::new().transpose_b(true).forward(&x, &w)?; // [1, 3]
/// assert_eq!(y.to_vec::<f32>()?, vec![3.0, 2.0, 1.0]);
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Matmul {
    transpose_a: bool,
    transpose_b: bool,
}

impl Matmul {
    /// `a · b`, neither transposed.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether `a` is stored `[K, M]`.
    pub fn transpose_a(mut self, on: bool) -> Self {
        self.transpose_a = on;
        self
    }

    /// Whether `b` is stored `[N, K]`.
    pub fn transpose_b(mut self, on: bool) -> Self {
        self.transpose_b = on;
        self
    }

    /// Computes the product.
    pub fn forward(&self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        self.run(a, b, Destination::Submit)
    }

    /// Records the product into `encoder`, which you submit (see [`Loss`](crate::Loss)).
    pub fn record(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        a: &Tensor,
        b: &Tensor,
    ) -> Result<Tensor> {
        self.run(a, b, Destination::Encoder(encoder))
    }

    fn run(&self, a: &Tensor, b: &Tensor, to: Destination) -> Result<Tensor> {
        let product = self.product(Meta::of(a), Meta::of(b))?;
        let dev = a.device();
        check::same_device(dev, [a, b])?;
        let mut rec = Recorder::new(dev, to)?;
        let c = Tensor::alloc(dev, &[product.m, product.n], DType::F32, "matmul")?;
        matmul::record(&mut rec, &product, a, b, &c)?;
        let submission = rec.submission();
        rec.submit()?;
        Ok(c.recorded_in(submission))
    }

    /// The product of `a` and `b`, checked.
    fn product(&self, a: Meta, b: Meta) -> Result<Product> {
        let pa = check::float(a, "matmul's a")?;
        let pb = check::float(b, "matmul's b")?;
        let (&[ar, ac], &[br, bc]) = (a.shape, b.shape) else {
            return Err(Error::Shape(format!(
                "matmul: operands must be matrices, got {:?} and {:?}",
                a.shape, b.shape
            )));
        };
        let ((m, k), view_a) = match self.transpose_a {
            false => ((ar, ac), View::rows(0, ac)),
            true => ((ac, ar), View::columns(0, ac)),
        };
        let ((k2, n), view_b) = match self.transpose_b {
            false => ((br, bc), View::rows(0, bc)),
            true => ((bc, br), View::columns(0, bc)),
        };
        if k != k2 {
            return Err(Error::Shape(format!(
                "matmul: {:?}{} and {:?}{} differ in the inner dimension ({k} and {k2})",
                a.shape,
                if self.transpose_a { "ᵀ" } else { "" },
                b.shape,
                if self.transpose_b { "ᵀ" } else { "" },
            )));
        }
        Ok(Product {
            m,
            n,
            k,
            a: Operand {
                view: view_a,
                elem: pa.elem(),
            },
            b: Operand {
                view: view_b,
                elem: pb.elem(),
            },
            c: View::rows(0, n),
            accumulate: false,
            skip_zero: false,
        })
    }
}
