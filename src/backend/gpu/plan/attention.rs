//! Decode-attention plan: the split pass and the merge pass.

use anyhow::Result;

use super::Plan;
use crate::backend::gpu::layout::{OutputLayout, u32_of};
use crate::backend::gpu::timing::Dispatch;
use crate::backend::gpu::{ATTENTION_CHUNK, GpuBackend};
use crate::reference::Inputs;
use crate::workload::Dtype;

impl GpuBackend {
    /// The two attention passes reading `q` (first `q_heads * head_dim` floats), the caches,
    /// and writing `out`.
    #[allow(clippy::too_many_arguments)]
    pub(in crate::backend::gpu) fn attention_dispatches(
        &self,
        q: &wgpu::Buffer,
        k: &wgpu::Buffer,
        v: &wgpu::Buffer,
        out: &wgpu::Buffer,
        context: u64,
        q_heads: u64,
        kv_heads: u64,
        head_dim: u64,
        keep: &mut Vec<wgpu::Buffer>,
    ) -> Result<Vec<Dispatch>> {
        let splits = context.div_ceil(ATTENTION_CHUNK);
        let part_o = self.storage_zeroed("partial o", q_heads * splits * head_dim * 4);
        let part_ml = self.storage_zeroed("partial m, l", q_heads * splits * 8);
        let scale = 1.0 / (head_dim as f32).sqrt();
        let params = self.uniform(&[
            u32_of(context, "context")?,
            u32_of(q_heads, "q_heads")?,
            u32_of(q_heads / kv_heads, "group")?,
            u32_of(head_dim, "head_dim")?,
            u32_of(splits, "splits")?,
            scale.to_bits(),
        ]);
        let d1 = self.dispatch(
            "attention_decode_split",
            &[q, k, v, &part_o, &part_ml, &params],
            (u32_of(splits, "splits")?, u32_of(q_heads, "q_heads")?),
        )?;
        let d2 = self.dispatch(
            "attention_decode_reduce",
            &[&part_o, &part_ml, out, &params],
            (u32_of(q_heads, "q_heads")?, 1),
        )?;
        keep.extend([part_o, part_ml, params]);
        Ok(vec![d1, d2])
    }

    pub(in crate::backend::gpu) fn plan_attention(
        &self,
        a: &crate::workload::AttentionShape,
        inp: &Inputs,
    ) -> Result<Plan> {
        let q = self.storage_init("q", bytemuck::cast_slice(&inp.buffers[0]));
        let k = self.storage_init("K", bytemuck::cast_slice(&inp.buffers[1]));
        let v = self.storage_init("V", bytemuck::cast_slice(&inp.buffers[2]));
        let out = self.storage_zeroed("out", a.q_heads * a.head_dim * 4);
        let mut keep = vec![q.clone(), k.clone(), v.clone(), out.clone()];
        let dispatches = self.attention_dispatches(
            &q, &k, &v, &out, a.context, a.q_heads, a.kv_heads, a.head_dim, &mut keep,
        )?;
        // Further copies of the caches, read in turn, so they are not timed from L2.
        let mut more = Vec::new();
        for _ in 1..self.rotation_copies(2 * 4 * inp.buffers[1].len() as u64) {
            let k = self.storage_init("K copy", bytemuck::cast_slice(&inp.buffers[1]));
            let v = self.storage_init("V copy", bytemuck::cast_slice(&inp.buffers[2]));
            keep.extend([k.clone(), v.clone()]);
            more.push(self.attention_dispatches(
                &q, &k, &v, &out, a.context, a.q_heads, a.kv_heads, a.head_dim, &mut keep,
            )?);
        }
        Ok(Plan {
            dispatches,
            more,
            output: out,
            layout: OutputLayout::dense(Dtype::F32, a.q_heads * a.head_dim),
            buffers: keep,
        })
    }
}
