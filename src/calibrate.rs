//! Choosing a device's [`Grid`] by timing: the best grid depends on the processor under the
//! adapter (a default tuned on one 2-core machine ran 1.5x slower than another grid on the
//! next), so each device times a few candidates on a scratch input and keeps the fastest.
//!
//! Safe because results do not depend on the grid: sums run in tiles fixed by the input's
//! size (`kernels::plan::Tiling`), and a grid only says how many workgroups share them.
//!
//! A device opened natively calibrates at its first loss call ([`before_first_call`]), or
//! when asked ([`Device::calibrate_grid`], defined here because it runs kernels, which the
//! runtime in `src/gpu/` does not know). Not on the web, where a call cannot wait.

#![cfg(not(target_arch = "wasm32"))]

use std::time::{Duration, Instant};

use crate::error::Result;
use crate::gpu::{Calibration, Destination, Device, DeviceType, Grid, Recorder};
use crate::kernels::check::Meta;
use crate::kernels::elementwise::{self, ElementwiseCall, Pointwise};
use crate::tensor::Tensor;

/// The scratch input's elements and the workgroup caps tried on a kind of processor. The
/// input is the smallest whose tiles number the largest cap: 1024 tiles of 4K elements on a
/// GPU; 2 tiles of 256K elements on a software adapter (about 5 ms a call on 2 cores).
/// There the tiles, 16 at most, decide the launch above a cap of 16 workgroups (every grid of
/// the sweep in BENCHMARKS.md ran MSE 16M within noise of the best), so only whether fewer
/// workgroups than tiles pay is measured, cheaply.
fn plan(device_type: DeviceType) -> (usize, &'static [u32]) {
    match device_type {
        DeviceType::Cpu => (1 << 19, &[1, 2]),
        _ => (1 << 22, &[128, 256, 512, 1024]),
    }
}

/// Rounds of timing (each tries every candidate once): at least `MIN_ROUNDS`, more while
/// the timed calls have taken less than `BUDGET`.
const ROUNDS: usize = 3;
const MIN_ROUNDS: usize = 2;
const BUDGET: Duration = Duration::from_millis(20);

/// A smaller cap than the largest must take less than this share of its time to be chosen
/// (a single call of a few ms on a software adapter varies by 10–30%).
const CLEARLY: f64 = 0.8;

fn run(dev: &Device) -> Result<Calibration> {
    let start = Instant::now();
    let default = Grid::for_device_type(dev.info().device_type);
    let (elements, caps) = plan(dev.info().device_type);
    let mut calibration = Calibration {
        chosen: default,
        timings: Vec::new(),
        kernel_timestamps: false,
        elements,
        cost: Duration::ZERO,
    };
    if elements as u64 * 4 > dev.max_binding_size() {
        dev.set_grid(default);
        calibration.cost = start.elapsed();
        return Ok(calibration);
    }
    // One tensor as both input and target: the call reads both, one upload.
    let x = Tensor::from_slice(dev, &vec![0.0f32; elements], &[elements])?;
    let timing_was_on = dev.kernel_timing_on();
    let spent = std::cell::Cell::new(Duration::ZERO);
    calibration.kernel_timestamps = dev.time_kernels(true);
    // Kernel time where the adapter gives one (another thread's timed calls may add to it,
    // never take from it); wall-clock round trips otherwise.
    let time = |grid: Grid| -> Result<(Duration, Duration)> {
        dev.set_grid(grid);
        let (t0, k0) = (Instant::now(), dev.kernel_time());
        mse_mean(dev, &x)?.to_vec::<f32>()?;
        let kernel = dev.kernel_time().saturating_sub(k0);
        spent.set(spent.get() + kernel);
        Ok((kernel, t0.elapsed()))
    };
    let candidates: Vec<Grid> = caps
        .iter()
        .map(|&max_workgroups| Grid {
            max_workgroups,
            ..default
        })
        .collect();
    // The first call compiles the pipelines; it is not timed.
    let measured = time(default).and_then(|_| {
        let timed = Instant::now();
        // Per candidate, every round's (kernel, wall) time.
        let mut samples = vec![Vec::new(); candidates.len()];
        for round in 0..ROUNDS {
            if round >= MIN_ROUNDS && timed.elapsed() > BUDGET {
                break;
            }
            for (i, grid) in candidates.iter().enumerate() {
                samples[i].push(time(*grid)?);
            }
        }
        Ok(samples)
    });
    // The user's kernel time counts none of this.
    dev.restore_kernel_timing(timing_was_on, spent.get());
    let samples = measured?;
    // Timestamps that read zero (an adapter that does not really count) are no measure.
    calibration.kernel_timestamps &= samples.iter().flatten().all(|s| !s.0.is_zero());
    let times: Vec<Vec<Duration>> = samples
        .iter()
        .map(|rounds| {
            rounds
                .iter()
                .map(|&(kernel, wall)| match calibration.kernel_timestamps {
                    true => kernel,
                    false => wall,
                })
                .collect()
        })
        .collect();
    let fastest = |t: &[Duration]| t.iter().copied().min().unwrap_or(Duration::MAX);
    let slowest = |t: &[Duration]| t.iter().copied().max().unwrap_or(Duration::MAX);
    calibration.timings = candidates
        .iter()
        .zip(&times)
        .map(|(&grid, t)| (grid, fastest(t)))
        .collect();
    // The largest cap gives every tile of the scratch input its workgroup (larger inputs
    // then keep the default's, which caps them no lower); a smaller cap is chosen only where
    // even its slowest round beats the largest's fastest clearly. Measured on llvmpipe, 2
    // cores: a cap of 2 won a 1M scratch input by 5% (within its noise) and then ran 16M 1.26x
    // slower than the default.
    let largest = fastest(&times[candidates.len() - 1]).as_secs_f64();
    let clearly = |i: &usize| slowest(&times[*i]).as_secs_f64() < CLEARLY * largest;
    let winner = (0..candidates.len() - 1)
        .filter(clearly)
        .min_by_key(|&i| fastest(&times[i]));
    calibration.chosen = match winner {
        Some(i) => candidates[i],
        None => default,
    };
    dev.set_grid(calibration.chosen);
    calibration.cost = start.elapsed();
    Ok(calibration)
}

