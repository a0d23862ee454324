//! Decode-attention plan: the split pass and the merge pass, in f32 or f16 (f16 query, KV
//! cache and output; f32 arithmetic and f32 partials between the passes).

use anyhow::Result;

use super::Plan;
use super::rowwise::{by_dtype, vector_bytes};
use crate::backend::gpu::layout::{OutputLayout, u32_of};
use crate::backend::gpu::timing::Dispatch;
use crate::backend::gpu::{ATTENTION_CHUNK, GpuBackend};
use crate::reference::Inputs;
use crate::workload::Dtype;

/// Query heads per KV head that attention_decode_split_f16_gqa handles (its MAX_GROUP).
const GQA_MAX_GROUP: u64 = 8;

/// Whether attention_decode_split_f16_gqa can run these heads: f16, head_dim a multiple of 4,
/// at most [`GQA_MAX_GROUP`] query heads per KV head.
pub(in crate::backend::gpu) fn gqa_applies(
    q_heads: u64,
    kv_heads: u64,
    head_dim: u64,
    dtype: Dtype,
) -> bool {
    dtype == Dtype::F16
        && kv_heads > 0
        && head_dim.is_multiple_of(4)
        && q_heads / kv_heads <= GQA_MAX_GROUP
}

impl GpuBackend {
    /// The two attention passes reading `q` (first `q_heads * head_dim` values), the caches,
    /// and writing `out`; `dtype` is how `q`, the caches and `out` are stored.
    #[allow(clippy::too_many_arguments)]
    pub(in crate::backend::gpu) fn attention_dispatches(
        &self,
        q: &wgpu::Buffer,
        k: &wgpu::Buffer,
        v: &wgpu::Buffer,
        out: &wgpu::Buffer,
        dtype: Dtype,
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
        let d1 = if self.attention_gqa && gqa_applies(q_heads, kv_heads, head_dim, dtype) {
            // One workgroup per (split, KV head) for every query head of its group.
            self.dispatch(
                "attention_decode_split_f16_gqa",
                &[q, k, v, &part_o, &part_ml, &params],
                (u32_of(splits, "splits")?, u32_of(kv_heads, "kv_heads")?),
            )?
        } else {
            self.dispatch(
                by_dtype(
                    dtype,
                    "attention_decode_split",
                    "attention_decode_split_f16",
                ),
                &[q, k, v, &part_o, &part_ml, &params],
                (u32_of(splits, "splits")?, u32_of(q_heads, "q_heads")?),
            )?
        };
        let d2 = self.dispatch(
            by_dtype(
                dtype,
                "attention_decode_reduce",
                "attention_decode_reduce_f16",
            ),
            &[&part_o, &part_ml, out, &params],
            (u32_of(q_heads, "q_heads")?, 1),
        )?;
        keep.extend([part_o, part_ml, params]);
        Ok(vec![d1, d2])
    }

    pub(in crate::backend::gpu) fn plan_attention(
        &self,
        a: &crate::workload::AttentionShape,
        dtype: Dtype,
        inp: &Inputs,
    ) -> Result<Plan> {
        let q = self.storage_init("q", &vector_bytes(&inp.buffers[0], dtype));
        let k_bytes = vector_bytes(&inp.buffers[1], dtype);
        let v_bytes = vector_bytes(&inp.buffers[2], dtype);
        let k = self.storage_init("K", &k_bytes);
        let v = self.storage_init("V", &v_bytes);
        let out = self.storage_zeroed("out", a.q_heads * a.head_dim * dtype.size_bytes());
        let mut keep = vec![q.clone(), k.clone(), v.clone(), out.clone()];
        let dispatches = self.attention_dispatches(
            &q, &k, &v, &out, dtype, a.context, a.q_heads, a.kv_heads, a.head_dim, &mut keep,
        )?;
        // Further copies of the caches, read in turn, so they are not timed from L2.
        let mut more = Vec::new();
        for _ in 1..self.rotation_copies((k_bytes.len() + v_bytes.len()) as u64) {
            let k = self.storage_init("K copy", &k_bytes);
            let v = self.storage_init("V copy", &v_bytes);
            keep.extend([k.clone(), v.clone()]);
            more.push(self.attention_dispatches(
                &q, &k, &v, &out, dtype, a.context, a.q_heads, a.kv_heads, a.head_dim, &mut keep,
            )?);
        }
        Ok(Plan {
            dispatches,
            more,
            output: out,
            layout: OutputLayout::dense(dtype, a.q_heads * a.head_dim),
            buffers: keep,
        })
    }
}
