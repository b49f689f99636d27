//! Every kernel's contract, as the Rust states it (`shaders::variants()`: entry points, the
//! bindings each uses, pipeline constants, uniform layout), checked against the composed WGSL
//! as naga reads it. A binding, constant or field renamed or renumbered on one side only fails
//! here, not in a user's call. No GPU needed.

use std::collections::BTreeSet;

use naga::valid::{Capabilities, ShaderStages, SubgroupOperationSet, ValidationFlags};
use wgpu_loss::shaders::{self, Access, Scalar, ShaderVariant};

fn parse(v: &ShaderVariant) -> (naga::Module, naga::valid::ModuleInfo) {
    let module = naga::front::wgsl::parse_str(&v.source)
        .unwrap_or_else(|e| panic!("{}: {}", v.name, e.emit_to_string(&v.source)));
    let mut caps = Capabilities::default() | Capabilities::SHADER_FLOAT16_IN_FLOAT32;
    if v.needs_subgroups {
        caps |= Capabilities::SUBGROUP;
    }
    let info = naga::valid::Validator::new(ValidationFlags::all(), caps)
        .subgroup_stages(ShaderStages::COMPUTE)
        .subgroup_operations(SubgroupOperationSet::all())
        .validate(&module)
        .unwrap_or_else(|e| panic!("{}: {}", v.name, e.emit_to_string(&v.source)));
    (module, info)
}

/// The bindings entry point `index` uses, as `(binding, name, access)`.
fn used_bindings(
    module: &naga::Module,
    info: &naga::valid::ModuleInfo,
    index: usize,
) -> BTreeSet<(u32, String, Access)> {
    let uses = info.get_entry_point(index);
    module
        .global_variables
        .iter()
        .filter(|&(handle, _)| !uses[handle].is_empty())
        .filter_map(|(_, var)| {
            let binding = var.binding.as_ref()?;
            assert_eq!(binding.group, 0, "every binding is in group 0");
            let access = match var.space {
                naga::AddressSpace::Uniform => Access::Uniform,
                naga::AddressSpace::Storage { access }
                    if access.contains(naga::StorageAccess::STORE) =>
                {
                    Access::ReadWrite
                }
                naga::AddressSpace::Storage { .. } => Access::Read,
                other => panic!("unexpected address space {other:?}"),
            };
            Some((
                binding.binding,
                var.name.clone().unwrap_or_default(),
                access,
            ))
        })
        .collect()
}

/// Checks one variant; returns what disagrees, one line each.
fn mismatches(v: &ShaderVariant) -> Vec<String> {
    let (module, info) = parse(v);
    let mut found = Vec::new();

    let wgsl_entries: BTreeSet<&str> = module
        .entry_points
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    let rust_entries: BTreeSet<&str> = v.entry_points.iter().map(|e| e.0).collect();
    if wgsl_entries != rust_entries {
        found.push(format!(
            "entry points: WGSL {wgsl_entries:?}, Rust {rust_entries:?}"
        ));
    }
    for (name, layout) in &v.entry_points {
        let Some(index) = module.entry_points.iter().position(|e| e.name == *name) else {
            continue;
        };
        let used = used_bindings(&module, &info, index);
        let declared: BTreeSet<(u32, String, Access)> = layout
            .iter()
            .map(|b| (b.binding, b.name.to_string(), b.access))
            .collect();
        if used != declared {
            found.push(format!(
                "{name}: WGSL uses {used:?}, Rust binds {declared:?}"
            ));
        }
    }

    let wgsl_overrides: BTreeSet<(String, bool)> = module
        .overrides
        .iter()
        .map(|(_, o)| {
            let is_bool = matches!(
                module.types[o.ty].inner,
                naga::TypeInner::Scalar(naga::Scalar::BOOL)
            );
            (o.name.clone().unwrap_or_default(), is_bool)
        })
        .collect();
    let rust_overrides: BTreeSet<(String, bool)> =
        v.overrides.iter().map(|n| (n.to_string(), true)).collect();
    if wgsl_overrides != rust_overrides {
        found.push(format!(
            "overrides (name, is bool): WGSL {wgsl_overrides:?}, Rust {rust_overrides:?}"
        ));
    }

    let uniform = &v.uniform;
    let strukt = module
        .types
        .iter()
        .find(|(_, t)| t.name.as_deref() == Some(uniform.wgsl_name));
    match strukt.map(|(_, t)| &t.inner) {
        Some(naga::TypeInner::Struct { members, span }) => {
            let wgsl: Vec<(String, usize, Option<Scalar>)> = members
                .iter()
                .map(|m| {
                    let scalar = match module.types[m.ty].inner {
                        naga::TypeInner::Scalar(naga::Scalar::U32) => Some(Scalar::U32),
                        naga::TypeInner::Scalar(naga::Scalar::I32) => Some(Scalar::I32),
                        naga::TypeInner::Scalar(naga::Scalar::F32) => Some(Scalar::F32),
                        _ => None,
                    };
                    (
                        m.name.clone().unwrap_or_default(),
                        m.offset as usize,
                        scalar,
                    )
                })
                .collect();
            let rust: Vec<(String, usize, Option<Scalar>)> = uniform
                .fields
                .iter()
                .map(|&(n, o, s)| (n.to_string(), o, Some(s)))
                .collect();
            if wgsl != rust || *span as usize != uniform.size {
                found.push(format!(
                    "uniform {}: WGSL {wgsl:?} ({span} bytes), Rust {rust:?} ({} bytes)",
                    uniform.wgsl_name, uniform.size
                ));
            }
        }
        _ => found.push(format!("no WGSL struct named {}", uniform.wgsl_name)),
    }
    found
}

#[test]
fn every_variant_matches_its_rust_contract() {
    let variants = shaders::variants();
    let mut failures = Vec::new();
    for v in &variants {
        for m in mismatches(v) {
            failures.push(format!("{}: {m}", v.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} contract mismatches, first ones:\n{}",
        failures.len(),
        failures[..failures.len().min(20)].join("\n")
    );
    eprintln!("{} variants checked", variants.len());
}

/// The check catches a change on one side: rename a binding, an override, a uniform field,
/// or renumber a binding in the WGSL alone, and it reports it.
#[test]
fn a_one_sided_change_is_caught() {
    let v = shaders::variants()
        .into_iter()
        .find(|v| v.name == "class_rows_logitsf32_targetsf32_weighted_out_grad+tree")
        .expect("the variant exists");
    assert!(mismatches(&v).is_empty());
    // Each edit renames or renumbers one item everywhere in the WGSL, so the module still
    // compiles: only the contract can tell.
    let edits = [
        ("labels", "labelz"),
        (
            "@binding(3) var<storage, read> class_weight",
            "@binding(10) var<storage, read> class_weight",
        ),
        ("SMOOTHED", "SMOOTH_ON"),
        ("row_offset", "row_start"),
        (
            "@binding(6) var<storage, read_write> out",
            "@binding(11) var<storage, read_write> out",
        ),
    ];
    for (from, to) in edits {
        assert!(v.source.contains(from), "{from}");
        let changed = ShaderVariant {
            source: v.source.replace(from, to),
            name: format!("{} with {from} -> {to}", v.name),
            ..v.clone()
        };
        assert!(
            !mismatches(&changed).is_empty(),
            "{from} -> {to} went unnoticed"
        );
    }
}
