// Fused decode GEMV with the RMSNorm in front, f32:
//   y[n] = W[n, k] . (x / sqrt(mean(x^2) + eps) * g),  W row-major.
// Replaces rmsnorm + GEMV in the fused decode layer (plan/decode.rs). Every workgroup computes
// the sum of squares of x itself, in the same loop as its row's dot product (x is a few
// thousand entries, read from L2 by every workgroup as the plain GEMV does), so the normalised
// vector is never stored: y = inv_rms * sum_j W[r, j] * x[j] * g[j].
//
// Host layout: rows of W, x and g are padded to k4 * 4 entries (zero-filled) so loads are vec4.
// One workgroup of 256 invocations per output row; workgroups are laid out in 2-D so that more
// than 65535 rows fit.
// Fallback for adapters without subgroup operations: the partial sums are reduced by a
// tree in workgroup memory.

struct Params {
    n: u32,
    k4: u32,
    // Unpadded length of x (the RMS is over these entries; the padding is zero).
    cols: u32,
    eps: f32,
}

@group(0) @binding(0) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> g: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

const WG: u32 = 256u;
var<workgroup> sums: array<vec2<f32>, 256>;

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
    // (dot product with x * g, sum of squares of x)
    var s = vec2<f32>(0.0);
    for (var j = li; j < p.k4; j += WG) {
        let xv = x[j];
        let xg = xv * g[j];
        s += vec2<f32>(dot(w[base + j], xg), dot(xv, xv));
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
        let inv_rms = inverseSqrt(total.y / f32(p.cols) + p.eps);
        y[row] = total.x * inv_rms;
    }
}
