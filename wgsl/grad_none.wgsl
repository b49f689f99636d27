// No gradient is asked for: the gradient's binding is absent, and storing it does nothing.
// Its name (NAME) is filled in when the module is composed.

const WRITE_NAME: bool = false;

fn store_NAME(i: u32, g: vec4<f32>) {}
