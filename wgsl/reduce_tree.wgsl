// Workgroup reduction in workgroup shared memory: a binary tree, one barrier per level.
// Used where the adapter has no subgroup operations (llvmpipe over GL, WebGPU without
// the `subgroups` feature). `reduce_subgroup.wgsl` offers the same three items.

const WG: u32 = 256u;

// The invocation's place in its workgroup: differs between the invocations of a workgroup.
struct Ids {
    @builtin(local_invocation_index) lid: u32,
}

// The workgroup's place in the dispatch: the same for every invocation of a workgroup. Kept
// apart from `Ids` because WebGPU's uniformity analysis judges a struct argument as a whole:
// loop bounds read from a struct that also holds `local_invocation_index` count as
// non-uniform, and a barrier inside such a loop is rejected.
struct Group {
    @builtin(workgroup_id) id: vec3<u32>,
    @builtin(num_workgroups) count: vec3<u32>,
}

var<workgroup> scratch: array<vec4<f32>, WG>;

// Sum of `v` over the workgroup, four sums at once, returned to every invocation.
// Call from uniform control flow.
fn workgroup_sum(v: vec4<f32>, ids: Ids) -> vec4<f32> {
    scratch[ids.lid] = v;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        if ids.lid < s {
            scratch[ids.lid] += scratch[ids.lid + s];
        }
        workgroupBarrier();
    }
    let total = scratch[0];
    workgroupBarrier();
    return total;
}

// Maximum of `v` over the workgroup, returned to every invocation. Call from uniform control flow.
fn workgroup_max(v: f32, ids: Ids) -> f32 {
    scratch[ids.lid].x = v;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        if ids.lid < s {
            scratch[ids.lid].x = max(scratch[ids.lid].x, scratch[ids.lid + s].x);
        }
        workgroupBarrier();
    }
    let total = scratch[0].x;
    workgroupBarrier();
    return total;
}
