//! Test-only: the gemm_f16_coop_* kernels with their cooperative-matrix operations replaced by
//! plain WGSL, so that their indexing (global loads and bounds zero-fill, workgroup tiles,
//! fragment offsets, split-K slices, epilogue) can be checked against the reference on an
//! adapter without cooperative matrices (lavapipe). Every invocation computes each whole 16 x 16
//! fragment itself, so the result does not depend on the subgroup size; it says nothing about
//! speed, nor about how a driver lays fragments out (the H200 verified that for k64).
//!
//! The translation is textual and relies on the forms scripts/gen_coop_gemm.py writes:
//! `coopLoadT<coop_mat16x16<f16, A>>(&sa[X], SA)`, the same for B from `sb` with `SB`,
//! `coopMultiplyAdd(a, b, c)`, `coopStoreT(c, &stage[base], st)` and
//! `coop_mat16x16<f32, C>()`; [`emulate_coop`] fails if anything cooperative is left over.

use anyhow::{Result, bail};

/// Row-major 16 x 16 loads from the vec4<f16> workgroup tiles (stride in vec4s, as the
/// cooperative loads from vec4 pointers take it), a 16 x 16 x 16 multiply-add in f32, and a
/// row-major store to the f32 staging block.
const PRELUDE: &str = r#"
// --- emulated cooperative-matrix operations (accelbench tests only) ---
fn emu_load_sa(off: u32, stride: u32) -> array<f16, 256> {
    var m: array<f16, 256>;
    for (var r = 0u; r < 16u; r++) {
        for (var q = 0u; q < 4u; q++) {
            let v = sa[off + r * stride + q];
            m[r * 16u + q * 4u] = v.x;
            m[r * 16u + q * 4u + 1u] = v.y;
            m[r * 16u + q * 4u + 2u] = v.z;
            m[r * 16u + q * 4u + 3u] = v.w;
        }
    }
    return m;
}

fn emu_load_sb(off: u32, stride: u32) -> array<f16, 256> {
    var m: array<f16, 256>;
    for (var r = 0u; r < 16u; r++) {
        for (var q = 0u; q < 4u; q++) {
            let v = sb[off + r * stride + q];
            m[r * 16u + q * 4u] = v.x;
            m[r * 16u + q * 4u + 1u] = v.y;
            m[r * 16u + q * 4u + 2u] = v.z;
            m[r * 16u + q * 4u + 3u] = v.w;
        }
    }
    return m;
}

fn emu_mma(a: array<f16, 256>, b: array<f16, 256>, c: array<f32, 256>) -> array<f32, 256> {
    var aa = a;
    var bb = b;
    var d = c;
    for (var r = 0u; r < 16u; r++) {
        for (var j = 0u; j < 16u; j++) {
            var s = d[r * 16u + j];
            for (var q = 0u; q < 16u; q++) {
                s += f32(aa[r * 16u + q]) * f32(bb[q * 16u + j]);
            }
            d[r * 16u + j] = s;
        }
    }
    return d;
}

fn emu_store_stage(c: array<f32, 256>, base: u32, stride: u32) {
    var cc = c;
    for (var r = 0u; r < 16u; r++) {
        for (var j = 0u; j < 16u; j++) {
            stage[base + r * stride + j] = cc[r * 16u + j];
        }
    }
}
"#;

/// `source` (a gemm_f16_coop_* kernel) with every cooperative-matrix operation replaced by the
/// plain-WGSL functions of [`PRELUDE`].
pub fn emulate_coop(source: &str) -> Result<String> {
    let mut s = source.replace("enable wgpu_cooperative_matrix;\n", "");
    for (from, to) in [
        ("coop_mat16x16<f32, C>()", "array<f32, 256>()"),
        ("coopLoadT<coop_mat16x16<f16, A>>(&sa[", "emu_load_sa("),
        ("], SA)", ", SA)"),
        ("coopLoadT<coop_mat16x16<f16, B>>(&sb[", "emu_load_sb("),
        ("], SB)", ", SB)"),
        ("coopMultiplyAdd(", "emu_mma("),
        ("coopStoreT(", "emu_store_stage("),
        (", &stage[base], st)", ", base, st)"),
    ] {
        if !s.contains(from) {
            bail!("emulating cooperative matrices: the kernel has no `{from}`");
        }
        s = s.replace(from, to);
    }
    for left in ["coop_mat", "coopLoad", "coopStore", "coopMultiplyAdd", "wgpu_cooperative"] {
        if s.contains(left) {
            bail!("emulating cooperative matrices: `{left}` is left in the kernel");
        }
    }
    s.push_str(PRELUDE);
    Ok(s)
}
