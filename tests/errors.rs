//! Bad input comes back as an `Error` with a clear message, never a panic or a wgpu abort.

mod common;
use common::*;
use wgpu_loss::{
    DType, Device, DeviceOptions, Error, Reduction, Tensor, binary_cross_entropy, cross_entropy,
    mse_loss,
};

#[test]
fn data_not_matching_shape() {
    let err = Tensor::from_slice(device(), &[1.0f32, 2.0, 3.0], &[2, 2]).unwrap_err();
    assert!(matches!(err, Error::Shape(_)), "{err}");
}

#[test]
fn empty_tensor_is_refused() {
    let err = Tensor::from_slice::<f32>(device(), &[], &[0]).unwrap_err();
    assert_eq!(err, Error::Empty("tensor"));
    let err = Tensor::from_slice::<f32>(device(), &[], &[3, 0]).unwrap_err();
    assert!(matches!(err, Error::Empty(_)));
}

#[test]
fn shape_mismatch_between_input_and_target() {
    let a = upload(&[1.0; 6], &[2, 3]);
    let b = upload(&[1.0; 6], &[3, 2]);
    let err = mse_loss(&a, &b, Reduction::Mean).unwrap_err();
    assert!(matches!(err, Error::Shape(_)), "{err}");
    assert!(err.to_string().contains("[2, 3]") && err.to_string().contains("[3, 2]"));
    assert!(matches!(
        binary_cross_entropy(&a, &b, Reduction::Sum),
        Err(Error::Shape(_))
    ));
}

#[test]
fn wrong_element_types() {
    let f = upload(&[0.5; 4], &[4]);
    let u = Tensor::from_slice(device(), &[1u32; 4], &[4]).unwrap();
    let err = mse_loss(&u, &f, Reduction::Mean).unwrap_err();
    assert!(
        matches!(
            err,
            Error::DType {
                got: DType::U32,
                ..
            }
        ),
        "{err}"
    );
    // Float labels are a common mistake: a float target means probabilities, so say both.
    let logits = upload(&[0.0; 8], &[4, 2]);
    let err = cross_entropy(&logits, &f, Reduction::Mean).unwrap_err();
    assert_eq!(
        err.to_string(),
        "shape mismatch: cross_entropy: a float target holds class probabilities and must have \
         the logits' shape [4, 2], got [4] (class labels must be u32 or i32)"
    );
    assert!(matches!(u.to_vec::<f32>(), Err(Error::DType { .. })));
}

#[test]
fn cross_entropy_rank_and_label_shape() {
    let logits3 = upload(&[0.0; 8], &[2, 2, 2]);
    let labels = Tensor::from_slice(device(), &[0u32, 1], &[2]).unwrap();
    assert!(matches!(
        cross_entropy(&logits3, &labels, Reduction::Mean),
        Err(Error::Shape(_))
    ));
    let logits = upload(&[0.0; 6], &[3, 2]);
    let err = cross_entropy(&logits, &labels, Reduction::Mean).unwrap_err();
    assert!(matches!(err, Error::Shape(_)), "{err}");
}

#[test]
fn label_out_of_range_is_reported_on_read() {
    let logits = upload(&[0.0; 12], &[4, 3]);
    let labels = Tensor::from_slice(device(), &[0u32, 2, 3, 7], &[4]).unwrap();
    let loss = cross_entropy(&logits, &labels, Reduction::Mean).unwrap();
    assert_eq!(
        loss.to_vec::<f32>().unwrap_err(),
        Error::LabelOutOfRange {
            index: 2,
            label: 3,
            classes: 3
        }
    );
    let signed = Tensor::from_slice(device(), &[0i32, -1, 1, 1], &[4]).unwrap();
    let err = cross_entropy(&logits, &signed, Reduction::None)
        .unwrap()
        .to_vec::<f32>()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "label -1 at index 1 is out of range for 3 classes"
    );
}

#[test]
fn rows_too_large_for_one_binding_are_refused_not_silently_zero() {
    // Tensors larger than a binding are split into chunks (tests/chunks.rs), even one
    // sample along its positions, but a window holds whole rows: a device that binds only
    // 1 KiB cannot hold a row of 300 classes.
    let dev = Device::with_options(DeviceOptions::new().max_binding_size(1024)).unwrap();
    let logits = Tensor::from_slice(&dev, &vec![0.0f32; 2 * 300], &[2, 300]).unwrap();
    let labels = Tensor::from_slice(&dev, &[0u32; 2], &[2]).unwrap();
    match cross_entropy(&logits, &labels, Reduction::Mean).unwrap_err() {
        Error::TooLarge {
            what,
            bytes,
            limit_name,
            limit,
        } => {
            assert_eq!(
                (what, limit_name, limit),
                ("logits", "max_storage_buffer_binding_size", 1024)
            );
            assert!(bytes >= 1200, "{bytes}");
        }
        other => panic!("{other}"),
    }
}

#[test]
fn tensors_from_two_devices() {
    let other = Device::new().unwrap();
    let a = upload(&[1.0; 4], &[4]);
    let b = Tensor::from_slice(&other, &[1.0f32; 4], &[4]).unwrap();
    assert_eq!(
        mse_loss(&a, &b, Reduction::Mean).unwrap_err(),
        Error::DeviceMismatch
    );
}

#[test]
fn unknown_adapter_name() {
    let err =
        Device::with_options(DeviceOptions::new().adapter_name("no such gpu 9000")).unwrap_err();
    assert!(matches!(err, Error::NoAdapter(_)), "{err}");
}
