// Device memory bandwidth probe: dst[i] = src[i], vec4 per invocation, workgroups in a 2-D
// grid. Bytes moved per run = 2 x buffer size.

struct Params {
    n4: u32,
    _pad: u32,
}

@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let i = (wg.y * nwg.x + wg.x) * 256u + li;
    if (i < p.n4) {
        dst[i] = src[i];
    }
}
