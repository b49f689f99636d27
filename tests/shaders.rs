//! Every shader the crate compiles, parsed and validated by naga: no GPU needed.

use wgpu_loss::shaders;

fn validate(name: &str, source: &str, subgroups: bool) {
    let module = naga::front::wgsl::parse_str(source)
        .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(source)));
    // wgpu grants f16 packing to every adapter with the SHADER_F16_IN_F32 downlevel flag.
    let mut caps =
        naga::valid::Capabilities::default() | naga::valid::Capabilities::SHADER_FLOAT16_IN_FLOAT32;
    if subgroups {
        caps |= naga::valid::Capabilities::SUBGROUP;
    }
    naga::valid::Validator::new(naga::valid::ValidationFlags::all(), caps)
        .subgroup_stages(naga::valid::ShaderStages::COMPUTE)
        .subgroup_operations(naga::valid::SubgroupOperationSet::all())
        .validate(&module)
        .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(source)));
}

#[test]
fn every_variant_parses_and_validates() {
    let variants = shaders::variants();
    assert!(
        variants.len() >= 8,
        "expected every kernel in both reduction paths"
    );
    for v in &variants {
        validate(&v.name, &v.source, v.needs_subgroups);
    }
}

#[test]
fn example_shader_validates() {
    let source = include_str!("../examples/train_classifier/shader.wgsl");
    validate("train_classifier", source, false);
}

