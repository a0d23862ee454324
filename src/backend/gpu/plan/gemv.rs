//! GEMV plan (also used by the decode step).

use anyhow::Result;

use super::Plan;
use crate::backend::gpu::GpuBackend;
use crate::backend::gpu::device::Bind;
use crate::backend::gpu::layout::{OutputLayout, matrix_bytes, pad4, u32_of};
use crate::backend::gpu::timing::Dispatch;
use crate::reference::Inputs;
use crate::workload::{Dtype, RMSNORM_EPS};

impl GpuBackend {
    /// GEMV dispatch `y = W x (+ res)`; `k` is the unpadded row length.
    #[allow(clippy::too_many_arguments)]
    pub(in crate::backend::gpu) fn gemv_dispatch<'w>(
        &self,
        dtype: Dtype,
        w: impl Into<Bind<'w>>,
        x: &wgpu::Buffer,
        res: Option<&wgpu::Buffer>,
        y: &wgpu::Buffer,
        n: u64,
        k: u64,
        keep: &mut Vec<wgpu::Buffer>,
    ) -> Result<Dispatch> {
        self.gemv_named(self.gemv_kernel(dtype), w, x, res, y, n, k, keep)
    }

    /// The GEMV kernel for weights, vector and output of `dtype`: subgroup reductions where
    /// the adapter has them, else the workgroup-memory fallback.
    pub(in crate::backend::gpu) fn gemv_kernel(&self, dtype: Dtype) -> &'static str {
        match (dtype, self.subgroups()) {
            (Dtype::F32, true) => "gemv_f32_subgroup",
            (Dtype::F32, false) => "gemv_f32_shared",
            (Dtype::F16, true) => "gemv_f16_subgroup",
            (Dtype::F16, false) => "gemv_f16_shared",
        }
    }

    /// The fused decode kernels for `dtype`, subgroup or workgroup-memory reductions as
    /// [`Self::gemv_kernel`]: RMSNorm + GEMV, and RMSNorm + gate and up GEMVs + SiLU.
    fn fused_kernels(&self, dtype: Dtype) -> (&'static str, &'static str) {
        match (dtype, self.subgroups()) {
            (Dtype::F32, true) => ("gemv_norm_f32_subgroup", "gemv_gate_up_silu_f32_subgroup"),
            (Dtype::F32, false) => ("gemv_norm_f32_shared", "gemv_gate_up_silu_f32_shared"),
            (Dtype::F16, true) => ("gemv_norm_f16_subgroup", "gemv_gate_up_silu_f16_subgroup"),
            (Dtype::F16, false) => ("gemv_norm_f16_shared", "gemv_gate_up_silu_f16_shared"),
        }
    }

    /// Uniform of the fused kernels: rows, row length in vec4s, unpadded length, epsilon.
    fn fused_params(&self, n: u64, k: u64) -> Result<wgpu::Buffer> {
        Ok(self.uniform(&[
            u32_of(n, "n")?,
            u32_of(pad4(k) / 4, "k/4")?,
            u32_of(k, "k")?,
            RMSNORM_EPS.to_bits(),
        ]))
    }

    /// Fused dispatch `y = W (rmsnorm(x) * g)` (gemv_norm_*); `k` is the unpadded length of
    /// `x`, `g` and W's rows, all stored as `dtype`.
    #[allow(clippy::too_many_arguments)]
    pub(in crate::backend::gpu) fn gemv_norm_dispatch<'w>(
        &self,
        dtype: Dtype,
        w: impl Into<Bind<'w>>,
        x: &wgpu::Buffer,
        g: &wgpu::Buffer,
        y: &wgpu::Buffer,
        n: u64,
        k: u64,
        keep: &mut Vec<wgpu::Buffer>,
    ) -> Result<Dispatch> {
        let params = self.fused_params(n, k)?;
        let binds = [w.into(), x.into(), g.into(), y.into(), (&params).into()];
        let d = self.dispatch_bound(self.fused_kernels(dtype).0, &binds, self.grid(n)?)?;
        keep.push(params);
        Ok(d)
    }

    /// Fused dispatch `act = silu(W_gate hn) * (W_up hn)`, `hn = rmsnorm(h) * g`
    /// (gemv_gate_up_silu_*); `n` rows of each matrix, `k` the unpadded length of `h`.
    #[allow(clippy::too_many_arguments)]
    pub(in crate::backend::gpu) fn gate_up_silu_dispatch<'w>(
        &self,
        dtype: Dtype,
        w_gate: impl Into<Bind<'w>>,
        w_up: impl Into<Bind<'w>>,
        h: &wgpu::Buffer,
        g: &wgpu::Buffer,
        act: &wgpu::Buffer,
        n: u64,
        k: u64,
        keep: &mut Vec<wgpu::Buffer>,
    ) -> Result<Dispatch> {
        let params = self.fused_params(n, k)?;
        let binds = [
            w_gate.into(),
            w_up.into(),
            h.into(),
            g.into(),
            act.into(),
            (&params).into(),
        ];
        let d = self.dispatch_bound(self.fused_kernels(dtype).1, &binds, self.grid(n)?)?;
        keep.push(params);
        Ok(d)
    }

    /// GEMV dispatch of kernel `name` (see [`Self::gemv_kernel`]).
    #[allow(clippy::too_many_arguments)]
    pub(in crate::backend::gpu) fn gemv_named<'w>(
        &self,
        name: &'static str,
        w: impl Into<Bind<'w>>,
        x: &wgpu::Buffer,
        res: Option<&wgpu::Buffer>,
        y: &wgpu::Buffer,
        n: u64,
        k: u64,
        keep: &mut Vec<wgpu::Buffer>,
    ) -> Result<Dispatch> {
        let params = self.uniform(&[
            u32_of(n, "n")?,
            u32_of(pad4(k) / 4, "k/4")?,
            res.is_some() as u32,
        ]);
        let dummy;
        let res = match res {
            Some(r) => r,
            None => {
                dummy = self.storage_zeroed("no residual", 16);
                keep.push(dummy.clone());
                &dummy
            }
        };
        let groups = self.grid(n)?;
        let binds = [w.into(), x.into(), res.into(), y.into(), (&params).into()];
        let d = self.dispatch_bound(name, &binds, groups)?;
        keep.push(params);
        Ok(d)
    }

    pub(in crate::backend::gpu) fn plan_gemv(
        &self,
        n: u64,
        k: u64,
        dtype: Dtype,
        inp: &Inputs,
    ) -> Result<Plan> {
        let w_bytes = matrix_bytes(&inp.buffers[0], n, k, dtype);
        let w = self.storage_init("W", &w_bytes);
        let x = self.storage_init("x", &matrix_bytes(&inp.buffers[1], 1, k, dtype));
        let y = self.storage_zeroed("y", n * dtype.size_bytes());
        let mut keep = vec![w.clone(), x.clone(), y.clone()];
        let d = self.gemv_dispatch(dtype, &w, &x, None, &y, n, k, &mut keep)?;
        // Further copies of the weights, read in turn, so they are not timed from L2.
        let mut more = Vec::new();
        for _ in 1..self.rotation_copies(w_bytes.len() as u64) {
            let w = self.storage_init("W copy", &w_bytes);
            keep.push(w.clone());
            more.push(vec![
                self.gemv_dispatch(dtype, &w, &x, None, &y, n, k, &mut keep)?,
            ]);
        }
        Ok(Plan {
            dispatches: vec![d],
            more,
            output: y,
            layout: OutputLayout::dense(dtype, n),
            buffers: keep,
        })
    }
}
