// STREAM triad, f32: a[i] = b[i] + s * c[i]. Buffers are padded to n4 * 4 entries so every
// access is a vec4; one vec4 per invocation, workgroups in a 2-D grid.

struct Params {
    n4: u32,
    scalar: f32,
}

@group(0) @binding(0) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> c: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> a: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let i = (wg.y * nwg.x + wg.x) * 256u + li;
    if (i < p.n4) {
        a[i] = b[i] + p.scalar * c[i];
    }
}
