enable f16;
enable wgpu_cooperative_matrix;

// GEMM on cooperative matrices (tensor cores) through workgroup memory: f16 inputs and output,
// f32 accumulation, C[m, n] = A[m, k] x B[k, n] row-major, host layout as gemm_f16_tiled
// (rows padded with zeros to k4 * 4 and n4 * 4, every global load one vec4<f16>). Generated.
// One workgroup of 256 invocations (8 subgroups of 32 in a 2 x 4 grid, each with 4 x 2
// accumulators of 16 x 16) computes 128 x 128 of C. K advances 64 at a time through vec4<f16>
// workgroup tiles (rows padded by 8 halves against bank conflicts; cooperative loads from vec4
// pointers take strides in vec4 units); the next tile is read into registers while this one
// is multiplied. Two tiles per loop iteration, their 8 K steps chained through `let`s, so each
// accumulator `var` is read and written once per 128 of K. Rows past m, columns past n4 and k past k are
// staged as zeros: any shape is handled.

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

const SA: u32 = 18u;
const SB: u32 = 34u;
var<workgroup> sa: array<vec4<f16>, 2304>;
var<workgroup> sb: array<vec4<f16>, 2176>;
// One 16 x 16 f32 block per subgroup, for the epilogue.
var<workgroup> stage: array<f32, 2048>;

var<private> ra: array<vec4<f16>, 8>;
var<private> rb: array<vec4<f16>, 8>;

fn load_global(row0: u32, col0: u32, t: u32, li: u32) {
    {
        let i = li + 0u;
        let ar = row0 + i / 16u;
        let ak = t * 16u + i % 16u;
        var v = vec4<f16>(0.0h);
        if (ar < p.m && ak < p.k4) {
            v = a[ar * p.k4 + ak];
        }
        ra[0] = v;
    }
    {
        let i = li + 256u;
        let ar = row0 + i / 16u;
        let ak = t * 16u + i % 16u;
        var v = vec4<f16>(0.0h);
        if (ar < p.m && ak < p.k4) {
            v = a[ar * p.k4 + ak];
        }
        ra[1] = v;
    }
    {
        let i = li + 512u;
        let ar = row0 + i / 16u;
        let ak = t * 16u + i % 16u;
        var v = vec4<f16>(0.0h);
        if (ar < p.m && ak < p.k4) {
            v = a[ar * p.k4 + ak];
        }
        ra[2] = v;
    }
    {
        let i = li + 768u;
        let ar = row0 + i / 16u;
        let ak = t * 16u + i % 16u;
        var v = vec4<f16>(0.0h);
        if (ar < p.m && ak < p.k4) {
            v = a[ar * p.k4 + ak];
        }
        ra[3] = v;
    }
    {
        let i = li + 1024u;
        let ar = row0 + i / 16u;
        let ak = t * 16u + i % 16u;
        var v = vec4<f16>(0.0h);
        if (ar < p.m && ak < p.k4) {
            v = a[ar * p.k4 + ak];
        }
        ra[4] = v;
    }
    {
        let i = li + 1280u;
        let ar = row0 + i / 16u;
        let ak = t * 16u + i % 16u;
        var v = vec4<f16>(0.0h);
        if (ar < p.m && ak < p.k4) {
            v = a[ar * p.k4 + ak];
        }
        ra[5] = v;
    }
    {
        let i = li + 1536u;
        let ar = row0 + i / 16u;
        let ak = t * 16u + i % 16u;
        var v = vec4<f16>(0.0h);
        if (ar < p.m && ak < p.k4) {
            v = a[ar * p.k4 + ak];
        }
        ra[6] = v;
    }
    {
        let i = li + 1792u;
        let ar = row0 + i / 16u;
        let ak = t * 16u + i % 16u;
        var v = vec4<f16>(0.0h);
        if (ar < p.m && ak < p.k4) {
            v = a[ar * p.k4 + ak];
        }
        ra[7] = v;
    }
    {
        let i = li + 0u;
        let bk = t * 64u + i / 32u;
        let bc = col0 + i % 32u;
        var v = vec4<f16>(0.0h);
        if (bk < p.k && bc < p.n4) {
            v = b[bk * p.n4 + bc];
        }
        rb[0] = v;
    }
    {
        let i = li + 256u;
        let bk = t * 64u + i / 32u;
        let bc = col0 + i % 32u;
        var v = vec4<f16>(0.0h);
        if (bk < p.k && bc < p.n4) {
            v = b[bk * p.n4 + bc];
        }
        rb[1] = v;
    }
    {
        let i = li + 512u;
        let bk = t * 64u + i / 32u;
        let bc = col0 + i % 32u;
        var v = vec4<f16>(0.0h);
        if (bk < p.k && bc < p.n4) {
            v = b[bk * p.n4 + bc];
        }
        rb[2] = v;
    }
    {
        let i = li + 768u;
        let bk = t * 64u + i / 32u;
        let bc = col0 + i % 32u;
        var v = vec4<f16>(0.0h);
        if (bk < p.k && bc < p.n4) {
            v = b[bk * p.n4 + bc];
        }
        rb[3] = v;
    }
    {
        let i = li + 1024u;
        let bk = t * 64u + i / 32u;
        let bc = col0 + i % 32u;
        var v = vec4<f16>(0.0h);
        if (bk < p.k && bc < p.n4) {
            v = b[bk * p.n4 + bc];
        }
        rb[4] = v;
    }
    {
        let i = li + 1280u;
        let bk = t * 64u + i / 32u;
        let bc = col0 + i % 32u;
        var v = vec4<f16>(0.0h);
        if (bk < p.k && bc < p.n4) {
            v = b[bk * p.n4 + bc];
        }
        rb[5] = v;
    }
    {
        let i = li + 1536u;
        let bk = t * 64u + i / 32u;
        let bc = col0 + i % 32u;
        var v = vec4<f16>(0.0h);
        if (bk < p.k && bc < p.n4) {
            v = b[bk * p.n4 + bc];
        }
        rb[6] = v;
    }
    {
        let i = li + 1792u;
        let bk = t * 64u + i / 32u;
        let bc = col0 + i % 32u;
        var v = vec4<f16>(0.0h);
        if (bk < p.k && bc < p.n4) {
            v = b[bk * p.n4 + bc];
        }
        rb[7] = v;
    }
}

