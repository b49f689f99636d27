//! A language model's output head trained with `LinearCrossEntropyLoss`: hidden states of a
//! toy language (each of `contexts` contexts is followed by one next token of a vocabulary of
//! `vocab`), a classifier `[V, H]` and a bias `[V]` learned by SGD. Each step records the
//! loss, its gradients and the example's own SGD kernel into one encoder: one submission per
//! step, and the logits `[N, V]` never exist.

use wgpu_loss::{Device, LinearCrossEntropyLoss, Result, Tensor, wgpu};

/// The toy data: hidden states `[N, H]` and the next token of each.
pub struct Data {
    pub hidden: Vec<f32>,
    pub labels: Vec<u32>,
    pub tokens: usize,
    pub width: usize,
    pub vocab: usize,
}

impl Data {
    /// `tokens` tokens of `contexts` contexts, each a fixed random hidden state of `width`
    /// values, followed by the token `(7 c + 3) mod vocab`.
    pub fn toy(tokens: usize, contexts: usize, width: usize, vocab: usize) -> Data {
        let mut s = 42u64;
        let mut next = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        };
        let states: Vec<f32> = (0..contexts * width).map(|_| next()).collect();
        let mut hidden = Vec::with_capacity(tokens * width);
        let mut labels = Vec::with_capacity(tokens);
        for t in 0..tokens {
            let c = t * 31 % contexts;
            hidden.extend_from_slice(&states[c * width..(c + 1) * width]);
            labels.push(((7 * c + 3) % vocab) as u32);
        }
        Data {
            hidden,
            labels,
            tokens,
            width,
            vocab,
        }
    }
}

/// Trains for `steps` SGD steps at learning rate `lr`; returns the mean loss of each step.
pub fn train(dev: &Device, data: &Data, steps: usize, lr: f32) -> Result<Vec<f32>> {
    let (n, h, v) = (data.tokens, data.width, data.vocab);
    let hidden = Tensor::from_slice(dev, &data.hidden, &[n, h])?;
    let labels = Tensor::from_slice(dev, &data.labels, &[n])?;
    let classifier = Tensor::from_slice(dev, &vec![0.0f32; v * h], &[v, h])?;
    let bias = Tensor::from_slice(dev, &vec![0.0f32; v], &[v])?;
    let loss = LinearCrossEntropyLoss::new().bias(bias.clone());
    let device = dev.wgpu_device();
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("sgd"),
        source: wgpu::ShaderSource::Wgsl(include_str!("sgd.wgsl").into()),
    });
    let sgd = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some("sgd"),
        layout: None,
        module: &module,
        entry_point: Some("sgd"),
        compilation_options: Default::default(),
        cache: None,
    });
    let uniform = |len: usize| {
        let step = [len as u32, lr.to_bits()];
        wgpu::util::DeviceExt::create_buffer_init(
            device,
            &wgpu::util::BufferInitDescriptor {
                label: Some("sgd step"),
                contents: bytemuck::cast_slice(&step),
                usage: wgpu::BufferUsages::UNIFORM,
            },
        )
    };
    let (w_step, b_step) = (uniform(v * h), uniform(v));
    let mut losses = Vec::with_capacity(steps);
    for _ in 0..steps {
        let mut encoder = device.create_command_encoder(&Default::default());
        let (value, grads) = loss.record_with_grad(&mut encoder, &hidden, &classifier, &labels)?;
        let db = grads.bias.as_ref().expect("the loss has a bias");
        for (w, g, step, len) in [
            (&classifier, &grads.classifier, &w_step, v * h),
            (&bias, db, &b_step, v),
        ] {
            let group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("sgd"),
                layout: &sgd.get_bind_group_layout(0),
                entries: &[
                    wgpu::BindGroupEntry {
                        binding: 0,
                        resource: step.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 1,
                        resource: w.buffer().as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 2,
                        resource: g.buffer().as_entire_binding(),
                    },
                ],
            });
            let mut pass = encoder.begin_compute_pass(&Default::default());
            pass.set_pipeline(&sgd);
            pass.set_bind_group(0, &group, &[]);
            let groups = len.div_ceil(64) as u32;
            pass.dispatch_workgroups(groups.min(65_535), groups.div_ceil(65_535), 1);
        }
        dev.wgpu_queue().submit([encoder.finish()]);
        losses.push(value.to_vec::<f32>()?[0]);
    }
    Ok(losses)
}
