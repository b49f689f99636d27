//! Trains a softmax classifier on a synthetic data set, on the GPU, on a wgpu device that the
//! program opened itself and shares with wgpu-loss (`Device::from_wgpu`): the example's own
//! WGSL kernels make the logits and take the SGD step, wgpu-loss gives the cross-entropy and
//! its gradient in between, all in one submission per step. Only the loss is read back,
//! every 25 epochs.
//!
//! `cargo run --release --example train_classifier`

mod model;

use wgpu_loss::wgpu;

/// The program's own device, as a renderer or a training loop would have opened it.
fn open_device() -> (wgpu::Device, wgpu::Queue) {
    let instance =
        wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let adapter = pollster::block_on(wgpu::util::initialize_adapter_from_env_or_default(
        &instance, None,
    ))
    .expect("no GPU adapter (on Linux: apt-get install mesa-vulkan-drivers, or WGPU_BACKEND=gl)");
    pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
        label: Some("classifier"),
        required_features: wgpu::Features::empty(),
        required_limits: adapter.limits(),
        experimental_features: wgpu::ExperimentalFeatures::disabled(),
        memory_hints: wgpu::MemoryHints::Performance,
        trace: wgpu::Trace::Off,
    }))
    .expect("the adapter refused a device")
}

fn main() -> Result<(), wgpu_loss::Error> {
    let (device, queue) = open_device();
    let dev = wgpu_loss::Device::from_wgpu(device, queue);
    println!("adapter: {}", dev.info());
    let data = model::Data::synthetic(4096, 9, 5, 7);
    let report = model::train(&dev, &data, 300, 0.05, 25)?;
    for (epoch, loss) in &report.losses {
        println!("epoch {epoch:4}  cross-entropy {loss:.6}");
    }
    println!(
        "accuracy {:.1}% on {} samples",
        100.0 * report.accuracy,
        data.n
    );
    Ok(())
}
