//! Softmax and RMSNorm plans (row-wise dispatches, also used by the decode step), in f32 or
//! f16 (f16 storage, f32 arithmetic inside the kernels).

use anyhow::Result;

use super::Plan;
use crate::backend::gpu::GpuBackend;
use crate::backend::gpu::layout::{OutputLayout, matrix_bytes, u32_of};
use crate::backend::gpu::timing::Dispatch;
use crate::reference::Inputs;
use crate::workload::{Dtype, RMSNORM_EPS};

/// `f32_name` for f32 data, `f16_name` for f16: the kernel pairs of the row-wise, attention and
/// decode plans.
pub(in crate::backend::gpu) fn by_dtype(
    dtype: Dtype,
    f32_name: &'static str,
    f16_name: &'static str,
) -> &'static str {
    match dtype {
        Dtype::F32 => f32_name,
        Dtype::F16 => f16_name,
    }
}

/// `data` stored as `dtype`, padded with zeros to a multiple of 4 elements.
pub(in crate::backend::gpu) fn vector_bytes(data: &[f32], dtype: Dtype) -> Vec<u8> {
    matrix_bytes(data, 1, data.len() as u64, dtype)
}

impl GpuBackend {
    pub(in crate::backend::gpu) fn rows_dispatch(
        &self,
        kernel: &'static str,
        buffers: &[&wgpu::Buffer],
        rows: u64,
        params: &[u32],
        keep: &mut Vec<wgpu::Buffer>,
    ) -> Result<Dispatch> {
        let p = self.uniform(params);
        let mut all: Vec<&wgpu::Buffer> = buffers.to_vec();
        all.push(&p);
        let groups = self.grid(rows)?;
        let d = self.dispatch(kernel, &all, groups)?;
        keep.push(p);
        Ok(d)
    }

    pub(in crate::backend::gpu) fn plan_softmax(
        &self,
        rows: u64,
        cols: u64,
        dtype: Dtype,
        inp: &Inputs,
    ) -> Result<Plan> {
        let x = self.storage_init("X", &vector_bytes(&inp.buffers[0], dtype));
        let y = self.storage_zeroed("Y", rows * cols * dtype.size_bytes());
        let mut keep = vec![x.clone(), y.clone()];
        let params = [u32_of(rows, "rows")?, u32_of(cols, "cols")?];
        let name = by_dtype(dtype, "softmax_f32", "softmax_f16");
        let d = self.rows_dispatch(name, &[&x, &y], rows, &params, &mut keep)?;
        Ok(Plan {
            dispatches: vec![d],
            more: Vec::new(),
            output: y,
            layout: OutputLayout::dense(dtype, rows * cols),
            buffers: keep,
        })
    }

    pub(in crate::backend::gpu) fn rmsnorm_params(rows: u64, cols: u64) -> Result<[u32; 3]> {
        Ok([
            u32_of(rows, "rows")?,
            u32_of(cols, "cols")?,
            RMSNORM_EPS.to_bits(),
        ])
    }

    pub(in crate::backend::gpu) fn plan_rmsnorm(
        &self,
        rows: u64,
        cols: u64,
        dtype: Dtype,
        inp: &Inputs,
    ) -> Result<Plan> {
        let x = self.storage_init("X", &vector_bytes(&inp.buffers[0], dtype));
        let g = self.storage_init("g", &vector_bytes(&inp.buffers[1], dtype));
        let y = self.storage_zeroed("Y", rows * cols * dtype.size_bytes());
        let mut keep = vec![x.clone(), g.clone(), y.clone()];
        let params = Self::rmsnorm_params(rows, cols)?;
        let name = by_dtype(dtype, "rmsnorm_f32", "rmsnorm_f16");
        let d = self.rows_dispatch(name, &[&x, &g, &y], rows, &params, &mut keep)?;
        Ok(Plan {
            dispatches: vec![d],
            more: Vec::new(),
            output: y,
            layout: OutputLayout::dense(dtype, rows * cols),
            buffers: keep,
        })
    }
}
