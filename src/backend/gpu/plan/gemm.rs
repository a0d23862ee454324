//! GEMM plan: tile choice and the dispatches (one, or two for split-K).

use anyhow::{Result, bail};

use super::Plan;
use crate::backend::gpu::GpuBackend;
use crate::backend::gpu::adapters::AdapterInfo;
use crate::backend::gpu::layout::{OutputLayout, matrix_bytes, pad4, u32_of};
use crate::reference::Inputs;
use crate::workload::Dtype;

/// One cooperative-matrix GEMM kernel (scripts/gen_coop_gemm.py writes them all): the tile of C
/// one workgroup computes, its K tile, and the workgroup memory it declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoopGemm {
    pub name: &'static str,
    /// Rows of C per workgroup.
    pub tile_m: u64,
    /// Columns of C per workgroup (a multiple of 4).
    pub tile_n: u64,
    /// K per workgroup-memory tile; split-K slices are whole numbers of them.
    pub bk: u64,
    /// Bytes of `var<workgroup>` the kernel declares (tiles with padding, epilogue staging).
    pub workgroup_bytes: u32,
    /// Multiplies one slice of K per workgroup into f32 partials, summed into C by
    /// [`SPLITK_REDUCE`] in a second dispatch.
    pub split_k: bool,
}

/// The default cooperative-matrix GEMM.
pub const COOP_K64: CoopGemm = CoopGemm {
    name: "gemm_f16_coop_k64",
    tile_m: 128,
    tile_n: 128,
    bk: 64,
    workgroup_bytes: 44_032,
    split_k: false,
};

/// Every cooperative-matrix GEMM, the default first; `ACCELBENCH_GEMM_F16=<name>` picks one.
/// Measured on an H200 at 4096^3 (results/h200-*): k64 147 TFLOP/s, k64x2 150, in processes
/// that ran only f16 GEMMs; k64 stays the default as the one verified at odd sizes on that
/// machine (notes/gpu.md). w64, k32x2, t128 and the split-K kernels have not run on a GPU yet;
/// `run` times them all against each other on a GPU with cooperative matrices (`choices.rs`).
pub const COOP_GEMMS: &[CoopGemm] = &[
    COOP_K64,
    // Two K tiles per loop iteration.
    CoopGemm {
        name: "gemm_f16_coop_k64x2",
        ..COOP_K64
    },
    // 64 x 64 of C per subgroup (4 x 4 accumulators), 8 subgroups in 2 x 4, two 32-deep K tiles
    // per loop iteration: 10,240 (A) + 16,896 (B) + 8,192 (staging) bytes.
    CoopGemm {
        name: "gemm_f16_coop_w64",
        tile_m: 128,
        tile_n: 256,
        bk: 32,
        workgroup_bytes: 35_328,
        split_k: false,
    },
    // As k64x2 with 32-deep K tiles: half the registers for the next tile, 10,240 (A) + 8,704
    // (B) + 8,192 (staging) bytes, so two workgroups may share a compute unit.
    CoopGemm {
        name: "gemm_f16_coop_k32x2",
        bk: 32,
        workgroup_bytes: 27_136,
        ..COOP_K64
    },
    // k64 over one slice of K per workgroup, f32 partials.
    CoopGemm {
        name: "gemm_f16_coop_k64_splitk",
        split_k: true,
        ..COOP_K64
    },
    COOP_T128,
    // t128 over one slice of K per workgroup (one 32-deep K tile per loop iteration).
    CoopGemm {
        name: "gemm_f16_coop_t128_splitk",
        split_k: true,
        ..COOP_T128
    },
];

/// 128 x 128 of C from a workgroup of 128 invocations: 4 subgroups, each 64 x 64 (4 x 4
/// accumulators), two 32-deep K tiles per loop iteration; 10,240 (A) + 8,704 (B) + 4,096
/// (staging) bytes. The shape llama.cpp's Vulkan backend gives its large cooperative-matrix
/// tile on NVIDIA: more accumulators per fragment loaded than k64's 64 x 32, and small enough
/// workgroups that two or three may share a compute unit.
pub const COOP_T128: CoopGemm = CoopGemm {
    name: "gemm_f16_coop_t128",
    tile_m: 128,
    tile_n: 128,
    bk: 32,
    workgroup_bytes: 23_040,
    split_k: false,
};

