#!/usr/bin/env python3
"""Writes the f32/f16 pairs of WGSL kernels, 14 files in kernels/:

    softmax_{f32,f16}.wgsl                              row softmax
    rmsnorm_{f32,f16}.wgsl                              row RMSNorm
    attention_decode_split{,_f16}.wgsl                  decode attention, pass 1 (split-K)
    attention_decode_reduce{,_f16}.wgsl                 decode attention, pass 2 (combine)
    kv_append{,_f16}.wgsl                               new token's K and V into the caches
    silu_mul{,_f16}.wgsl                                gated MLP activation
    argmax_{f32,f16}.wgsl                               the chosen token

WGSL has no templates or includes, and each pair is one kernel in two storage types: f32, or
f16 with f32 arithmetic inside (loads widened to f32, stores narrowed to f16). Copied by hand
they drifted apart in comments only, and every fix had to be made twice; here each kernel is
written once, parameterised by the storage type. What stays f32 in the f16 kernel says so where
it is written: the attention partials (part_o, part_ml), and argmax's output, which holds a
token index (so the f16 argmax reads its logits from one buffer and writes them, widened, and
the index to an f32 one, where the f32 argmax writes the index after the logits in place).
Bindings, the Params layouts, entry points, workgroup sizes and arithmetic are those the Rust
side (src/backend/gpu/) binds and dispatches: change them there too.

Not here: the GEMV family (scripts/gen_gemv.py), the GEMMs (gen_coop_gemm.py and by hand) and
attention_decode_split_f16_gqa.wgsl, which is f16 only.

The output is deterministic; tests/gpu.rs runs this script (where python3 is found) and
checks that the files in kernels/ are byte for byte what it writes.

Usage: python3 scripts/gen_pairs.py kernels
"""
from wgslgen import comment, generated, main, nb

GENERATED = generated("gen_pairs.py")






class Dtype:
    """The storage type of a kernel: f32, or f16 with f32 arithmetic."""

    def __init__(self, name):
        self.name = name
        self.t = name  # WGSL storage type
        self.f16 = name == "f16"

    def load(self, e):
        """A storage scalar as f32."""
        return f"f32({e})" if self.f16 else e

    def store(self, e):
        """An f32 as a storage scalar."""
        return f"f16({e})" if self.f16 else e

    def enable(self):
        return "enable f16;\n\n" if self.f16 else ""

    def file(self, stem, f32_suffix):
        """`stem` with this type's suffix: `_f16`, and for f32 `_f32` or nothing."""
        return f"{stem}_f16" if self.f16 else f"{stem}{'_f32' if f32_suffix else ''}"


def binding(i, name, access, ty):
    return f"@group(0) @binding({i}) var<storage, {access}> {name}: {ty};"


def shader(d, head, body):
    return f"{GENERATED}\n\n{d.enable()}{head}\n\n{body}"


def softmax(d):
    what = "f16 storage with f32 arithmetic" if d.f16 else "f32"
    f16_note = (
        " The row maximum, the exponentials and their sum are f32; only the loads and the stored "
        "result are f16."
        if d.f16
        else ""
    )
    head = comment(
        f"Softmax over each row of X[rows, cols], {what}, numerically stable (the row maximum is "
        f"subtracted before exp).{f16_note} One workgroup of 256 invocations per row, in a 2-D "
        "grid of workgroups; the max and the sum are tree reductions in workgroup memory."
    )
    x = d.load("x[base + j]")
    return shader(
        d,
        head,
        f"""struct Params {{
    rows: u32,
    cols: u32,
}}

{binding(0, "x", "read", f"array<{d.t}>")}
{binding(1, "y", "read_write", f"array<{d.t}>")}
@group(0) @binding(2) var<uniform> p: Params;

const WG: u32 = 256u;
var<workgroup> red: array<f32, 256>;

fn reduce_max(li: u32, v: f32) -> f32 {{
    red[li] = v;
    workgroupBarrier();
    for (var off = WG / 2u; off > 0u; off = off / 2u) {{
        if (li < off) {{
            red[li] = max(red[li], red[li + off]);
        }}
        workgroupBarrier();
    }}
    let r = red[0];
    workgroupBarrier();
    return r;
}}

fn reduce_sum(li: u32, v: f32) -> f32 {{
    red[li] = v;
    workgroupBarrier();
    for (var off = WG / 2u; off > 0u; off = off / 2u) {{
        if (li < off) {{
            red[li] += red[li + off];
        }}
        workgroupBarrier();
    }}
    let r = red[0];
    workgroupBarrier();
    return r;
}}

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {{
    let row = wg.y * nwg.x + wg.x;
    let base = min(row, p.rows - 1u) * p.cols;
    var m = -3.0e38;
    for (var j = li; j < p.cols; j += WG) {{
        m = max(m, {x});
    }}
    let row_max = reduce_max(li, m);
    var s = 0.0;
    for (var j = li; j < p.cols; j += WG) {{
        s += exp({x} - row_max);
    }}
    let inv = 1.0 / reduce_sum(li, s);
    if (row < p.rows) {{
        for (var j = li; j < p.cols; j += WG) {{
            y[base + j] = {d.store(f"exp({x} - row_max) * inv")};
        }}
    }}
}}
""",
    )


