// GEMM, f32: C[m, n] = A[m, k] x B[k, n], all row-major.
//
// Host layout: rows of A are padded to k4 * 4 columns and rows of B and C to n4 * 4 columns,
// the padding zero-filled, so every row starts 16-byte aligned and all loads are vec4.
// Tiling: one workgroup of 16 x 16 invocations computes a 128 x 128 tile of C; each invocation
// holds an 8 x 8 block of outputs in registers (sixteen vec4 accumulators): rows
// 4 * (ty + 16 i) + r and vec4 columns tx + 16 j for i, j in {0, 1} and r in 0..4, so that
// neighbouring invocations read neighbouring vec4s of workgroup memory. K advances 8 at a time;
// the A tile is stored transposed (k-major) so each invocation reads its rows as two vec4s.
// Rows past m, columns past n4 and k past k read as zero; stores are bounds-checked.

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

// A tile, transposed: [8 k][32 vec4 along m] (128 rows).
var<workgroup> a_tile: array<vec4<f32>, 256>;
// B tile: [8 k][32 vec4 along n] (128 columns).
var<workgroup> b_tile: array<vec4<f32>, 256>;

@compute @workgroup_size(16, 16)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let row0 = wg.y * 128u;
    let col0 = wg.x * 32u; // in vec4 units
    let tx = lid.x;
    let ty = lid.y;
    var acc000 = vec4<f32>(0.0);
    var acc001 = vec4<f32>(0.0);
    var acc010 = vec4<f32>(0.0);
    var acc011 = vec4<f32>(0.0);
    var acc020 = vec4<f32>(0.0);
    var acc021 = vec4<f32>(0.0);
    var acc030 = vec4<f32>(0.0);
    var acc031 = vec4<f32>(0.0);
    var acc100 = vec4<f32>(0.0);
    var acc101 = vec4<f32>(0.0);
    var acc110 = vec4<f32>(0.0);
    var acc111 = vec4<f32>(0.0);
    var acc120 = vec4<f32>(0.0);
    var acc121 = vec4<f32>(0.0);
    var acc130 = vec4<f32>(0.0);
    var acc131 = vec4<f32>(0.0);

    // Loads: invocation li fetches one vec4 of A (row li / 2, k4 offset li % 2) and one vec4
    // of B (k row li / 32, vec4 column li % 32) per K step.
    let a_row = row0 + li / 2u;
    let a_kq = li % 2u;
    let a_m4 = (li / 2u) / 4u;
    let a_mc = (li / 2u) % 4u;
    let b_kr = li / 32u;
    let b_col = col0 + li % 32u;
    let tiles = (p.k4 + 1u) / 2u;
    for (var t = 0u; t < tiles; t++) {
        let a_k4 = t * 2u + a_kq;
        var av = vec4<f32>(0.0);
        if (a_row < p.m && a_k4 < p.k4) {
            av = a[a_row * p.k4 + a_k4];
        }
        let kb = a_kq * 4u;
        a_tile[(kb + 0u) * 32u + a_m4][a_mc] = av.x;
        a_tile[(kb + 1u) * 32u + a_m4][a_mc] = av.y;
        a_tile[(kb + 2u) * 32u + a_m4][a_mc] = av.z;
        a_tile[(kb + 3u) * 32u + a_m4][a_mc] = av.w;
        let b_k = t * 8u + b_kr;
        var bv = vec4<f32>(0.0);
        if (b_k < p.k && b_col < p.n4) {
            bv = b[b_k * p.n4 + b_col];
        }
        b_tile[li] = bv;
        workgroupBarrier();

        for (var kk = 0u; kk < 8u; kk++) {
            let a0 = a_tile[kk * 32u + ty];
            let a1 = a_tile[kk * 32u + ty + 16u];
            let b0 = b_tile[kk * 32u + tx];
            let b1 = b_tile[kk * 32u + tx + 16u];
            acc000 += a0.x * b0;
            acc001 += a0.x * b1;
            acc010 += a0.y * b0;
            acc011 += a0.y * b1;
            acc020 += a0.z * b0;
            acc021 += a0.z * b1;
            acc030 += a0.w * b0;
            acc031 += a0.w * b1;
            acc100 += a1.x * b0;
            acc101 += a1.x * b1;
            acc110 += a1.y * b0;
            acc111 += a1.y * b1;
            acc120 += a1.z * b0;
            acc121 += a1.z * b1;
            acc130 += a1.w * b0;
            acc131 += a1.w * b1;
        }
        workgroupBarrier();
    }

    let r00 = row0 + 4u * (ty + 0u) + 0u;
    if (r00 < p.m && col0 + tx + 0u < p.n4) { c[r00 * p.n4 + col0 + tx + 0u] = acc000; }
    if (r00 < p.m && col0 + tx + 16u < p.n4) { c[r00 * p.n4 + col0 + tx + 16u] = acc001; }
    let r01 = row0 + 4u * (ty + 0u) + 1u;
    if (r01 < p.m && col0 + tx + 0u < p.n4) { c[r01 * p.n4 + col0 + tx + 0u] = acc010; }
    if (r01 < p.m && col0 + tx + 16u < p.n4) { c[r01 * p.n4 + col0 + tx + 16u] = acc011; }
    let r02 = row0 + 4u * (ty + 0u) + 2u;
    if (r02 < p.m && col0 + tx + 0u < p.n4) { c[r02 * p.n4 + col0 + tx + 0u] = acc020; }
    if (r02 < p.m && col0 + tx + 16u < p.n4) { c[r02 * p.n4 + col0 + tx + 16u] = acc021; }
    let r03 = row0 + 4u * (ty + 0u) + 3u;
    if (r03 < p.m && col0 + tx + 0u < p.n4) { c[r03 * p.n4 + col0 + tx + 0u] = acc030; }
    if (r03 < p.m && col0 + tx + 16u < p.n4) { c[r03 * p.n4 + col0 + tx + 16u] = acc031; }
    let r10 = row0 + 4u * (ty + 16u) + 0u;
    if (r10 < p.m && col0 + tx + 0u < p.n4) { c[r10 * p.n4 + col0 + tx + 0u] = acc100; }
    if (r10 < p.m && col0 + tx + 16u < p.n4) { c[r10 * p.n4 + col0 + tx + 16u] = acc101; }
    let r11 = row0 + 4u * (ty + 16u) + 1u;
    if (r11 < p.m && col0 + tx + 0u < p.n4) { c[r11 * p.n4 + col0 + tx + 0u] = acc110; }
    if (r11 < p.m && col0 + tx + 16u < p.n4) { c[r11 * p.n4 + col0 + tx + 16u] = acc111; }
    let r12 = row0 + 4u * (ty + 16u) + 2u;
    if (r12 < p.m && col0 + tx + 0u < p.n4) { c[r12 * p.n4 + col0 + tx + 0u] = acc120; }
    if (r12 < p.m && col0 + tx + 16u < p.n4) { c[r12 * p.n4 + col0 + tx + 16u] = acc121; }
    let r13 = row0 + 4u * (ty + 16u) + 3u;
    if (r13 < p.m && col0 + tx + 0u < p.n4) { c[r13 * p.n4 + col0 + tx + 0u] = acc130; }
    if (r13 < p.m && col0 + tx + 16u < p.n4) { c[r13 * p.n4 + col0 + tx + 16u] = acc131; }
}
