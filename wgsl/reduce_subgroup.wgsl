// Workgroup reduction with subgroup operations: one `subgroupAdd` per subgroup, then each
// invocation sums the per-subgroup results in a fixed order (so the result is deterministic).
// Needs `Features::SUBGROUP`; naga 30 rejects `enable subgroups;` but accepts the builtins
// once the device has the feature. `reduce_tree.wgsl` offers the same three items.

const WG: u32 = 256u;

// The invocation's place in its workgroup: differs between the invocations of a workgroup.
struct Ids {
    @builtin(local_invocation_index) lid: u32,
    @builtin(subgroup_invocation_id) lane: u32,
    @builtin(subgroup_size) sg_size: u32,
}

// The workgroup's place in the dispatch: the same for every invocation of a workgroup. Kept
// apart from `Ids` because WebGPU's uniformity analysis judges a struct argument as a whole:
// loop bounds read from a struct that also holds `local_invocation_index` count as
// non-uniform, and a barrier inside such a loop is rejected.
struct Group {
    @builtin(workgroup_id) id: vec3<u32>,
    @builtin(num_workgroups) count: vec3<u32>,
}

// One slot per subgroup; WG slots cover subgroups as small as one invocation.
var<workgroup> scratch: array<vec4<f32>, WG>;

// Sum of `v` over the workgroup, four sums at once, returned to every invocation.
// Call from uniform control flow.
fn workgroup_sum(v: vec4<f32>, ids: Ids) -> vec4<f32> {
    let part = subgroupAdd(v);
    if ids.lane == 0u {
        scratch[ids.lid / ids.sg_size] = part;
    }
    workgroupBarrier();
    let count = (WG + ids.sg_size - 1u) / ids.sg_size;
    var total = vec4<f32>(0.0);
    for (var k = 0u; k < count; k++) {
        total += scratch[k];
    }
    workgroupBarrier();
    return total;
}

// Maximum of `v` over the workgroup, returned to every invocation. Call from uniform control flow.
fn workgroup_max(v: f32, ids: Ids) -> f32 {
    let part = subgroupMax(v);
    if ids.lane == 0u {
        scratch[ids.lid / ids.sg_size].x = part;
    }
    workgroupBarrier();
    let count = (WG + ids.sg_size - 1u) / ids.sg_size;
    var total = scratch[0].x;
    for (var k = 1u; k < count; k++) {
        total = max(total, scratch[k].x);
    }
    workgroupBarrier();
    return total;
}
