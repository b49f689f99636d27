//! The training example, shortened: the loss must fall by at least 10x and the classifier
//! must separate the synthetic classes.

mod common;
#[path = "../examples/train_classifier/model.rs"]
mod model;

#[test]
fn classifier_learns_on_the_gpu() {
    let data = model::Data::synthetic(1024, 9, 5, 11);
    let report = model::train(common::device(), &data, 60, 0.05, 10).unwrap();
    let first = report.losses.first().unwrap().1;
    let last = report.losses.last().unwrap().1;
    eprintln!("loss {first} -> {last}, accuracy {}", report.accuracy);
    assert!(
        (first - 5f32.ln()).abs() < 1e-5,
        "zero weights give ln(5), got {first}"
    );
    assert!(last * 10.0 < first, "loss fell only from {first} to {last}");
    assert!(report.accuracy >= 0.95, "accuracy {}", report.accuracy);
}

#[path = "../examples/train_lm_head/head.rs"]
mod head;

#[test]
fn language_model_head_learns_with_the_linear_cross_entropy() {
    let data = head::Data::toy(256, 16, 16, 300);
    let losses = head::train(common::device(), &data, 20, 4.0).unwrap();
    let (first, last) = (losses[0], losses[losses.len() - 1]);
    eprintln!("loss {first} -> {last}");
    assert!(
        (first - 300f32.ln()).abs() < 1e-5,
        "zero weights give ln(300), got {first}"
    );
    assert!(last * 5.0 < first, "loss fell only from {first} to {last}");
}
