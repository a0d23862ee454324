//! Softmax and RMSNorm plans (row-wise dispatches, also used by the decode step).

use anyhow::Result;

use super::Plan;
use crate::backend::gpu::GpuBackend;
use crate::backend::gpu::layout::{OutputLayout, u32_of};
use crate::backend::gpu::timing::Dispatch;
use crate::reference::Inputs;
use crate::workload::{Dtype, RMSNORM_EPS};

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
        inp: &Inputs,
    ) -> Result<Plan> {
        let x = self.storage_init("X", bytemuck::cast_slice(&inp.buffers[0]));
        let y = self.storage_zeroed("Y", rows * cols * 4);
        let mut keep = vec![x.clone(), y.clone()];
        let params = [u32_of(rows, "rows")?, u32_of(cols, "cols")?];
        let d = self.rows_dispatch("softmax_f32", &[&x, &y], rows, &params, &mut keep)?;
        Ok(Plan {
            dispatches: vec![d],
            more: Vec::new(),
            output: y,
            layout: OutputLayout::dense(Dtype::F32, rows * cols),
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
        inp: &Inputs,
    ) -> Result<Plan> {
        let x = self.storage_init("X", bytemuck::cast_slice(&inp.buffers[0]));
        let g = self.storage_init("g", bytemuck::cast_slice(&inp.buffers[1]));
        let y = self.storage_zeroed("Y", rows * cols * 4);
        let mut keep = vec![x.clone(), g.clone(), y.clone()];
        let params = Self::rmsnorm_params(rows, cols)?;
        let d = self.rows_dispatch("rmsnorm_f32", &[&x, &g, &y], rows, &params, &mut keep)?;
        Ok(Plan {
            dispatches: vec![d],
            more: Vec::new(),
            output: y,
            layout: OutputLayout::dense(Dtype::F32, rows * cols),
            buffers: keep,
        })
    }
}
