//! What a device's grid calibration measured and chose ([`Calibration`]); the timing itself
//! runs loss kernels, so it lives above the runtime, in `src/calibrate.rs`.

use std::fmt;
use std::time::Duration;

use crate::gpu::options::Grid;

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