def rmsnorm(d):
    what = (
        "f16 storage (x, gain g and y), f32 arithmetic (the sum of squares accumulated in f32)"
        if d.f16
        else "f32"
    )
    head = comment(
        f"RMSNorm over each row of X[rows, cols], {what}: "
        f"{nb('y = x / sqrt(mean(x^2) + eps) * g')}. One workgroup of 256 invocations per row, in "
        "a 2-D grid of workgroups; the sum of squares is a tree reduction in workgroup memory."
    )
    return shader(
        d,
        head,
        f"""struct Params {{
    rows: u32,
    cols: u32,
    eps: f32,
    _pad: u32,
}}

{binding(0, "x", "read", f"array<{d.t}>")}
{binding(1, "g", "read", f"array<{d.t}>")}
{binding(2, "y", "read_write", f"array<{d.t}>")}
@group(0) @binding(3) var<uniform> p: Params;

const WG: u32 = 256u;
var<workgroup> red: array<f32, 256>;

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {{
    let row = wg.y * nwg.x + wg.x;
    let base = min(row, p.rows - 1u) * p.cols;
    var s = 0.0;
    for (var j = li; j < p.cols; j += WG) {{
        let v = {d.load("x[base + j]")};
        s += v * v;
    }}
    red[li] = s;
    workgroupBarrier();
    for (var off = WG / 2u; off > 0u; off = off / 2u) {{
        if (li < off) {{
            red[li] += red[li + off];
        }}
        workgroupBarrier();
    }}
    let inv_rms = inverseSqrt(red[0] / f32(p.cols) + p.eps);
    if (row < p.rows) {{
        for (var j = li; j < p.cols; j += WG) {{
            y[base + j] = {d.store(f"{d.load('x[base + j]')} * inv_rms * {d.load('g[j]')}")};
        }}
    }}
}}
""",
    )


# The Params of both attention passes (one uniform buffer layout on the Rust side).
ATTENTION_PARAMS = """struct Params {
    context: u32,
    q_heads: u32,
    group: u32,
    head_dim: u32,
    splits: u32,
    scale: f32,
    _pad0: u32,
    _pad1: u32,
}"""


