// GEMM, f32: C[m, n] = A[m, k] x B[k, n], all row-major. 64 x 128 tiles for shapes with few
// rows (LLM prefill at 512 tokens), where 128 x 128 tiles leave compute units idle and 64 x 64
// tiles do too little work per invocation.
//
// Host layout: rows of A are padded to k4 * 4 columns and rows of B and C to n4 * 4 columns,
// the padding zero-filled, so every row starts 16-byte aligned and all loads are vec4.
// Tiling: one workgroup of 16 x 16 invocations computes a 64 x 128 tile of C; each invocation
// holds a 4 x 8 block of outputs (eight vec4 accumulators): rows 4 * ty + r and vec4 columns
// tx + 16 j for r in 0..4, j in {0, 1}. K advances 8 at a time; the A tile is stored
// transposed (k-major). Rows past m, columns past n4 and k past k read as zero.

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

// A tile, transposed: [8 k][16 vec4 along m] (64 rows).
var<workgroup> a_tile: array<vec4<f32>, 128>;
// B tile: [8 k][32 vec4 along n] (128 columns).
var<workgroup> b_tile: array<vec4<f32>, 256>;

@compute @workgroup_size(16, 16)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let row0 = wg.y * 64u;
    let col0 = wg.x * 32u; // in vec4 units
    let tx = lid.x;
    let ty = lid.y;
    var acc00 = vec4<f32>(0.0);
    var acc01 = vec4<f32>(0.0);
    var acc10 = vec4<f32>(0.0);
    var acc11 = vec4<f32>(0.0);
    var acc20 = vec4<f32>(0.0);
    var acc21 = vec4<f32>(0.0);
    var acc30 = vec4<f32>(0.0);
    var acc31 = vec4<f32>(0.0);

    // Loads per K step: invocations 0..127 fetch one vec4 of A each (row li / 2, k4 offset
    // li % 2); every invocation fetches one vec4 of B (k row li / 32, vec4 column li % 32).
    let a_row = row0 + (li % 128u) / 2u;
    let a_kq = li % 2u;
    let a_m4 = ((li % 128u) / 2u) / 4u;
    let a_mc = ((li % 128u) / 2u) % 4u;
    let b_kr = li / 32u;
    let b_col = col0 + li % 32u;
    let tiles = (p.k4 + 1u) / 2u;
    for (var t = 0u; t < tiles; t++) {
        if (li < 128u) {
            let a_k4 = t * 2u + a_kq;
            var av = vec4<f32>(0.0);
            if (a_row < p.m && a_k4 < p.k4) {
                av = a[a_row * p.k4 + a_k4];
            }
            let kb = a_kq * 4u;
            a_tile[(kb + 0u) * 16u + a_m4][a_mc] = av.x;
            a_tile[(kb + 1u) * 16u + a_m4][a_mc] = av.y;
            a_tile[(kb + 2u) * 16u + a_m4][a_mc] = av.z;
            a_tile[(kb + 3u) * 16u + a_m4][a_mc] = av.w;
        }
        let b_k = t * 8u + b_kr;
        var bv = vec4<f32>(0.0);
        if (b_k < p.k && b_col < p.n4) {
            bv = b[b_k * p.n4 + b_col];
        }
        b_tile[li] = bv;
        workgroupBarrier();

        for (var kk = 0u; kk < 8u; kk++) {
            let a0 = a_tile[kk * 16u + ty];
            let b0 = b_tile[kk * 32u + tx];
            let b1 = b_tile[kk * 32u + tx + 16u];
            acc00 += a0.x * b0;
            acc01 += a0.x * b1;
            acc10 += a0.y * b0;
            acc11 += a0.y * b1;
            acc20 += a0.z * b0;
            acc21 += a0.z * b1;
            acc30 += a0.w * b0;
            acc31 += a0.w * b1;
        }
        workgroupBarrier();
    }

    let r0 = row0 + 4u * ty + 0u;
    if (r0 < p.m && col0 + tx + 0u < p.n4) { c[r0 * p.n4 + col0 + tx + 0u] = acc00; }
    if (r0 < p.m && col0 + tx + 16u < p.n4) { c[r0 * p.n4 + col0 + tx + 16u] = acc01; }
    let r1 = row0 + 4u * ty + 1u;
    if (r1 < p.m && col0 + tx + 0u < p.n4) { c[r1 * p.n4 + col0 + tx + 0u] = acc10; }
    if (r1 < p.m && col0 + tx + 16u < p.n4) { c[r1 * p.n4 + col0 + tx + 16u] = acc11; }
    let r2 = row0 + 4u * ty + 2u;
    if (r2 < p.m && col0 + tx + 0u < p.n4) { c[r2 * p.n4 + col0 + tx + 0u] = acc20; }
    if (r2 < p.m && col0 + tx + 16u < p.n4) { c[r2 * p.n4 + col0 + tx + 16u] = acc21; }
    let r3 = row0 + 4u * ty + 3u;
    if (r3 < p.m && col0 + tx + 0u < p.n4) { c[r3 * p.n4 + col0 + tx + 0u] = acc30; }
    if (r3 < p.m && col0 + tx + 16u < p.n4) { c[r3 * p.n4 + col0 + tx + 16u] = acc31; }
}
