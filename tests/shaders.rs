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
