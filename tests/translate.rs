//! Every shader variant the crate generates, translated by naga to every back end wgpu uses:
//! SPIR-V (Vulkan), MSL (Metal), HLSL (DX12) and GLSL (GL / GLES). No GPU needed.
//!
//! For each variant, each of its `@compute` entry points and a set of override combinations
//! (all off, all on, each one on alone), the overrides are resolved the way wgpu does it
//! (`process_overrides`), the result is validated again, and each back end must accept it.
//!
//! The SPIR-V (`.spv`) and GLSL (`.comp`) outputs of the all-off and all-on combinations are
//! written to `target/tmp/shader-translations/` (cargo's `CARGO_TARGET_TMPDIR`), so that CI can
//! check them with `spirv-val --target-env vulkan1.1` and `glslangValidator`.
//!
//! Versions, matching what wgpu asks of each back end:
//! - SPIR-V 1.3 (Vulkan 1.1), the first with `GroupNonUniform*` subgroup operations.
//! - MSL 2.0; subgroup variants MSL 2.3 (SIMD-group functions on every Apple OS).
//! - HLSL shader model 6.0, the first with wave intrinsics.
//! - GLSL `310 es` (wgpu's GLES floor for compute) and `430 core` (desktop GL); naga's glsl-out
//!   expresses subgroups in both through `GL_KHR_shader_subgroup_*`, so no back end is skipped.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use naga::back::{glsl, hlsl, msl, spv};
use naga::valid::{Capabilities, ModuleInfo, ShaderStages, SubgroupOperationSet, ValidationFlags};
use wgpu_loss::shaders::{self, ShaderVariant};

/// Output folder, emptied at the start of each run.
fn out_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("shader-translations")
}

fn validator(subgroups: bool) -> naga::valid::Validator {
    // wgpu grants f16 packing to every adapter with the SHADER_F16_IN_F32 downlevel flag.
    let mut caps = Capabilities::default() | Capabilities::SHADER_FLOAT16_IN_FLOAT32;
    if subgroups {
        caps |= Capabilities::SUBGROUP;
    }
    let mut v = naga::valid::Validator::new(ValidationFlags::all(), caps);
    v.subgroup_stages(ShaderStages::COMPUTE)
        .subgroup_operations(SubgroupOperationSet::all());
    v
}

