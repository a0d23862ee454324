enable f16;
enable wgpu_cooperative_matrix;

// GEMM on cooperative matrices (tensor cores): f16 inputs and output, f32 accumulation.
// C[m, n] = A[m, k] x B[k, n], all row-major, host layout as gemm_f16_tiled (rows padded with
// zeros to k4 * 4 and n4 * 4 columns, so every global load is one vec4<f16>).
//
// Needs an adapter that lists 16 x 16 x 16 f16 -> f32 among its cooperative-matrix
// configurations, and a subgroup of 32 invocations (the plan checks both; the kernel is then
// verified against the reference like every other).
//
// Tiling: one workgroup of 256 invocations (8 subgroups of 32) computes a 128 x 128 tile of C.
// The subgroups form a 2 x 4 grid; each owns a 64 x 32 block of C as 4 x 2 accumulators of
// 16 x 16. K advances 32 at a time through workgroup memory, double-buffered: the next tile is
// read from global memory into registers while the current one is multiplied, so one barrier
// per step suffices. Rows past m, columns past n4 and k past k are staged as zeros, so the
// cooperative loads never leave workgroup memory and any shape is handled.
// Experiment: workgroup tiles as vec4<f16> (one 8-byte store per vec4; cooperative loads
// from vec4 pointers with strides in vec4 units).
// Every index and stride given to a cooperative load or store is a `let` of its own.

struct Params {
    m: u32,
    k: u32,
    k4: u32,
    n4: u32,
}

@group(0) @binding(0) var<storage, read> a: array<vec4<f16>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f16>>;
@group(0) @binding(2) var<storage, read_write> c: array<vec4<f16>>;
@group(0) @binding(3) var<uniform> p: Params;

const BM: u32 = 128u;
const BN: u32 = 128u;
const BK: u32 = 32u;
// Row strides in workgroup memory, padded by 8 halves against bank conflicts.
// In vec4<f16> units: 40 and 136 halves.
const SA: u32 = 10u;
const SB: u32 = 34u;
const A_BUF: u32 = 1280u; // BM * SA
const B_BUF: u32 = 1088u; // BK * SB

var<workgroup> sa: array<vec4<f16>, 2560>; // 2 x A_BUF
var<workgroup> sb: array<vec4<f16>, 2176>; // 2 x B_BUF
// One 16 x 16 f32 block per subgroup, for the epilogue.
var<workgroup> stage: array<f32, 2048>;

// The 4 vec4 of A and of B this invocation moves per K step.
var<private> ra: array<vec4<f16>, 4>;
var<private> rb: array<vec4<f16>, 4>;

fn load_global(row0: u32, col0: u32, t: u32, li: u32) {
    for (var q = 0u; q < 4u; q++) {
        let i = li + q * 256u;
        // A: 128 rows x 8 vec4 along k.
        let ar = row0 + i / 8u;
        let ak = t * 8u + i % 8u;
        var av = vec4<f16>(0.0h);
        if (ar < p.m && ak < p.k4) {
            av = a[ar * p.k4 + ak];
        }
        ra[q] = av;
        // B: 32 rows along k x 32 vec4 along n.
        let bk = t * BK + i / 32u;
        let bc = col0 + i % 32u;
        var bv = vec4<f16>(0.0h);
        if (bk < p.k && bc < p.n4) {
            bv = b[bk * p.n4 + bc];
        }
        rb[q] = bv;
    }
}

fn store_shared(buf: u32, li: u32) {
    for (var q = 0u; q < 4u; q++) {
        let i = li + q * 256u;
        sa[buf * A_BUF + (i / 8u) * SA + i % 8u] = ra[q];
        sb[buf * B_BUF + (i / 32u) * SB + i % 32u] = rb[q];
    }
}

