// Fused decode MLP front, f32:
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
// Fallback for adapters without subgroup operations: the partial sums are reduced by a
// tree in workgroup memory.

struct Params {
    n: u32,
    k4: u32,
    // Unpadded length of h (the RMS is over these entries; the padding is zero).
    cols: u32,
    eps: f32,
}

@group(0) @binding(0) var<storage, read> w_gate: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> w_up: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> h: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> g: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> act: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;

const WG: u32 = 256u;
var<workgroup> sums: array<vec3<f32>, 256>;

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let row = wg.y * nwg.x + wg.x;
    // Rows past n (2-D grid overhang) still take part in the barrier, on a clamped row.
    let r = min(row, p.n - 1u);
    let base = r * p.k4;
    // (gate dot product, up dot product, sum of squares of h), the first two with h * g
    var s = vec3<f32>(0.0);
    for (var j = li; j < p.k4; j += WG) {
        let hv = h[j];
        let hg = hv * g[j];
        let wg_j = w_gate[base + j];
        let wu_j = w_up[base + j];
        s += vec3<f32>(dot(wg_j, hg), dot(wu_j, hg), dot(hv, hv));
    }
    sums[li] = s;
    workgroupBarrier();
    for (var off = WG / 2u; off > 0u; off = off / 2u) {
        if (li < off) {
            sums[li] += sums[li + off];
        }
        workgroupBarrier();
    }
    if (li == 0u && row < p.n) {
        let total = sums[0];
        let inv_rms = inverseSqrt(total.z / f32(p.cols) + p.eps);
        let gate = total.x * inv_rms;
        let up = total.y * inv_rms;
        act[row] = gate / (1.0 + exp(-gate)) * up;
    }
}
