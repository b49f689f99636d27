// No range check (every loss but BCE): the status binding is absent, and checking does
// nothing.

fn check_range4(i: u32, x: vec4<f32>, y: vec4<f32>, valid: vec4<bool>) {}
