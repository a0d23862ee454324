enable f16;

// RMSNorm over each row of X[rows, cols], f16 storage (x, gain g and y), f32 arithmetic:
// y = x / sqrt(mean(x^2) + eps) * g, the sum of squares accumulated in f32. One workgroup of
// 256 invocations per row, in a 2-D grid of workgroups; the sum is a tree reduction in
// workgroup memory (as rmsnorm_f32.wgsl).

struct Params {
    rows: u32,
    cols: u32,
    eps: f32,
    _pad: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f16>;
@group(0) @binding(1) var<storage, read> g: array<f16>;
@group(0) @binding(2) var<storage, read_write> y: array<f16>;
@group(0) @binding(3) var<uniform> p: Params;

const WG: u32 = 256u;
var<workgroup> red: array<f32, 256>;

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let row = wg.y * nwg.x + wg.x;
    let base = min(row, p.rows - 1u) * p.cols;
    var s = 0.0;
    for (var j = li; j < p.cols; j += WG) {
        let v = f32(x[base + j]);
        s += v * v;
    }
    red[li] = s;
    workgroupBarrier();
    for (var off = WG / 2u; off > 0u; off = off / 2u) {
        if (li < off) {
            red[li] += red[li + off];
        }
        workgroupBarrier();
    }
    let inv_rms = inverseSqrt(red[0] / f32(p.cols) + p.eps);
    if (row < p.rows) {
        for (var j = li; j < p.cols; j += WG) {
            y[base + j] = f16(f32(x[base + j]) * inv_rms * f32(g[j]));
        }
    }
}
