//! Fitting into the user's wgpu code: wrapped buffers, recording into the user's encoder,
//! async and batched readback, device choice.

mod common;
use common::*;
use wgpu_loss::*;

fn user_buffer(dev: &Device, size: u64, usage: wgpu::BufferUsages) -> wgpu::Buffer {
    dev.wgpu_device().create_buffer(&wgpu::BufferDescriptor {
        label: Some("user"),
        size,
        usage,
        mapped_at_creation: false,
    })
}

const USAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);

#[test]
fn wrapped_buffers_feed_losses_and_gradients_come_back_as_buffers() {
    let dev = device();
    let n = 1_001;
    let buffer = user_buffer(dev, Tensor::required_bytes(&[n], DType::F32), USAGE);
    let x: Vec<f32> = (0..n).map(|i| i as f32 / n as f32).collect();
    dev.wgpu_queue()
        .write_buffer(&buffer, 0, bytemuck::cast_slice(&x));
    let pred = Tensor::from_buffer(dev, buffer.clone(), &[n], DType::F32).unwrap();
    let zero = upload(&vec![0.0; n], &[n]);
    let (loss, grad) = MseLoss::new()
        .reduction(Reduction::Sum)
        .forward_with_grad(&pred, &zero)
        .unwrap();
    let want: f64 = x.iter().map(|&v| (v as f64).powi(2)).sum();
    assert!(rel_err(scalar(&loss), want) < 1e-6);
    // The wrapped tensor is the user's buffer, and the gradient is a buffer to bind.
    assert_eq!(pred.buffer(), &buffer);
    assert!(grad.buffer().usage().contains(wgpu::BufferUsages::STORAGE));
    assert!(grad.buffer().size() >= Tensor::required_bytes(&[n], DType::F32));
}

#[test]
fn wrong_buffers_are_errors() {
    let dev = device();
    let small = user_buffer(dev, 16, USAGE);
    let err = Tensor::from_buffer(dev, small, &[5], DType::F32).unwrap_err();
    assert!(matches!(err, Error::Shape(_)), "{err}");
    assert!(err.to_string().contains("needs 32"), "{err}");
    let uniform = user_buffer(dev, 16, wgpu::BufferUsages::UNIFORM);
    let err = Tensor::from_buffer(dev, uniform, &[4], DType::F32).unwrap_err();
    assert!(matches!(err, Error::InvalidBuffer(_)), "{err}");
    // A buffer of another device: the first loss that binds it says so, on every backend.
    // (When each GL device had an instance of its own, wgpu-core panicked here.)
    let other = Device::new().unwrap();
    let foreign = user_buffer(&other, 16, USAGE);
    let t = Tensor::from_buffer(dev, foreign, &[4], DType::F32).unwrap();
    let err = mse_loss(&t, &upload(&[0.0; 4], &[4]), Reduction::Mean).unwrap_err();
    assert!(matches!(err, Error::Gpu(_)), "{err}");
    // Nor is it read as the buffer of this device that has its handle in another instance
    // (GL then bound `x` in its place, and the loss was 0).
    let ours = Device::new().unwrap();
    let x = Tensor::from_slice(&ours, &[1.0f32, 2.0, 3.0, 4.0], &[4]).unwrap();
    let theirs = Device::new().unwrap();
    let foreign = user_buffer(&theirs, 16, USAGE);
    let t = Tensor::from_buffer(&ours, foreign, &[4], DType::F32).unwrap();
    let read = mse_loss(&t, &x, Reduction::Sum).and_then(|l| l.to_vec::<f32>());
    assert!(matches!(read, Err(Error::Gpu(_))), "{read:?}");
}

#[test]
fn losses_recorded_into_the_users_encoder_run_in_its_submission() {
    let dev = device();
    let mut rng = Rng::new(90);
    let (rows, classes) = (300, 20);
    let x = rng.vec(rows * classes, -3.0, 3.0);
    let y: Vec<u32> = (0..rows).map(|_| rng.below(classes as u32)).collect();
    let logits = upload(&x, &[rows, classes]);
    let labels = Tensor::from_slice(dev, &y, &[rows]).unwrap();
    let ce = CrossEntropyLoss::new().label_smoothing(0.05);
    let (want_loss, want_grad) = ce.forward_with_grad(&logits, &labels).unwrap();
    let mut encoder = dev
        .wgpu_device()
        .create_command_encoder(&Default::default());
    let (loss, grad) = ce.record_with_grad(&mut encoder, &logits, &labels).unwrap();
    let mse = MseLoss::new()
        .record(&mut encoder, &logits, &logits)
        .unwrap();
    dev.wgpu_queue().submit([encoder.finish()]);
    assert_eq!(scalar(&loss).to_bits(), scalar(&want_loss).to_bits());
    assert_eq!(
        grad.to_vec::<f32>().unwrap(),
        want_grad.to_vec::<f32>().unwrap()
    );
    assert_eq!(scalar(&mse), 0.0);
}

