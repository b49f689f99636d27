//! A softmax classifier trained on the GPU: the example's own WGSL for the linear layer and
//! the SGD step, wgpu-loss's cross-entropy for the loss and its gradient, all recorded into
//! one command encoder per step: one submission, and no trip through host memory.

use wgpu_loss::wgpu::{self, util::DeviceExt};
use wgpu_loss::{CrossEntropyLoss, DType, Device, Error, Tensor};

pub const SHADER: &str = include_str!("shader.wgsl");

/// A synthetic, separable data set: `classes` Gaussian clusters in `features` dimensions.
pub struct Data {
    pub x: Vec<f32>,
    pub labels: Vec<u32>,
    pub n: usize,
    pub features: usize,
    pub classes: usize,
}

impl Data {
    /// Samples `n` points; the last feature is a constant 1 (the bias input).
    pub fn synthetic(n: usize, features: usize, classes: usize, seed: u64) -> Data {
        let mut state = seed;
        let mut uniform = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 40) as f32 + 0.5) / (1u64 << 24) as f32
        };
        let mut normal = move || {
            let (a, b) = (uniform(), uniform());
            (-2.0 * a.ln()).sqrt() * (std::f32::consts::TAU * b).cos()
        };
        let centers: Vec<f32> = (0..classes * features).map(|_| 3.0 * normal()).collect();
        let mut x = Vec::with_capacity(n * features);
        let labels: Vec<u32> = (0..n).map(|i| (i % classes) as u32).collect();
        for &label in &labels {
            for k in 0..features - 1 {
                x.push(centers[label as usize * features + k] + normal());
            }
            x.push(1.0);
        }
        Data {
            x,
            labels,
            n,
            features,
            classes,
        }
    }
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Dims {
    n: u32,
    f: u32,
    c: u32,
    lr: f32,
}

/// What a run printed: the loss every `report_every` epochs, and the final accuracy.
pub struct Report {
    pub losses: Vec<(usize, f32)>,
    pub accuracy: f32,
}

/// Trains for `epochs` full-batch SGD steps with learning rate `lr`, reading the loss back
/// every `report_every` epochs (the loss otherwise stays on the GPU).
pub fn train(
    dev: &Device,
    data: &Data,
    epochs: usize,
    lr: f32,
    report_every: usize,
) -> Result<Report, Error> {
    let (n, f, c) = (data.n, data.features, data.classes);
    let device = dev.wgpu_device();
    let x = Tensor::from_slice(dev, &data.x, &[n, f])?;
    let labels = Tensor::from_slice(dev, &data.labels, &[n])?;
    let w = Tensor::from_slice(dev, &vec![0.0f32; f * c], &[f, c])?;
    let logits_buffer = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("logits"),
        size: Tensor::required_bytes(&[n, c], DType::F32),
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    });
    let logits = Tensor::from_buffer(dev, logits_buffer, &[n, c], DType::F32)?;
    let dims = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("dims"),
        contents: bytemuck::bytes_of(&Dims {
            n: n as u32,
            f: f as u32,
            c: c as u32,
            lr,
        }),
        usage: wgpu::BufferUsages::UNIFORM,
    });
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("classifier"),
        source: wgpu::ShaderSource::Wgsl(SHADER.into()),
    });
    let pipeline = |entry: &str| {
        device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(entry),
            layout: None,
            module: &module,
            entry_point: Some(entry),
            compilation_options: Default::default(),
            cache: None,
        })
    };
    let (forward, sgd) = (pipeline("forward"), pipeline("sgd"));
    // The kernels declare only the bindings they use: `forward` 0-3, `sgd` 0-2 and 4.
    let bind = |pipeline: &wgpu::ComputePipeline, buffers: &[(u32, &wgpu::Buffer)]| {
        let entries: Vec<wgpu::BindGroupEntry> = buffers
            .iter()
            .map(|&(binding, buffer)| wgpu::BindGroupEntry {
                binding,
                resource: buffer.as_entire_binding(),
            })
            .collect();
        device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &pipeline.get_bind_group_layout(0),
            entries: &entries,
        })
    };
    let forward_group = bind(
        &forward,
        &[
            (0, &dims),
            (1, x.buffer()),
            (2, w.buffer()),
            (3, logits.buffer()),
        ],
    );
    let pass = |encoder: &mut wgpu::CommandEncoder,
                pipeline: &wgpu::ComputePipeline,
                group: &wgpu::BindGroup,
                invocations: usize| {
        let mut pass = encoder.begin_compute_pass(&Default::default());
        pass.set_pipeline(pipeline);
        pass.set_bind_group(0, group, &[]);
        pass.dispatch_workgroups(invocations.div_ceil(64) as u32, 1, 1);
    };

    let ce = CrossEntropyLoss::new();
    let mut losses = Vec::new();
    for epoch in 0..epochs {
        // One step, one submission: logits = X W (ours), loss and gradient (wgpu-loss),
        // W -= lr X^T G (ours).
        let mut encoder = device.create_command_encoder(&Default::default());
        pass(&mut encoder, &forward, &forward_group, n * c);
        let (loss, grad) = ce.record_with_grad(&mut encoder, &logits, &labels)?;
        let sgd_group = bind(
            &sgd,
            &[
                (0, &dims),
                (1, x.buffer()),
                (2, w.buffer()),
                (4, grad.buffer()),
            ],
        );
        pass(&mut encoder, &sgd, &sgd_group, f * c);
        dev.wgpu_queue().submit([encoder.finish()]);
        if epoch % report_every == 0 || epoch + 1 == epochs {
            losses.push((epoch, loss.to_vec::<f32>()?[0]));
        }
    }
    let mut encoder = device.create_command_encoder(&Default::default());
    pass(&mut encoder, &forward, &forward_group, n * c);
    dev.wgpu_queue().submit([encoder.finish()]);
    let scores = logits.to_vec::<f32>()?;
    let correct = scores
        .chunks(c)
        .zip(&data.labels)
        .filter(|(row, label)| {
            let best = row
                .iter()
                .enumerate()
                .fold(0, |b, (k, &v)| if v > row[b] { k } else { b });
            best == **label as usize
        })
        .count();
    Ok(Report {
        losses,
        accuracy: correct as f32 / n as f32,
    })
}
