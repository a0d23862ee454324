enable f16;
enable wgpu_cooperative_matrix;

// GEMM on cooperative matrices (tensor cores), fragments loaded straight from global memory:
// f16 inputs and output, f32 accumulation, C[m, n] = A[m, k] x B[k, n] row-major. Generated
// (K unrolled 4 x 16: each accumulator is read from and written to its `var` once per
// 64 of K, the steps between chained through `let`s).
// Only for aligned shapes (the plan checks): m and n multiples of 128, k of 64, so every
// fragment lies inside its matrix. 256 invocations: 8 subgroups of 32 in a 2 x 4 grid, each
// with 4 x 2 accumulators of 16 x 16; a workgroup computes 128 x 128 of C.

struct Params {
    m: u32,
    k: u32,
    k4: u32,
    n4: u32,
}

@group(0) @binding(0) var<storage, read> a: array<f16>;
@group(0) @binding(1) var<storage, read> b: array<f16>;
@group(0) @binding(2) var<storage, read_write> c: array<vec4<f16>>;
@group(0) @binding(3) var<uniform> p: Params;

// One 16 x 16 f32 block per subgroup, for the epilogue.
var<workgroup> stage: array<f32, 2048>;

// Write one 16 x 16 accumulator (in `stage` at `base`) to C as f16: lane l writes row l / 2,
// columns (l % 2) * 8 .. + 8.
fn write_block(base: u32, r0: u32, c0: u32, lane: u32) {
    let r = r0 + lane / 2u;
    let s = base + (lane / 2u) * 16u + (lane % 2u) * 8u;
    let col4 = c0 / 4u + (lane % 2u) * 2u;
    c[r * p.n4 + col4] = vec4<f16>(vec4<f32>(stage[s], stage[s + 1u], stage[s + 2u], stage[s + 3u]));
    c[r * p.n4 + col4 + 1u] = vec4<f16>(vec4<f32>(stage[s + 4u], stage[s + 5u], stage[s + 6u], stage[s + 7u]));
}

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let warp = li / 32u;
    let lane = li % 32u;
    let r0 = wg.y * 128u + (warp / 4u) * 64u;
    let c0 = wg.x * 128u + (warp % 4u) * 32u;
    let ka = p.k4 * 4u;
    let nb = p.n4 * 4u;
    var c00 = coop_mat16x16<f32, C>();
    var c01 = coop_mat16x16<f32, C>();
    var c10 = coop_mat16x16<f32, C>();
    var c11 = coop_mat16x16<f32, C>();
    var c20 = coop_mat16x16<f32, C>();
    var c21 = coop_mat16x16<f32, C>();
    var c30 = coop_mat16x16<f32, C>();
    var c31 = coop_mat16x16<f32, C>();

    for (var k0 = 0u; k0 < p.k; k0 += 64u) {
        let ia0_0 = (r0 + 0u) * ka + k0 + 0u;
        let ia1_0 = (r0 + 16u) * ka + k0 + 0u;
        let ia2_0 = (r0 + 32u) * ka + k0 + 0u;
        let ia3_0 = (r0 + 48u) * ka + k0 + 0u;
        let ib0_0 = (k0 + 0u) * nb + c0;
        let ib1_0 = ib0_0 + 16u;
        let ia0_1 = (r0 + 0u) * ka + k0 + 16u;
        let ia1_1 = (r0 + 16u) * ka + k0 + 16u;
        let ia2_1 = (r0 + 32u) * ka + k0 + 16u;
        let ia3_1 = (r0 + 48u) * ka + k0 + 16u;
        let ib0_1 = (k0 + 16u) * nb + c0;
        let ib1_1 = ib0_1 + 16u;
        let ia0_2 = (r0 + 0u) * ka + k0 + 32u;
        let ia1_2 = (r0 + 16u) * ka + k0 + 32u;
        let ia2_2 = (r0 + 32u) * ka + k0 + 32u;
        let ia3_2 = (r0 + 48u) * ka + k0 + 32u;
        let ib0_2 = (k0 + 32u) * nb + c0;
        let ib1_2 = ib0_2 + 16u;
        let ia0_3 = (r0 + 0u) * ka + k0 + 48u;
        let ia1_3 = (r0 + 16u) * ka + k0 + 48u;
        let ia2_3 = (r0 + 32u) * ka + k0 + 48u;
        let ia3_3 = (r0 + 48u) * ka + k0 + 48u;
        let ib0_3 = (k0 + 48u) * nb + c0;
        let ib1_3 = ib0_3 + 16u;
        let a0_0 = coopLoadT<coop_mat16x16<f16, A>>(&a[ia0_0], ka);
        let a1_0 = coopLoadT<coop_mat16x16<f16, A>>(&a[ia1_0], ka);
        let a2_0 = coopLoadT<coop_mat16x16<f16, A>>(&a[ia2_0], ka);
        let a3_0 = coopLoadT<coop_mat16x16<f16, A>>(&a[ia3_0], ka);
        let b0_0 = coopLoadT<coop_mat16x16<f16, B>>(&b[ib0_0], nb);
        let b1_0 = coopLoadT<coop_mat16x16<f16, B>>(&b[ib1_0], nb);
        let x00_0 = coopMultiplyAdd(a0_0, b0_0, c00);
        let x01_0 = coopMultiplyAdd(a0_0, b1_0, c01);
        let x10_0 = coopMultiplyAdd(a1_0, b0_0, c10);
        let x11_0 = coopMultiplyAdd(a1_0, b1_0, c11);
        let x20_0 = coopMultiplyAdd(a2_0, b0_0, c20);
        let x21_0 = coopMultiplyAdd(a2_0, b1_0, c21);
        let x30_0 = coopMultiplyAdd(a3_0, b0_0, c30);
        let x31_0 = coopMultiplyAdd(a3_0, b1_0, c31);
        let a0_1 = coopLoadT<coop_mat16x16<f16, A>>(&a[ia0_1], ka);
        let a1_1 = coopLoadT<coop_mat16x16<f16, A>>(&a[ia1_1], ka);
        let a2_1 = coopLoadT<coop_mat16x16<f16, A>>(&a[ia2_1], ka);
        let a3_1 = coopLoadT<coop_mat16x16<f16, A>>(&a[ia3_1], ka);
        let b0_1 = coopLoadT<coop_mat16x16<f16, B>>(&b[ib0_1], nb);
        let b1_1 = coopLoadT<coop_mat16x16<f16, B>>(&b[ib1_1], nb);
        let x00_1 = coopMultiplyAdd(a0_1, b0_1, x00_0);
        let x01_1 = coopMultiplyAdd(a0_1, b1_1, x01_0);
        let x10_1 = coopMultiplyAdd(a1_1, b0_1, x10_0);
        let x11_1 = coopMultiplyAdd(a1_1, b1_1, x11_0);
        let x20_1 = coopMultiplyAdd(a2_1, b0_1, x20_0);
        let x21_1 = coopMultiplyAdd(a2_1, b1_1, x21_0);
        let x30_1 = coopMultiplyAdd(a3_1, b0_1, x30_0);
        let x31_1 = coopMultiplyAdd(a3_1, b1_1, x31_0);
        let a0_2 = coopLoadT<coop_mat16x16<f16, A>>(&a[ia0_2], ka);
        let a1_2 = coopLoadT<coop_mat16x16<f16, A>>(&a[ia1_2], ka);
        let a2_2 = coopLoadT<coop_mat16x16<f16, A>>(&a[ia2_2], ka);
        let a3_2 = coopLoadT<coop_mat16x16<f16, A>>(&a[ia3_2], ka);
        let b0_2 = coopLoadT<coop_mat16x16<f16, B>>(&b[ib0_2], nb);
        let b1_2 = coopLoadT<coop_mat16x16<f16, B>>(&b[ib1_2], nb);
        let x00_2 = coopMultiplyAdd(a0_2, b0_2, x00_1);
        let x01_2 = coopMultiplyAdd(a0_2, b1_2, x01_1);
        let x10_2 = coopMultiplyAdd(a1_2, b0_2, x10_1);
        let x11_2 = coopMultiplyAdd(a1_2, b1_2, x11_1);
        let x20_2 = coopMultiplyAdd(a2_2, b0_2, x20_1);
        let x21_2 = coopMultiplyAdd(a2_2, b1_2, x21_1);
        let x30_2 = coopMultiplyAdd(a3_2, b0_2, x30_1);
        let x31_2 = coopMultiplyAdd(a3_2, b1_2, x31_1);
        let a0_3 = coopLoadT<coop_mat16x16<f16, A>>(&a[ia0_3], ka);
        let a1_3 = coopLoadT<coop_mat16x16<f16, A>>(&a[ia1_3], ka);
        let a2_3 = coopLoadT<coop_mat16x16<f16, A>>(&a[ia2_3], ka);
        let a3_3 = coopLoadT<coop_mat16x16<f16, A>>(&a[ia3_3], ka);
        let b0_3 = coopLoadT<coop_mat16x16<f16, B>>(&b[ib0_3], nb);
        let b1_3 = coopLoadT<coop_mat16x16<f16, B>>(&b[ib1_3], nb);
        let x00_3 = coopMultiplyAdd(a0_3, b0_3, x00_2);
        let x01_3 = coopMultiplyAdd(a0_3, b1_3, x01_2);
        let x10_3 = coopMultiplyAdd(a1_3, b0_3, x10_2);
        let x11_3 = coopMultiplyAdd(a1_3, b1_3, x11_2);
        let x20_3 = coopMultiplyAdd(a2_3, b0_3, x20_2);
        let x21_3 = coopMultiplyAdd(a2_3, b1_3, x21_2);
        let x30_3 = coopMultiplyAdd(a3_3, b0_3, x30_2);
        let x31_3 = coopMultiplyAdd(a3_3, b1_3, x31_2);
        c00 = x00_3;
        c01 = x01_3;
        c10 = x10_3;
        c11 = x11_3;
        c20 = x20_3;
        c21 = x21_3;
        c30 = x30_3;
        c31 = x31_3;
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
