//! The losses: each a thin configuration (options, their checks, the call it makes to a
//! kernel family) in one file, and the [`Loss`] trait they all implement.

pub mod bce;
pub mod bce_logits;
pub mod cosine;
pub mod cross_entropy;
pub mod ctc;
pub mod gaussian_nll;
pub mod hinge;
pub mod huber;
pub mod kl_div;
pub mod l1;
pub mod linear_cross_entropy;
pub mod log_cosh;
pub mod margin_ranking;
pub mod mse;
pub mod multi_margin;
pub mod nll;
pub mod poisson_nll;
pub mod sigmoid_focal;
pub mod soft_margin;
pub mod triplet_margin;

use crate::error::Result;
use crate::gpu::{Destination, Recorder};
pub use crate::reduction::Reduction;
use crate::tensor::Tensor;

/// What every loss module can do, for generic code: compute the loss of its inputs, with or
/// without the gradients, in a submission of its own or recorded into your command encoder.
///
/// `Inputs` is the tuple of tensors a loss takes and `Grads` what its gradient is, so losses
/// of any arity fit: `(&input, &target)` and one gradient tensor for most losses here;
/// [`MarginRankingLoss`](crate::MarginRankingLoss) takes `(&x1, &x2, &y)` with
/// `Grads = (Tensor, Tensor)`, and a linear cross-entropy will take
/// `(&hidden, &classifier, &labels)` with a struct of three gradients.
/// Each loss also has inherent methods of the same names taking the tensors one by one
/// (`MseLoss::new().forward_with_grad(&input, &target)`); method calls find those first.
/// The trait is sealed: the crate implements it for its own losses.
///
/// Recording into your encoder lets your kernels and the loss run in one submission
/// (interop). The returned tensors are valid once you submit the encoder; reading them before
/// that waits for work that never comes, so submit first.
///
/// ```
/// use wgpu_loss::{wgpu, Device, Loss, MseLoss, Reduction, Tensor, L1Loss};
/// // Generic code: one training step's loss and gradient, for any two-input loss.
/// fn step<'a, L>(loss: &L, pred: &'a Tensor, target: &'a Tensor) -> wgpu_loss::Result<f32>
/// where
///     L: Loss<Inputs<'a> = (&'a Tensor, &'a Tensor), Grads = Tensor>,
/// {
///     let (value, _grad) = loss.forward_with_grad((pred, target))?;
///     Ok(value.to_vec::<f32>()?[0])
/// }
/// let dev = Device::new()?;
/// let pred = Tensor::from_slice(&dev, &[1.0f32, 2.0], &[2])?;
/// let target = Tensor::from_slice(&dev, &[0.0f32, 0.0], &[2])?;
/// assert_eq!(step(&MseLoss::new(), &pred, &target)?, 2.5);
/// assert_eq!(step(&L1Loss::new().reduction(Reduction::Sum), &pred, &target)?, 3.0);
///
/// // Interop: the loss recorded into your encoder, between your own passes.
/// let mut encoder = dev.wgpu_device().create_command_encoder(&Default::default());
/// // ... your own passes that fill `pred` ...
/// let (loss, grad) = MseLoss::new().record_with_grad(&mut encoder, &pred, &target)?;
/// // ... your own passes that read `grad.buffer()` ...
/// dev.wgpu_queue().submit([encoder.finish()]);
/// assert_eq!(loss.to_vec::<f32>()?, vec![2.5]);
/// # Ok::<(), wgpu_loss::Error>(())
/// ```
pub trait Loss: sealed::Sealed {
    /// The tensors the loss takes, as a tuple of references.
    type Inputs<'a>: Copy;
    /// Its gradients: one tensor (with respect to the first input), or several.
    type Grads;

