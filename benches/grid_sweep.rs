//! The calibrated grid against a sweep of grids, in one process: `cargo bench --bench
//! grid_sweep` (or name cases: `-- mse bce`). For each case it times every grid in turn,
//! round after round (so a noisy machine slows all of them alike), and prints the median time
//! per call of each grid, its ratio to the fastest, and where the calibrated grid falls.
//!
//! Each call is the loss forward plus reading the scalar back; where the adapter has
//! timestamp queries the kernel time (the GPU time of the passes alone) is given too.
//! `WGPU_LOSS_SWEEP_ROUNDS` sets the rounds (default 7).

use std::time::{Duration, Instant};

use wgpu_loss::{
    Device, DeviceOptions, Grid, Reduction, Tensor, binary_cross_entropy, cross_entropy, mse_loss,
};

/// The grids swept: the software adapters' range, then the GPUs'.
const SWEEP: [(u32, u32); 12] = [
    (256, 1),
    (256, 2),
    (256, 4),
    (256, 8),
    (256, 16),
    (256, 256),
    (1, 65_535),
    (4, 256),
    (4, 1024),
    (4, 2048),
    (8, 8192),
    (64, 64),
];

type Call = Box<dyn Fn(&Device) -> Box<dyn Fn()>>;

/// A case: its name and, for a device, a call on inputs uploaded once.
fn cases() -> Vec<(&'static str, Call)> {
    fn data(n: usize, lo: f32, hi: f32, seed: u32) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                lo + (hi - lo) * (s >> 8) as f32 / (1 << 24) as f32
            })
            .collect()
    }
    let n = 1 << 24;
    let (x, y, p) = (
        data(n, -2.0, 2.0, 1),
        data(n, 0.0, 1.0, 2),
        data(n, 0.01, 0.99, 3),
    );
    let (rows, classes) = (1024, 32_000);
    let logits = data(rows * classes, -8.0, 8.0, 4);
    let labels: Vec<u32> = (0..rows as u32)
        .map(|i| i * 7919 % classes as u32)
        .collect();
    let mse: Call = Box::new(move |dev| {
        let (x, y) = (up(dev, &x, &[n]), up(dev, &y, &[n]));
        Box::new(move || read(mse_loss(&x, &y, Reduction::Mean)))
    });
    let y2 = data(n, 0.0, 1.0, 5);
    let bce: Call = Box::new(move |dev| {
        let (p, y) = (up(dev, &p, &[n]), up(dev, &y2, &[n]));
        Box::new(move || read(binary_cross_entropy(&p, &y, Reduction::Mean)))
    });
    let ce: Call = Box::new(move |dev| {
        let x = up(dev, &logits, &[rows, classes]);
        let l = Tensor::from_slice(dev, &labels, &[rows]).unwrap();
        Box::new(move || read(cross_entropy(&x, &l, Reduction::Mean)))
    });
    vec![("mse/16M", mse), ("bce/16M", bce), ("ce/1024x32000", ce)]
}

fn up(dev: &Device, data: &[f32], shape: &[usize]) -> Tensor {
    Tensor::from_slice(dev, data, shape).unwrap()
}

fn read(loss: wgpu_loss::Result<Tensor>) {
    std::hint::black_box(loss.unwrap().to_vec::<f32>().unwrap());
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let rounds: usize = std::env::var("WGPU_LOSS_SWEEP_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(7);
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let calibrated = Device::new().expect("no adapter for the benchmarks");
    let calibration = calibrated.calibrate_grid().ok();
    let mut devices = vec![("calibrated".to_string(), calibrated)];
    for (items, groups) in SWEEP {
        let grid = Grid {
            items_per_invocation: items,
            max_workgroups: groups,
        };
        let dev = Device::with_options(DeviceOptions::new().grid(grid)).unwrap();
        devices.push((format!("({items}, {groups})"), dev));
    }
    let timed = devices.iter().all(|(_, d)| d.time_kernels(true));
    println!("adapter: {}", devices[0].1.info());
    if let Some(c) = &calibration {
        println!("calibration: {c}");
    }
    for (name, case) in cases() {
        if !args.is_empty() && !args.iter().any(|a| name.contains(a.as_str())) {
            continue;
        }
        let calls: Vec<_> = devices.iter().map(|(_, d)| case(d)).collect();
        calls.iter().for_each(|call| call());
        let mut wall = vec![Vec::new(); calls.len()];
        let mut kernel = vec![Vec::new(); calls.len()];
        for _ in 0..rounds {
            for (i, call) in calls.iter().enumerate() {
                let (k0, t0) = (devices[i].1.kernel_time(), Instant::now());
                call();
                wall[i].push(t0.elapsed());
                kernel[i].push(devices[i].1.kernel_time() - k0);
            }
        }
        let wall: Vec<Duration> = wall.into_iter().map(median).collect();
        let kernel: Vec<Duration> = kernel.into_iter().map(median).collect();
        let best = *wall.iter().min().unwrap();
        println!("\n{name}, {rounds} rounds, median per call\n");
        println!("| grid | round trip | / fastest | kernel |");
        println!("|---|---|---|---|");
        for (i, (label, _)) in devices.iter().enumerate() {
            let k = match timed {
                true => format!("{:.2?}", kernel[i]),
                false => "–".into(),
            };
            let ratio = wall[i].as_secs_f64() / best.as_secs_f64();
            println!("| {label} | {:.2?} | {ratio:.2}x | {k} |", wall[i]);
        }
    }
}
