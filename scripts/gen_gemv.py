#!/usr/bin/env python3
"""Writes the GEMV family of WGSL kernels, 12 files in kernels/:

    gemv_{f32,f16}_{subgroup,shared}.wgsl               y = W x (+ residual)
    gemv_norm_{f32,f16}_{subgroup,shared}.wgsl          y = W (RMSNorm(x) * g)
    gemv_gate_up_silu_{f32,f16}_{subgroup,shared}.wgsl  act = silu(W_gate hn) * (W_up hn)

WGSL has no templates or includes, and these kernels are one algorithm (one workgroup of 256
invocations per output row, a strided vec4 loop over the row, a reduction, an epilogue on
invocation 0) in three choices: the storage type (f32, or f16 with f32 arithmetic inside), the
reduction (subgroupAdd plus one slot per subgroup, or a tree in workgroup memory for adapters
without subgroups) and the variant (plain GEMV with an optional residual; RMSNorm prologue;
RMSNorm + gate and up GEMVs + SiLU). Copied by hand they drifted apart in comments only, and
every fix had to be made 4 or 12 times; here each piece is written once. Bindings, the Params
layouts, entry point, workgroup size and arithmetic are those the Rust side
(src/backend/gpu/) binds and dispatches: change them there too.

The output is deterministic; tests/gpu.rs runs this script (where python3 is found) and
checks that the files in kernels/ are byte for byte what it writes.

Usage: python3 scripts/gen_gemv.py kernels
"""
from wgslgen import comment, generated, main

GENERATED = generated("gen_gemv.py")
WG = 256
# The smallest subgroup size supported: one workgroup-memory slot per subgroup.
MIN_SUBGROUP = 4




class Dtype:
    def __init__(self, name):
        self.name = name
        self.t = name  # WGSL storage type

    def load4(self, e):
        """A vec4 of storage as vec4<f32>."""
        return e if self.name == "f32" else f"vec4<f32>({e})"

    def load1(self, e):
        return e if self.name == "f32" else f"f32({e})"

    def store(self, e):
        return e if self.name == "f32" else f"f16({e})"

    def enable(self):
        return "enable f16;\n\n" if self.name == "f16" else ""


class Variant:
    """One kernel of the family.

    f16_storage: what is f16 in the f16 kernel, for its first line; summary: the first lines
    of its comment, given the storage; layout: comment paragraphs after them; epilogue: the
    lines for invocation 0, given `total` and the dtype. mats: the weight matrices (each row
    k4 vec4s), in binding order; vec: the vector they multiply; out: the output; norm: RMSNorm
    the vector with gain g first (the sum of squares is one more accumulator component,
    computed in the same loop); residual: the plain GEMV's optional residual; acc_note: what
    the accumulator components are.
    """

    def __init__(
        self,
        name,
        f16_storage,
        summary,
        layout,
        epilogue,
        mats=("w",),
        vec="x",
        out="y",
        norm=False,
        residual=False,
        acc_note=None,
    ):
        self.name = name
        self.f16_storage = f16_storage
        self.summary = summary
        self.layout = layout
        self.epilogue = epilogue
        self.mats = mats
        self.vec = vec
        self.out = out
        self.norm = norm
        self.residual = residual
        self.acc_note = acc_note
        self.width = len(mats) + (1 if norm else 0)

    def acc_type(self):
        return "f32" if self.width == 1 else f"vec{self.width}<f32>"

    def zero(self):
        return "0.0" if self.width == 1 else f"{self.acc_type()}(0.0)"


def plain_epilogue(d):
    return [
        "if (p.residual != 0u) {",
        f"    total += {d.load1('res[row]')};",
        "}",
        f"y[row] = {d.store('total')};",
    ]


def norm_epilogue(d):
    return [
        "let inv_rms = inverseSqrt(total.y / f32(p.cols) + p.eps);",
        f"y[row] = {d.store('total.x * inv_rms')};",
    ]


def gate_up_silu_epilogue(d):
    return [
        "let inv_rms = inverseSqrt(total.z / f32(p.cols) + p.eps);",
        "let gate = total.x * inv_rms;",
        "let up = total.y * inv_rms;",
        f"act[row] = {d.store('gate / (1.0 + exp(-gate)) * up')};",
    ]


ROWS_2D = (
    "One workgroup of 256 invocations per output row{what}; workgroups are laid out in 2-D so "
    "that more than 65535 rows fit."
)

