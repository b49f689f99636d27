use std::time::Instant;
use wgpu_loss::{Device, Reduction, Tensor};
fn main() {
    let dev = Device::new().unwrap();
    let a = Tensor::from_slice(&dev, &[1.0f32; 4], &[4]).unwrap();
    let b = Tensor::from_slice(&dev, &[0.5f32; 4], &[4]).unwrap();
    for _ in 0..50 {
        wgpu_loss::mse_loss(&a, &b, Reduction::Mean)
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
    }
    let (mut t_call, mut t_read) = (0.0, 0.0);
    let n = 500;
    for _ in 0..n {
        let t0 = Instant::now();
        let l = wgpu_loss::mse_loss(&a, &b, Reduction::Mean).unwrap();
        let t1 = Instant::now();
        l.to_vec::<f32>().unwrap();
        let t2 = Instant::now();
        t_call += (t1 - t0).as_secs_f64();
        t_read += (t2 - t1).as_secs_f64();
    }
    println!(
        "call {:.1} us, read {:.1} us, copy+map round trip {:.1} us",
        t_call / n as f64 * 1e6,
        t_read / n as f64 * 1e6,
        empty_roundtrip(&dev)
    );
}
#[allow(dead_code)]
fn empty_roundtrip(dev: &Device) -> f64 {
    let d = dev.wgpu_device();
    let staging = d.create_buffer(&wgpu_loss::wgpu::BufferDescriptor {
        label: None,
        size: 16,
        usage: wgpu_loss::wgpu::BufferUsages::MAP_READ | wgpu_loss::wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let src = d.create_buffer(&wgpu_loss::wgpu::BufferDescriptor {
        label: None,
        size: 16,
        usage: wgpu_loss::wgpu::BufferUsages::STORAGE | wgpu_loss::wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    });
    let n = 300;
    let t0 = Instant::now();
    for _ in 0..n {
        let mut e = d.create_command_encoder(&Default::default());
        e.copy_buffer_to_buffer(&src, 0, &staging, 0, 16);
        dev.wgpu_queue().submit([e.finish()]);
        staging.map_async(wgpu_loss::wgpu::MapMode::Read, .., |_| {});
        d.poll(wgpu_loss::wgpu::PollType::wait_indefinitely())
            .unwrap();
        staging.unmap();
    }
    t0.elapsed().as_secs_f64() / n as f64 * 1e6
}
