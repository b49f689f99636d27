// The gradient of an element-wise loss rounded once to f16, four elements (two words) at a
// time. Beyond f16's range the result is an infinity and NaN stays NaN, as a cast does in
// PyTorch (pack2x16float alone leaves both undefined).

const WRITE_NAME: bool = true;

@group(0) @binding(BINDING) var<storage, read_write> NAME: array<vec2<u32>>;

fn NAME_f16_bits(v: f32) -> u32 {
    if v != v {
        return 0x7e00u;
    }
    if abs(v) >= 65520.0 {
        return select(0x7c00u, 0xfc00u, v < 0.0);
    }
    return pack2x16float(vec2<f32>(v, 0.0)) & 0xffffu;
}

fn store_NAME(i: u32, g: vec4<f32>) {
    NAME[i] = vec2<u32>(
        NAME_f16_bits(g.x) | (NAME_f16_bits(g.y) << 16u),
        NAME_f16_bits(g.z) | (NAME_f16_bits(g.w) << 16u),
    );
}