/// MSE of `x` against itself, a mean, through the element-wise kernels.
fn mse_mean(dev: &Device, x: &Tensor) -> Result<Tensor> {
    let call = ElementwiseCall::new("calibration", Pointwise::Mse, Some(x.len() as f32));
    let meta = Meta::of(x);
    let mut rec = Recorder::new(dev, Destination::Submit)?;
    let loss = elementwise::plan(&dev.limits(), &call, meta, meta, false)?
        .record(&mut rec, &call, x, x, None)?;
    rec.submit()?;
    Ok(loss)
}

/// Calibrates `dev` if it opened asking for it and no call has yet: the first loss call on
/// a device runs this before its own work. A calibration that fails leaves the default grid
/// and says why in the log: the call itself goes on (its own errors are its own).
pub(crate) fn before_first_call(dev: &Device) {
    if !dev.take_calibration_turn() {
        return;
    }
    if let Err(e) = dev.calibrate_grid() {
        log::warn!("wgpu-loss: grid calibration failed, the default grid stays: {e}");
        dev.set_grid(Grid::for_device_type(dev.info().device_type));
    }
}

impl Device {
    /// Times the loss kernels over a scratch input on a few candidate grids and keeps the
    /// fastest for this device's later calls (see [`Calibration`]). A device opened natively
    /// does it before its first loss call, unless told not to ([`DeviceOptions::calibrate`])
    /// or given a grid; call it yourself for a device wrapped with [`Device::from_wgpu`].
    /// Results do not depend on the grid: only speed does. It replaces the grid in use, even
    /// one [`DeviceOptions::grid`](crate::DeviceOptions::grid) forced.
    ///
    /// ```
    /// let dev = wgpu_loss::Device::new()?;
    /// let c = dev.calibrate_grid()?;
    /// assert_eq!(dev.grid(), c.chosen);
    /// println!("{c}");
    /// # Ok::<(), wgpu_loss::Error>(())
    /// ```
    ///
    /// [`DeviceOptions::calibrate`]: crate::DeviceOptions::calibrate
    pub fn calibrate_grid(&self) -> Result<Calibration> {
        // Done now, not again at the first call; one calibration at a time.
        self.take_calibration_turn();
        let _turn = self.calibration_lock();
        let calibration = run(self)?;
        log::info!("wgpu-loss: {calibration}");
        self.keep_calibration(calibration.clone());
        Ok(calibration)
    }
}