fn store_shared(li: u32) {
    sa[((li + 0u) / 16u) * SA + (li + 0u) % 16u] = ra[0];
    sa[((li + 256u) / 16u) * SA + (li + 256u) % 16u] = ra[1];
    sa[((li + 512u) / 16u) * SA + (li + 512u) % 16u] = ra[2];
    sa[((li + 768u) / 16u) * SA + (li + 768u) % 16u] = ra[3];
    sa[((li + 1024u) / 16u) * SA + (li + 1024u) % 16u] = ra[4];
    sa[((li + 1280u) / 16u) * SA + (li + 1280u) % 16u] = ra[5];
    sa[((li + 1536u) / 16u) * SA + (li + 1536u) % 16u] = ra[6];
    sa[((li + 1792u) / 16u) * SA + (li + 1792u) % 16u] = ra[7];
    sb[((li + 0u) / 32u) * SB + (li + 0u) % 32u] = rb[0];
    sb[((li + 256u) / 32u) * SB + (li + 256u) % 32u] = rb[1];
    sb[((li + 512u) / 32u) * SB + (li + 512u) % 32u] = rb[2];
    sb[((li + 768u) / 32u) * SB + (li + 768u) % 32u] = rb[3];
    sb[((li + 1024u) / 32u) * SB + (li + 1024u) % 32u] = rb[4];
    sb[((li + 1280u) / 32u) * SB + (li + 1280u) % 32u] = rb[5];
    sb[((li + 1536u) / 32u) * SB + (li + 1536u) % 32u] = rb[6];
    sb[((li + 1792u) / 32u) * SB + (li + 1792u) % 32u] = rb[7];
}

