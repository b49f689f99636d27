// No gradient of this input: nothing is written and no binding is declared.

fn put_NAME(i: u32, v: f32) {
}
