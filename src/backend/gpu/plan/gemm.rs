//! GEMM plan: tile choice and the one dispatch.

use anyhow::Result;

use super::Plan;
use crate::backend::gpu::GpuBackend;
use crate::backend::gpu::layout::{OutputLayout, matrix_bytes, pad4, u32_of};
use crate::reference::Inputs;
use crate::workload::Dtype;

/// The GEMM kernel for a shape and its tile (vec4 columns, rows). The 128 x 128 f32 kernel
/// (8 x 8 outputs per invocation) is the faster one once there are enough tiles to fill the
/// GPU; below 256 of them it leaves most compute units idle, and the 64 x 64 kernel is faster.
/// Measured on an H100 (results/h100-*): 4096^3 26.7 vs 23.5 TFLOP/s, 2048^3 26.2 vs 22.4,
/// but 512 x 4096 x 4096 (128 tiles) 18.2 vs 21.4 and 512^3 2.5 vs 6.6.
pub(in crate::backend::gpu) fn gemm_kernel(
    m: u64,
    n: u64,
    dtype: Dtype,
) -> (&'static str, u64, u64) {
    match dtype {
        Dtype::F32 if m.div_ceil(128) * n.div_ceil(128) >= 256 => ("gemm_f32_tile128", 32, 128),
        Dtype::F32 => ("gemm_f32_tiled", 16, 64),
        Dtype::F16 => ("gemm_f16_tiled", 16, 64),
    }
}

impl GpuBackend {
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
        let (name, tile_n4, tile_m) = gemm_kernel(m, n, dtype);
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
