//! The grid a device sizes its passes by: timed when the device opens, forced by
//! `DeviceOptions::grid`, or the adapter type's default; and the same results whichever it is.

use wgpu_loss::*;

fn mse_bits(dev: &Device) -> u32 {
    // Odd sizes, several tiles on every kind of adapter.
    let n = 3_000_017;
    let x: Vec<f32> = (0..n)
        .map(|i| ((i * 7919) % 1000) as f32 / 250.0 - 2.0)
        .collect();
    let y: Vec<f32> = (0..n)
        .map(|i| ((i * 104_729) % 997) as f32 / 500.0)
        .collect();
    let x = Tensor::from_slice(dev, &x, &[n]).unwrap();
    let y = Tensor::from_slice(dev, &y, &[n]).unwrap();
    let loss = mse_loss(&x, &y, Reduction::Mean).unwrap();
    loss.to_vec::<f32>().unwrap()[0].to_bits()
}

#[test]
fn a_device_times_candidate_grids_at_its_first_call_and_uses_the_fastest() {
    let dev = Device::new().expect("no adapter for the GPU tests");
    let default = Grid::for_device_type(dev.info().device_type);
    assert_eq!((dev.grid(), dev.calibration()), (default, None));
    let x = Tensor::from_slice(&dev, &[1.0f32, 2.0], &[2]).unwrap();
    let loss = mse_loss(&x, &x, Reduction::Sum).unwrap();
    assert_eq!(loss.to_vec::<f32>().unwrap(), [0.0]);
    let c = dev
        .calibration()
        .expect("a natively opened device calibrates at its first call");
    assert_eq!(dev.grid(), c.chosen);
    assert!(c.timings.len() >= 2, "{c}");
    assert!(c.timings.iter().all(|(_, t)| !t.is_zero()), "{c}");
    // A smaller cap than the largest tried only where it is clearly (20%) faster in every
    // round (the report gives each candidate's fastest), else the default, which caps larger
    // inputs no lower than the largest.
    let largest = c.timings.last().unwrap().1.as_secs_f64();
    match c.timings.iter().position(|&(g, _)| g == c.chosen) {
        Some(i) => assert!(c.timings[i].1.as_secs_f64() < 0.8 * largest, "{c}"),
        None => assert_eq!(c.chosen, default, "{c}"),
    }
    assert_eq!(c.chosen.items_per_invocation, default.items_per_invocation);
    assert!(c.cost >= c.timings.iter().map(|(_, t)| *t).sum(), "{c}");
    assert!(c.to_string().contains("workgroups"), "{c}");
    // The calibration's kernel time is not the caller's, and it ran once.
    assert_eq!(dev.kernel_time(), std::time::Duration::ZERO);
    mse_loss(&x, &x, Reduction::Sum).unwrap();
    assert_eq!(dev.calibration(), Some(c.clone()));
    // Calibrating again keeps a grid and reports it.
    let again = dev.calibrate_grid().unwrap();
    assert_eq!(dev.grid(), again.chosen);
    assert_eq!(dev.calibration(), Some(again));
}

#[test]
fn a_forced_grid_or_calibration_off_skips_the_timing() {
    let calls = |dev: &Device| {
        let x = Tensor::from_slice(dev, &[1.0f32; 3], &[3]).unwrap();
        mse_loss(&x, &x, Reduction::Mean)
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
    };
    let forced = Grid {
        items_per_invocation: 8,
        max_workgroups: 3,
    };
    let dev = Device::with_options(DeviceOptions::new().grid(forced)).unwrap();
    calls(&dev);
    assert_eq!((dev.grid(), dev.calibration()), (forced, None));
    let dev = Device::with_options(DeviceOptions::new().calibrate(false)).unwrap();
    calls(&dev);
    let default = Grid::for_device_type(dev.info().device_type);
    assert_eq!((dev.grid(), dev.calibration()), (default, None));
}

#[test]
fn a_binding_limit_below_the_scratch_input_keeps_the_default() {
    let dev = Device::with_options(DeviceOptions::new().max_binding_size(1 << 16)).unwrap();
    let c = dev.calibrate_grid().unwrap();
    assert_eq!(dev.calibration(), Some(c.clone()));
    assert!(c.timings.is_empty(), "{c}");
    assert_eq!(dev.grid(), Grid::for_device_type(dev.info().device_type));
    assert!(c.to_string().contains("binding limit"), "{c}");
}

#[test]
fn results_are_the_same_bits_with_the_calibrated_grid_and_the_default() {
    let calibrated = Device::new().unwrap();
    let default = Device::with_options(DeviceOptions::new().calibrate(false)).unwrap();
    let one = Device::with_options(DeviceOptions::new().grid(Grid {
        items_per_invocation: 1,
        max_workgroups: 1,
    }))
    .unwrap();
    let want = mse_bits(&default);
    assert_eq!(mse_bits(&calibrated), want);
    assert_eq!(mse_bits(&one), want);
}