def attention_decode_split(d):
    reduce = d.file("attention_decode_reduce", False)
    what = (
        "f16 query and KV cache, f32 arithmetic: the scores, max, sum of exponentials and the "
        "partial outputs are f32 (the partials are f32 buffers)"
        if d.f16
        else "f32"
    )
    head = comment(
        f"Decode attention, pass 1 of 2 (split-K over the KV cache), {what}.",
        None,
        "q[q_heads, head_dim]; K and V caches [kv_heads, context, head_dim]; query head h reads "
        f"KV head {nb('h / group')}. Workgroup (split, h) handles the 64 cache positions of its "
        f"split: scores {nb('s_t = q . K_t * scale')}, a local max m and sum "
        f"{nb('l = sum exp(s_t - m)')}, and the unnormalised partial output "
        f"{nb('o = sum exp(s_t - m) V_t')}. Pass 2 ({reduce}.wgsl) rescales and combines the "
        "splits. head_dim is at most 256.",
    )
    return shader(
        d,
        head,
        f"""{ATTENTION_PARAMS}

{binding(0, "q", "read", f"array<{d.t}>")}
{binding(1, "k", "read", f"array<{d.t}>")}
{binding(2, "v", "read", f"array<{d.t}>")}
// [q_heads, splits, head_dim]
@group(0) @binding(3) var<storage, read_write> part_o: array<f32>;
// [q_heads, splits]: (max, sum of exp)
@group(0) @binding(4) var<storage, read_write> part_ml: array<vec2<f32>>;
@group(0) @binding(5) var<uniform> p: Params;

const CHUNK: u32 = 64u;
var<workgroup> q_s: array<f32, 256>;
var<workgroup> probs: array<f32, 64>;
var<workgroup> red: array<f32, 64>;

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {{
    let split = wg.x;
    let h = wg.y;
    let kvh = h / p.group;
    let hd = p.head_dim;
    for (var d = li; d < hd; d += CHUNK) {{
        q_s[d] = {d.load("q[h * hd + d]")};
    }}
    workgroupBarrier();

    let first = split * CHUNK;
    let pos = first + li;
    let valid = pos < p.context;
    var s = -3.0e38;
    if (valid) {{
        let kb = (kvh * p.context + pos) * hd;
        var acc = 0.0;
        for (var d = 0u; d < hd; d++) {{
            acc += q_s[d] * {d.load("k[kb + d]")};
        }}
        s = acc * p.scale;
    }}

    red[li] = s;
    workgroupBarrier();
    for (var off = CHUNK / 2u; off > 0u; off = off / 2u) {{
        if (li < off) {{
            red[li] = max(red[li], red[li + off]);
        }}
        workgroupBarrier();
    }}
    let m = red[0];
    workgroupBarrier();

    let e = select(0.0, exp(s - m), valid);
    probs[li] = e;
    red[li] = e;
    workgroupBarrier();
    for (var off = CHUNK / 2u; off > 0u; off = off / 2u) {{
        if (li < off) {{
            red[li] += red[li + off];
        }}
        workgroupBarrier();
    }}
    let l = red[0];

    let count = min(CHUNK, p.context - first);
    let vb = (kvh * p.context + first) * hd;
    let ob = (h * p.splits + split) * hd;
    for (var d = li; d < hd; d += CHUNK) {{
        var acc = 0.0;
        for (var t = 0u; t < count; t++) {{
            acc += probs[t] * {d.load("v[vb + t * hd + d]")};
        }}
        part_o[ob + d] = acc;
    }}
    if (li == 0u) {{
        part_ml[h * p.splits + split] = vec2<f32>(m, l);
    }}
}}
""",
    )


def attention_decode_reduce(d):
    split = d.file("attention_decode_split", False)
    what = (
        f", f16 output: combine the f32 partials of {split}.wgsl in f32 and store the result as f16"
        if d.f16
        else f": combine the splits of {split}.wgsl"
    )
    head = comment(
        f"Decode attention, pass 2 of 2{what}.",
        (
            "With M = max over splits of m_s and L = sum l_s exp(m_s - M),",
            "out[h, d] = sum_s exp(m_s - M) o_s[d] / L. One workgroup of 64 invocations per query"
            " head.",
        ),
    )
    return shader(
        d,
        head,
        f"""{ATTENTION_PARAMS}

@group(0) @binding(0) var<storage, read> part_o: array<f32>;
@group(0) @binding(1) var<storage, read> part_ml: array<vec2<f32>>;
{binding(2, "out", "read_write", f"array<{d.t}>")}
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {{
    let h = wg.x;
    let hd = p.head_dim;
    let mb = h * p.splits;
    var big_m = -3.0e38;
    for (var s = 0u; s < p.splits; s++) {{
        big_m = max(big_m, part_ml[mb + s].x);
    }}
    var big_l = 0.0;
    for (var s = 0u; s < p.splits; s++) {{
        let ml = part_ml[mb + s];
        big_l += ml.y * exp(ml.x - big_m);
    }}
    let inv_l = 1.0 / big_l;
    for (var d = li; d < hd; d += 64u) {{
        var acc = 0.0;
        for (var s = 0u; s < p.splits; s++) {{
            acc += part_o[(mb + s) * hd + d] * exp(part_ml[mb + s].x - big_m);
        }}
        out[h * hd + d] = {d.store("acc * inv_l")};
    }}
}}
""",
    )


def kv_append(d):
    what = " in f16 (f16 QKV output and caches)" if d.f16 else ""
    head = comment(
        f"Decode step{what}: copy the new token's K and V (from the fused QKV projection output, "
        f"laid out {nb('[q | k | v]')}) into the caches at position context - 1. Caches are "
        f"{nb('[kv_heads, context, head_dim]')}."
    )
    return shader(
        d,
        head,
        f"""struct Params {{
    q_heads: u32,
    kv_heads: u32,
    head_dim: u32,
    context: u32,
}}

{binding(0, "qkv", "read", f"array<{d.t}>")}
{binding(1, "k_cache", "read_write", f"array<{d.t}>")}
{binding(2, "v_cache", "read_write", f"array<{d.t}>")}
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {{
    let i = gid.x;
    let width = p.kv_heads * p.head_dim;
    if (i >= width) {{
        return;
    }}
    let head = i / p.head_dim;
    let d = i % p.head_dim;
    let dst = (head * p.context + p.context - 1u) * p.head_dim + d;
    k_cache[dst] = qkv[p.q_heads * p.head_dim + i];
    v_cache[dst] = qkv[p.q_heads * p.head_dim + width + i];
}}
""",
    )


