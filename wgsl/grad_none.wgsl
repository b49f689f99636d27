// No gradient is asked for: the gradient's binding is absent, and storing it does nothing.

const WRITE_GRAD: bool = false;

fn store_grad(i: u32, g: vec4<f32>) {}