// Write one 16 x 16 accumulator (in `stage` at `base`) to C as f16: lane l writes row l / 2,
// columns (l % 2) * 8 .. + 8.
fn write_block(base: u32, r0: u32, c0: u32, lane: u32) {
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
    let row0 = wg.y * 128u;
    let col0 = wg.x * 32u; // vec4 units
    let warp = li / 32u;
    let lane = li % 32u;
    let wm = warp / 4u;
    let wn = warp % 4u;
    let r0 = row0 + wm * 64u;
    let c0 = wg.x * 128u + wn * 32u;
    var c00 = coop_mat16x16<f32, C>();
    var c01 = coop_mat16x16<f32, C>();
    var c10 = coop_mat16x16<f32, C>();
    var c11 = coop_mat16x16<f32, C>();
    var c20 = coop_mat16x16<f32, C>();
    var c21 = coop_mat16x16<f32, C>();
    var c30 = coop_mat16x16<f32, C>();
    var c31 = coop_mat16x16<f32, C>();

    let tiles = (p.k + 63u) / 64u;
    load_global(row0, col0, 0u, li);
    store_shared(li);
    workgroupBarrier();
    for (var t = 0u; t < tiles; t += 2u) {
        // Tile t + 1 (zeros past the end of K, so an odd last tile adds nothing).
        load_global(row0, col0, t + 1u, li);
        let ia0_0 = (wm * 64u + 0u) * SA + 0u;
        let ia1_0 = (wm * 64u + 16u) * SA + 0u;
        let ia2_0 = (wm * 64u + 32u) * SA + 0u;
        let ia3_0 = (wm * 64u + 48u) * SA + 0u;
        let ib0_0 = 0u * SB + wn * 8u;
        let ib1_0 = ib0_0 + 4u;
        let ia0_1 = (wm * 64u + 0u) * SA + 4u;
        let ia1_1 = (wm * 64u + 16u) * SA + 4u;
        let ia2_1 = (wm * 64u + 32u) * SA + 4u;
        let ia3_1 = (wm * 64u + 48u) * SA + 4u;
        let ib0_1 = 16u * SB + wn * 8u;
        let ib1_1 = ib0_1 + 4u;
        let ia0_2 = (wm * 64u + 0u) * SA + 8u;
        let ia1_2 = (wm * 64u + 16u) * SA + 8u;
        let ia2_2 = (wm * 64u + 32u) * SA + 8u;
        let ia3_2 = (wm * 64u + 48u) * SA + 8u;
        let ib0_2 = 32u * SB + wn * 8u;
        let ib1_2 = ib0_2 + 4u;
        let ia0_3 = (wm * 64u + 0u) * SA + 12u;
        let ia1_3 = (wm * 64u + 16u) * SA + 12u;
        let ia2_3 = (wm * 64u + 32u) * SA + 12u;
        let ia3_3 = (wm * 64u + 48u) * SA + 12u;
        let ib0_3 = 48u * SB + wn * 8u;
        let ib1_3 = ib0_3 + 4u;
        let a0_0 = coopLoadT<coop_mat16x16<f16, A>>(&sa[ia0_0], SA);
        let a1_0 = coopLoadT<coop_mat16x16<f16, A>>(&sa[ia1_0], SA);
        let a2_0 = coopLoadT<coop_mat16x16<f16, A>>(&sa[ia2_0], SA);
        let a3_0 = coopLoadT<coop_mat16x16<f16, A>>(&sa[ia3_0], SA);
        let b0_0 = coopLoadT<coop_mat16x16<f16, B>>(&sb[ib0_0], SB);
        let b1_0 = coopLoadT<coop_mat16x16<f16, B>>(&sb[ib1_0], SB);
        let x00_0 = coopMultiplyAdd(a0_0, b0_0, c00);
        let x01_0 = coopMultiplyAdd(a0_0, b1_0, c01);
        let x10_0 = coopMultiplyAdd(a1_0, b0_0, c10);
        let x11_0 = coopMultiplyAdd(a1_0, b1_0, c11);
        let x20_0 = coopMultiplyAdd(a2_0, b0_0, c20);
        let x21_0 = coopMultiplyAdd(a2_0, b1_0, c21);
        let x30_0 = coopMultiplyAdd(a3_0, b0_0, c30);
        let x31_0 = coopMultiplyAdd(a3_0, b1_0, c31);
        let a0_1 = coopLoadT<coop_mat16x16<f16, A>>(&sa[ia0_1], SA);
        let a1_1 = coopLoadT<coop_mat16x16<f16, A>>(&sa[ia1_1], SA);
        let a2_1 = coopLoadT<coop_mat16x16<f16, A>>(&sa[ia2_1], SA);
        let a3_1 = coopLoadT<coop_mat16x16<f16, A>>(&sa[ia3_1], SA);
        let b0_1 = coopLoadT<coop_mat16x16<f16, B>>(&sb[ib0_1], SB);
        let b1_1 = coopLoadT<coop_mat16x16<f16, B>>(&sb[ib1_1], SB);
        let x00_1 = coopMultiplyAdd(a0_1, b0_1, x00_0);
        let x01_1 = coopMultiplyAdd(a0_1, b1_1, x01_0);
        let x10_1 = coopMultiplyAdd(a1_1, b0_1, x10_0);
        let x11_1 = coopMultiplyAdd(a1_1, b1_1, x11_0);
        let x20_1 = coopMultiplyAdd(a2_1, b0_1, x20_0);
        let x21_1 = coopMultiplyAdd(a2_1, b1_1, x21_0);
        let x30_1 = coopMultiplyAdd(a3_1, b0_1, x30_0);
        let x31_1 = coopMultiplyAdd(a3_1, b1_1, x31_0);
        let a0_2 = coopLoadT<coop_mat16x16<f16, A>>(&sa[ia0_2], SA);
        let a1_2 = coopLoadT<coop_mat16x16<f16, A>>(&sa[ia1_2], SA);
        let a2_2 = coopLoadT<coop_mat16x16<f16, A>>(&sa[ia2_2], SA);
        let a3_2 = coopLoadT<coop_mat16x16<f16, A>>(&sa[ia3_2], SA);
        let b0_2 = coopLoadT<coop_mat16x16<f16, B>>(&sb[ib0_2], SB);
        let b1_2 = coopLoadT<coop_mat16x16<f16, B>>(&sb[ib1_2], SB);
        let x00_2 = coopMultiplyAdd(a0_2, b0_2, x00_1);
        let x01_2 = coopMultiplyAdd(a0_2, b1_2, x01_1);
        let x10_2 = coopMultiplyAdd(a1_2, b0_2, x10_1);
        let x11_2 = coopMultiplyAdd(a1_2, b1_2, x11_1);
        let x20_2 = coopMultiplyAdd(a2_2, b0_2, x20_1);
        let x21_2 = coopMultiplyAdd(a2_2, b1_2, x21_1);
        let x30_2 = coopMultiplyAdd(a3_2, b0_2, x30_1);
        let x31_2 = coopMultiplyAdd(a3_2, b1_2, x31_1);
        let a0_3 = coopLoadT<coop_mat16x16<f16, A>>(&sa[ia0_3], SA);
        let a1_3 = coopLoadT<coop_mat16x16<f16, A>>(&sa[ia1_3], SA);
        let a2_3 = coopLoadT<coop_mat16x16<f16, A>>(&sa[ia2_3], SA);
        let a3_3 = coopLoadT<coop_mat16x16<f16, A>>(&sa[ia3_3], SA);
        let b0_3 = coopLoadT<coop_mat16x16<f16, B>>(&sb[ib0_3], SB);
        let b1_3 = coopLoadT<coop_mat16x16<f16, B>>(&sb[ib1_3], SB);
        let x00_3 = coopMultiplyAdd(a0_3, b0_3, x00_2);
        let x01_3 = coopMultiplyAdd(a0_3, b1_3, x01_2);
        let x10_3 = coopMultiplyAdd(a1_3, b0_3, x10_2);
        let x11_3 = coopMultiplyAdd(a1_3, b1_3, x11_2);
        let x20_3 = coopMultiplyAdd(a2_3, b0_3, x20_2);
        let x21_3 = coopMultiplyAdd(a2_3, b1_3, x21_2);
        let x30_3 = coopMultiplyAdd(a3_3, b0_3, x30_2);
        let x31_3 = coopMultiplyAdd(a3_3, b1_3, x31_2);
        workgroupBarrier();
        store_shared(li);
        workgroupBarrier();
        let more = t + 2u < tiles;
        if (more) {
            load_global(row0, col0, t + 2u, li);
        }
        let ia0_4 = (wm * 64u + 0u) * SA + 0u;
        let ia1_4 = (wm * 64u + 16u) * SA + 0u;
        let ia2_4 = (wm * 64u + 32u) * SA + 0u;
        let ia3_4 = (wm * 64u + 48u) * SA + 0u;
        let ib0_4 = 0u * SB + wn * 8u;
        let ib1_4 = ib0_4 + 4u;
        let ia0_5 = (wm * 64u + 0u) * SA + 4u;
        let ia1_5 = (wm * 64u + 16u) * SA + 4u;
        let ia2_5 = (wm * 64u + 32u) * SA + 4u;
        let ia3_5 = (wm * 64u + 48u) * SA + 4u;
        let ib0_5 = 16u * SB + wn * 8u;
        let ib1_5 = ib0_5 + 4u;
        let ia0_6 = (wm * 64u + 0u) * SA + 8u;
        let ia1_6 = (wm * 64u + 16u) * SA + 8u;
        let ia2_6 = (wm * 64u + 32u) * SA + 8u;
        let ia3_6 = (wm * 64u + 48u) * SA + 8u;
        let ib0_6 = 32u * SB + wn * 8u;
        let ib1_6 = ib0_6 + 4u;
        let ia0_7 = (wm * 64u + 0u) * SA + 12u;
        let ia1_7 = (wm * 64u + 16u) * SA + 12u;
        let ia2_7 = (wm * 64u + 32u) * SA + 12u;
        let ia3_7 = (wm * 64u + 48u) * SA + 12u;
        let ib0_7 = 48u * SB + wn * 8u;
        let ib1_7 = ib0_7 + 4u;
        let a0_4 = coopLoadT<coop_mat16x16<f16, A>>(&sa[ia0_4], SA);
        let a1_4 = coopLoadT<coop_mat16x16<f16, A>>(&sa[ia1_4], SA);
        let a2_4 = coopLoadT<coop_mat16x16<f16, A>>(&sa[ia2_4], SA);
        let a3_4 = coopLoadT<coop_mat16x16<f16, A>>(&sa[ia3_4], SA);
        let b0_4 = coopLoadT<coop_mat16x16<f16, B>>(&sb[ib0_4], SB);
        let b1_4 = coopLoadT<coop_mat16x16<f16, B>>(&sb[ib1_4], SB);
        let x00_4 = coopMultiplyAdd(a0_4, b0_4, x00_3);
        let x01_4 = coopMultiplyAdd(a0_4, b1_4, x01_3);
        let x10_4 = coopMultiplyAdd(a1_4, b0_4, x10_3);
        let x11_4 = coopMultiplyAdd(a1_4, b1_4, x11_3);
        let x20_4 = coopMultiplyAdd(a2_4, b0_4, x20_3);
        let x21_4 = coopMultiplyAdd(a2_4, b1_4, x21_3);
        let x30_4 = coopMultiplyAdd(a3_4, b0_4, x30_3);
        let x31_4 = coopMultiplyAdd(a3_4, b1_4, x31_3);
        let a0_5 = coopLoadT<coop_mat16x16<f16, A>>(&sa[ia0_5], SA);
        let a1_5 = coopLoadT<coop_mat16x16<f16, A>>(&sa[ia1_5], SA);
        let a2_5 = coopLoadT<coop_mat16x16<f16, A>>(&sa[ia2_5], SA);
        let a3_5 = coopLoadT<coop_mat16x16<f16, A>>(&sa[ia3_5], SA);
        let b0_5 = coopLoadT<coop_mat16x16<f16, B>>(&sb[ib0_5], SB);
        let b1_5 = coopLoadT<coop_mat16x16<f16, B>>(&sb[ib1_5], SB);
        let x00_5 = coopMultiplyAdd(a0_5, b0_5, x00_4);
        let x01_5 = coopMultiplyAdd(a0_5, b1_5, x01_4);
        let x10_5 = coopMultiplyAdd(a1_5, b0_5, x10_4);
        let x11_5 = coopMultiplyAdd(a1_5, b1_5, x11_4);
        let x20_5 = coopMultiplyAdd(a2_5, b0_5, x20_4);
        let x21_5 = coopMultiplyAdd(a2_5, b1_5, x21_4);
        let x30_5 = coopMultiplyAdd(a3_5, b0_5, x30_4);
        let x31_5 = coopMultiplyAdd(a3_5, b1_5, x31_4);
        let a0_6 = coopLoadT<coop_mat16x16<f16, A>>(&sa[ia0_6], SA);
        let a1_6 = coopLoadT<coop_mat16x16<f16, A>>(&sa[ia1_6], SA);
        let a2_6 = coopLoadT<coop_mat16x16<f16, A>>(&sa[ia2_6], SA);
        let a3_6 = coopLoadT<coop_mat16x16<f16, A>>(&sa[ia3_6], SA);
        let b0_6 = coopLoadT<coop_mat16x16<f16, B>>(&sb[ib0_6], SB);
        let b1_6 = coopLoadT<coop_mat16x16<f16, B>>(&sb[ib1_6], SB);
        let x00_6 = coopMultiplyAdd(a0_6, b0_6, x00_5);
        let x01_6 = coopMultiplyAdd(a0_6, b1_6, x01_5);
        let x10_6 = coopMultiplyAdd(a1_6, b0_6, x10_5);
        let x11_6 = coopMultiplyAdd(a1_6, b1_6, x11_5);
        let x20_6 = coopMultiplyAdd(a2_6, b0_6, x20_5);
        let x21_6 = coopMultiplyAdd(a2_6, b1_6, x21_5);
        let x30_6 = coopMultiplyAdd(a3_6, b0_6, x30_5);
        let x31_6 = coopMultiplyAdd(a3_6, b1_6, x31_5);
        let a0_7 = coopLoadT<coop_mat16x16<f16, A>>(&sa[ia0_7], SA);
        let a1_7 = coopLoadT<coop_mat16x16<f16, A>>(&sa[ia1_7], SA);
        let a2_7 = coopLoadT<coop_mat16x16<f16, A>>(&sa[ia2_7], SA);
        let a3_7 = coopLoadT<coop_mat16x16<f16, A>>(&sa[ia3_7], SA);
        let b0_7 = coopLoadT<coop_mat16x16<f16, B>>(&sb[ib0_7], SB);
        let b1_7 = coopLoadT<coop_mat16x16<f16, B>>(&sb[ib1_7], SB);
        let x00_7 = coopMultiplyAdd(a0_7, b0_7, x00_6);
        let x01_7 = coopMultiplyAdd(a0_7, b1_7, x01_6);
        let x10_7 = coopMultiplyAdd(a1_7, b0_7, x10_6);
        let x11_7 = coopMultiplyAdd(a1_7, b1_7, x11_6);
        let x20_7 = coopMultiplyAdd(a2_7, b0_7, x20_6);
        let x21_7 = coopMultiplyAdd(a2_7, b1_7, x21_6);
        let x30_7 = coopMultiplyAdd(a3_7, b0_7, x30_6);
        let x31_7 = coopMultiplyAdd(a3_7, b1_7, x31_6);
        c00 = x00_7;
        c01 = x01_7;
        c10 = x10_7;
        c11 = x11_7;
        c20 = x20_7;
        c21 = x21_7;
        c30 = x30_7;
        c31 = x31_7;
        workgroupBarrier();
        if (more) {
            store_shared(li);
            workgroupBarrier();
        }
    }

    let base = warp * 256u;
    let st = 16u;
    coopStoreT(c00, &stage[base], st);
    workgroupBarrier();
    write_block(base, r0 + 0u, c0 + 0u, lane);
    workgroupBarrier();
    coopStoreT(c01, &stage[base], st);
    workgroupBarrier();
    write_block(base, r0 + 0u, c0 + 16u, lane);
    workgroupBarrier();
    coopStoreT(c10, &stage[base], st);
    workgroupBarrier();
    write_block(base, r0 + 16u, c0 + 0u, lane);
    workgroupBarrier();
    coopStoreT(c11, &stage[base], st);
    workgroupBarrier();
    write_block(base, r0 + 16u, c0 + 16u, lane);
    workgroupBarrier();
    coopStoreT(c20, &stage[base], st);
    workgroupBarrier();
    write_block(base, r0 + 32u, c0 + 0u, lane);
    workgroupBarrier();
    coopStoreT(c21, &stage[base], st);
    workgroupBarrier();
    write_block(base, r0 + 32u, c0 + 16u, lane);
    workgroupBarrier();
    coopStoreT(c30, &stage[base], st);
    workgroupBarrier();
    write_block(base, r0 + 48u, c0 + 0u, lane);
    workgroupBarrier();
    coopStoreT(c31, &stage[base], st);
    workgroupBarrier();
    write_block(base, r0 + 48u, c0 + 16u, lane);
}
