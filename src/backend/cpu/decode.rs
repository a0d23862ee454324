//! One Llama-style decode layer for one token, built from the GEMV, RMSNorm and attention parts.

use super::attention::{AttentionElem, AttentionPlan};
use super::detect::copies_to_defeat_cache;
use super::elem::to_elem;
use super::exec::{CpuKernel, Ctx, Rotation, par_chunks, task_len};
use super::gemv::{GemvElem, gemv};
use super::rowwise::rmsnorm_rows;
use crate::model::ModelShape;
use crate::workload::AttentionShape;

/// One layer's weights and KV cache, in the order of [`crate::reference::inputs`].
/// The norm gains stay f32 (a few KiB); matrices and caches are stored as `T`.
#[derive(Clone)]
pub(super) struct LayerWeights<T> {
    pub(super) attn_norm: Vec<f32>,
    pub(super) w_qkv: Vec<T>,
    pub(super) k_cache: Vec<T>,
    pub(super) v_cache: Vec<T>,
    pub(super) w_o: Vec<T>,
    pub(super) mlp_norm: Vec<f32>,
    pub(super) w_gate: Vec<T>,
    pub(super) w_up: Vec<T>,
    pub(super) w_down: Vec<T>,
}

/// One Llama-style decode layer for one token; weights and caches rotated (module doc).
pub(super) struct DecodeStepKernel<T> {
    pub(super) x: Vec<f32>,
    pub(super) layers: Rotation<LayerWeights<T>>,
    pub(super) model: ModelShape,
    pub(super) context: usize,
    pub(super) attention: AttentionPlan,
    pub(super) xn: Vec<f32>,
    pub(super) qkv: Vec<f32>,
    pub(super) attn: Vec<f32>,
    pub(super) o: Vec<f32>,
    pub(super) hn: Vec<f32>,
    pub(super) act: Vec<f32>,
    pub(super) out: Vec<f32>,
}

impl<T: GemvElem + AttentionElem> DecodeStepKernel<T> {
    pub(super) fn new(
        b: &[Vec<f32>],
        model: &ModelShape,
        context: usize,
        threads: usize,
        llc: usize,
    ) -> Self {
        let layer = LayerWeights {
            attn_norm: b[1].clone(),
            w_qkv: to_elem(&b[2]),
            k_cache: to_elem(&b[3]),
            v_cache: to_elem(&b[4]),
            w_o: to_elem(&b[5]),
            mlp_norm: b[6].clone(),
            w_gate: to_elem(&b[7]),
            w_up: to_elem(&b[8]),
            w_down: to_elem(&b[9]),
        };
        let bytes = std::mem::size_of::<T>() * b[1..].iter().map(Vec::len).sum::<usize>();
        let h = model.hidden as usize;
        let attn_width = (model.q_heads * model.head_dim) as usize;
        let shape = AttentionShape {
            context: context as u64,
            q_heads: model.q_heads,
            kv_heads: model.kv_heads,
            head_dim: model.head_dim,
        };
        DecodeStepKernel {
            x: b[0].clone(),
            layers: Rotation::new(layer, copies_to_defeat_cache(bytes, llc)),
            model: model.clone(),
            context,
            attention: AttentionPlan::new(shape, threads),
            xn: vec![0.0; h],
            qkv: vec![0.0; model.qkv_width() as usize],
            attn: vec![0.0; attn_width],
            o: vec![0.0; h],
            hn: vec![0.0; h],
            act: vec![0.0; model.ffn as usize],
            out: vec![0.0; h],
        }
    }
}

impl<T: GemvElem + AttentionElem> CpuKernel for DecodeStepKernel<T> {
    fn run(&mut self, ctx: Ctx<'_>) {
        let lw = self.layers.advance();
        let hd = self.model.head_dim as usize;
        let q_width = self.model.q_heads as usize * hd;
        let kv_width = self.model.kv_heads as usize * hd;

        rmsnorm_rows(ctx.isa, &self.x, &lw.attn_norm, &mut self.xn);
        gemv(ctx, &lw.w_qkv, &self.xn, None, &mut self.qkv);

        // The new token's K and V go to position context - 1 of every KV head.
        let (q, kv) = self.qkv.split_at(q_width);
        let (k_new, v_new) = kv.split_at(kv_width);
        let last = self.context - 1;
        for head in 0..self.model.kv_heads as usize {
            let at = (head * self.context + last) * hd;
            let new = head * hd..(head + 1) * hd;
            for (dst, src) in [
                (&mut lw.k_cache, &k_new[new.clone()]),
                (&mut lw.v_cache, &v_new[new]),
            ] {
                for (d, s) in dst[at..at + hd].iter_mut().zip(src) {
                    *d = T::from_f32(*s);
                }
            }
        }
        self.attention
            .run(ctx, q, &lw.k_cache, &lw.v_cache, &mut self.attn);

        gemv(ctx, &lw.w_o, &self.attn, Some(&self.x), &mut self.o);
        rmsnorm_rows(ctx.isa, &self.o, &lw.mlp_norm, &mut self.hn);

        let (w_gate, w_up, hn) = (&lw.w_gate, &lw.w_up, &self.hn);
        let h = hn.len();
        // Whole pairs of rows per task (gate_up_rows' unit), at least 16 rows.
        let rows = task_len(self.act.len().div_ceil(2), ctx.threads, 8, 2);
        par_chunks(ctx, &mut self.act, rows, |row0, act| {
            let r = row0 * h..(row0 + act.len()) * h;
            T::gate_up_rows(ctx.isa, &w_gate[r.clone()], &w_up[r], hn, act);
        });
        gemv(ctx, &lw.w_down, &self.act, Some(&self.o), &mut self.out);
    }

    fn output(&self) -> Vec<f32> {
        self.out.clone()
    }
}
