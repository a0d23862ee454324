#!/usr/bin/env python3
"""Writes the cooperative-matrix (tensor core) f16 GEMMs kernels/gemm_f16_coop_*.wgsl and the
split-K reduce kernels/gemm_f16_splitk_reduce.wgsl. WGSL has no templates and these kernels are
unrolled by hand: every K step of a tile is spelled out so that its accumulators are chained
through `let`s. On the H200 that chaining was worth 3.2x (notes/gpu.md): a `var` accumulator
read and written on every step ran at 45 TFLOP/s whatever fed it.

Every variant is one configuration of the same code (`Cfg`): the global loads with their
bounds zero-fill, the workgroup tiles, the fragment offsets and the epilogue are written once
and parameterised by the tile shape, so a new variant reuses the paths verified on the H200
(k64, k64x2):
  gemm_f16_coop_k64        128 x 128 of C, 8 subgroups 2 x 4 of 4 x 2 accumulators, BK 64
  gemm_f16_coop_k64x2      the same, two K tiles per loop iteration
  gemm_f16_coop_w64        128 x 256 of C, 8 subgroups 2 x 4 of 4 x 4 accumulators (64 x 64
                           each), BK 32, two K tiles per loop iteration
  gemm_f16_coop_k32x2      as k64x2 with 32-deep K tiles: half the registers holding the next
                           tile and 27,136 bytes of workgroup memory, so that two workgroups
                           may share a compute unit
  gemm_f16_coop_k64_splitk k64 over one slice of K per workgroup (grid y = split x m tiles),
                           f32 partials, summed into C by gemm_f16_splitk_reduce
  gemm_f16_coop_t128       128 x 128 of C from 128 invocations: 4 subgroups 2 x 2 of 4 x 4
                           accumulators (64 x 64 each), BK 32, two K tiles per loop iteration;
                           the shape llama.cpp's Vulkan backend gives its large cooperative-matrix
                           tile on NVIDIA (read, not copied): a smaller workgroup, 23,040 bytes of
                           workgroup memory, so that two or three may share a compute unit
  gemm_f16_coop_t128_splitk
                           t128's tiles over one slice of K per workgroup (one K tile per loop
                           iteration), reduced as k64_splitk; a split variant's one-slice case
                           runs the kernel named without `_splitk`
The workgroup-memory bytes of each are printed and must match plan/gemm.rs (a test checks the
kernels' declarations against it).

Usage: python3 scripts/gen_coop_gemm.py kernels
"""
import sys


