//! Shared by the integration tests: one device per test binary, data, f64 references.
#![allow(dead_code)] // each test binary uses its own subset

use std::sync::OnceLock;

use wgpu_loss::{Device, Tensor};

/// The device every test uses. Panics, loudly, when no adapter exists: a suite that skips the
/// GPU proves nothing.
pub fn device() -> &'static Device {
    static DEV: OnceLock<Device> = OnceLock::new();
    DEV.get_or_init(|| {
        let dev = Device::new().unwrap_or_else(|e| {
            panic!("no adapter for the GPU tests ({e}); set WGPU_BACKEND=gl or vulkan")
        });
        eprintln!("adapter: {}", dev.info());
        dev
    })
}

/// Deterministic pseudo-random numbers (SplitMix64), so a failure can be reproduced.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [lo, hi).
    pub fn uniform(&mut self, lo: f32, hi: f32) -> f32 {
        let u = (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32;
        lo + (hi - lo) * u
    }

    pub fn vec(&mut self, n: usize, lo: f32, hi: f32) -> Vec<f32> {
        (0..n).map(|_| self.uniform(lo, hi)).collect()
    }

    pub fn below(&mut self, n: u32) -> u32 {
        (self.next_u64() % n as u64) as u32
    }
}

pub fn upload(data: &[f32], shape: &[usize]) -> Tensor {
    Tensor::from_slice(device(), data, shape).expect("upload")
}

pub fn scalar(t: &Tensor) -> f32 {
    assert!(t.shape().is_empty(), "reduced loss has shape []");
    let v = t.to_vec::<f32>().expect("readback");
    assert_eq!(v.len(), 1);
    v[0]
}

/// Relative error of `got` against the f64 reference `want`.
pub fn rel_err(got: f32, want: f64) -> f64 {
    if want == 0.0 {
        (got as f64).abs()
    } else {
        ((got as f64 - want) / want).abs()
    }
}

/// Asserts every element of `got` matches `want` to `rel` relative or `abs` absolute error.
pub fn assert_all_close(got: &[f32], want: &[f64], rel: f64, abs: f64) {
    assert_eq!(got.len(), want.len());
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            approx::relative_eq!(g as f64, w, epsilon = abs, max_relative = rel),
            "element {i}: got {g}, want {w}"
        );
    }
}

pub fn sum(v: &[f64]) -> f64 {
    v.iter().sum()
}

pub fn mean(v: &[f64]) -> f64 {
    sum(v) / v.len() as f64
}

/// Per-element squared error in f64.
pub fn mse_ref(x: &[f32], y: &[f32]) -> Vec<f64> {
    x.iter()
        .zip(y)
        .map(|(&a, &b)| (a as f64 - b as f64).powi(2))
        .collect()
}

/// Per-element binary cross-entropy in f64, logs clamped at -100 like PyTorch.
pub fn bce_ref(p: &[f32], y: &[f32]) -> Vec<f64> {
    p.iter()
        .zip(y)
        .map(|(&p, &y)| {
            let (p, y) = (p as f64, y as f64);
            -(y * p.ln().max(-100.0) + (1.0 - y) * (1.0 - p).ln().max(-100.0))
        })
        .collect()
}

/// Per-row cross-entropy in f64: logsumexp(row) - row[label].
pub fn ce_ref(logits: &[f32], labels: &[u32], classes: usize) -> Vec<f64> {
    logits
        .chunks(classes)
        .zip(labels)
        .map(|(row, &y)| {
            let m = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
            let s: f64 = row.iter().map(|&v| (v as f64 - m).exp()).sum();
            m + s.ln() - row[y as usize] as f64
        })
        .collect()
}