VARIANTS = [
    Variant(
        name="gemv",
        residual=True,
        f16_storage="W, x, residual and y",
        summary=lambda dt: (
            f"GEMV, {dt}:",
            "  y[n] = W[n, k] . x[k] (+ residual[n] when p.residual != 0),  W row-major.",
        ),
        layout=[
            None,
            "Host layout: rows of W and the vector x are padded to k4 * 4 entries (zero-filled) so "
            "loads are vec4. " + ROWS_2D.format(what="") + " Each invocation sums a strided slice "
            "of the row."
        ],
        epilogue=plain_epilogue,
    ),
    Variant(
        name="gemv_norm",
        norm=True,
        f16_storage="W, x, gain and y",
        summary=lambda dt: (
            f"Fused decode GEMV with the RMSNorm in front, {dt}:",
            "  y[n] = W[n, k] . (x / sqrt(mean(x^2) + eps) * g),  W row-major.",
        ),
        layout=[
            "Replaces rmsnorm + GEMV in the fused decode layer (plan/decode.rs). Every workgroup "
            "computes the sum of squares of x itself, in the same loop as its row's dot product "
            "(x is a few thousand entries, read from L2 by every workgroup as the plain GEMV "
            "does), so the normalised vector is never stored: y = inv_rms * sum_j W[r, j] * x[j] "
            "* g[j].",
            None,
            "Host layout: rows of W, x and g are padded to k4 * 4 entries (zero-filled) so loads "
            "are vec4. " + ROWS_2D.format(what=""),
        ],
        acc_note="(dot product with x * g, sum of squares of x)",
        epilogue=norm_epilogue,
    ),
    Variant(
        name="gemv_gate_up_silu",
        mats=("w_gate", "w_up"),
        vec="h",
        out="act",
        norm=True,
        f16_storage="weights, h, gain and act",
        summary=lambda dt: (
            f"Fused decode MLP front, {dt}:",
            "  hn = h / sqrt(mean(h^2) + eps) * g",
            "  act[n] = silu(W_gate[n, k] . hn) * (W_up[n, k] . hn),  silu(v) = v / (1 + e^-v)",
        ),
        layout=[
            "Replaces rmsnorm + GEMV(gate) + GEMV(up) + silu_mul in the fused decode layer "
            "(plan/decode.rs). Every workgroup computes the sum of squares of h itself, in the "
            "same loop as its two dot products, so neither hn nor the gate and up vectors are "
            "stored.",
            None,
            "Host layout: rows of W_gate and W_up, h and g are padded to k4 * 4 entries "
            "(zero-filled) so loads are vec4; W_gate and W_up are two ranges of the layer's "
            "weight buffer. " + ROWS_2D.format(what=" (a row of each matrix)"),
        ],
        acc_note=(
            "(gate dot product, up dot product, sum of squares of h), the first two with h * g"
        ),
        epilogue=gate_up_silu_epilogue,
    ),
]

REDUCTION_NOTE = {
    "subgroup": "The partial sums are reduced with subgroupAdd and the per-subgroup totals "
    "combined in workgroup memory; nothing here assumes a subgroup size (any from "
    f"{MIN_SUBGROUP} to {WG} works).",
    "shared": "Fallback for adapters without subgroup operations: the partial sums are reduced "
    "by a tree in workgroup memory.",
}


def params(v):
    if v.norm:
        return f"""struct Params {{
    n: u32,
    k4: u32,
    // Unpadded length of {v.vec} (the RMS is over these entries; the padding is zero).
    cols: u32,
    eps: f32,
}}"""
    return """struct Params {
    n: u32,
    k4: u32,
    residual: u32,
    _pad: u32,
}"""


def bindings(v, d):
    vec4 = f"array<vec4<{d.t}>>"
    b = [(m, "read", vec4) for m in v.mats]
    b.append((v.vec, "read", vec4))
    if v.norm:
        b.append(("g", "read", vec4))
    if v.residual:
        b.append(("res", "read", f"array<{d.t}>"))
    b.append((v.out, "read_write", f"array<{d.t}>"))
    out = [
        f"@group(0) @binding({i}) var<storage, {access}> {name}: {ty};"
        for i, (name, access, ty) in enumerate(b)
    ]
    out.append(f"@group(0) @binding({len(b)}) var<uniform> p: Params;")
    return "\n".join(out)


def workgroup_memory(v, reduction):
    if reduction == "subgroup":
        return (
            f"// One slot per subgroup: at most {WG} / {MIN_SUBGROUP} subgroups.\n"
            f"var<workgroup> sg_sums: array<{v.acc_type()}, {WG // MIN_SUBGROUP}>;"
        )
    return f"var<workgroup> sums: array<{v.acc_type()}, {WG}>;"