/// The kernel a split-K variant runs where its split is one slice: the one named without
/// `_splitk` (the same tiles over all of K, in one dispatch).
pub fn unsplit(v: &'static CoopGemm) -> &'static CoopGemm {
    v.name
        .strip_suffix("_splitk")
        .and_then(coop_variant)
        .unwrap_or(v)
}

/// Sums split-K partials into C (f16); needs no cooperative matrices.
pub const SPLITK_REDUCE: &str = "gemm_f16_splitk_reduce";
/// At most this many slices of K.
pub const SPLITK_MAX: u64 = 8;
/// Split-K aims at about this many workgroups (tiles of C times slices of K), enough to fill a
/// GPU of a hundred-odd compute units twice or more without naming one.
pub const SPLITK_TARGET_WORKGROUPS: u64 = 512;

/// The cooperative-matrix GEMM called `name`.
pub fn coop_variant(name: &str) -> Option<&'static CoopGemm> {
    COOP_GEMMS.iter().find(|v| v.name == name)
}

/// Which cooperative-matrix GEMM runs: the one `ACCELBENCH_GEMM_F16` names, else
/// [`COOP_K64`].
fn coop_kernel() -> &'static CoopGemm {
    env_choice().ok().flatten().unwrap_or(&COOP_GEMMS[0])
}

/// What `ACCELBENCH_GEMM_F16` asks for: a cooperative-matrix variant, nothing (unset, or
/// `tiled`, which [`coop_fallback`] handles), or, as `Err`, why its value names no kernel.
fn env_choice() -> Result<Option<&'static CoopGemm>, String> {
    match std::env::var("ACCELBENCH_GEMM_F16") {
        Err(_) => Ok(None),
        Ok(name) if name == "tiled" => Ok(None),
        Ok(name) => coop_variant(&name).map(Some).ok_or_else(|| {
            let known: Vec<&str> = COOP_GEMMS.iter().map(|g| g.name).collect();
            format!(
                "ACCELBENCH_GEMM_F16='{name}' names no kernel (known: tiled, {}), so the default {} ran",
                known.join(", "),
                COOP_GEMMS[0].name
            )
        }),
    }
}

/// How a split-K GEMM divides K: `splits` slices of `tiles_per_split` K tiles each (the last
/// one possibly shorter, none empty). Slice s covers K from `s * tiles_per_split * bk` to
/// `min((s + 1) * tiles_per_split * bk, k)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SplitK {
    pub splits: u64,
    pub tiles_per_split: u64,
}

/// The split of K for an `m x n x k` GEMM on `v`: `ceil(SPLITK_TARGET_WORKGROUPS / tiles of C)`
/// slices, clamped to 1..=[`SPLITK_MAX`] and to the number of K tiles, then fewer if their f32
/// partials (`splits x m x pad4(n)` floats) would pass `max_partial_bytes`.
pub fn split_k(m: u64, n: u64, k: u64, v: &CoopGemm, max_partial_bytes: u64) -> SplitK {
    let tiles = m.div_ceil(v.tile_m) * n.div_ceil(v.tile_n);
    let k_tiles = k.div_ceil(v.bk).max(1);
    let per_split = 4 * m.max(1) * pad4(n).max(4);
    let fit = (max_partial_bytes / per_split).max(1);
    let want = SPLITK_TARGET_WORKGROUPS
        .div_ceil(tiles.max(1))
        .clamp(1, SPLITK_MAX)
        .min(k_tiles)
        .min(fit);
    let tiles_per_split = k_tiles.div_ceil(want);
    SplitK {
        splits: k_tiles.div_ceil(tiles_per_split),
        tiles_per_split,
    }
}

/// Workgroups of a dispatch of `v` over an `m x n` C: x across column tiles, y across row
/// tiles times `splits` (split s takes rows `s * m_tiles ..`).
pub fn coop_grid(m: u64, n: u64, v: &CoopGemm, splits: u64) -> (u64, u64) {
    (
        (pad4(n) / 4).div_ceil(v.tile_n / 4),
        m.div_ceil(v.tile_m) * splits,
    )
}

