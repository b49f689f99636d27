// The gradient of an element-wise loss rounded once to bf16 (to nearest, ties to even), four
// elements (two words) at a time. NaN stays NaN.

const WRITE_NAME: bool = true;

@group(0) @binding(BINDING) var<storage, read_write> NAME: array<vec2<u32>>;

fn NAME_bf16_bits(v: f32) -> u32 {
    let b = bitcast<u32>(v);
    if (b & 0x7fffffffu) > 0x7f800000u {
        return (b >> 16u) | 0x40u;
    }
    return (b + 0x7fffu + ((b >> 16u) & 1u)) >> 16u;
}

fn store_NAME(i: u32, g: vec4<f32>) {
    NAME[i] = vec2<u32>(
        NAME_bf16_bits(g.x) | (NAME_bf16_bits(g.y) << 16u),
        NAME_bf16_bits(g.z) | (NAME_bf16_bits(g.w) << 16u),
    );
}
