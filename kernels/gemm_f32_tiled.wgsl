// GEMM, f32: C[m, n] = A[m, k] x B[k, n], all row-major.
//
// Host layout: rows of A are padded to k4 * 4 columns and rows of B and C to n4 * 4 columns,
// the padding zero-filled, so every row starts 16-byte aligned and all loads are vec4.
// Tiling: one workgroup of 16 x 16 invocations computes a 64 x 64 tile of C; each invocation
// holds a 4 x 4 block of outputs in registers (four vec4 accumulators). K advances 16 at a time
// through workgroup-memory tiles. Rows past m, columns past n4 and k past k read as zero.

struct Params {
    m: u32,
    k: u32,
    // k4 = ceil(k / 4) and n4 = ceil(n / 4): row lengths in vec4 units.
    k4: u32,
    n4: u32,
}

@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> c: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> p: Params;

// [64 rows][4 vec4 along k]
var<workgroup> a_tile: array<vec4<f32>, 256>;
// [16 k][16 vec4 along n]
var<workgroup> b_tile: array<vec4<f32>, 256>;

@compute @workgroup_size(16, 16)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let row0 = wg.y * 64u;
    let col0 = wg.x * 16u; // in vec4 units
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);

    let a_row = row0 + li / 4u;
    let b_col = col0 + li % 16u;
    let tiles = (p.k4 + 3u) / 4u;
    for (var t = 0u; t < tiles; t++) {
        let a_k4 = t * 4u + li % 4u;
        var av = vec4<f32>(0.0);
        if (a_row < p.m && a_k4 < p.k4) {
            av = a[a_row * p.k4 + a_k4];
        }
        a_tile[li] = av;
        let b_k = t * 16u + li / 16u;
        var bv = vec4<f32>(0.0);
        if (b_k < p.k && b_col < p.n4) {
            bv = b[b_k * p.n4 + b_col];
        }
        b_tile[li] = bv;
        workgroupBarrier();

        for (var kq = 0u; kq < 4u; kq++) {
            let b0 = b_tile[(kq * 4u + 0u) * 16u + lid.x];
            let b1 = b_tile[(kq * 4u + 1u) * 16u + lid.x];
            let b2 = b_tile[(kq * 4u + 2u) * 16u + lid.x];
            let b3 = b_tile[(kq * 4u + 3u) * 16u + lid.x];
            let r = lid.y * 4u;
            let a0 = a_tile[(r + 0u) * 4u + kq];
            let a1 = a_tile[(r + 1u) * 4u + kq];
            let a2 = a_tile[(r + 2u) * 4u + kq];
            let a3 = a_tile[(r + 3u) * 4u + kq];
            acc0 += a0.x * b0 + a0.y * b1 + a0.z * b2 + a0.w * b3;
            acc1 += a1.x * b0 + a1.y * b1 + a1.z * b2 + a1.w * b3;
            acc2 += a2.x * b0 + a2.y * b1 + a2.z * b2 + a2.w * b3;
            acc3 += a3.x * b0 + a3.y * b1 + a3.z * b2 + a3.w * b3;
        }
        workgroupBarrier();
    }

    let col = col0 + lid.x;
    if (col < p.n4) {
        let r = row0 + lid.y * 4u;
        if (r + 0u < p.m) { c[(r + 0u) * p.n4 + col] = acc0; }
        if (r + 1u < p.m) { c[(r + 1u) * p.n4 + col] = acc1; }
        if (r + 2u < p.m) { c[(r + 2u) * p.n4 + col] = acc2; }
        if (r + 3u < p.m) { c[(r + 3u) * p.n4 + col] = acc3; }
    }
}