/// The f32 GEMM kernels: 64 x 64 tiles, or 128 x 128 (8 x 8 per invocation).
pub const GEMM_F32_KERNELS: [&str; 2] = ["gemm_f32_tiled", "gemm_f32_tile128"];

/// Which f32 GEMM the tile-count rule picks. The 128 x 128 kernel (8 x 8 outputs per
/// invocation) is the faster one once there are enough tiles to fill the GPU; below 256 of them
/// it leaves most compute units idle, and the 64 x 64 kernel is faster. Measured on an H100
/// (results/h100-*): 4096^3 26.7 vs 23.5 TFLOP/s, 2048^3 26.2 vs 22.4, but 512 x 4096 x 4096
/// (128 tiles) 18.2 vs 21.4 and 512^3 2.5 vs 6.6. `run` also times both (`choices.rs`).
pub(in crate::backend::gpu) fn gemm_f32_by_rule(m: u64, n: u64) -> &'static str {
    if m.div_ceil(128) * n.div_ceil(128) >= 256 {
        GEMM_F32_KERNELS[1]
    } else {
        GEMM_F32_KERNELS[0]
    }
}

/// The kernel of a (non-split) GEMM and its tile: columns in vec4s, rows. `f32` names the f32
/// kernel when one was chosen, else [`gemm_f32_by_rule`] picks it; f16 takes the
/// cooperative-matrix kernel `coop` where [`coop_fallback`] finds nothing against it, with
/// that kernel's tile.
pub(in crate::backend::gpu) fn gemm_kernel(
    m: u64,
    n: u64,
    dtype: Dtype,
    coop: Option<&CoopGemm>,
    f32: Option<&'static str>,
) -> (&'static str, u64, u64) {
    match (dtype, coop) {
        (Dtype::F32, _) => match f32.unwrap_or_else(|| gemm_f32_by_rule(m, n)) {
            "gemm_f32_tile128" => ("gemm_f32_tile128", 32, 128),
            _ => ("gemm_f32_tiled", 16, 64),
        },
        (Dtype::F16, Some(v)) => (v.name, v.tile_n / 4, v.tile_m),
        (Dtype::F16, None) => ("gemm_f16_tiled", 16, 64),
    }
}

/// The cooperative-matrix configuration the gemm_f16_coop_* kernels are written for.
pub const COOP_CONFIG: &str = "16x16x16 f16->f32";

/// Why an f16 GEMM on this adapter runs on the tiled (FP32-pipe) kernel rather than on
/// cooperative matrices, or `None` when a gemm_f16_coop_* kernel runs. `ACCELBENCH_GEMM_F16=tiled` forces
/// the fallback (to compare the two on one machine).
pub fn coop_fallback(info: &AdapterInfo) -> Option<String> {
    if std::env::var("ACCELBENCH_GEMM_F16").as_deref() == Ok("tiled") {
        return Some("ACCELBENCH_GEMM_F16=tiled asked for the tiled kernel".into());
    }
    if std::env::var("ACCELBENCH_NO_COOP").as_deref() == Ok("1") {
        return Some("ACCELBENCH_NO_COOP=1 left cooperative matrices off".into());
    }
    if !info
        .features
        .iter()
        .any(|f| f == "EXPERIMENTAL_COOPERATIVE_MATRIX")
    {
        return Some(format!(
            "fallback: adapter '{}' has no cooperative matrices (EXPERIMENTAL_COOPERATIVE_MATRIX)",
            info.name
        ));
    }
    if !info.cooperative_matrix.iter().any(|c| c == COOP_CONFIG) {
        return Some(format!(
            "fallback: adapter '{}' lists no {COOP_CONFIG} cooperative matrix (it lists: {})",
            info.name,
            info.cooperative_matrix.join(", ")
        ));
    }
    if info.subgroup_sizes != Some((32, 32)) {
        return Some(format!(
            "fallback: the cooperative-matrix GEMM is written for subgroups of exactly 32 invocations; adapter '{}' reports {:?}",
            info.name, info.subgroup_sizes
        ));
    }
    None
}

