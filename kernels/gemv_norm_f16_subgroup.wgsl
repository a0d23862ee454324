enable f16;

// Fused decode GEMV with the RMSNorm in front, f16 storage (W, x, gain and y), f32 arithmetic:
//   y[n] = W[n, k] . (x / sqrt(mean(x^2) + eps) * g),  W row-major.
// Replaces rmsnorm + GEMV in the fused decode layer (plan/decode.rs). Every workgroup computes
// the sum of squares of x itself, in the same loop as its row's dot product (x is a few
// thousand entries, read from L2 by every workgroup as the plain GEMV does), so the normalised
// vector is never stored: y = inv_rms * sum_j W[r, j] * x[j] * g[j].
//
// Host layout: rows of W, x and g are padded to k4 * 4 entries (zero-filled) so loads are vec4.
// One workgroup of 256 invocations per output row; workgroups are laid out in 2-D so that more
// than 65535 rows fit.
// The partial sums are reduced with subgroupAdd and the per-subgroup totals
// combined in workgroup memory; nothing here assumes a subgroup size (any from 4 to 256
// works).

struct Params {
    n: u32,
    k4: u32,
    // Unpadded length of x (the RMS is over these entries; the padding is zero).
    cols: u32,
    eps: f32,
}

@group(0) @binding(0) var<storage, read> w: array<vec4<f16>>;
@group(0) @binding(1) var<storage, read> x: array<vec4<f16>>;
@group(0) @binding(2) var<storage, read> g: array<vec4<f16>>;
@group(0) @binding(3) var<storage, read_write> y: array<f16>;
@group(0) @binding(4) var<uniform> p: Params;

const WG: u32 = 256u;
// One slot per subgroup: at most 256 / 4 subgroups.
var<workgroup> sg_sums: array<vec2<f32>, 64>;

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
    // (dot product with x * g, sum of squares of x)
    var s = vec2<f32>(0.0);
    for (var j = li; j < p.k4; j += WG) {
        let xv = vec4<f32>(x[j]);
        let xg = xv * vec4<f32>(g[j]);
        s += vec2<f32>(dot(vec4<f32>(w[base + j]), xg), dot(xv, xv));
    }
    let t = subgroupAdd(s);
    if (sg_lane == 0u) {
        sg_sums[sg_id] = t;
    }
    workgroupBarrier();
    if (li == 0u && row < p.n) {
        var total = vec2<f32>(0.0);
        for (var i = 0u; i < sg_count; i++) {
            total += sg_sums[i];
        }
        let inv_rms = inverseSqrt(total.y / f32(p.cols) + p.eps);
        y[row] = f16(total.x * inv_rms);
    }
}
