//! STREAM triad plan.

use anyhow::Result;

use super::Plan;
use crate::backend::gpu::GpuBackend;
use crate::backend::gpu::layout::{OutputLayout, pad4, u32_of};
use crate::reference::{Inputs, TRIAD_SCALAR};
use crate::workload::Dtype;

impl GpuBackend {
    pub(in crate::backend::gpu) fn plan_triad(&self, n: u64, inp: &Inputs) -> Result<Plan> {
        let b = self.storage_init("b", bytemuck::cast_slice(&inp.buffers[0]));
        let c = self.storage_init("c", bytemuck::cast_slice(&inp.buffers[1]));
        let a = self.storage_zeroed("a", pad4(n) * 4);
        let n4 = pad4(n) / 4;
        let params = self.uniform(&[u32_of(n4, "n/4")?, TRIAD_SCALAR.to_bits()]);
        let groups = self.grid(n4.div_ceil(256))?;
        let d = self.dispatch("stream_triad", &[&b, &c, &a, &params], groups)?;
        Ok(Plan {
            dispatches: vec![d],
            more: Vec::new(),
            output: a.clone(),
            layout: OutputLayout::dense(Dtype::F32, n),
            buffers: vec![a, b, c, params],
        })
    }
}