def builtins(reduction):
    b = [
        "@builtin(workgroup_id) wg: vec3<u32>",
        "@builtin(num_workgroups) nwg: vec3<u32>",
        "@builtin(local_invocation_index) li: u32",
    ]
    if reduction == "subgroup":
        b += [
            "@builtin(subgroup_invocation_id) sg_lane: u32",
            "@builtin(subgroup_id) sg_id: u32",
            "@builtin(num_subgroups) sg_count: u32",
        ]
    return "\n".join(f"    {x}," for x in b)


def loop_body(v, d):
    """The strided loop's body: adds this vec4 of the row to the accumulator `s`."""
    if not v.norm:
        (m,) = v.mats
        return [f"s += dot({d.load4(f'{m}[base + j]')}, {d.load4(f'{v.vec}[j]')});"]
    xv, xg = f"{v.vec}v", f"{v.vec}g"
    out = [
        f"let {xv} = {d.load4(f'{v.vec}[j]')};",
        f"let {xg} = {xv} * {d.load4('g[j]')};",
    ]
    dots = []
    if len(v.mats) == 1:
        dots.append(f"dot({d.load4(f'{v.mats[0]}[base + j]')}, {xg})")
    else:
        for m in v.mats:
            # w_gate -> wg_j, w_up -> wu_j
            local = f"w{m.split('_')[1][0]}_j"
            out.append(f"let {local} = {d.load4(f'{m}[base + j]')};")
            dots.append(f"dot({local}, {xg})")
    dots.append(f"dot({xv}, {xv})")
    out.append(f"s += {v.acc_type()}({', '.join(dots)});")
    return out


def reduce(v, reduction):
    """From the per-invocation sums `s` to `total` on invocation 0 of rows < n: the lines before
    that invocation's branch, and the first lines inside it."""
    if reduction == "subgroup":
        before = [
            "let t = subgroupAdd(s);",
            "if (sg_lane == 0u) {",
            "    sg_sums[sg_id] = t;",
            "}",
            "workgroupBarrier();",
        ]
        inside = [
            f"var total = {v.zero()};",
            "for (var i = 0u; i < sg_count; i++) {",
            "    total += sg_sums[i];",
            "}",
        ]
    else:
        before = [
            "sums[li] = s;",
            "workgroupBarrier();",
            "for (var off = WG / 2u; off > 0u; off = off / 2u) {",
            "    if (li < off) {",
            "        sums[li] += sums[li + off];",
            "    }",
            "    workgroupBarrier();",
            "}",
        ]
        # The plain GEMV adds the residual to it.
        inside = [f"{'var' if v.residual else 'let'} total = sums[0];"]
    return before, inside


def indent(lines, n):
    return "\n".join(" " * n + line if line else "" for line in lines)


def kernel(v, d, reduction):
    dt = d.name if d.name == "f32" else f"f16 storage ({v.f16_storage}), f32 arithmetic"
    head = comment(v.summary(dt), *v.layout, REDUCTION_NOTE[reduction])
    acc_note = [f"// {v.acc_note}"] if v.acc_note else []
    before, inside = reduce(v, reduction)
    body = (
        [
            "let row = wg.y * nwg.x + wg.x;",
            "// Rows past n (2-D grid overhang) still take part in the barrier, on a clamped row.",
            "let r = min(row, p.n - 1u);",
            "let base = r * p.k4;",
        ]
        + acc_note
        + [f"var s = {v.zero()};", "for (var j = li; j < p.k4; j += WG) {"]
        + ["    " + line for line in loop_body(v, d)]
        + ["}"]
        + before
        + ["if (li == 0u && row < p.n) {"]
        + ["    " + line for line in inside + v.epilogue(d)]
        + ["}"]
    )
    return f"""{GENERATED}

{d.enable()}{head}

{params(v)}

{bindings(v, d)}

const WG: u32 = {WG}u;
{workgroup_memory(v, reduction)}

@compute @workgroup_size({WG})
fn main(
{builtins(reduction)}
) {{
{indent(body, 4)}
}}
"""


def kernels():
    """{file name: text} for the whole family, in a fixed order."""
    out = {}
    for v in VARIANTS:
        for d in (Dtype("f32"), Dtype("f16")):
            for reduction in ("subgroup", "shared"):
                out[f"{v.name}_{d.name}_{reduction}.wgsl"] = kernel(v, d, reduction)
    return out


if __name__ == "__main__":
    main(__doc__, kernels)
