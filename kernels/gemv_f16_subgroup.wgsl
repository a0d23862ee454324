enable f16;

// GEMV, f16 weights, vector and output, f32 accumulation: y[n] = W[n, k] x x[k] (+ residual),
// W row-major.
//
// Host layout: rows of W and the vector x are padded to k4 * 4 entries (zero-filled) so loads
// are vec4. One workgroup of 256 invocations per output row; workgroups are laid out in 2-D so
// that more than 65535 rows fit. Each invocation sums a strided slice of the row, then the sums
// are reduced with subgroupAdd and the per-subgroup totals combined in workgroup memory.
// Nothing here assumes a subgroup size: any size from 4 to 256 works.

struct Params {
    n: u32,
    k4: u32,
    residual: u32,
    _pad: u32,
}

@group(0) @binding(0) var<storage, read> w: array<vec4<f16>>;
@group(0) @binding(1) var<storage, read> x: array<vec4<f16>>;
@group(0) @binding(2) var<storage, read> res: array<f16>;
@group(0) @binding(3) var<storage, read_write> y: array<f16>;
@group(0) @binding(4) var<uniform> p: Params;

const WG: u32 = 256u;
// One slot per subgroup: at most 256 / 4 subgroups.
var<workgroup> sg_sums: array<f32, 64>;

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
    var s = 0.0;
    for (var j = li; j < p.k4; j += WG) {
        s += dot(vec4<f32>(w[base + j]), vec4<f32>(x[j]));
    }
    let t = subgroupAdd(s);
    if (sg_lane == 0u) {
        sg_sums[sg_id] = t;
    }
    workgroupBarrier();
    if (li == 0u && row < p.n) {
        var total = 0.0;
        for (var i = 0u; i < sg_count; i++) {
            total += sg_sums[i];
        }
        if (p.residual != 0u) {
            total += f32(res[row]);
        }
        y[row] = f16(total);
    }
}
