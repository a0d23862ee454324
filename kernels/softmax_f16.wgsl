enable f16;

// Softmax over each row of X[rows, cols], f16 storage, f32 arithmetic: the row maximum, the
// exponentials and their sum are f32; only the loads and the stored result are f16. One
// workgroup of 256 invocations per row, in a 2-D grid of workgroups; the max and the sum are
// tree reductions in workgroup memory (as softmax_f32.wgsl).

struct Params {
    rows: u32,
    cols: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f16>;
@group(0) @binding(1) var<storage, read_write> y: array<f16>;
@group(0) @binding(2) var<uniform> p: Params;

const WG: u32 = 256u;
var<workgroup> red: array<f32, 256>;

fn reduce_max(li: u32, v: f32) -> f32 {
    red[li] = v;
    workgroupBarrier();
    for (var off = WG / 2u; off > 0u; off = off / 2u) {
        if (li < off) {
            red[li] = max(red[li], red[li + off]);
        }
        workgroupBarrier();
    }
    let r = red[0];
    workgroupBarrier();
    return r;
}

fn reduce_sum(li: u32, v: f32) -> f32 {
    red[li] = v;
    workgroupBarrier();
    for (var off = WG / 2u; off > 0u; off = off / 2u) {
        if (li < off) {
            red[li] += red[li + off];
        }
        workgroupBarrier();
    }
    let r = red[0];
    workgroupBarrier();
    return r;
}

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let row = wg.y * nwg.x + wg.x;
    let base = min(row, p.rows - 1u) * p.cols;
    var m = -3.0e38;
    for (var j = li; j < p.cols; j += WG) {
        m = max(m, f32(x[base + j]));
    }
    let row_max = reduce_max(li, m);
    var s = 0.0;
    for (var j = li; j < p.cols; j += WG) {
        s += exp(f32(x[base + j]) - row_max);
    }
    let inv = 1.0 / reduce_sum(li, s);
    if (row < p.rows) {
        for (var j = li; j < p.cols; j += WG) {
            y[base + j] = f16(exp(f32(x[base + j]) - row_max) * inv);
        }
    }
}