def silu_mul(d):
    what = " in f16" if d.f16 else ""
    how = " Computed in f32 from f16 inputs and stored as f16." if d.f16 else ""
    head = comment(
        f"Decode step{what}, gated MLP activation: {nb('act[i] = silu(gate[i]) * up[i]')}, "
        f"{nb('silu(x) = x / (1 + e^-x)')}.{how}"
    )
    return shader(
        d,
        head,
        f"""struct Params {{
    n: u32,
    _pad: u32,
}}

{binding(0, "gate", "read", f"array<{d.t}>")}
{binding(1, "up", "read", f"array<{d.t}>")}
{binding(2, "act", "read_write", f"array<{d.t}>")}
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {{
    let i = (wg.y * nwg.x + wg.x) * 256u + li;
    if (i < p.n) {{
        let g = {d.load("gate[i]")};
        act[i] = {d.store(f"g / (1.0 + exp(-g)) * {d.load('up[i]')}")};
    }}
}}
""",
    )


def argmax(d):
    # The index is written as an f32 (exact up to 2^24), which an f16 cannot hold above 2048:
    # the f16 kernel writes the logits, widened, and the index to a separate f32 buffer; the
    # f32 kernel writes the index after the logits, in place.
    if d.f16:
        head = comment(
            "Whole-model decode in f16: the chosen token. One workgroup scans the f16 "
            "logits[0..n), writes them widened to f32 into out[0..n) and the index of the first "
            "largest value, as f32, to out[n] (an f16 cannot hold a token index above 2048 "
            "exactly)."
        )
        bindings = "\n".join(
            [
                binding(0, "logits", "read", "array<f16>"),
                binding(1, "out", "read_write", "array<f32>"),
                "@group(0) @binding(2) var<uniform> p: Params;",
            ]
        )
        out, widen = "out", "\n        out[i] = x;"
    else:
        head = comment(
            "Whole-model decode: the chosen token. One workgroup scans logits[0..n) and writes the "
            "index of the first largest value, as f32, to logits[n]."
        )
        bindings = "\n".join(
            [
                binding(0, "logits", "read_write", "array<f32>"),
                "@group(0) @binding(1) var<uniform> p: Params;",
            ]
        )
        out, widen = "logits", ""
    return shader(
        d,
        head,
        f"""struct Params {{
    n: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}}

{bindings}

var<workgroup> best_v: array<f32, 256>;
var<workgroup> best_i: array<u32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) li: u32) {{
    var v = -3.4028235e38;
    var idx = 0xffffffffu;
    for (var i = li; i < p.n; i = i + 256u) {{
        let x = {d.load("logits[i]")};{widen}
        if (x > v || idx == 0xffffffffu) {{
            v = x;
            idx = i;
        }}
    }}
    best_v[li] = v;
    best_i[li] = idx;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s = s >> 1u) {{
        if (li < s) {{
            let ov = best_v[li + s];
            let oi = best_i[li + s];
            if (oi != 0xffffffffu && (best_i[li] == 0xffffffffu || ov > best_v[li] || (ov == best_v[li] && oi < best_i[li]))) {{
                best_v[li] = ov;
                best_i[li] = oi;
            }}
        }}
        workgroupBarrier();
    }}
    if (li == 0u) {{
        {out}[p.n] = f32(best_i[0]);
    }}
}}
""",
    )


# (file stem, whether the f32 file is named `_f32` rather than the bare stem, writer)
PAIRS = [
    ("softmax", True, softmax),
    ("rmsnorm", True, rmsnorm),
    ("attention_decode_split", False, attention_decode_split),
    ("attention_decode_reduce", False, attention_decode_reduce),
    ("kv_append", False, kv_append),
    ("silu_mul", False, silu_mul),
    ("argmax", True, argmax),
]


def kernels():
    """{file name: text} for every pair, in a fixed order."""
    out = {}
    for stem, f32_suffix, write in PAIRS:
        for d in (Dtype("f32"), Dtype("f16")):
            out[f"{d.file(stem, f32_suffix)}.wgsl"] = write(d)
    return out


if __name__ == "__main__":
    main(__doc__, kernels)
