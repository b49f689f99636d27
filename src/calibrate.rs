//! Choosing a device's [`Grid`] by timing: the best grid depends on the processor under the
//! adapter (a default tuned on one 2-core machine ran 1.5x slower than another grid on the
//! next), so each device times a few candidates on a scratch input and keeps the fastest.
//!
//! Safe because results do not depend on the grid: sums run in tiles fixed by the input's
//! size (`kernels::plan::Tiling`), and a grid only says how many workgroups share them.

use std::fmt;
use std::time::Duration;

#[cfg(not(target_arch = "wasm32"))]
use crate::gpu::DeviceType;
use crate::gpu::Grid;

/// What [`Device::calibrate_grid`](crate::Device::calibrate_grid) measured and chose.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    /// The grid the device's calls now use.
    pub chosen: Grid,
    /// Each candidate and its best time for MSE over the scratch input (empty when the
    /// device's binding limit is below the scratch input's size, and the default stays).
    pub timings: Vec<(Grid, Duration)>,
    /// Whether the times are the GPU's own (timestamp queries), else wall-clock round trips.
    pub kernel_timestamps: bool,
    /// Elements of the scratch input.
    pub elements: usize,
    /// Wall-clock time the calibration took, uploads and first compilation included.
    pub cost: Duration,
}

impl fmt::Display for Calibration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let g = self.chosen;
        write!(
            f,
            "grid ({} items per invocation, at most {} workgroups)",
            g.items_per_invocation, g.max_workgroups
        )?;
        if self.timings.is_empty() {
            return write!(
                f,
                ", the default: the binding limit is below the scratch input"
            );
        }
        write!(
            f,
            " chosen in {:.1?} from MSE over {}:",
            self.cost, self.elements
        )?;
        for (grid, t) in &self.timings {
            write!(f, " {} workgroups {:.1?},", grid.max_workgroups, t)?;
        }
        let how = match self.kernel_timestamps {
            true => "kernel timestamps",
            false => "round trips",
        };
        write!(f, " ({how})")
    }
}

/// The scratch input's elements and the workgroup caps tried on a kind of processor. The
/// input is the smallest whose tiles number the largest cap: 4 tiles of 256K elements on a
/// software adapter (1–3 ms a call there), 1024 tiles of 4K elements on a GPU.
#[cfg(not(target_arch = "wasm32"))]
fn plan(device_type: DeviceType) -> (usize, &'static [u32]) {
    match device_type {
        DeviceType::Cpu => (1 << 20, &[1, 2, 4]),
        _ => (1 << 22, &[128, 256, 512, 1024]),
    }
}

/// Rounds of timing (each tries every candidate once).
#[cfg(not(target_arch = "wasm32"))]
const ROUNDS: usize = 3;
/// After the first round, no call starts past this.
#[cfg(not(target_arch = "wasm32"))]
const BUDGET: Duration = Duration::from_millis(40);

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn run(dev: &crate::Device) -> crate::Result<Calibration> {
    use std::time::Instant;

    use crate::{Reduction, Tensor, mse_loss};

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
    let zeros = vec![0.0f32; elements];
    let x = Tensor::from_slice(dev, &zeros, &[elements])?;
    let y = Tensor::from_slice(dev, &zeros, &[elements])?;
    let timing_before = dev.kernel_timing();
    calibration.kernel_timestamps = dev.time_kernels(true);
    let time = |grid: Grid| -> crate::Result<Duration> {
        dev.set_grid(grid);
        let (t0, k0) = (Instant::now(), dev.kernel_time());
        mse_loss(&x, &y, Reduction::Mean)?.to_vec::<f32>()?;
        Ok(match calibration.kernel_timestamps {
            true => dev.kernel_time() - k0,
            false => t0.elapsed(),
        })
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
        let mut best = vec![Duration::MAX; candidates.len()];
        for round in 0..ROUNDS {
            for (i, grid) in candidates.iter().enumerate() {
                if round > 0 && start.elapsed() > BUDGET {
                    return Ok(best);
                }
                best[i] = best[i].min(time(*grid)?);
            }
        }
        Ok(best)
    });
    // The user's kernel time counts none of this.
    dev.restore_kernel_timing(timing_before);
    let best = measured?;
    calibration.timings = candidates.iter().copied().zip(best).collect();
    let fastest = (0..candidates.len())
        .min_by_key(|&i| calibration.timings[i].1)
        .unwrap_or(candidates.len() - 1);
    // The largest cap gives every tile of the scratch input its workgroup: larger inputs
    // then keep the default's, which caps them no lower.
    calibration.chosen = match fastest + 1 == candidates.len() {
        true => default,
        false => candidates[fastest],
    };
    dev.set_grid(calibration.chosen);
    calibration.cost = start.elapsed();
    Ok(calibration)
}
