enable f16;

// Decode step in f16, gated MLP activation: act[i] = silu(gate[i]) * up[i],
// silu(x) = x / (1 + e^-x), computed in f32 from f16 inputs and stored as f16.

struct Params {
    n: u32,
    _pad: u32,
}

@group(0) @binding(0) var<storage, read> gate: array<f16>;
@group(0) @binding(1) var<storage, read> up: array<f16>;
@group(0) @binding(2) var<storage, read_write> act: array<f16>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let i = (wg.y * nwg.x + wg.x) * 256u + li;
    if (i < p.n) {
        let g = f32(gate[i]);
        act[i] = f16(g / (1.0 + exp(-g)) * f32(up[i]));
    }
}