/// Keep letters, digits, `-`, `_` and `+`; anything else becomes `_`.
fn file_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The override combinations to test: all off, all on, each one on alone (deduplicated).
fn combinations(overrides: &[&'static str]) -> Vec<(String, Vec<&'static str>)> {
    let mut combos: Vec<(String, Vec<&'static str>)> = vec![("none".into(), vec![])];
    if !overrides.is_empty() {
        combos.push(("all".into(), overrides.to_vec()));
    }
    for &o in overrides {
        combos.push((o.to_string(), vec![o]));
    }
    let mut seen = Vec::new();
    combos.retain(|(_, on)| {
        let mut key = on.clone();
        key.sort_unstable();
        if seen.contains(&key) {
            false
        } else {
            seen.push(key);
            true
        }
    });
    combos
}

/// GLSL bindings as wgpu's GL back end lays them out: one flat index per (group, binding).
fn glsl_binding_map(module: &naga::Module) -> glsl::BindingMap {
    let mut map = glsl::BindingMap::default();
    for (_, var) in module.global_variables.iter() {
        if let Some(rb) = var.binding {
            let flat = u8::try_from(rb.group * 16 + rb.binding).expect("binding fits a u8");
            map.insert(rb, flat);
        }
    }
    map
}

struct Counts {
    translations: usize,
    spv_files: usize,
    glsl_files: usize,
}

/// One parsed and validated variant, and where its translations go.
struct Source<'a> {
    variant: &'a ShaderVariant,
    module: &'a naga::Module,
    info: &'a ModuleInfo,
    dir: &'a Path,
}

/// Resolves the overrides of one combination for one entry point, re-validates, and runs every
/// back end, writing the SPIR-V and GLSL to `<dir>/<stem>…` when there is a stem. Returns the
/// failure as a message.
fn translate_one(
    src: &Source<'_>,
    entry: &str,
    combo: &[&str],
    stem: Option<&str>,
    counts: &mut Counts,
) -> Result<(), String> {
    let Source {
        variant: v,
        module,
        info,
        dir,
    } = *src;
    let stage = naga::ShaderStage::Compute;
    let mut constants = naga::back::PipelineConstants::default();
    for &name in v.overrides {
        constants.insert(name.to_string(), f64::from(u8::from(combo.contains(&name))));
    }

    let (resolved, _) = naga::back::pipeline_constants::process_overrides(
        module,
        info,
        Some((stage, entry)),
        &constants,
    )
    .map_err(|e| format!("process_overrides: {e}"))?;
    let resolved: &naga::Module = &resolved;
    // Re-validate with only the capabilities the crate asks for (process_overrides validates
    // with all of them), requiring every override to be resolved.
    let info = validator(v.needs_subgroups)
        .validate_resolved_overrides(resolved)
        .map_err(|e| format!("re-validation: {}", e.emit_to_string(&v.source)))?;

    // SPIR-V 1.3 = Vulkan 1.1.
    let spv_options = spv::Options {
        lang_version: (1, 3),
        ..spv::Options::default()
    };
    let spv_pipeline = spv::PipelineOptions {
        shader_stage: stage,
        entry_point: entry.to_string(),
    };
    let words = spv::write_vec(resolved, &info, &spv_options, Some(&spv_pipeline))
        .map_err(|e| format!("SPIR-V: {e}"))?;
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    if let Some(stem) = stem {
        std::fs::write(dir.join(format!("{stem}.spv")), bytes).map_err(|e| e.to_string())?;
        counts.spv_files += 1;
    }

    // MSL.
    let msl_options = msl::Options {
        lang_version: if v.needs_subgroups { (2, 3) } else { (2, 0) },
        ..msl::Options::default()
    };
    let msl_pipeline = msl::PipelineOptions {
        entry_point: Some((stage, entry.to_string())),
        ..msl::PipelineOptions::default()
    };
    let (msl_text, msl_info) = msl::write_string(resolved, &info, &msl_options, &msl_pipeline)
        .map_err(|e| format!("MSL: {e}"))?;
    for r in &msl_info.entry_point_names {
        r.as_ref().map_err(|e| format!("MSL entry point: {e}"))?;
    }
    assert!(msl_text.contains("kernel"), "MSL output has no kernel");

    // HLSL, shader model 6.0.
    let hlsl_options = hlsl::Options {
        shader_model: hlsl::ShaderModel::V6_0,
        ..hlsl::Options::default()
    };
    let hlsl_pipeline = hlsl::PipelineOptions {
        entry_point: Some((stage, entry.to_string())),
    };
    let mut hlsl_text = String::new();
    let hlsl_info = hlsl::Writer::new(&mut hlsl_text, &hlsl_options, &hlsl_pipeline)
        .write(resolved, &info, None)
        .map_err(|e| format!("HLSL: {e}"))?;
    for r in &hlsl_info.entry_point_names {
        r.as_ref().map_err(|e| format!("HLSL entry point: {e}"))?;
    }
    assert!(
        hlsl_text.contains("[numthreads("),
        "HLSL output has no numthreads"
    );

    // GLSL, for GLES and desktop GL.
    for (tag, version) in [
        ("es310", glsl::Version::new_gles(310)),
        ("core430", glsl::Version::Desktop(430)),
    ] {
        let glsl_options = glsl::Options {
            version,
            writer_flags: glsl::WriterFlags::empty(),
            binding_map: glsl_binding_map(resolved),
            zero_initialize_workgroup_memory: true,
        };
        let glsl_pipeline = glsl::PipelineOptions {
            shader_stage: stage,
            entry_point: entry.to_string(),
            multiview: None,
        };
        let mut text = String::new();
        glsl::Writer::new(
            &mut text,
            resolved,
            &info,
            &glsl_options,
            &glsl_pipeline,
            naga::proc::BoundsCheckPolicies::default(),
        )
        .and_then(|mut w| w.write())
        .map_err(|e| format!("GLSL {tag}: {e}"))?;
        if let Some(stem) = stem {
            let file = dir.join(format!("{stem}-{tag}.comp"));
            std::fs::write(file, text).map_err(|e| e.to_string())?;
            counts.glsl_files += 1;
        }
    }

    counts.translations += 1;
    Ok(())
}

#[test]
fn every_variant_translates_to_every_back_end() {
    let start = Instant::now();
    let dir = out_dir();
    if dir.exists() {
        std::fs::remove_dir_all(&dir).expect("clear stale translations");
    }
    std::fs::create_dir_all(&dir).expect("create the output folder");
    eprintln!("shader translations: {}", dir.display());

    let variants = shaders::variants();
    assert!(!variants.is_empty());
    let mut counts = Counts {
        translations: 0,
        spv_files: 0,
        glsl_files: 0,
    };
    let mut entry_points = 0;
    let mut failures = String::new();
    for v in &variants {
        let module = naga::front::wgsl::parse_str(&v.source)
            .unwrap_or_else(|e| panic!("{}: {}", v.name, e.emit_to_string(&v.source)));
        let info = validator(v.needs_subgroups)
            .validate(&module)
            .unwrap_or_else(|e| panic!("{}: {}", v.name, e.emit_to_string(&v.source)));
        let entries: Vec<&str> = module
            .entry_points
            .iter()
            .inspect(|ep| {
                assert_eq!(
                    ep.stage,
                    naga::ShaderStage::Compute,
                    "{}: {}",
                    v.name,
                    ep.name
                );
            })
            .map(|ep| ep.name.as_str())
            .collect();
        assert!(!entries.is_empty(), "{}: no entry point", v.name);
        entry_points += entries.len();
        let combos = combinations(v.overrides);
        let src = Source {
            variant: v,
            module: &module,
            info: &info,
            dir: &dir,
        };
        for entry in &entries {
            for (combo_name, on) in &combos {
                // Every combination is translated here; the files that Khronos' validators
                // check (thousands, one process each) are those of all constants off and on.
                let stem = file_safe(&format!("{}-{entry}-{combo_name}", v.name));
                let write = matches!(combo_name.as_str(), "none" | "all");
                let stem = write.then_some(stem.as_str());
                if let Err(e) = translate_one(&src, entry, on, stem, &mut counts) {
                    let _ = writeln!(
                        failures,
                        "{} / entry point {entry} / overrides on: {combo_name} {on:?}: {e}",
                        v.name
                    );
                }
            }
        }
    }
    assert!(failures.is_empty(), "translation failures:\n{failures}");
    eprintln!(
        "translated {} modules, {entry_points} entry points, {} (entry point, override \
         combination) pairs to SPIR-V, MSL, HLSL and GLSL; wrote {} .spv and {} .comp files in {:.1?}",
        variants.len(),
        counts.translations,
        counts.spv_files,
        counts.glsl_files,
        start.elapsed()
    );
}