    /// Computes the loss.
    fn forward(&self, inputs: Self::Inputs<'_>) -> Result<Tensor>;

    /// Computes the loss and its gradients in the same pass.
    fn forward_with_grad(&self, inputs: Self::Inputs<'_>) -> Result<(Tensor, Self::Grads)>;

    /// Records the loss into `encoder`, which you submit.
    fn record(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        inputs: Self::Inputs<'_>,
    ) -> Result<Tensor>;

    /// Records the loss and its gradients into `encoder`, which you submit.
    fn record_with_grad(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        inputs: Self::Inputs<'_>,
    ) -> Result<(Tensor, Self::Grads)>;
}

mod sealed {
    pub trait Sealed {}
}

/// How a loss computes: the one thing each loss implements, besides its options.
pub(crate) trait Compute: Loss {
    /// New gradient tensors for `inputs`.
    fn alloc_grads(&self, inputs: Self::Inputs<'_>) -> Result<Self::Grads>;

    /// Records the loss (and the gradients into `grads`) into `rec`; returns the loss.
    fn compute(
        &self,
        rec: &mut Recorder<'_, '_>,
        inputs: Self::Inputs<'_>,
        grads: Option<&Self::Grads>,
    ) -> Result<Tensor>;

    /// The gradients, readable only once the loss's status check passes.
    fn guard(grads: Self::Grads, loss: &Tensor) -> Self::Grads;
}

/// The device of a call: its first input's.
pub(crate) trait FirstInput {
    fn first(&self) -> &Tensor;
}

impl FirstInput for (&Tensor, &Tensor) {
    fn first(&self) -> &Tensor {
        self.0
    }
}

impl FirstInput for (&Tensor, &Tensor, &Tensor) {
    fn first(&self) -> &Tensor {
        self.0
    }
}

impl FirstInput for (&Tensor, &Tensor, &Tensor, &Tensor) {
    fn first(&self) -> &Tensor {
        self.0
    }
}

/// [`Loss::forward`] and [`Loss::record`]: the loss alone, submitted or into `to`.
pub(crate) fn run<'i, L>(loss: &L, to: Destination, inputs: L::Inputs<'i>) -> Result<Tensor>
where
    L: Compute,
    L::Inputs<'i>: FirstInput,
{
    record(loss, to, inputs, None)
}

/// [`Loss::forward_with_grad`] and [`Loss::record_with_grad`].
pub(crate) fn run_with_grad<'i, L>(
    loss: &L,
    to: Destination,
    inputs: L::Inputs<'i>,
) -> Result<(Tensor, L::Grads)>
where
    L: Compute,
    L::Inputs<'i>: FirstInput,
{
    let grads = loss.alloc_grads(inputs)?;
    let value = record(loss, to, inputs, Some(&grads))?;
    let grads = L::guard(grads, &value);
    Ok((value, grads))
}

/// Records one call of `loss` and submits it (unless it went into the caller's encoder).
fn record<'i, L>(
    loss: &L,
    to: Destination,
    inputs: L::Inputs<'i>,
    grads: Option<&L::Grads>,
) -> Result<Tensor>
where
    L: Compute,
    L::Inputs<'i>: FirstInput,
{
    #[cfg(not(target_arch = "wasm32"))]
    crate::calibrate::before_first_call(inputs.first().device());
    let mut rec = Recorder::new(inputs.first().device(), to)?;
    let value = loss.compute(&mut rec, inputs, grads)?;
    let submission = rec.submission();
    rec.submit()?;
    Ok(value.recorded_in(submission))
}

/// A gradient of `input`'s shape and element type.
pub(crate) fn grad_like(input: &Tensor) -> Result<Tensor> {
    Tensor::alloc(input.device(), input.shape(), input.dtype(), "gradient")
}

/// Implements the sealed [`Loss`] trait for `$loss` taking `$inputs` (a tuple of tensor
/// references with lifetime `'a`) and giving `$grads`, through [`run`] and [`run_with_grad`]:
/// the one body every loss shares, whatever its arity.
macro_rules! loss_trait {
    ($loss:ty, $inputs:ty, $grads:ty) => {
        impl $crate::loss::sealed::Sealed for $loss {}

        impl Loss for $loss {
            type Inputs<'a> = $inputs;
            type Grads = $grads;

            fn forward(&self, inputs: Self::Inputs<'_>) -> Result<Tensor> {
                $crate::loss::run(self, $crate::gpu::Destination::Submit, inputs)
            }

            fn forward_with_grad(&self, inputs: Self::Inputs<'_>) -> Result<(Tensor, Self::Grads)> {
                $crate::loss::run_with_grad(self, $crate::gpu::Destination::Submit, inputs)
            }

            fn record(
                &self,
                encoder: &mut wgpu::CommandEncoder,
                inputs: Self::Inputs<'_>,
            ) -> Result<Tensor> {
                $crate::loss::run(self, $crate::gpu::Destination::Encoder(encoder), inputs)
            }

            fn record_with_grad(
                &self,
                encoder: &mut wgpu::CommandEncoder,
                inputs: Self::Inputs<'_>,
            ) -> Result<(Tensor, Self::Grads)> {
                $crate::loss::run_with_grad(
                    self,
                    $crate::gpu::Destination::Encoder(encoder),
                    inputs,
                )
            }
        }
    };
}
pub(crate) use loss_trait;

