//! Test-only: the gemm_f16_coop_* kernels with their cooperative-matrix operations replaced by
//! plain WGSL, so that their indexing (global loads and bounds zero-fill, workgroup tiles,
//! fragment offsets, split-K slices, epilogue) can be checked against the reference on an
//! adapter without cooperative matrices (lavapipe). It says nothing about speed, nor about how
//! a driver lays fragments out (the H200 verified that for k64).
//!
//! As on the hardware, an accumulator is spread over the 32 invocations of a subgroup: here
//! lane `li % 32` holds row lane / 2, columns (lane % 2) * 8 .. + 8 of it (whatever the
//! adapter's real subgroup size: the kernels only group invocations by `li / 32`). A loaded A or
//! B fragment is its offset and stride into the workgroup tile, read when it is multiplied: the
//! generated kernels multiply every fragment in the straight-line block that loads it, with no
//! workgroup-memory write between.
//!
//! The translation is textual and relies on the forms scripts/gen_coop_gemm.py writes:
//! `coopLoadT<coop_mat16x16<f16, A>>(&sa[X], SA)`, the same for B from `sb` with `SB`,
//! `coopMultiplyAdd(a, b, c)`, `coopStoreT(c, &stage[base], st)`, `coop_mat16x16<f32, C>()`
//! and `let lane = li % 32u;`; [`emulate_coop`] fails if any is missing or anything
//! cooperative is left over.

use anyhow::{Result, bail};

/// Row-major 16 x 16 fragments of the vec4<f16> workgroup tiles (stride in vec4s, as the
/// cooperative loads from vec4 pointers take it), a 16 x 16 x 16 multiply-add in f32, and a
/// row-major store to the f32 staging block.
const PRELUDE: &str = r#"
// --- emulated cooperative-matrix operations (accelbench tests only) ---
struct EmuA {
    off: u32,
    stride: u32,
}

struct EmuB {
    off: u32,
    stride: u32,
}

// This invocation's lane in its group of 32 (set at the top of main).
var<private> emu_lane: u32;

// This lane's 8 elements of d = a x b + c: row lane / 2, columns (lane % 2) * 8 .. + 8.
fn emu_mma(a: EmuA, b: EmuB, c: array<f32, 8>) -> array<f32, 8> {
    var d = c;
    let r = emu_lane / 2u;
    let c4 = (emu_lane % 2u) * 2u;
    for (var q = 0u; q < 4u; q++) {
        let av = sa[a.off + r * a.stride + q];
        for (var e = 0u; e < 4u; e++) {
            let x = f32(av[e]);
            let kk = q * 4u + e;
            let b0 = vec4<f32>(sb[b.off + kk * b.stride + c4]);
            let b1 = vec4<f32>(sb[b.off + kk * b.stride + c4 + 1u]);
            d[0] += x * b0.x;
            d[1] += x * b0.y;
            d[2] += x * b0.z;
            d[3] += x * b0.w;
            d[4] += x * b1.x;
            d[5] += x * b1.y;
            d[6] += x * b1.z;
            d[7] += x * b1.w;
        }
    }
    return d;
}

fn emu_store_stage(c: array<f32, 8>, base: u32, stride: u32) {
    var cc = c;
    let r = emu_lane / 2u;
    let c0 = (emu_lane % 2u) * 8u;
    for (var j = 0u; j < 8u; j++) {
        stage[base + r * stride + c0 + j] = cc[j];
    }
}
"#;

/// `source` (a gemm_f16_coop_* kernel) with every cooperative-matrix operation replaced by the
/// plain-WGSL functions of [`PRELUDE`].
pub fn emulate_coop(source: &str) -> Result<String> {
    let mut s = source.replace("enable wgpu_cooperative_matrix;\n", "");
    for (from, to) in [
        ("coop_mat16x16<f32, C>()", "array<f32, 8>()"),
        ("coopLoadT<coop_mat16x16<f16, A>>(&sa[", "EmuA("),
        ("], SA)", ", SA)"),
        ("coopLoadT<coop_mat16x16<f16, B>>(&sb[", "EmuB("),
        ("], SB)", ", SB)"),
        ("coopMultiplyAdd(", "emu_mma("),
        ("coopStoreT(", "emu_store_stage("),
        (", &stage[base], st)", ", base, st)"),
        (
            "    let lane = li % 32u;\n",
            "    let lane = li % 32u;\n    emu_lane = lane;\n",
        ),
    ] {
        if !s.contains(from) {
            bail!("emulating cooperative matrices: the kernel has no `{from}`");
        }
        s = s.replace(from, to);
    }
    for left in [
        "coop_mat",
        "coopLoad",
        "coopStore",
        "coopMultiplyAdd",
        "wgpu_cooperative",
    ] {
        if s.contains(left) {
            bail!("emulating cooperative matrices: `{left}` is left in the kernel");
        }
    }
    s.push_str(PRELUDE);
    Ok(s)
}