#[test]
fn async_and_batched_reads() {
    let a = upload(&[1.0, 2.0, 3.0], &[3]);
    let b = upload(&[0.0, 0.0, 0.0], &[3]);
    let mse = mse_loss(&a, &b, Reduction::Mean).unwrap();
    let l1 = l1_loss(&a, &b, Reduction::None).unwrap();
    assert_eq!(
        pollster::block_on(mse.to_vec_async::<f32>()).unwrap(),
        vec![14.0 / 3.0]
    );
    let both = Tensor::read_many::<f32>(&[&mse, &l1]).unwrap();
    assert_eq!(both, vec![vec![14.0 / 3.0], vec![1.0, 2.0, 3.0]]);
    let both = pollster::block_on(Tensor::read_many_async::<f32>(&[&l1, &mse])).unwrap();
    assert_eq!(both[0], vec![1.0, 2.0, 3.0]);
    // A bad label in one of several tensors read together is reported, async too.
    let logits = upload(&[0.0; 6], &[3, 2]);
    let labels = Tensor::from_slice(device(), &[0u32, 1, 2], &[3]).unwrap();
    let ce = cross_entropy(&logits, &labels, Reduction::Sum).unwrap();
    let err = pollster::block_on(Tensor::read_many_async::<f32>(&[&mse, &ce])).unwrap_err();
    assert_eq!(
        err,
        Error::LabelOutOfRange {
            index: 2,
            label: 2,
            classes: 2
        }
    );
    assert!(matches!(
        Tensor::read_many::<u32>(&[&mse]),
        Err(Error::DType { .. })
    ));
}

#[test]
fn device_choice_and_info() {
    let dev = device();
    let info = dev.info();
    assert!(!info.name.is_empty());
    assert!(info.to_string().contains(&info.name));
    // The backend in use can be asked for by name; one that this machine lacks cannot.
    let same = Device::with_options(DeviceOptions::new().backends(&[info.backend])).unwrap();
    assert_eq!(same.info().backend, info.backend);
    let missing = if cfg!(target_os = "macos") {
        Backend::Dx12
    } else {
        Backend::Metal
    };
    let err = Device::with_options(DeviceOptions::new().backends(&[missing])).unwrap_err();
    assert!(matches!(err, Error::NoAdapter(_)), "{err}");
    let low =
        Device::with_options(DeviceOptions::new().power_preference(PowerPreference::LowPower))
            .unwrap();
    assert!(!low.info().name.is_empty());
    let tree = Device::with_options(DeviceOptions::new().disable_subgroups()).unwrap();
    assert!(!tree.uses_subgroups());
}

#[test]
fn subgroup_and_tree_reductions_agree() {
    // CI's lavapipe runs the subgroup path and llvmpipe the tree; on an adapter with
    // subgroups both paths run here.
    let tree = Device::with_options(DeviceOptions::new().disable_subgroups()).unwrap();
    let mut rng = Rng::new(91);
    let n = 100_003;
    let x = rng.vec(n, -5.0, 5.0);
    let (rows, classes) = (50, 1000);
    let logits = rng.vec(rows * classes, -5.0, 5.0);
    let y: Vec<u32> = (0..rows).map(|_| rng.below(classes as u32)).collect();
    let run = |dev: &Device| {
        let t = Tensor::from_slice(dev, &x, &[n]).unwrap();
        let mse = mse_loss(&t, &t, Reduction::Mean)
            .unwrap()
            .to_vec::<f32>()
            .unwrap()[0];
        let l = Tensor::from_slice(dev, &logits, &[rows, classes]).unwrap();
        let lab = Tensor::from_slice(dev, &y, &[rows]).unwrap();
        let ce = cross_entropy(&l, &lab, Reduction::Mean)
            .unwrap()
            .to_vec::<f32>()
            .unwrap()[0];
        let sq = mse_loss(
            &t,
            &Tensor::from_slice(dev, &vec![0.0f32; n], &[n]).unwrap(),
            Reduction::Sum,
        )
        .unwrap()
        .to_vec::<f32>()
        .unwrap()[0];
        (mse, ce, sq)
    };
    let (a, b) = (run(device()), run(&tree));
    assert_eq!(a.0, 0.0);
    assert!(
        approx::relative_eq!(a.1, b.1, max_relative = 1e-6),
        "{a:?} {b:?}"
    );
    assert!(
        approx::relative_eq!(a.2, b.2, max_relative = 1e-6),
        "{a:?} {b:?}"
    );
    let want: f64 = x.iter().map(|&v| (v as f64).powi(2)).sum();
    assert!(rel_err(b.2, want) < 1e-6);
}