// Write one 16 x 16 accumulator (already in `stage` at `base`) to C as f16, in bounds only.
fn write_block(base: u32, r0: u32, c0: u32, lane: u32) {
    // Lane l writes row l / 2, columns (l % 2) * 8 .. + 8: two vec4.
    let r = r0 + lane / 2u;
    let s = base + (lane / 2u) * 16u + (lane % 2u) * 8u;
    let col4 = c0 / 4u + (lane % 2u) * 2u;
    if (r < p.m) {
        if (col4 < p.n4) {
            c[r * p.n4 + col4] = vec4<f16>(vec4<f32>(stage[s], stage[s + 1u], stage[s + 2u], stage[s + 3u]));
        }
        if (col4 + 1u < p.n4) {
            c[r * p.n4 + col4 + 1u] = vec4<f16>(vec4<f32>(stage[s + 4u], stage[s + 5u], stage[s + 6u], stage[s + 7u]));
        }
    }
}

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let row0 = wg.y * BM;
    let col0 = wg.x * (BN / 4u); // vec4 units
    let warp = li / 32u;
    let lane = li % 32u;
    let wm = warp / 4u; // 0..1: 64 rows each
    let wn = warp % 4u; // 0..3: 32 columns each

    var c00 = coop_mat16x16<f32, C>();
    var c01 = coop_mat16x16<f32, C>();
    var c10 = coop_mat16x16<f32, C>();
    var c11 = coop_mat16x16<f32, C>();
    var c20 = coop_mat16x16<f32, C>();
    var c21 = coop_mat16x16<f32, C>();
    var c30 = coop_mat16x16<f32, C>();
    var c31 = coop_mat16x16<f32, C>();

    let tiles = (p.k + BK - 1u) / BK;
    load_global(row0, col0, 0u, li);
    store_shared(0u, li);
    workgroupBarrier();

    for (var t = 0u; t < tiles; t++) {
        let cur = t % 2u;
        let more = t + 1u < tiles;
        if (more) {
            load_global(row0, col0, t + 1u, li);
        }
        for (var ks = 0u; ks < BK; ks += 16u) {
            let sa_stride = SA;
            let sb_stride = SB;
            let ia0 = cur * A_BUF + (wm * 64u + 0u) * SA + ks / 4u;
            let ia1 = cur * A_BUF + (wm * 64u + 16u) * SA + ks / 4u;
            let ia2 = cur * A_BUF + (wm * 64u + 32u) * SA + ks / 4u;
            let ia3 = cur * A_BUF + (wm * 64u + 48u) * SA + ks / 4u;
            let ib0 = cur * B_BUF + ks * SB + wn * 8u;
            let ib1 = ib0 + 4u;
            let a0 = coopLoadT<coop_mat16x16<f16, A>>(&sa[ia0], sa_stride);
            let a1 = coopLoadT<coop_mat16x16<f16, A>>(&sa[ia1], sa_stride);
            let a2 = coopLoadT<coop_mat16x16<f16, A>>(&sa[ia2], sa_stride);
            let a3 = coopLoadT<coop_mat16x16<f16, A>>(&sa[ia3], sa_stride);
            let b0 = coopLoadT<coop_mat16x16<f16, B>>(&sb[ib0], sb_stride);
            let b1 = coopLoadT<coop_mat16x16<f16, B>>(&sb[ib1], sb_stride);
            c00 = coopMultiplyAdd(a0, b0, c00);
            c01 = coopMultiplyAdd(a0, b1, c01);
            c10 = coopMultiplyAdd(a1, b0, c10);
            c11 = coopMultiplyAdd(a1, b1, c11);
            c20 = coopMultiplyAdd(a2, b0, c20);
            c21 = coopMultiplyAdd(a2, b1, c21);
            c30 = coopMultiplyAdd(a3, b0, c30);
            c31 = coopMultiplyAdd(a3, b1, c31);
        }
        if (more) {
            store_shared(1u - cur, li);
        }
        workgroupBarrier();
    }

    // Epilogue: each accumulator through this subgroup's slice of `stage`, then to C as f16.
    let base = warp * 256u;
    let st = 16u;
    let r0 = row0 + wm * 64u;
    let c0 = wg.x * BN + wn * 32u;
    coopStoreT(c00, &stage[base], st);
    workgroupBarrier();
    write_block(base, r0, c0, lane);
    workgroupBarrier();
    coopStoreT(c01, &stage[base], st);
    workgroupBarrier();
    write_block(base, r0, c0 + 16u, lane);
    workgroupBarrier();
    coopStoreT(c10, &stage[base], st);
    workgroupBarrier();
    write_block(base, r0 + 16u, c0, lane);
    workgroupBarrier();
    coopStoreT(c11, &stage[base], st);
    workgroupBarrier();
    write_block(base, r0 + 16u, c0 + 16u, lane);
    workgroupBarrier();
    coopStoreT(c20, &stage[base], st);
    workgroupBarrier();
    write_block(base, r0 + 32u, c0, lane);
    workgroupBarrier();
    coopStoreT(c21, &stage[base], st);
    workgroupBarrier();
    write_block(base, r0 + 32u, c0 + 16u, lane);
    workgroupBarrier();
    coopStoreT(c30, &stage[base], st);
    workgroupBarrier();
    write_block(base, r0 + 48u, c0, lane);
    workgroupBarrier();
    coopStoreT(c31, &stage[base], st);
    workgroupBarrier();
    write_block(base, r0 + 48u, c0 + 16u, lane);
}