class Cfg:
    def __init__(self, fi, fj, bk, per_iter=1, split_k=False, wm=2, wn=4):
        self.fi, self.fj = fi, fj          # accumulators per subgroup (rows, columns of 16)
        self.wm, self.wn = wm, wn          # subgroups per workgroup (rows, columns)
        self.bk = bk                       # K per workgroup tile
        self.per_iter = per_iter           # K tiles per loop iteration (1 or 2)
        self.split_k = split_k
        self.tm = wm * 16 * fi             # rows of C per workgroup
        self.tn = wn * 16 * fj             # columns of C per workgroup
        self.acc = [(i, j) for i in range(fi) for j in range(fj)]
        self.sa = (bk + 8) // 4            # vec4 per A row in workgroup memory (bk + 8 halves)
        self.sb = (self.tn + 8) // 4       # vec4 per B row (tn + 8 halves)
        self.threads = wm * wn * 32        # invocations per workgroup (subgroups of 32)
        self.stage = wm * wn * 256         # f32 of epilogue staging, one 16 x 16 block a subgroup
        t = self.threads
        assert bk % 16 == 0 and (self.tm * bk // 4) % t == 0 and (bk * self.tn // 4) % t == 0
        assert per_iter in (1, 2) and not (split_k and per_iter != 1)

    def workgroup_bytes(self):
        return self.tm * self.sa * 8 + self.bk * self.sb * 8 + self.stage * 4


def epilogue(cfg):
    out = ["    let base = warp * 256u;", "    let st = 16u;"]
    for n, (i, j) in enumerate(cfg.acc):
        if n:
            out.append("    workgroupBarrier();")
        out.append(f"    coopStoreT(c{i}{j}, &stage[base], st);")
        out.append("    workgroupBarrier();")
        if cfg.split_k:
            out.append(f"    write_block(base, r0 + {16*i}u, c0 + {16*j}u, lane, prow);")
        else:
            out.append(f"    write_block(base, r0 + {16*i}u, c0 + {16*j}u, lane);")
    return "\n".join(out)


def write_block(cfg):
    if cfg.split_k:
        return """// Write one 16 x 16 accumulator (in `stage` at `base`) to this split's f32 partials: lane l
// writes row l / 2, columns (l % 2) * 8 .. + 8. Partial rows of split s start at s * m (`prow`).
fn write_block(base: u32, r0: u32, c0: u32, lane: u32, prow: u32) {
    let r = r0 + lane / 2u;
    let s = base + (lane / 2u) * 16u + (lane % 2u) * 8u;
    let col4 = c0 / 4u + (lane % 2u) * 2u;
    if (r < p.m) {
        let o = (prow + r) * p.n4;
        if (col4 < p.n4) {
            part[o + col4] = vec4<f32>(stage[s], stage[s + 1u], stage[s + 2u], stage[s + 3u]);
        }
        if (col4 + 1u < p.n4) {
            part[o + col4 + 1u] = vec4<f32>(stage[s + 4u], stage[s + 5u], stage[s + 6u], stage[s + 7u]);
        }
    }
}
"""
    body = """    if (r < p.m) {
        if (col4 < p.n4) {
            c[r * p.n4 + col4] = vec4<f16>(vec4<f32>(stage[s], stage[s + 1u], stage[s + 2u], stage[s + 3u]));
        }
        if (col4 + 1u < p.n4) {
            c[r * p.n4 + col4 + 1u] = vec4<f16>(vec4<f32>(stage[s + 4u], stage[s + 5u], stage[s + 6u], stage[s + 7u]));
        }
    }"""
    return f"""// Write one 16 x 16 accumulator (in `stage` at `base`) to C as f16: lane l writes row l / 2,
// columns (l % 2) * 8 .. + 8.
fn write_block(base: u32, r0: u32, c0: u32, lane: u32) {{
    let r = r0 + lane / 2u;
    let s = base + (lane / 2u) * 16u + (lane % 2u) * 8u;
    let col4 = c0 / 4u + (lane % 2u) * 2u;
{body}
}}
"""


def mma_chain(cfg, steps, load_a, load_b, cur=None, first=0, write_back=True):
    """`steps` K steps of 16, each loading fi A and fj B fragments, the accumulators chained
    through `let`s and written back to their `var`s once."""
    out = []
    if cur is None:
        cur = {ij: f"c{ij[0]}{ij[1]}" for ij in cfg.acc}
    for s in range(first, first + steps):
        for i in range(cfg.fi):
            out.append(f"        let a{i}_{s} = {load_a(i, s)};")
        for j in range(cfg.fj):
            out.append(f"        let b{j}_{s} = {load_b(j, s)};")
        for (i, j) in cfg.acc:
            name = f"x{i}{j}_{s}"
            out.append(f"        let {name} = coopMultiplyAdd(a{i}_{s}, b{j}_{s}, {cur[(i, j)]});")
            cur[(i, j)] = name
    if write_back:
        for (i, j) in cfg.acc:
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

PARAMS_SPLIT = """struct Params {
    m: u32,
    k: u32,
    k4: u32,
    n4: u32,
    // Tiles of C along m (grid y = split * m_tiles + m tile).
    m_tiles: u32,
    // K tiles per split: split s multiplies K tiles [s * tps, min((s + 1) * tps, tiles)).
    tps: u32,
}
"""


def describe(cfg, chain_note):
    if cfg.split_k:
        what = f"""// One workgroup of {cfg.threads} invocations ({cfg.wm * cfg.wn} subgroups of 32 in a {cfg.wm} x {cfg.wn} grid, each with {cfg.fi} x {cfg.fj}
// accumulators of 16 x 16) computes {cfg.tm} x {cfg.tn} of C over one slice of K (split-K): workgroup
// row wg.y is split wg.y / m_tiles of m tile wg.y % m_tiles; its f32 partial sums go to `part`
// (split s at rows s * m), and gemm_f16_splitk_reduce adds the splits into C as f16.
//"""
    else:
        what = f"""// One workgroup of {cfg.threads} invocations ({cfg.wm * cfg.wn} subgroups of 32 in a {cfg.wm} x {cfg.wn} grid, each with {cfg.fi} x {cfg.fj}
// accumulators of 16 x 16) computes {cfg.tm} x {cfg.tn} of C."""
    return f"""
// GEMM on cooperative matrices (tensor cores) through workgroup memory: f16 inputs and output,
// f32 accumulation, C[m, n] = A[m, k] x B[k, n] row-major, host layout as gemm_f16_tiled
// (rows padded with zeros to k4 * 4 and n4 * 4, every global load one vec4<f16>).
// Generated by scripts/gen_coop_gemm.py: edit that, not this.
// Needs an adapter listing 16 x 16 x 16 f16 -> f32 cooperative matrices and subgroups of 32
// (plan/gemm.rs checks both); verified against the reference like every kernel.
{what} K advances {cfg.bk} at a time through vec4<f16>
// workgroup tiles (rows padded by 8 halves against bank conflicts; cooperative loads from vec4
// pointers take strides in vec4 units); the next tile is read into registers while this one
// is multiplied. {chain_note} Rows past m, columns past n4 and k past k are
// staged as zeros: any shape is handled.
"""


def staged(cfg):
    """Single-buffered workgroup tiles of `bk` along K (vec4<f16> elements), register
    prefetch of the next tile, the K steps of a tile chained."""
    bk, tm, tn = cfg.bk, cfg.tm, cfg.tn
    steps = bk // 16
    nt = cfg.threads
    a_vec = tm * bk // 4 // nt    # vec4 of A per invocation
    b_vec = bk * tn // 4 // nt    # vec4 of B per invocation
    arow = bk // 4                # vec4 per A tile row
    brow = tn // 4                # vec4 per B tile row
    la = lambda i, s: f"coopLoadT<coop_mat16x16<f16, A>>(&sa[ia{i}_{s}], SA)"
    lb = lambda j, s: f"coopLoadT<coop_mat16x16<f16, B>>(&sb[ib{j}_{s}], SB)"

    def half(first):
        idx = []
        for s in range(first, first + steps):
            for i in range(cfg.fi):
                idx.append(f"        let ia{i}_{s} = (wm * {16*cfg.fi}u + {16*i}u) * SA + {4*(s - first)}u;")
            idx.append(f"        let ib0_{s} = {16*(s - first)}u * SB + wn * {4*cfg.fj}u;")
            for j in range(1, cfg.fj):
                idx.append(f"        let ib{j}_{s} = ib0_{s} + {4*j}u;")
        return "\n".join(idx)
    loads = []
    for q in range(a_vec):
        loads.append(f"""    {{
        let i = li + {q * nt}u;
        let ar = row0 + i / {arow}u;
        let ak = t * {arow}u + i % {arow}u;
        var v = vec4<f16>(0.0h);
        if (ar < p.m && ak < p.k4) {{
            v = a[ar * p.k4 + ak];
        }}
        ra[{q}] = v;
    }}""")
    for q in range(b_vec):
        loads.append(f"""    {{
        let i = li + {q * nt}u;
        let bk = t * {bk}u + i / {brow}u;
        let bc = col0 + i % {brow}u;
        var v = vec4<f16>(0.0h);
        if (bk < p.k && bc < p.n4) {{
            v = b[bk * p.n4 + bc];
        }}
        rb[{q}] = v;
    }}""")
    stores = []
    for q in range(a_vec):
        stores.append(f"    sa[((li + {q*nt}u) / {arow}u) * SA + (li + {q*nt}u) % {arow}u] = ra[{q}];")
    for q in range(b_vec):
        stores.append(f"    sb[((li + {q*nt}u) / {brow}u) * SB + (li + {q*nt}u) % {brow}u] = rb[{q}];")
    if cfg.per_iter == 1:
        body = half(0) + "\n" + mma_chain(cfg, steps, la, lb)
        if cfg.split_k:
            head = f"""    let tiles = (p.k + {bk - 1}u) / {bk}u;
    let t0 = split * p.tps;
    let t1 = min(t0 + p.tps, tiles);
    load_global(row0, col0, t0, li);
    store_shared(li);
    workgroupBarrier();
    for (var t = t0; t < t1; t++) {{
        let more = t + 1u < t1;"""
        else:
            head = f"""    let tiles = (p.k + {bk - 1}u) / {bk}u;
    load_global(row0, col0, 0u, li);
    store_shared(li);
    workgroupBarrier();
    for (var t = 0u; t < tiles; t++) {{
        let more = t + 1u < tiles;"""
        loop = f"""{head}
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
        cur = {ij: f"c{ij[0]}{ij[1]}" for ij in cfg.acc}
        first = mma_chain(cfg, steps, la, lb, cur=cur, first=0, write_back=False)
        second = mma_chain(cfg, steps, la, lb, cur=cur, first=steps, write_back=True)
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
    acc_decl = "\n".join(f"    var c{i}{j} = coop_mat16x16<f32, C>();" for (i, j) in cfg.acc)
    if cfg.split_k:
        bindings = """@group(0) @binding(0) var<storage, read> a: array<vec4<f16>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f16>>;
// f32 partial sums, split s at rows s * m: [splits * m, n4] vec4s.
@group(0) @binding(2) var<storage, read_write> part: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> p: Params;"""
        tile_ids = f"""    let split = wg.y / p.m_tiles;
    let prow = split * p.m;
    let row0 = (wg.y % p.m_tiles) * {tm}u;"""
    else:
        bindings = """@group(0) @binding(0) var<storage, read> a: array<vec4<f16>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f16>>;
@group(0) @binding(2) var<storage, read_write> c: array<vec4<f16>>;
@group(0) @binding(3) var<uniform> p: Params;"""
        tile_ids = f"    let row0 = wg.y * {tm}u;"
    wb = cfg.workgroup_bytes()
    mem_note = ""
    if (tm, tn, bk) != (128, 128, 64) or cfg.split_k:
        mem_note = f"// Workgroup memory: {tm * cfg.sa * 8} (A) + {bk * cfg.sb * 8} (B) + {cfg.stage * 4} (stage) = {wb} bytes.\n"
    return HEADER + describe(cfg, chain_note) + f"""
{PARAMS_SPLIT if cfg.split_k else PARAMS}
{bindings}

{mem_note}const SA: u32 = {cfg.sa}u;
const SB: u32 = {cfg.sb}u;
var<workgroup> sa: array<vec4<f16>, {tm * cfg.sa}>;
var<workgroup> sb: array<vec4<f16>, {bk * cfg.sb}>;
// One 16 x 16 f32 block per subgroup, for the epilogue.
var<workgroup> stage: array<f32, {cfg.stage}>;

var<private> ra: array<vec4<f16>, {a_vec}>;
var<private> rb: array<vec4<f16>, {b_vec}>;

fn load_global(row0: u32, col0: u32, t: u32, li: u32) {{
{chr(10).join(loads)}
}}

fn store_shared(li: u32) {{
{chr(10).join(stores)}
}}

{write_block(cfg)}
@compute @workgroup_size({nt})
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {{
{tile_ids}
    let col0 = wg.x * {tn // 4}u; // vec4 units
    let warp = li / 32u;
    let lane = li % 32u;
    let wm = warp / {cfg.wn}u;
    let wn = warp % {cfg.wn}u;
    let r0 = row0 + wm * {16 * cfg.fi}u;
    let c0 = wg.x * {tn}u + wn * {16 * cfg.fj}u;
{acc_decl}

{loop}

{epilogue(cfg)}
}}
"""


REDUCE = """enable f16;

// Split-K GEMM, pass 2 of 2: C = sum over splits of the f32 partials written by
// gemm_f16_coop_k64_splitk, added in f32 in split order and stored as f16.
// Generated by scripts/gen_coop_gemm.py: edit that, not this.
// One invocation per vec4 of C (count = m * n4), on a 2-D grid of workgroups of 256.

struct Params {
    // vec4s of C, and the distance between two splits' partials.
    count: u32,
    splits: u32,
}

@group(0) @binding(0) var<storage, read> part: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> c: array<vec4<f16>>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let i = (wg.y * nwg.x + wg.x) * 256u + li;
    if (i >= p.count) {
        return;
    }
    var s = part[i];
    for (var q = 1u; q < p.splits; q++) {
        s += part[q * p.count + i];
    }
    c[i] = vec4<f16>(s);
}
"""

VARIANTS = {
    "gemm_f16_coop_k64": Cfg(4, 2, 64),
    "gemm_f16_coop_k64x2": Cfg(4, 2, 64, per_iter=2),
    "gemm_f16_coop_w64": Cfg(4, 4, 32, per_iter=2),
    "gemm_f16_coop_k32x2": Cfg(4, 2, 32, per_iter=2),
    "gemm_f16_coop_k64_splitk": Cfg(4, 2, 64, split_k=True),
    "gemm_f16_coop_t128": Cfg(4, 4, 32, per_iter=2, wm=2, wn=2),
    "gemm_f16_coop_t128_splitk": Cfg(4, 4, 32, split_k=True, wm=2, wn=2),
}

GENERATED = "// Generated by scripts/gen_coop_gemm.py: do not edit by hand; change the generator and rerun it.\n"

if __name__ == "__main__":
    out = sys.argv[1]
    for name, cfg in VARIANTS.items():
        wb = cfg.workgroup_bytes()
        assert wb <= 48 * 1024, (name, wb)
        open(f"{out}/{name}.wgsl", "w").write(GENERATED + staged(cfg))
        print(f"{name}: {cfg.tm} x {cfg.tn} of C per workgroup, BK {cfg.bk}, {wb} bytes of workgroup memory")
    open(f"{out}/gemm_f16_splitk_reduce.wgsl", "w").write(GENERATED + REDUCE)
