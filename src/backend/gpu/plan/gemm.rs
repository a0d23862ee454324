//! GEMM plan: tile choice and the one dispatch.

use anyhow::Result;

use super::Plan;
use crate::backend::gpu::GpuBackend;
use crate::backend::gpu::adapters::AdapterInfo;
use crate::backend::gpu::layout::{OutputLayout, matrix_bytes, pad4, u32_of};
use crate::reference::Inputs;
use crate::workload::Dtype;

/// The GEMM kernel for a shape and its tile (vec4 columns, rows). The 128 x 128 f32 kernel
/// (8 x 8 outputs per invocation) is the faster one once there are enough tiles to fill the
/// GPU; below 256 of them it leaves most compute units idle, and the 64 x 64 kernel is faster.
/// Measured on an H100 (results/h100-*): 4096^3 26.7 vs 23.5 TFLOP/s, 2048^3 26.2 vs 22.4,
/// but 512 x 4096 x 4096 (128 tiles) 18.2 vs 21.4 and 512^3 2.5 vs 6.6.
/// f16 takes the cooperative-matrix kernel where [`coop_fallback`] finds nothing against it.
pub(in crate::backend::gpu) fn gemm_kernel(
    m: u64,
    n: u64,
    dtype: Dtype,
    coop: bool,
) -> (&'static str, u64, u64) {
    match dtype {
        Dtype::F32 if m.div_ceil(128) * n.div_ceil(128) >= 256 => ("gemm_f32_tile128", 32, 128),
        Dtype::F32 => ("gemm_f32_tiled", 16, 64),
        Dtype::F16 if coop => (coop_kernel(), 32, 128),
        Dtype::F16 => ("gemm_f16_tiled", 16, 64),
    }
}

/// Which cooperative-matrix GEMM runs: `gemm_f16_coop_k64`, or `gemm_f16_coop_k64x2` (two tiles
/// per loop iteration) where `ACCELBENCH_GEMM_F16` names it. Measured on an H200 at 4096^3
/// (results/h200-*): k64 147 TFLOP/s, k64x2 150, in processes that ran only f16 GEMMs; k64
/// stays the default as the one verified at odd sizes on that machine (notes/gpu.md).
fn coop_kernel() -> &'static str {
    match std::env::var("ACCELBENCH_GEMM_F16").as_deref() {
        Ok("gemm_f16_coop_k64x2") => "gemm_f16_coop_k64x2",
        _ => "gemm_f16_coop_k64",
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

/// Workgroup memory gemm_f16_coop_k64 and _k64x2 declare, bytes.
const COOP_WORKGROUP_BYTES: u32 = 44_032;

impl GpuBackend {
    /// [`coop_fallback`], and the adapter's workgroup-memory limit.
    pub(in crate::backend::gpu) fn gemm_f16_fallback(&self) -> Option<String> {
        coop_fallback(&self.info).or_else(|| {
            (self.limits.max_compute_workgroup_storage_size < COOP_WORKGROUP_BYTES).then(|| {
                format!(
                    "fallback: the cooperative-matrix GEMM needs {COOP_WORKGROUP_BYTES} bytes of workgroup memory; adapter '{}' allows {}",
                    self.info.name, self.limits.max_compute_workgroup_storage_size
                )
            })
        })
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
        let params = self.uniform(&[
            u32_of(m, "m")?,
            u32_of(k, "k")?,
            u32_of(k4, "k/4")?,
            u32_of(n4, "n/4")?,
        ]);
        let coop = dtype == Dtype::F16 && self.gemm_f16_fallback().is_none();
        let (name, tile_n4, tile_m) = gemm_kernel(m, n, dtype, coop);
        let groups = (
            u32_of(n4.div_ceil(tile_n4), "n tiles")?,
            u32_of(m.div_ceil(tile_m), "m tiles")?,
        );
        let d = self.dispatch(name, &[&a, &b, &c, &params], groups)?;
        Ok(Plan {
            dispatches: vec![d],
            more: Vec::new(),
            layout: OutputLayout {
                dtype,
                rows: m,
                cols: n,
                stride: pad4(n),
            },
            output: c.clone(),
            buffers: vec![a, b, c, params],
        })
    }
}
