#!/usr/bin/env python3
"""Writes kernels/gemm_f16_coop_k64.wgsl and kernels/gemm_f16_coop_k64x2.wgsl, the cooperative-matrix
(tensor core) f16 GEMMs. WGSL has no templates and these kernels are unrolled by hand: every K step
of a tile is spelled out so that its accumulators are chained through `let`s. On the H200 that
chaining was worth 3.2x (notes/gpu.md): a `var` accumulator read and written on every step ran at
45 TFLOP/s whatever fed it.

Usage: python3 scripts/gen_coop_gemm.py kernels
"""
import sys

ACC = [(i, j) for i in range(4) for j in range(2)]

def epilogue(bounds):
    out = ["    let base = warp * 256u;", "    let st = 16u;"]
    for n, (i, j) in enumerate(ACC):
        if n:
            out.append("    workgroupBarrier();")
        out.append(f"    coopStoreT(c{i}{j}, &stage[base], st);")
        out.append("    workgroupBarrier();")
        out.append(f"    write_block(base, r0 + {16*i}u, c0 + {16*j}u, lane);")
    return "\n".join(out)

def write_block(bounds):
    if bounds:
        body = """    if (r < p.m) {
        if (col4 < p.n4) {
            c[r * p.n4 + col4] = vec4<f16>(vec4<f32>(stage[s], stage[s + 1u], stage[s + 2u], stage[s + 3u]));
        }
        if (col4 + 1u < p.n4) {
            c[r * p.n4 + col4 + 1u] = vec4<f16>(vec4<f32>(stage[s + 4u], stage[s + 5u], stage[s + 6u], stage[s + 7u]));
        }
    }"""
    else:
        body = """    c[r * p.n4 + col4] = vec4<f16>(vec4<f32>(stage[s], stage[s + 1u], stage[s + 2u], stage[s + 3u]));
    c[r * p.n4 + col4 + 1u] = vec4<f16>(vec4<f32>(stage[s + 4u], stage[s + 5u], stage[s + 6u], stage[s + 7u]));"""
    return f"""// Write one 16 x 16 accumulator (in `stage` at `base`) to C as f16: lane l writes row l / 2,
// columns (l % 2) * 8 .. + 8.
fn write_block(base: u32, r0: u32, c0: u32, lane: u32) {{
    let r = r0 + lane / 2u;
    let s = base + (lane / 2u) * 16u + (lane % 2u) * 8u;
    let col4 = c0 / 4u + (lane % 2u) * 2u;
{body}
}}
"""

def mma_chain(steps, load_a, load_b, cur=None, first=0, write_back=True):
    """`steps` K steps of 16, each loading 4 A and 2 B fragments, the accumulators chained
    through `let`s and written back to their `var`s once."""
    out = []
    if cur is None:
        cur = {ij: f"c{ij[0]}{ij[1]}" for ij in ACC}
    for s in range(first, first + steps):
        for i in range(4):
            out.append(f"        let a{i}_{s} = {load_a(i, s)};")
        for j in range(2):
            out.append(f"        let b{j}_{s} = {load_b(j, s)};")
        for (i, j) in ACC:
            name = f"x{i}{j}_{s}"
            out.append(f"        let {name} = coopMultiplyAdd(a{i}_{s}, b{j}_{s}, {cur[(i, j)]});")
            cur[(i, j)] = name
    if write_back:
        for (i, j) in ACC:
            out.append(f"        c{i}{j} = {cur[(i, j)]};")
    return "\n".join(out)

HEADER = """enable f16;
enable wgpu_cooperative_matrix;
"""

PARAMS = """struct Params {
    m: u32,
    k: u32,
    k4: u32,
    n4: u32,
}
"""

ACC_DECL = "\n".join(f"    var c{i}{j} = coop_mat16x16<f32, C>();" for (i, j) in ACC)

