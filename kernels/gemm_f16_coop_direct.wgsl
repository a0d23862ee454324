enable f16;
enable wgpu_cooperative_matrix;

// GEMM on cooperative matrices with fragments loaded straight from global memory (no
// workgroup-memory staging): f16 inputs and output, f32 accumulation, C = A x B row-major.
// Only for aligned shapes (the plan checks): m and n multiples of 128, k of 16, so every
// fragment lies inside its matrix. Same geometry as gemm_f16_coop: 256 invocations,
// 8 subgroups of 32 in a 2 x 4 grid, each with 4 x 2 accumulators of 16 x 16.

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

var<workgroup> stage: array<f32, 2048>;

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
    let wm = warp / 4u;
    let wn = warp % 4u;
    let r0 = wg.y * 128u + wm * 64u;
    let c0 = wg.x * 128u + wn * 32u;
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

    for (var k0 = 0u; k0 < p.k; k0 += 16u) {
        let ia0 = (r0 + 0u) * ka + k0;
        let ia1 = (r0 + 16u) * ka + k0;
        let ia2 = (r0 + 32u) * ka + k0;
        let ia3 = (r0 + 48u) * ka + k0;
        let ib0 = k0 * nb + c0;
        let ib1 = ib0 + 16u;
        let a0 = coopLoadT<coop_mat16x16<f16, A>>(&a[ia0], ka);
        let a1 = coopLoadT<coop_mat16x16<f16, A>>(&a[ia1], ka);
        let a2 = coopLoadT<coop_mat16x16<f16, A>>(&a[ia2], ka);
        let a3 = coopLoadT<coop_mat16x16<f16, A>>(&a[ia3], ka);
        let b0 = coopLoadT<coop_mat16x16<f16, B>>(&b[ib0], nb);
        let b1 = coopLoadT<coop_mat16x16<f16, B>>(&b[ib1], nb);
        c00 = coopMultiplyAdd(a0, b0, c00);
        c01 = coopMultiplyAdd(a0, b1, c01);
        c10 = coopMultiplyAdd(a1, b0, c10);
        c11 = coopMultiplyAdd(a1, b1, c11);
        c20 = coopMultiplyAdd(a2, b0, c20);
        c21 = coopMultiplyAdd(a2, b1, c21);
        c30 = coopMultiplyAdd(a3, b0, c30);
        c31 = coopMultiplyAdd(a3, b1, c31);
    }

    let base = warp * 256u;
    let st = 16u;
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
