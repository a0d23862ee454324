enable f16;

// Fused decode MLP front, f16 storage (weights, h, gain and act), f32 arithmetic:
//   hn = h / sqrt(mean(h^2) + eps) * g
//   act[n] = silu(W_gate[n, k] . hn) * (W_up[n, k] . hn),  silu(v) = v / (1 + e^-v)
// Replaces rmsnorm + GEMV(gate) + GEMV(up) + silu_mul in the fused decode layer
// (plan/decode.rs). Every workgroup computes the sum of squares of h itself, in the same loop as
// its two dot products, so neither hn nor the gate and up vectors are stored.
//
// Host layout: rows of W_gate and W_up, h and g are padded to k4 * 4 entries (zero-filled) so
// loads are vec4; W_gate and W_up are two ranges of the layer's weight buffer. One workgroup of
// 256 invocations per output row (a row of each matrix); workgroups are laid out in 2-D so that
// more than 65535 rows fit.
// The partial sums are reduced with subgroupAdd and the per-subgroup totals
// combined in workgroup memory; nothing here assumes a subgroup size (any from 4 to 256
// works).

struct Params {
    n: u32,
    k4: u32,
    // Unpadded length of h (the RMS is over these entries; the padding is zero).
    cols: u32,
    eps: f32,
}

@group(0) @binding(0) var<storage, read> w_gate: array<vec4<f16>>;
@group(0) @binding(1) var<storage, read> w_up: array<vec4<f16>>;
@group(0) @binding(2) var<storage, read> h: array<vec4<f16>>;
@group(0) @binding(3) var<storage, read> g: array<vec4<f16>>;
@group(0) @binding(4) var<storage, read_write> act: array<f16>;
@group(0) @binding(5) var<uniform> p: Params;

const WG: u32 = 256u;
// One slot per subgroup: at most 256 / 4 subgroups.
var<workgroup> sg_sums: array<vec3<f32>, 64>;

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
    @builtin(subgroup_invocation_id) sg_lane: u32,
    @builtin(subgroup_id) sg_id: u32,
    @builtin(num_subgroups) sg_count: u32,
) {
    let row = wg.y * nwg.x + wg.x;
    // Rows past n (2-D grid overhang) still take part in the barrier, on a clamped row.
    let r = min(row, p.n - 1u);
    let base = r * p.k4;
    // (gate dot product, up dot product, sum of squares of h), the first two with h * g
    var s = vec3<f32>(0.0);
    for (var j = li; j < p.k4; j += WG) {
        let hv = vec4<f32>(h[j]);
        let hg = hv * vec4<f32>(g[j]);
        let wg_j = vec4<f32>(w_gate[base + j]);
        let wu_j = vec4<f32>(w_up[base + j]);
        s += vec3<f32>(dot(wg_j, hg), dot(wu_j, hg), dot(hv, hv));
    }
    let t = subgroupAdd(s);
    if (sg_lane == 0u) {
        sg_sums[sg_id] = t;
    }
    workgroupBarrier();
    if (li == 0u && row < p.n) {
        var total = vec3<f32>(0.0);
        for (var i = 0u; i < sg_count; i++) {
            total += sg_sums[i];
        }
        let inv_rms = inverseSqrt(total.z / f32(p.cols) + p.eps);
        let gate = total.x * inv_rms;
        let up = total.y * inv_rms;
        act[row] = f16(gate / (1.0 + exp(-gate)) * up);
    }
}