#[test]
fn kernel_timing_sums_the_passes_of_timed_calls_only() {
    // A device of its own: timing makes every call wait, which the other tests should not.
    let dev = Device::new().unwrap();
    let has_timestamps = dev
        .wgpu_device()
        .features()
        .contains(wgpu::Features::TIMESTAMP_QUERY);
    assert_eq!(dev.time_kernels(true), has_timestamps);
    if !has_timestamps {
        return;
    }
    let data: Vec<f32> = (0..100_003).map(|i| (i % 97) as f32 * 0.01).collect();
    let x = Tensor::from_slice(&dev, &data, &[data.len()]).unwrap();
    let y = Tensor::from_slice(&dev, &vec![0.5f32; data.len()], &[data.len()]).unwrap();
    let expected: f64 = data.iter().map(|&v| (v as f64 - 0.5).powi(2)).sum::<f64>() / 100_003.0;

    assert_eq!(dev.kernel_time(), std::time::Duration::ZERO);
    let timed = mse_loss(&x, &y, Reduction::Mean).unwrap();
    let after_one = dev.kernel_time();
    assert!(after_one > std::time::Duration::ZERO);
    approx::assert_relative_eq!(
        timed.to_vec::<f32>().unwrap()[0] as f64,
        expected,
        max_relative = 1e-5
    );

    // Calls recorded into the caller's encoder, and calls once timing is off, add nothing.
    let mut encoder = dev
        .wgpu_device()
        .create_command_encoder(&Default::default());
    let recorded = MseLoss::new().record(&mut encoder, &x, &y).unwrap();
    dev.wgpu_queue().submit([encoder.finish()]);
    assert_eq!(
        recorded.to_vec::<f32>().unwrap(),
        timed.to_vec::<f32>().unwrap()
    );
    assert!(!dev.time_kernels(false));
    mse_loss(&x, &y, Reduction::Mean)
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    assert_eq!(dev.kernel_time(), after_one);

    // A call split into chunks is timed, and its result is unchanged.
    let chunked = Device::with_options(DeviceOptions::new().max_binding_size(1 << 16)).unwrap();
    assert!(chunked.time_kernels(true));
    let x = Tensor::from_slice(&chunked, &data, &[data.len()]).unwrap();
    let y = Tensor::from_slice(&chunked, &vec![0.5f32; data.len()], &[data.len()]).unwrap();
    let loss = mse_loss(&x, &y, Reduction::Mean).unwrap();
    assert!(chunked.kernel_time() > std::time::Duration::ZERO);
    approx::assert_relative_eq!(
        loss.to_vec::<f32>().unwrap()[0] as f64,
        expected,
        max_relative = 1e-5
    );
}

#[test]
fn losses_of_three_inputs_record_into_the_users_encoder() {
    let dev = device();
    let (x1, x2) = (upload(&[2.0, 0.5], &[2]), upload(&[1.0, 1.5], &[2]));
    let y = upload(&[1.0, 1.0], &[2]);
    let loss = MarginRankingLoss::new().reduction(Reduction::Sum);
    let mut encoder = dev
        .wgpu_device()
        .create_command_encoder(&Default::default());
    let (l, (g1, g2)) = loss.record_with_grad(&mut encoder, &x1, &x2, &y).unwrap();
    let alone = loss.record(&mut encoder, &x1, &x2, &y).unwrap();
    dev.wgpu_queue().submit([encoder.finish()]);
    assert_eq!(l.to_vec::<f32>().unwrap(), [1.0]);
    assert_eq!(alone.to_vec::<f32>().unwrap(), [1.0]);
    assert_eq!(g1.to_vec::<f32>().unwrap(), [0.0, -1.0]);
    assert_eq!(g2.to_vec::<f32>().unwrap(), [0.0, 1.0]);
}