def staged(bk, per_iter=1):
    """Single-buffered workgroup tiles of `bk` along K (vec4<f16> elements), register
    prefetch of the next tile, the K steps of a tile chained."""
    steps = bk // 16
    sa = (bk + 8) // 4   # vec4 per A row (bk + 8 halves)
    sb = 34              # vec4 per B row (136 halves)
    a_vec = 128 * bk // 4 // 256   # vec4 of A per invocation
    b_vec = bk * 32 // 256          # vec4 of B per invocation
    la = lambda i, s: f"coopLoadT<coop_mat16x16<f16, A>>(&sa[ia{i}_{s}], SA)"
    lb = lambda j, s: f"coopLoadT<coop_mat16x16<f16, B>>(&sb[ib{j}_{s}], SB)"

    def half(first):
        idx = []
        for s in range(first, first + steps):
            for i in range(4):
                idx.append(f"        let ia{i}_{s} = (wm * 64u + {16*i}u) * SA + {4*(s - first)}u;")
            idx.append(f"        let ib0_{s} = {16*(s - first)}u * SB + wn * 8u;")
            idx.append(f"        let ib1_{s} = ib0_{s} + 4u;")
        return "\n".join(idx)
    if per_iter == 1:
        body = half(0) + "\n" + mma_chain(steps, la, lb)
    loads = []
    for q in range(a_vec):
        loads.append(f"""    {{
        let i = li + {q * 256}u;
        let ar = row0 + i / {bk // 4}u;
        let ak = t * {bk // 4}u + i % {bk // 4}u;
        var v = vec4<f16>(0.0h);
        if (ar < p.m && ak < p.k4) {{
            v = a[ar * p.k4 + ak];
        }}
        ra[{q}] = v;
    }}""")
    for q in range(b_vec):
        loads.append(f"""    {{
        let i = li + {q * 256}u;
        let bk = t * {bk}u + i / 32u;
        let bc = col0 + i % 32u;
        var v = vec4<f16>(0.0h);
        if (bk < p.k && bc < p.n4) {{
            v = b[bk * p.n4 + bc];
        }}
        rb[{q}] = v;
    }}""")
    stores = []
    for q in range(a_vec):
        stores.append(f"    sa[((li + {q*256}u) / {bk // 4}u) * SA + (li + {q*256}u) % {bk // 4}u] = ra[{q}];")
    for q in range(b_vec):
        stores.append(f"    sb[((li + {q*256}u) / 32u) * SB + (li + {q*256}u) % 32u] = rb[{q}];")
    if per_iter == 1:
        loop = f"""    let tiles = (p.k + {bk - 1}u) / {bk}u;
    load_global(row0, col0, 0u, li);
    store_shared(li);
    workgroupBarrier();
    for (var t = 0u; t < tiles; t++) {{
        let more = t + 1u < tiles;
        if (more) {{
            load_global(row0, col0, t + 1u, li);
        }}
{body}
        workgroupBarrier();
        if (more) {{
            store_shared(li);
            workgroupBarrier();
        }}
    }}"""
        chain_note = f"The {steps} K steps of a tile are chained through `let`s, so each accumulator\n// `var` is read and written once per tile."
    else:
        cur = {ij: f"c{ij[0]}{ij[1]}" for ij in ACC}
        first = mma_chain(steps, la, lb, cur=cur, first=0, write_back=False)
        second = mma_chain(steps, la, lb, cur=cur, first=steps, write_back=True)
        loop = f"""    let tiles = (p.k + {bk - 1}u) / {bk}u;
    load_global(row0, col0, 0u, li);
    store_shared(li);
    workgroupBarrier();
    for (var t = 0u; t < tiles; t += 2u) {{
        // Tile t + 1 (zeros past the end of K, so an odd last tile adds nothing).
        load_global(row0, col0, t + 1u, li);
{half(0)}
{first}
        workgroupBarrier();
        store_shared(li);
        workgroupBarrier();
        let more = t + 2u < tiles;
        if (more) {{
            load_global(row0, col0, t + 2u, li);
        }}
{half(steps)}
{second}
        workgroupBarrier();
        if (more) {{
            store_shared(li);
            workgroupBarrier();
        }}
    }}"""
        chain_note = f"Two tiles per loop iteration, their {2*steps} K steps chained through `let`s, so each\n// accumulator `var` is read and written once per {2*bk} of K."
    return HEADER + f"""
// GEMM on cooperative matrices (tensor cores) through workgroup memory: f16 inputs and output,
// f32 accumulation, C[m, n] = A[m, k] x B[k, n] row-major, host layout as gemm_f16_tiled
// (rows padded with zeros to k4 * 4 and n4 * 4, every global load one vec4<f16>).
// Generated by scripts/gen_coop_gemm.py: edit that, not this.
// Needs an adapter listing 16 x 16 x 16 f16 -> f32 cooperative matrices and subgroups of 32
// (plan/gemm.rs checks both); verified against the reference like every kernel.
// One workgroup of 256 invocations (8 subgroups of 32 in a 2 x 4 grid, each with 4 x 2
// accumulators of 16 x 16) computes 128 x 128 of C. K advances {bk} at a time through vec4<f16>
// workgroup tiles (rows padded by 8 halves against bank conflicts; cooperative loads from vec4
// pointers take strides in vec4 units); the next tile is read into registers while this one
// is multiplied. {chain_note} Rows past m, columns past n4 and k past k are
// staged as zeros: any shape is handled.

{PARAMS}
@group(0) @binding(0) var<storage, read> a: array<vec4<f16>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f16>>;
@group(0) @binding(2) var<storage, read_write> c: array<vec4<f16>>;
@group(0) @binding(3) var<uniform> p: Params;

const SA: u32 = {sa}u;
const SB: u32 = {sb}u;
var<workgroup> sa: array<vec4<f16>, {128 * sa}>;
var<workgroup> sb: array<vec4<f16>, {bk * sb}>;
// One 16 x 16 f32 block per subgroup, for the epilogue.
var<workgroup> stage: array<f32, 2048>;

var<private> ra: array<vec4<f16>, {a_vec}>;
var<private> rb: array<vec4<f16>, {b_vec}>;

fn load_global(row0: u32, col0: u32, t: u32, li: u32) {{
{chr(10).join(loads)}
}}

fn store_shared(li: u32) {{
{chr(10).join(stores)}
}}

{write_block(True)}
@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {{
    let row0 = wg.y * 128u;
    let col0 = wg.x * 32u; // vec4 units
    let warp = li / 32u;
    let lane = li % 32u;
    let wm = warp / 4u;
    let wn = warp % 4u;
    let r0 = row0 + wm * 64u;
    let c0 = wg.x * 128u + wn * 32u;
{ACC_DECL}

{loop}

{epilogue(True)}
}}
"""

if __name__ == "__main__":
    out = sys.argv[1]
    open(f"{out}/gemm_f16_coop_k64.wgsl", "w").write(staged(64))
    open(f"{out}/gemm_f16_coop_k64x2.wgsl", "w").write(staged(64, 2))
