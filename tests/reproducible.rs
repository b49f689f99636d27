//! Results that do not depend on how a pass is launched: the same bits for every grid and
//! every chunking on one adapter and reduction path (sums run in tiles fixed by the input's
//! size, `Tiling` in src/kernels/plan.rs), at sizes that are multiples of nothing.

mod common;
use common::Rng;
use wgpu_loss::*;

/// Grids from one item per invocation and no cap to one workgroup in all.
const GRIDS: [(u32, u32); 6] = [
    (1, 65_535),
    (4, 2048),
    (8, 8192),
    (256, 256),
    (64, 1),
    (1, 3),
];

/// Binding limits: the adapter's, and two that split the larger inputs into chunks yet hold a
/// whole tile of each (a limit too small for a tile shrinks the tile: no real adapter's is).
const LIMITS: [Option<u64>; 3] = [None, Some(34 << 20), Some(33 << 20)];

/// A device for every grid and binding limit.
fn devices() -> Vec<(String, Device)> {
    let mut all = Vec::new();
    for (items, groups) in GRIDS {
        for limit in LIMITS {
            let mut options = DeviceOptions::new().grid(Grid {
                items_per_invocation: items,
                max_workgroups: groups,
            });
            if let Some(bytes) = limit {
                options = options.max_binding_size(bytes);
            }
            let dev = Device::with_options(options).expect("device");
            all.push((format!("grid ({items}, {groups}), binding {limit:?}"), dev));
        }
    }
    all
}

/// The bits of every value of `tensors`.
fn bits(tensors: &[Tensor]) -> Vec<Vec<u32>> {
    tensors
        .iter()
        .map(|t| {
            t.to_vec::<f32>()
                .unwrap()
                .iter()
                .map(|v| v.to_bits())
                .collect()
        })
        .collect()
}

/// Asserts that `run` gives the same bits on every device.
fn same_bits_everywhere(
    what: &str,
    devices: &[(String, Device)],
    run: impl Fn(&Device) -> Vec<Tensor>,
) {
    let (first_name, first) = &devices[0];
    let want = bits(&run(first));
    for (name, dev) in &devices[1..] {
        let got = bits(&run(dev));
        for (k, (g, w)) in got.iter().zip(&want).enumerate() {
            if let Some(i) = g.iter().zip(w).position(|(a, b)| a != b) {
                panic!(
                    "{what}, output {k}[{i}]: {:#010x} with {name}, {:#010x} with {first_name}",
                    g[i], w[i]
                );
            }
        }
    }
}

#[test]
fn element_wise_losses_give_the_same_bits_on_every_grid_and_chunking() {
    let devices = devices();
    let mut rng = Rng::new(81);
    for n in [1, 1023, 65_537, 9_000_001] {
        let x = rng.vec(n, -3.0, 3.0);
        let y = rng.vec(n, -3.0, 3.0);
        let p: Vec<f32> = rng.vec(n, 0.01, 0.99);
        for reduction in [Reduction::Mean, Reduction::Sum] {
            same_bits_everywhere(&format!("mse n={n} {reduction:?}"), &devices, |dev| {
                let (tx, ty) = (
                    Tensor::from_slice(dev, &x, &[n]).unwrap(),
                    Tensor::from_slice(dev, &y, &[n]).unwrap(),
                );
                let (l, g) = MseLoss::new()
                    .reduction(reduction)
                    .forward_with_grad(&tx, &ty)
                    .unwrap();
                vec![l, g]
            });
        }
        same_bits_everywhere(&format!("bce n={n}"), &devices, |dev| {
            let (tp, ty) = (
                Tensor::from_slice(dev, &p, &[n]).unwrap(),
                Tensor::from_slice(dev, &p, &[n]).unwrap(),
            );
            vec![binary_cross_entropy(&tp, &ty, Reduction::Mean).unwrap()]
        });
    }
}

#[test]
fn cross_entropy_gives_the_same_bits_on_every_grid_and_chunking() {
    let devices = devices();
    let mut rng = Rng::new(82);
    // A row per invocation (few classes), and a row per workgroup (many classes).
    for (rows, classes) in [(1_400_003, 7), (3001, 20), (1001, 9001)] {
        let x = rng.vec(rows * classes, -6.0, 6.0);
        let labels: Vec<i32> = (0..rows)
            .map(|r| match r % 11 {
                // Some ignored rows, so the weighted mean's denominator pass runs too.
                0 => -100,
                _ => rng.below(classes as u32) as i32,
            })
            .collect();
        let weights = rng.vec(classes, 0.5, 2.0);
        same_bits_everywhere(
            &format!("cross_entropy [{rows}, {classes}]"),
            &devices,
            |dev| {
                let logits = Tensor::from_slice(dev, &x, &[rows, classes]).unwrap();
                let labels = Tensor::from_slice(dev, &labels, &[rows]).unwrap();
                let weight = Tensor::from_slice(dev, &weights, &[classes]).unwrap();
                let (l, g) = CrossEntropyLoss::new()
                    .weight(weight)
                    .label_smoothing(0.1)
                    .forward_with_grad(&logits, &labels)
                    .unwrap();
                let plain = cross_entropy(&logits, &labels, Reduction::Sum).unwrap();
                vec![l, g, plain]
            },
        );
    }
}