/// Implements [`Loss`] and the inherent methods (`new`, `reduction`, `forward`, …) for a loss
/// of `(input, target)` with one gradient, given the kernel family it calls (`elementwise` or `class_rows`), the names of
/// its two tensors, its reduction type, and the docs of its `forward_with_grad`. The loss
/// provides `fn call(&self, input: &Tensor) -> Result<…Call>`: its options, checked.
macro_rules! two_input_loss {
    ($loss:ty, $family:ident, $x:ident, $y:ident, $reduction:ty, $(#[$grad_doc:meta])*) => {
        impl $loss {
            /// The loss with PyTorch's defaults (see the type's documentation).
            pub fn new() -> Self {
                Self::default()
            }

            /// Sets the reduction.
            pub fn reduction(mut self, reduction: $reduction) -> Self {
                self.reduction = reduction;
                self
            }

            #[doc = concat!("Computes the loss of `", stringify!($x), "` against `", stringify!($y), "`.")]
            pub fn forward(&self, $x: &Tensor, $y: &Tensor) -> Result<Tensor> {
                Loss::forward(self, ($x, $y))
            }

            $(#[$grad_doc])*
            pub fn forward_with_grad(&self, $x: &Tensor, $y: &Tensor) -> Result<(Tensor, Tensor)> {
                Loss::forward_with_grad(self, ($x, $y))
            }

            /// Records the loss into `encoder`, which you submit (see [`Loss`](crate::Loss)).
            pub fn record(
                &self,
                encoder: &mut wgpu::CommandEncoder,
                $x: &Tensor,
                $y: &Tensor,
            ) -> Result<Tensor> {
                Loss::record(self, encoder, ($x, $y))
            }

            /// Records the loss and its gradient into `encoder`, which you submit (see
            /// [`Loss`](crate::Loss)).
            pub fn record_with_grad(
                &self,
                encoder: &mut wgpu::CommandEncoder,
                $x: &Tensor,
                $y: &Tensor,
            ) -> Result<(Tensor, Tensor)> {
                Loss::record_with_grad(self, encoder, ($x, $y))
            }
        }

        $crate::loss::loss_trait!($loss, (&'a Tensor, &'a Tensor), Tensor);

        impl $crate::loss::Compute for $loss {
            fn alloc_grads(&self, inputs: Self::Inputs<'_>) -> Result<Tensor> {
                $crate::loss::grad_like(inputs.0)
            }

            fn compute(
                &self,
                rec: &mut $crate::gpu::Recorder<'_, '_>,
                inputs: Self::Inputs<'_>,
                grads: Option<&Tensor>,
            ) -> Result<Tensor> {
                let call = self.call(inputs.0)?;
                let (x, y) = ($crate::kernels::check::Meta::of(inputs.0), $crate::kernels::check::Meta::of(inputs.1));
                $crate::kernels::$family::plan(&rec.device().limits(), &call, x, y, grads.is_some())?
                    .record(rec, &call, inputs.0, inputs.1, grads)
            }

            fn guard(grads: Tensor, loss: &Tensor) -> Tensor {
                grads.guarded_by(loss)
            }
        }
    };
}
pub(crate) use two_input_loss;

/// Implements [`Loss`] and the inherent methods for an element-wise loss of three tensors
/// `(a, b, c)` with gradients in its two inputs, given their names and the docs of
/// `forward_with_grad`. The loss provides `fn call(&self, input: &Tensor) ->
/// Result<ElementwiseCall>` (its options, checked) and `fn roles(a, b, c) -> (x, y, z)`: which
/// tensor is the kernel's input `x`, its target `y` and its third input `z`; the gradients
/// come back as `(d x, d z)`.
macro_rules! three_input_loss {
    ($loss:ty, $a:ident, $b:ident, $c:ident, $(#[$grad_doc:meta])*) => {
        impl $loss {
            /// The loss with PyTorch's defaults (see the type's documentation).
            pub fn new() -> Self {
                Self::default()
            }

            /// Sets the reduction.
            pub fn reduction(mut self, reduction: Reduction) -> Self {
                self.reduction = reduction;
                self
            }

            #[doc = concat!("Computes the loss of `", stringify!($a), "`, `", stringify!($b), "` and `", stringify!($c), "`.")]
            pub fn forward(&self, $a: &Tensor, $b: &Tensor, $c: &Tensor) -> Result<Tensor> {
                Loss::forward(self, ($a, $b, $c))
            }

            $(#[$grad_doc])*
            pub fn forward_with_grad(
                &self,
                $a: &Tensor,
                $b: &Tensor,
                $c: &Tensor,
            ) -> Result<(Tensor, (Tensor, Tensor))> {
                Loss::forward_with_grad(self, ($a, $b, $c))
            }

            /// Records the loss into `encoder`, which you submit (see [`Loss`](crate::Loss)).
            pub fn record(
                &self,
                encoder: &mut wgpu::CommandEncoder,
                $a: &Tensor,
                $b: &Tensor,
                $c: &Tensor,
            ) -> Result<Tensor> {
                Loss::record(self, encoder, ($a, $b, $c))
            }

            /// Records the loss and its gradients into `encoder`, which you submit (see
            /// [`Loss`](crate::Loss)).
            pub fn record_with_grad(
                &self,
                encoder: &mut wgpu::CommandEncoder,
                $a: &Tensor,
                $b: &Tensor,
                $c: &Tensor,
            ) -> Result<(Tensor, (Tensor, Tensor))> {
                Loss::record_with_grad(self, encoder, ($a, $b, $c))
            }
        }

        $crate::loss::loss_trait!($loss, (&'a Tensor, &'a Tensor, &'a Tensor), (Tensor, Tensor));

        impl $crate::loss::Compute for $loss {
            fn alloc_grads(&self, inputs: Self::Inputs<'_>) -> Result<Self::Grads> {
                let (x, _, z) = Self::roles(inputs);
                Ok(($crate::loss::grad_like(x)?, $crate::loss::grad_like(z)?))
            }

            fn compute(
                &self,
                rec: &mut $crate::gpu::Recorder<'_, '_>,
                inputs: Self::Inputs<'_>,
                grads: Option<&Self::Grads>,
            ) -> Result<Tensor> {
                use $crate::kernels::check::Meta;
                let (x, y, z) = Self::roles(inputs);
                let mut call = self.call(x)?;
                call.third = Some(z);
                call.grad2 = grads.map(|g| &g.1);
                $crate::kernels::elementwise::plan(&rec.device().limits(), &call, Meta::of(x), Meta::of(y), grads.is_some())?
                    .record(rec, &call, x, y, grads.map(|g| &g.0))
            }

            fn guard(grads: Self::Grads, loss: &Tensor) -> Self::Grads {
                (grads.0.guarded_by(loss), grads.1.guarded_by(loss))
            }
        }
    };
}
pub(crate) use three_input_loss;

/// The options cross-entropy and NLL share: class weights and the ignored label.
macro_rules! class_options {
    ($loss:ty) => {
        impl $loss {
            /// Weights each class: an `f32` tensor of shape `[C]`.
            pub fn weight(mut self, weight: Tensor) -> Self {
                self.weight = Some(weight);
                self
            }

            /// Rows with this label are skipped. Negative values only match `i32` labels.
            pub fn ignore_index(mut self, ignore_index: i32) -> Self {
                self.ignore_index = ignore_index;
                self
            }
        }
    };
}
pub(crate) use class_options;

/// Losses of other arities fit the same trait. A loss shaped like margin ranking — three
/// inputs `(x1, x2, y)`, a gradient for each of `x1` and `x2` — is below (its math is two MSEs,
/// the shape is the point); the linear cross-entropy will be `Inputs<'a> = (&'a Tensor, &'a
/// Tensor, &'a Tensor)` (hidden, classifier, labels) with `Grads = LinearCrossEntropyGrads`, a
/// struct of the three gradients.
/// The gradients of a row-wise loss: one tensor, or a tuple of two or three.
pub(crate) trait GradSet: Sized {
    fn from_vec(v: Vec<Tensor>) -> Self;
    fn list(&self) -> Vec<&Tensor>;
    fn guard(self, loss: &Tensor) -> Self;
}

impl GradSet for Tensor {
    fn from_vec(mut v: Vec<Tensor>) -> Self {
        v.remove(0)
    }
    fn list(&self) -> Vec<&Tensor> {
        vec![self]
    }
    fn guard(self, loss: &Tensor) -> Self {
        self.guarded_by(loss)
    }
}

impl GradSet for (Tensor, Tensor) {
    fn from_vec(v: Vec<Tensor>) -> Self {
        let mut v = v.into_iter();
        (v.next().expect("two"), v.next().expect("two"))
    }
    fn list(&self) -> Vec<&Tensor> {
        vec![&self.0, &self.1]
    }
    fn guard(self, loss: &Tensor) -> Self {
        (self.0.guarded_by(loss), self.1.guarded_by(loss))
    }
}

impl GradSet for (Tensor, Tensor, Tensor) {
    fn from_vec(v: Vec<Tensor>) -> Self {
        let mut v = v.into_iter();
        let mut next = || v.next().expect("three");
        (next(), next(), next())
    }
    fn list(&self) -> Vec<&Tensor> {
        vec![&self.0, &self.1, &self.2]
    }
    fn guard(self, loss: &Tensor) -> Self {
        (
            self.0.guarded_by(loss),
            self.1.guarded_by(loss),
            self.2.guarded_by(loss),
        )
    }
}

/// Implements [`Loss`] and the inherent methods (`new`, `reduction`, `forward`, …) for a
/// row-wise loss (`kernels::row_pairs`) of the tensors `$arg…` (the tuple type `$inputs`)
/// with gradients `$grads`. The loss provides `fn call(&self) -> Result<RowCall>` (its options,
/// checked) and `fn row_inputs(&self, inputs) -> RowInputs` (which tensor plays which part).
macro_rules! row_loss {
    ($loss:ty, ($($arg:ident),+), $inputs:ty, $grads:ty, $(#[$grad_doc:meta])*) => {
        impl $loss {
            /// The loss with PyTorch's defaults (see the type's documentation).
            pub fn new() -> Self {
                Self::default()
            }

            /// Sets the reduction.
            pub fn reduction(mut self, reduction: Reduction) -> Self {
                self.reduction = reduction;
                self
            }

            /// Computes the loss.
            pub fn forward(&self, $($arg: &Tensor),+) -> Result<Tensor> {
                Loss::forward(self, ($($arg),+))
            }

            $(#[$grad_doc])*
            pub fn forward_with_grad(&self, $($arg: &Tensor),+) -> Result<(Tensor, $grads)> {
                Loss::forward_with_grad(self, ($($arg),+))
            }

            /// Records the loss into `encoder`, which you submit (see [`Loss`](crate::Loss)).
            pub fn record(
                &self,
                encoder: &mut wgpu::CommandEncoder,
                $($arg: &Tensor),+
            ) -> Result<Tensor> {
                Loss::record(self, encoder, ($($arg),+))
            }

            /// Records the loss and its gradients into `encoder`, which you submit (see
            /// [`Loss`](crate::Loss)).
            pub fn record_with_grad(
                &self,
                encoder: &mut wgpu::CommandEncoder,
                $($arg: &Tensor),+
            ) -> Result<(Tensor, $grads)> {
                Loss::record_with_grad(self, encoder, ($($arg),+))
            }
        }

        $crate::loss::loss_trait!($loss, $inputs, $grads);

        impl $crate::loss::Compute for $loss {
            fn alloc_grads(&self, inputs: Self::Inputs<'_>) -> Result<Self::Grads> {
                let call = self.call()?;
                let floats = self.row_inputs(inputs).floats;
                let grads = floats
                    .iter()
                    .flatten()
                    .take($crate::kernels::row_pairs::grad_count(call.loss))
                    .map(|t| $crate::loss::grad_like(t))
                    .collect::<Result<Vec<Tensor>>>()?;
                Ok($crate::loss::GradSet::from_vec(grads))
            }

            fn compute(
                &self,
                rec: &mut $crate::gpu::Recorder<'_, '_>,
                inputs: Self::Inputs<'_>,
                grads: Option<&Self::Grads>,
            ) -> Result<Tensor> {
                let call = self.call()?;
                let list = grads.map($crate::loss::GradSet::list);
                $crate::kernels::row_pairs::run(rec, &call, self.row_inputs(inputs), list)
            }

            fn guard(grads: Self::Grads, loss: &Tensor) -> Self::Grads {
                $crate::loss::GradSet::guard(grads, loss)
            }
        }
    };
}
pub(crate) use row_loss;

#[cfg(test)]
mod arity_tests {
    use super::*;
    use crate::gpu::Device;
    use crate::kernels::check::Meta;
    use crate::kernels::elementwise::{self, ElementwiseCall, Pointwise};

    struct ThreeInputs;

    impl sealed::Sealed for ThreeInputs {}

    impl Loss for ThreeInputs {
        type Inputs<'a> = (&'a Tensor, &'a Tensor, &'a Tensor);
        type Grads = (Tensor, Tensor);

        fn forward(&self, inputs: Self::Inputs<'_>) -> Result<Tensor> {
            run(self, Destination::Submit, inputs)
        }

        fn forward_with_grad(&self, inputs: Self::Inputs<'_>) -> Result<(Tensor, Self::Grads)> {
            run_with_grad(self, Destination::Submit, inputs)
        }

        fn record(
            &self,
            encoder: &mut wgpu::CommandEncoder,
            inputs: Self::Inputs<'_>,
        ) -> Result<Tensor> {
            run(self, Destination::Encoder(encoder), inputs)
        }

        fn record_with_grad(
            &self,
            encoder: &mut wgpu::CommandEncoder,
            inputs: Self::Inputs<'_>,
        ) -> Result<(Tensor, Self::Grads)> {
            run_with_grad(self, Destination::Encoder(encoder), inputs)
        }
    }

    impl Compute for ThreeInputs {
        fn alloc_grads(&self, (x1, x2, _): Self::Inputs<'_>) -> Result<Self::Grads> {
            Ok((grad_like(x1)?, grad_like(x2)?))
        }

        fn compute(
            &self,
            rec: &mut Recorder<'_, '_>,
            (x1, x2, y): Self::Inputs<'_>,
            grads: Option<&Self::Grads>,
        ) -> Result<Tensor> {
            let call = ElementwiseCall::new("two_mse", Pointwise::Mse, Some(1.0));
            let limits = rec.device().limits();
            let plan = elementwise::plan(&limits, &call, Meta::of(x1), Meta::of(y), true)?;
            plan.record(rec, &call, x2, y, grads.map(|g| &g.1))?;
            plan.record(rec, &call, x1, y, grads.map(|g| &g.0))
        }

        fn guard(grads: Self::Grads, loss: &Tensor) -> Self::Grads {
            (grads.0.guarded_by(loss), grads.1.guarded_by(loss))
        }
    }

    /// Generic over any loss: its value and gradients, recorded into one encoder.
    fn value_and_grads<L: Loss>(dev: &Device, loss: &L, inputs: L::Inputs<'_>) -> (f32, L::Grads) {
        let mut encoder = dev
            .wgpu_device()
            .create_command_encoder(&Default::default());
        let (value, grads) = loss.record_with_grad(&mut encoder, inputs).unwrap();
        dev.wgpu_queue().submit([encoder.finish()]);
        (value.to_vec::<f32>().unwrap()[0], grads)
    }

    #[test]
    fn losses_of_two_and_three_inputs_fit_one_trait() {
        let dev = Device::new().expect("no adapter for the GPU tests");
        let x1 = Tensor::from_slice(&dev, &[1.0f32, 2.0], &[2]).unwrap();
        let x2 = Tensor::from_slice(&dev, &[3.0f32, -1.0], &[2]).unwrap();
        let y = Tensor::from_slice(&dev, &[0.0f32, 0.0], &[2]).unwrap();
        let (value, (g1, g2)) = value_and_grads(&dev, &ThreeInputs, (&x1, &x2, &y));
        assert_eq!(value, 5.0);
        assert_eq!(g1.to_vec::<f32>().unwrap(), vec![2.0, 4.0]);
        assert_eq!(g2.to_vec::<f32>().unwrap(), vec![6.0, -2.0]);
        let mse = crate::MseLoss::new().reduction(Reduction::Sum);
        let (value, g) = value_and_grads(&dev, &mse, (&x1, &y));
        assert_eq!((value, g.to_vec::<f32>().unwrap()), (5.0, vec![2.0, 4.0]));
    }
}