/// Why `v` does not fit an adapter allowing `limit` bytes of workgroup memory, if it does not.
pub fn workgroup_memory_fallback(v: &CoopGemm, adapter: &str, limit: u32) -> Option<String> {
    (limit < v.workgroup_bytes).then(|| {
        format!(
            "fallback: {} needs {} bytes of workgroup memory; adapter '{adapter}' allows {limit}",
            v.name, v.workgroup_bytes
        )
    })
}

impl GpuBackend {
    /// The cooperative-matrix GEMM an f16 GEMM runs where one runs: the one set with
    /// [`GpuBackend::set_coop_variant`] (or emulated under test), else the one
    /// `ACCELBENCH_GEMM_F16` names, else [`COOP_K64`].
    pub(in crate::backend::gpu) fn coop_gemm(&self) -> &'static CoopGemm {
        self.coop_variant.unwrap_or_else(coop_kernel)
    }

    /// [`coop_fallback`], and the chosen kernel's workgroup memory against the adapter's limit.
    pub(in crate::backend::gpu) fn gemm_f16_fallback(&self) -> Option<String> {
        if self.coop_emulation {
            return None;
        }
        coop_fallback(&self.info).or_else(|| self.coop_too_big(self.coop_gemm()))
    }

    /// [`workgroup_memory_fallback`] of `v` on this adapter; never under emulation (a test
    /// path, where the kernels run wherever wgpu lets them).
    pub(in crate::backend::gpu) fn coop_too_big(&self, v: &CoopGemm) -> Option<String> {
        if self.coop_emulation {
            return None;
        }
        workgroup_memory_fallback(
            v,
            &self.info.name,
            self.limits.max_compute_workgroup_storage_size,
        )
    }

    /// [`split_k`] with this adapter's largest storage binding as the partials' bound.
    fn gemm_split(&self, m: u64, n: u64, k: u64, v: &CoopGemm) -> SplitK {
        let max = self
            .limits
            .max_storage_buffer_binding_size
            .min(self.limits.max_buffer_size);
        split_k(m, n, k, v, max)
    }

    /// The row note of an f16 GEMM: why the fallback ran, that the kernel was emulated, or
    /// how split-K divided K.
    pub(in crate::backend::gpu) fn gemm_f16_note(&self, m: u64, n: u64, k: u64) -> Option<String> {
        if let Some(why) = self.gemm_f16_fallback() {
            return Some(why);
        }
        let v = self.coop_gemm();
        let mut notes = Vec::new();
        if self.coop_variant.is_none()
            && let Err(why) = env_choice()
        {
            notes.push(why);
        }
        if self.coop_emulation {
            notes.push(
                "cooperative-matrix operations emulated in plain WGSL (a test of the kernel's indexing, not of its speed)"
                    .to_string(),
            );
        }
        if v.split_k {
            let s = self.gemm_split(m, n, k, v);
            notes.push(if s.splits > 1 {
                format!(
                    "split-K: {} slices of K of {} ({} K tiles of {}), f32 partials summed by {SPLITK_REDUCE}",
                    s.splits,
                    s.tiles_per_split * v.bk,
                    s.tiles_per_split,
                    v.bk
                )
            } else {
                format!(
                    "split-K: 1 slice at this shape (enough tiles of C, or one K tile): {} alone",
                    unsplit(v).name
                )
            });
        }
        (!notes.is_empty()).then(|| notes.join("; "))
    }

    pub(in crate::backend::gpu) fn plan_gemm(
        &self,
        m: u64,
        n: u64,
        k: u64,
        dtype: Dtype,
        inp: &Inputs,
    ) -> Result<Plan> {
        let a = self.storage_init("A", &matrix_bytes(&inp.buffers[0], m, k, dtype));
        let b = self.storage_init("B", &matrix_bytes(&inp.buffers[1], k, n, dtype));
        let c = self.storage_zeroed("C", m * pad4(n) * dtype.size_bytes());
        let (k4, n4) = (pad4(k) / 4, pad4(n) / 4);
        let mut coop =
            (dtype == Dtype::F16 && self.gemm_f16_fallback().is_none()).then(|| self.coop_gemm());
        let layout = OutputLayout {
            dtype,
            rows: m,
            cols: n,
            stride: pad4(n),
        };
        if let Some(v) = coop
            && v.split_k
        {
            let s = self.gemm_split(m, n, k, v);
            if s.splits > 1 {
                return self.plan_gemm_split_k(m, n, k, v, s, a, b, c, layout);
            }
            coop = Some(unsplit(v));
        }
        let params = self.uniform(&[
            u32_of(m, "m")?,
            u32_of(k, "k")?,
            u32_of(k4, "k/4")?,
            u32_of(n4, "n/4")?,
        ]);
        let (name, tile_n4, tile_m) = gemm_kernel(m, n, dtype, coop, self.gemm_f32);
        let groups = (
            u32_of(n4.div_ceil(tile_n4), "n tiles")?,
            u32_of(m.div_ceil(tile_m), "m tiles")?,
        );
        let d = self.dispatch(name, &[&a, &b, &c, &params], groups)?;
        Ok(Plan {
            dispatches: vec![d],
            more: Vec::new(),
            layout,
            output: c.clone(),
            buffers: vec![a, b, c, params],
        })
    }

    /// Split-K: `v` writes each slice's f32 partials (slice s at rows s * m of one scratch
    /// buffer), then [`SPLITK_REDUCE`] sums them into C as f16.
    #[allow(clippy::too_many_arguments)]
    fn plan_gemm_split_k(
        &self,
        m: u64,
        n: u64,
        k: u64,
        v: &'static CoopGemm,
        s: SplitK,
        a: wgpu::Buffer,
        b: wgpu::Buffer,
        c: wgpu::Buffer,
        layout: OutputLayout,
    ) -> Result<Plan> {
        let (k4, n4) = (pad4(k) / 4, pad4(n) / 4);
        let count = m * n4;
        // The reduce kernel indexes vec4s of the partials with u32.
        u32_of(s.splits * count, "split-K partial vec4s")?;
        if s.splits < 2 {
            bail!("split-K with {} slice(s) of K", s.splits);
        }
        let part = self.storage_zeroed("split-K partials", s.splits * count * 16);
        let (gx, gy) = coop_grid(m, n, v, s.splits);
        let params = self.uniform(&[
            u32_of(m, "m")?,
            u32_of(k, "k")?,
            u32_of(k4, "k/4")?,
            u32_of(n4, "n/4")?,
            u32_of(m.div_ceil(v.tile_m), "m tiles")?,
            u32_of(s.tiles_per_split, "K tiles per split")?,
        ]);
        let groups = (u32_of(gx, "n tiles")?, u32_of(gy, "m tiles x splits")?);
        let mul = self.dispatch(v.name, &[&a, &b, &part, &params], groups)?;
        let rparams = self.uniform(&[u32_of(count, "m x n/4")?, u32_of(s.splits, "splits")?]);
        let reduce = self.dispatch(
            SPLITK_REDUCE,
            &[&part, &c, &rparams],
            self.grid(count.div_ceil(256))?,
        )?;
        Ok(Plan {
            dispatches: vec![mul, reduce],
            more: Vec::new(),
            layout,
            output: c.clone(),
            buffers: vec![a, b, c, part, params, rparams],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::gpu::KERNELS;

    /// Shapes around the tile edges and the standard suite's f16 GEMMs.
    fn shapes() -> Vec<(u64, u64, u64)> {
        let sides = [
            1, 3, 4, 5, 63, 64, 65, 127, 128, 129, 255, 256, 257, 511, 512, 513,
        ];
        let mut v = Vec::new();
        for &m in &sides {
            for &n in &sides {
                for &k in &[1, 16, 31, 32, 33, 64, 65, 200] {
                    v.push((m, n, k));
                }
            }
        }
        v.extend([
            (512, 4096, 14336),
            (512, 14336, 4096),
            (512, 4096, 4096),
            (2048, 2048, 2048),
            (4096, 4096, 4096),
            (131, 261, 70),
            (1, 1, 100_000),
        ]);
        v
    }

    /// Bytes of `var<workgroup>` a WGSL kernel declares (the element types the GEMMs use).
    fn declared_workgroup_bytes(src: &str) -> u64 {
        let mut total = 0;
        for line in src.lines().filter(|l| l.starts_with("var<workgroup>")) {
            let ty = line.split_once(": ").unwrap().1.trim_end_matches(';');
            let inner = ty
                .strip_prefix("array<")
                .unwrap()
                .strip_suffix('>')
                .unwrap();
            let (elem, count) = inner.rsplit_once(", ").unwrap();
            let size = match elem {
                "vec4<f16>" => 8,
                "f32" => 4,
                other => panic!("element type {other} not counted"),
            };
            total += size * count.parse::<u64>().unwrap();
        }
        total
    }

    #[test]
    fn each_variant_records_the_workgroup_memory_its_kernel_declares_and_fits_48_kib() {
        for v in COOP_GEMMS {
            let k = KERNELS
                .iter()
                .find(|k| k.name == v.name)
                .unwrap_or_else(|| panic!("{} is registered", v.name));
            assert!(k.needs_coop, "{}", v.name);
            assert_eq!(
                declared_workgroup_bytes(k.source),
                v.workgroup_bytes as u64,
                "{}",
                v.name
            );
            assert!(v.workgroup_bytes <= 48 * 1024, "{}", v.name);
            // The tile the kernel is written for is the tile the plan dispatches by.
            assert!(
                k.source.contains(&format!("let c0 = wg.x * {}u", v.tile_n)),
                "{}: tile_n {}",
                v.name,
                v.tile_n
            );
            assert!(
                k.source
                    .contains(&format!("let tiles = (p.k + {}u) / {}u;", v.bk - 1, v.bk)),
                "{}: bk {}",
                v.name,
                v.bk
            );
            assert!(
                k.source.contains(&format!("% p.m_tiles) * {}u;", v.tile_m))
                    || k.source
                        .contains(&format!("let row0 = wg.y * {}u;", v.tile_m)),
                "{}: tile_m {}",
                v.name,
                v.tile_m
            );
            assert_eq!(k.source.contains("part["), v.split_k, "{}", v.name);
        }
        let reduce = KERNELS.iter().find(|k| k.name == SPLITK_REDUCE).unwrap();
        assert!(!reduce.needs_coop);
        assert_eq!(COOP_GEMMS[0], COOP_K64, "k64 is the default");
        assert_eq!(coop_variant("gemm_f16_coop_w64").unwrap().tile_n, 256);
        assert_eq!(coop_variant("tiled"), None);
    }

    #[test]
    fn a_split_variants_one_slice_runs_its_namesake_with_the_same_tiles() {
        let mut split = 0;
        for v in COOP_GEMMS {
            let u = unsplit(v);
            if v.split_k {
                split += 1;
                assert_eq!(format!("{}_splitk", u.name), v.name);
                assert!(!u.split_k, "{}", v.name);
                assert_eq!((u.tile_m, u.tile_n, u.bk), (v.tile_m, v.tile_n, v.bk));
            } else {
                assert_eq!(u, v);
            }
        }
        assert_eq!(split, 2);
        assert_eq!(
            unsplit(coop_variant("gemm_f16_coop_t128_splitk").unwrap()),
            &COOP_T128
        );
    }

    #[test]
    fn the_workgroup_memory_check_is_per_variant() {
        let k64 = coop_variant("gemm_f16_coop_k64").unwrap();
        let w64 = coop_variant("gemm_f16_coop_w64").unwrap();
        let why = workgroup_memory_fallback(k64, "small", 40_000).expect("44,032 > 40,000");
        assert!(why.contains("44032") && why.contains("40000"), "{why}");
        assert_eq!(workgroup_memory_fallback(w64, "small", 40_000), None);
        assert!(workgroup_memory_fallback(w64, "tiny", 32_768).is_some());
        for v in COOP_GEMMS {
            assert_eq!(workgroup_memory_fallback(v, "48 KiB", 49_152), None);
        }
    }

    #[test]
    fn every_variants_grid_covers_c_with_no_empty_row_or_column_of_workgroups() {
        for v in COOP_GEMMS {
            let (name, tile_n4, tile_m) = gemm_kernel(1, 1, Dtype::F16, Some(v), None);
            assert_eq!((name, tile_n4 * 4, tile_m), (v.name, v.tile_n, v.tile_m));
            for (m, n, _) in shapes() {
                let (gx, gy) = coop_grid(m, n, v, 1);
                let n4 = pad4(n) / 4;
                let tn4 = v.tile_n / 4;
                assert!(gx * tn4 >= n4 && (gx - 1) * tn4 < n4, "{} {m}x{n}", v.name);
                assert!(
                    gy * v.tile_m >= m && (gy - 1) * v.tile_m < m,
                    "{} {m}x{n}",
                    v.name
                );
                let (_, gy3) = coop_grid(m, n, v, 3);
                assert_eq!(gy3, 3 * gy, "split s takes its own row of tiles");
            }
        }
        assert_eq!(
            gemm_kernel(8, 8, Dtype::F16, None, None).0,
            "gemm_f16_tiled"
        );
    }

    #[test]
    fn split_k_slices_cover_k_exactly_none_empty_at_most_eight() {
        let v = coop_variant("gemm_f16_coop_k64_splitk").unwrap();
        for (m, n, k) in shapes() {
            for max_bytes in [u64::MAX, 1 << 20] {
                let s = split_k(m, n, k, v, max_bytes);
                assert!((1..=SPLITK_MAX).contains(&s.splits), "{m}x{n}x{k}: {s:?}");
                // Slices as the kernel takes them: K tiles [s * tps, min((s + 1) * tps, tiles)).
                let tiles = k.div_ceil(v.bk);
                let mut covered = 0;
                for i in 0..s.splits {
                    let t0 = i * s.tiles_per_split;
                    let t1 = (t0 + s.tiles_per_split).min(tiles);
                    assert!(t0 < t1, "{m}x{n}x{k}: slice {i} of {s:?} is empty");
                    assert_eq!(t0 * v.bk, covered, "slices are contiguous");
                    covered = (t1 * v.bk).min(k);
                }
                assert_eq!(covered, k, "{m}x{n}x{k}: {s:?}");
                // The rule: ceil(512 / tiles of C) slices, at most 8 and at most one per K tile;
                // fewer only where whole K tiles do not divide evenly or the partials are too big.
                let c_tiles = m.div_ceil(v.tile_m) * n.div_ceil(v.tile_n);
                let want = SPLITK_TARGET_WORKGROUPS
                    .div_ceil(c_tiles)
                    .min(SPLITK_MAX)
                    .min(tiles);
                assert!(s.splits <= want, "{m}x{n}x{k}: {s:?}");
                if max_bytes == u64::MAX && tiles.is_multiple_of(want) {
                    assert_eq!(s.splits, want, "{m}x{n}x{k}");
                }
                if c_tiles >= SPLITK_TARGET_WORKGROUPS {
                    assert_eq!(s.splits, 1, "{m}x{n}x{k}");
                }
                if s.splits > 1 {
                    assert!(
                        s.splits * m * pad4(n) * 4 <= max_bytes,
                        "{m}x{n}x{k}: {s:?}"
                    );
                }
            }
        }
        // The standard suite's 512-row shapes (4 x 32 and 4 x 112 tiles of C) and 4096^3.
        let sk = |m, n, k| split_k(m, n, k, v, u64::MAX);
        assert_eq!(
            sk(512, 4096, 14336),
            SplitK {
                splits: 4,
                tiles_per_split: 56
            }
        );
        assert_eq!(
            sk(512, 14336, 4096),
            SplitK {
                splits: 2,
                tiles_per_split: 32
            }
        );
        assert_eq!(sk(4096, 4096, 4096).splits, 1);
        assert_eq!(sk(1, 1, 1).splits, 1, "one K tile: nothing to split");
        // 3 K tiles asked for 8 slices: 3 slices of one tile each.
        assert_eq!(
            sk(1, 1, 150),
            SplitK {
                splits: 3,
                tiles_per_split: 1
            }
        );
    }
}
