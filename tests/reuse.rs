//! The buffers of dropped tensors are reused by later tensors, and bind groups by later
//! calls: nothing of a buffer's previous life may show through, and a buffer that the
//! caller's encoder still uses must not be reused.
//!
//! Each test opens a device of its own, so that the pool holds exactly what the test dropped.

use wgpu_loss::*;

fn device() -> Device {
    Device::new().expect("no adapter for the GPU tests")
}

#[test]
fn nll_gradient_is_zero_off_the_labels_in_a_reused_buffer() {
    let dev = device();
    let (rows, classes) = (5, 7);
    let log_probs: Vec<f32> = (0..rows * classes).map(|i| -(i as f32) * 0.1).collect();
    let labels = [3u32, 0, 6, 2, 1];
    let lp = Tensor::from_slice(&dev, &log_probs, &[rows, classes]).unwrap();
    let y = Tensor::from_slice(&dev, &labels, &[rows]).unwrap();
    // A dropped tensor of the gradient's size, full of garbage, goes back to the pool.
    drop(Tensor::from_slice(&dev, &vec![9.0f32; rows * classes], &[rows, classes]).unwrap());
    let (_, grad) = NllLoss::new()
        .reduction(Reduction::Sum)
        .forward_with_grad(&lp, &y)
        .unwrap();
    let grad = grad.to_vec::<f32>().unwrap();
    for (i, g) in grad.iter().enumerate() {
        let want = if labels[i / classes] as usize == i % classes {
            -1.0
        } else {
            0.0
        };
        assert_eq!(*g, want, "element {i}");
    }
}

#[test]
fn a_bad_label_is_not_remembered_by_the_next_call() {
    let dev = device();
    let logits = Tensor::from_slice(&dev, &[0.5f32; 12], &[3, 4]).unwrap();
    let bad = Tensor::from_slice(&dev, &[1u32, 9, 2], &[3]).unwrap();
    let good = Tensor::from_slice(&dev, &[1u32, 3, 2], &[3]).unwrap();
    for _ in 0..3 {
        let err = cross_entropy(&logits, &bad, Reduction::Mean)
            .and_then(|l| l.to_vec::<f32>())
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::LabelOutOfRange {
                    index: 1,
                    label: 9,
                    classes: 4
                }
            ),
            "{err}"
        );
        let loss = cross_entropy(&logits, &good, Reduction::Mean).unwrap();
        assert_eq!(loss.to_vec::<f32>().unwrap(), vec![4f32.ln()]);
    }
}

#[test]
fn an_uploaded_tensor_is_padded_with_zeros_in_a_reused_buffer() {
    let dev = device();
    drop(Tensor::from_slice(&dev, &[7.0f32; 4], &[4]).unwrap());
    let t = Tensor::from_slice(&dev, &[1.0f32, 2.0, 3.0], &[3]).unwrap();
    // The same buffer seen whole: the data, then a zero where the old 7 was.
    let whole = Tensor::from_buffer(&dev, t.buffer().clone(), &[4], DType::F32).unwrap();
    assert_eq!(whole.to_vec::<f32>().unwrap(), vec![1.0, 2.0, 3.0, 0.0]);

    drop(Tensor::from_slice(&dev, &[half::f16::from_f32(7.0); 8], &[8]).unwrap());
    let halves = [1.0, 2.0, 3.0].map(half::f16::from_f32);
    let t = Tensor::from_slice(&dev, &halves, &[3]).unwrap();
    let whole = Tensor::from_buffer(&dev, t.buffer().clone(), &[8], DType::F16).unwrap();
    let mut want = halves.to_vec();
    want.resize(8, half::f16::ZERO);
    assert_eq!(whole.to_vec::<half::f16>().unwrap(), want);
}

#[test]
fn tensors_bound_in_the_callers_encoder_are_not_reused_before_it_is_submitted() {
    let dev = device();
    let n = 1000;
    let x = Tensor::from_slice(&dev, &vec![3.0f32; n], &[n]).unwrap();
    let y = Tensor::from_slice(&dev, &vec![1.0f32; n], &[n]).unwrap();
    let mut encoder = dev
        .wgpu_device()
        .create_command_encoder(&Default::default());
    let loss = MseLoss::new().record(&mut encoder, &x, &y).unwrap();
    // Dropped before the encoder is submitted; new tensors of their size, and a loss call
    // of our own in between, must not land in their buffers.
    drop((x, y));
    let others: Vec<Tensor> = (0..2)
        .map(|_| Tensor::from_slice(&dev, &vec![-5.0f32; n], &[n]).unwrap())
        .collect();
    let other_loss = mse_loss(&others[0], &others[1], Reduction::Sum).unwrap();
    dev.wgpu_queue().submit([encoder.finish()]);
    assert_eq!(loss.to_vec::<f32>().unwrap(), vec![4.0]);
    assert_eq!(other_loss.to_vec::<f32>().unwrap(), vec![0.0]);
}

#[test]
fn repeated_calls_on_reused_buffers_give_the_same_results() {
    let dev = device();
    let n = 100_003;
    let x: Vec<f32> = (0..n).map(|i| (i % 89) as f32 * 0.01).collect();
    let x = Tensor::from_slice(&dev, &x, &[n]).unwrap();
    let y = Tensor::from_slice(&dev, &vec![0.25f32; n], &[n]).unwrap();
    let first = MseLoss::new().forward_with_grad(&x, &y).unwrap();
    let (loss, grad) = (
        first.0.to_vec::<f32>().unwrap(),
        first.1.to_vec::<f32>().unwrap(),
    );
    drop(first);
    for _ in 0..5 {
        let (l, g) = MseLoss::new().forward_with_grad(&x, &y).unwrap();
        assert_eq!(l.to_vec::<f32>().unwrap(), loss);
        assert_eq!(g.to_vec::<f32>().unwrap(), grad);
    }
}
