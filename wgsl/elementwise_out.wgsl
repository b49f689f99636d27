// The per-element loss of an element-wise loss (reduction none), four elements at a time.

const WRITE_OUT: bool = true;

@group(0) @binding(5) var<storage, read_write> out: array<vec4<f32>>;

fn store_out(i: u32, l: vec4<f32>) {
    out[i] = l;
}
