enable f16;

// GEMV, f16 weights, vector and output, f32 accumulation: y[n] = W[n, k] x x[k] (+ residual),
// W row-major.
// Fallback for adapters without subgroup operations: a tree reduction in workgroup memory.
//
// Host layout: rows of W and the vector x are padded to k4 * 4 entries (zero-filled) so loads
// are vec4. One workgroup of 256 invocations per output row, in a 2-D grid of workgroups.

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
var<workgroup> sums: array<f32, 256>;

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let row = wg.y * nwg.x + wg.x;
    let r = min(row, p.n - 1u);
    let base = r * p.k4;
    var s = 0.0;
    for (var j = li; j < p.k4; j += WG) {
        s += dot(vec4<f32>(w[base + j]), vec4<f32>(x[j]));
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
        var total = sums[0];
        if (p.residual != 0u) {
            total += f32(res[row]);
        }
        y[row] = f16(total);
    }
}
