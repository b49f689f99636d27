// The per-row loss of cross-entropy and NLL (reduction none).

const WRITE_OUT: bool = true;

@group(0) @binding(6) var<storage, read_write> out: array<f32>;

fn store_out(row: u32, l: f32) {
    out[row] = l;
}