#[test]
fn every_wgsl_file_is_part_of_a_variant() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/wgsl");
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .expect("wgsl/ exists")
        .map(|e| {
            e.expect("readable entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.ends_with(".wgsl"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = shaders::FILES.iter().map(|(n, _)| n.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed, "wgsl/ and shaders::FILES disagree");
    let variants = shaders::variants();
    for (name, _) in shaders::FILES {
        assert!(
            variants.iter().any(|v| v.files.contains(name)),
            "{name} is used by no shader variant"
        );
    }
}

#[test]
fn subgroup_variants_need_the_subgroup_capability() {
    let v = shaders::variants()
        .into_iter()
        .find(|v| v.needs_subgroups)
        .expect("a subgroup variant");
    let module = naga::front::wgsl::parse_str(&v.source).expect("parses");
    let result = naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::SHADER_FLOAT16_IN_FLOAT32,
    )
    .validate(&module);
    assert!(result.is_err(), "{} validated without SUBGROUP", v.name);
}

// Checks that naga does not make but the browser's WGSL compiler (Tint) does: each of these
// let a shader through naga and the native drivers that Chromium's WebGPU then refused.

/// The float literals of `source` (decimal or hex, with an optional `f`/`h` suffix) whose
/// value lies outside f32's finite range: Tint rejects them, naga rounds them.
fn out_of_f32_range(source: &str) -> Vec<String> {
    let bytes = source.as_bytes();
    let mut bad = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let starts_number = bytes[i].is_ascii_digit()
            && (i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_'));
        if !starts_number {
            i += 1;
            continue;
        }
        let hex = source[i..].starts_with("0x") || source[i..].starts_with("0X");
        let start = i;
        i += if hex { 2 } else { 0 };
        while i < bytes.len() {
            let c = bytes[i];
            let exponent = if hex { b"pP" } else { b"eE" };
            let sign_after_exponent = (c == b'+' || c == b'-') && exponent.contains(&bytes[i - 1]);
            let digit = if hex {
                c.is_ascii_hexdigit()
            } else {
                c.is_ascii_digit()
            };
            if digit || c == b'.' || exponent.contains(&c) || sign_after_exponent {
                i += 1;
            } else {
                break;
            }
        }
        let literal = &source[start..i];
        let value = if hex {
            hex_float(literal)
        } else {
            literal.parse::<f64>().ok()
        };
        let is_float = literal.contains(['.', 'e', 'E', 'p', 'P']) || bytes.get(i) == Some(&b'f');
        if is_float && value.is_some_and(|v| v.abs() > f32::MAX as f64) {
            bad.push(literal.to_string());
        }
    }
    bad
}

/// The value of a WGSL hex float such as `0x1.fffffep+127`.
fn hex_float(literal: &str) -> Option<f64> {
    let body = &literal[2..];
    let (mantissa, exponent) = match body.split_once(['p', 'P']) {
        Some((m, e)) => (m, e.parse::<i32>().ok()?),
        None => (body, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{whole}{fraction}");
    let value = u128::from_str_radix(&digits, 16).ok()? as f64;
    Some(value * 2f64.powi(exponent - 4 * fraction.len() as i32))
}

#[test]
fn float_literals_are_finite_f32() {
    // The check catches the constant Chromium refused, and passes the strict spelling.
    assert_eq!(
        out_of_f32_range("const LOWEST: f32 = -3.4028235e38;"),
        ["3.4028235e38"]
    );
    assert!(
        out_of_f32_range("const LOWEST: f32 = -0x1.fffffep+127f; let a = 1e3 - 2.5;").is_empty()
    );
    assert_eq!(hex_float("0x1.fffffep+127"), Some(f32::MAX as f64));
    for v in shaders::variants() {
        let bad = out_of_f32_range(&v.source);
        assert!(
            bad.is_empty(),
            "{}: {bad:?} are not finite f32 values",
            v.name
        );
    }
}

/// Builtins that are the same for every invocation of a workgroup, and ones that are not.
fn uniform_builtin(b: &naga::BuiltIn) -> Option<bool> {
    use naga::BuiltIn::*;
    match b {
        WorkGroupId | NumWorkGroups => Some(true),
        LocalInvocationIndex | LocalInvocationId | GlobalInvocationId | SubgroupInvocationId => {
            Some(false)
        }
        _ => None,
    }
}

/// Entry-point arguments (structs) that hold both kinds of builtin: WebGPU's uniformity
/// analysis then calls every member non-uniform, so a loop bounded by `workgroup_id` with a
/// barrier inside is refused.
fn mixed_builtin_structs(module: &naga::Module) -> Vec<String> {
    let mut mixed = Vec::new();
    for ep in &module.entry_points {
        for arg in &ep.function.arguments {
            let naga::TypeInner::Struct { members, .. } = &module.types[arg.ty].inner else {
                continue;
            };
            let kinds: Vec<bool> = members
                .iter()
                .filter_map(|m| match &m.binding {
                    Some(naga::Binding::BuiltIn(b)) => uniform_builtin(b),
                    _ => None,
                })
                .collect();
            if kinds.contains(&true) && kinds.contains(&false) {
                mixed.push(format!(
                    "{}({})",
                    ep.name,
                    arg.name.clone().unwrap_or_default()
                ));
            }
        }
    }
    mixed
}

#[test]
fn workgroup_builtins_are_kept_apart_from_invocation_builtins() {
    let old = "struct Ids { @builtin(local_invocation_index) lid: u32, \
               @builtin(workgroup_id) wg: vec3<u32> }
               @compute @workgroup_size(1) fn main(ids: Ids) {}";
    let module = naga::front::wgsl::parse_str(old).expect("parses");
    assert_eq!(mixed_builtin_structs(&module), ["main(ids)"]);
    for v in shaders::variants() {
        let module = naga::front::wgsl::parse_str(&v.source).expect("parses");
        let mixed = mixed_builtin_structs(&module);
        assert!(mixed.is_empty(), "{}: {mixed:?}", v.name);
    }
}

/// Expressions that mix a comparison with `&`, `|` or `^` at one level of parentheses, which
/// WGSL's grammar (and the browser's compiler, Tint) refuses and naga accepts. Operators are
/// found by this crate's spelling: binary operators between spaces (`vec4<f32>` has none).
fn mixed_comparisons(source: &str) -> Vec<String> {
    let code: String = source
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = Vec::new();
    for statement in code.split([';', '{', '}']) {
        // One (comparison, bitwise) flag pair per open parenthesis level; a comma starts a
        // new operand at its level.
        let mut levels = vec![(false, false)];
        let tokens: Vec<&str> = statement.split_whitespace().collect();
        for t in &tokens {
            for c in t.chars().filter(|c| matches!(c, '(' | ')' | ',')) {
                match c {
                    '(' => levels.push((false, false)),
                    ')' => {
                        levels.pop();
                        if levels.is_empty() {
                            levels.push((false, false));
                        }
                    }
                    _ => *levels.last_mut().unwrap() = (false, false),
                }
            }
            let level = levels.last_mut().unwrap();
            match *t {
                "==" | "!=" | "<=" | ">=" | "<" | ">" => level.0 = true,
                "&" | "|" | "^" => level.1 = true,
                _ => {}
            }
            if level.0 && level.1 {
                found.push(statement.trim().to_string());
                break;
            }
        }
    }
    found
}

/// `bitcast<f32>` of an integer literal whose bits are an infinity or a NaN: a constant the
/// browser's compiler refuses ("value inf cannot be represented as 'f32'").
fn non_finite_bitcasts(source: &str) -> Vec<String> {
    source
        .match_indices("bitcast<f32>(0x")
        .filter_map(|(at, _)| {
            let hex: String = source[at + "bitcast<f32>(0x".len()..]
                .chars()
                .take_while(char::is_ascii_hexdigit)
                .collect();
            let bits = u32::from_str_radix(&hex, 16).ok()?;
            let rest = &source[at + "bitcast<f32>(0x".len() + hex.len()..];
            let constant = rest.starts_with("u)");
            (constant && !f32::from_bits(bits).is_finite()).then(|| format!("0x{hex}"))
        })
        .collect()
}

#[test]
fn no_shader_uses_what_the_browsers_compiler_refuses() {
    // The two lines Chromium refused, and their fixed spellings.
    let old = "let hinge = select(zero, v, y != vec4<f32>(1.0) & m >= zero);";
    assert_eq!(mixed_comparisons(old).len(), 1);
    let new = "let hinge = select(zero, v, (y != vec4<f32>(1.0)) & (m >= zero));";
    assert!(mixed_comparisons(new).is_empty());
    assert_eq!(
        non_finite_bitcasts("return select(0.0, bitcast<f32>(0x7f800000u), g < 0.0);"),
        ["0x7f800000"]
    );
    assert!(non_finite_bitcasts("bitcast<f32>(0x7f800000u | (bitcast<u32>(g) & 0u))").is_empty());
    for v in shaders::variants() {
        let mixed = mixed_comparisons(&v.source);
        assert!(mixed.is_empty(), "{}: {mixed:?}", v.name);
        let bits = non_finite_bitcasts(&v.source);
        assert!(bits.is_empty(), "{}: {bits:?}", v.name);
    }
}
