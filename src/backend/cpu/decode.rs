//! Llama-style decode for one token: one layer (`decode_step`, built from the GEMV, RMSNorm and
//! attention parts) and the whole model (`decode_token`: every layer with its own weights, the
//! final norm, the LM head and the argmax).

use rayon::prelude::*;

use super::attention::{AttentionElem, AttentionPlan};
use super::detect::copies_to_defeat_cache;
use super::elem::to_elem;
use super::exec::{CpuKernel, Ctx, Rotation, par_chunks, task_len};
use super::gemv::{GemvElem, gemv};
use super::rowwise::rmsnorm_rows;
use crate::model::ModelShape;
use crate::workload::{AttentionShape, Workload};

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

impl<T: GemvElem> LayerWeights<T> {
    /// From the nine layer buffers of decode_step's input order (`attn_norm` first).
    fn new(b: &[Vec<f32>]) -> Self {
        LayerWeights {
            attn_norm: b[0].clone(),
            w_qkv: to_elem(&b[1]),
            k_cache: to_elem(&b[2]),
            v_cache: to_elem(&b[3]),
            w_o: to_elem(&b[4]),
            mlp_norm: b[5].clone(),
            w_gate: to_elem(&b[6]),
            w_up: to_elem(&b[7]),
            w_down: to_elem(&b[8]),
        }
    }
}

/// The activations of one layer's forward pass and its attention plan, reused by every layer.
pub(super) struct LayerScratch {
    pub(super) attention: AttentionPlan,
    pub(super) xn: Vec<f32>,
    pub(super) qkv: Vec<f32>,
    pub(super) attn: Vec<f32>,
    pub(super) o: Vec<f32>,
    pub(super) hn: Vec<f32>,
    pub(super) act: Vec<f32>,
}

impl LayerScratch {
    fn new(model: &ModelShape, context: usize, threads: usize) -> Self {
        let h = model.hidden as usize;
        let shape = AttentionShape {
            context: context as u64,
            q_heads: model.q_heads,
            kv_heads: model.kv_heads,
            head_dim: model.head_dim,
        };
        LayerScratch {
            attention: AttentionPlan::new(shape, threads),
            xn: vec![0.0; h],
            qkv: vec![0.0; model.qkv_width() as usize],
            attn: vec![0.0; (model.q_heads * model.head_dim) as usize],
            o: vec![0.0; h],
            hn: vec![0.0; h],
            act: vec![0.0; model.ffn as usize],
        }
    }
}

/// One layer for one token: `out = layer(x)`; the new token's K and V are written at cache
/// position `context - 1`.
fn layer_forward<T: GemvElem + AttentionElem>(
    ctx: Ctx<'_>,
    model: &ModelShape,
    context: usize,
    lw: &mut LayerWeights<T>,
    s: &mut LayerScratch,
    x: &[f32],
    out: &mut [f32],
) {
    let hd = model.head_dim as usize;
    let q_width = model.q_heads as usize * hd;
    let kv_width = model.kv_heads as usize * hd;

    rmsnorm_rows(ctx.isa, x, &lw.attn_norm, &mut s.xn);
    gemv(ctx, &lw.w_qkv, &s.xn, None, &mut s.qkv);

    // The new token's K and V go to position context - 1 of every KV head.
    let (q, kv) = s.qkv.split_at(q_width);
    let (k_new, v_new) = kv.split_at(kv_width);
    let last = context - 1;
    for head in 0..model.kv_heads as usize {
        let at = (head * context + last) * hd;
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
    s.attention
        .run(ctx, q, &lw.k_cache, &lw.v_cache, &mut s.attn);

    gemv(ctx, &lw.w_o, &s.attn, Some(x), &mut s.o);
    rmsnorm_rows(ctx.isa, &s.o, &lw.mlp_norm, &mut s.hn);

    let (w_gate, w_up, hn) = (&lw.w_gate, &lw.w_up, &s.hn);
    let h = hn.len();
    // Whole pairs of rows per task (gate_up_rows' unit), at least 16 rows.
    let rows = task_len(s.act.len().div_ceil(2), ctx.threads, 8, 2);
    par_chunks(ctx, &mut s.act, rows, |row0, act| {
        let r = row0 * h..(row0 + act.len()) * h;
        T::gate_up_rows(ctx.isa, &w_gate[r.clone()], &w_up[r], hn, act);
    });
    gemv(ctx, &lw.w_down, &s.act, Some(&s.o), out);
}

/// One Llama-style decode layer for one token; weights and caches rotated (module doc).
pub(super) struct DecodeStepKernel<T> {
    pub(super) x: Vec<f32>,
    pub(super) layers: Rotation<LayerWeights<T>>,
    pub(super) model: ModelShape,
    pub(super) context: usize,
    pub(super) scratch: LayerScratch,
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
        let layer = LayerWeights::new(&b[1..]);
        let bytes = std::mem::size_of::<T>() * b[1..].iter().map(Vec::len).sum::<usize>();
        DecodeStepKernel {
            x: b[0].clone(),
            layers: Rotation::new(layer, copies_to_defeat_cache(bytes, llc)),
            model: model.clone(),
            context,
            scratch: LayerScratch::new(model, context, threads),
            out: vec![0.0; model.hidden as usize],
        }
    }
}

impl<T: GemvElem + AttentionElem> CpuKernel for DecodeStepKernel<T> {
    fn copies(&self) -> usize {
        self.layers.copies.len()
    }

    fn run(&mut self, ctx: Ctx<'_>) {
        let lw = self.layers.advance();
        layer_forward(
            ctx,
            &self.model,
            self.context,
            lw,
            &mut self.scratch,
            &self.x,
            &mut self.out,
        );
    }

    fn output(&self) -> Vec<f32> {
        self.out.clone()
    }
}

/// One token through the whole model: each layer's own weights and KV cache in turn, the final
/// RMSNorm, the LM head over the whole vocabulary and the argmax. The model (gigabytes) is far
/// larger than any cache, so it is not rotated; it is built once, here, from the reference's
/// seeded generator, a layer per worker at a time.
pub(super) struct DecodeTokenKernel<T> {
    x: Vec<f32>,
    layers: Vec<LayerWeights<T>>,
    final_norm: Vec<f32>,
    lm_head: Vec<T>,
    model: ModelShape,
    context: usize,
    scratch: LayerScratch,
    /// The hidden state, in and out of each layer in turn.
    hidden: [Vec<f32>; 2],
    xn: Vec<f32>,
    logits: Vec<f32>,
    token: usize,
}

impl<T: GemvElem + AttentionElem> DecodeTokenKernel<T> {
    pub(super) fn new(ctx: Ctx<'_>, w: &Workload, b: &[Vec<f32>]) -> Self {
        let crate::workload::Kernel::DecodeToken { model, context } = &w.kernel else {
            unreachable!("DecodeTokenKernel is built for decode_token workloads only")
        };
        let context = *context as usize;
        let layers = ctx.pool.install(|| {
            (0..model.layers)
                .into_par_iter()
                .map(|l| LayerWeights::new(&crate::reference::token_layer(w, l)))
                .collect()
        });
        let h = model.hidden as usize;
        DecodeTokenKernel {
            x: b[0].clone(),
            layers,
            final_norm: b[1].clone(),
            lm_head: to_elem(&crate::reference::lm_head(w)),
            model: model.clone(),
            context,
            scratch: LayerScratch::new(model, context, ctx.threads),
            hidden: [vec![0.0; h], vec![0.0; h]],
            xn: vec![0.0; h],
            logits: vec![0.0; model.vocab as usize],
            token: 0,
        }
    }
}

impl<T: GemvElem + AttentionElem> CpuKernel for DecodeTokenKernel<T> {
    fn run(&mut self, ctx: Ctx<'_>) {
        self.hidden[0].copy_from_slice(&self.x);
        for lw in &mut self.layers {
            let [x, out] = &mut self.hidden;
            layer_forward(
                ctx,
                &self.model,
                self.context,
                lw,
                &mut self.scratch,
                x,
                out,
            );
            self.hidden.swap(0, 1);
        }
        rmsnorm_rows(ctx.isa, &self.hidden[0], &self.final_norm, &mut self.xn);
        gemv(ctx, &self.lm_head, &self.xn, None, &mut self.logits);
        self.token = argmax(&self.logits);
    }

    /// The logits, then the chosen token as a number.
    fn output(&self) -> Vec<f32> {
        let mut v = self.logits.clone();
        v.push(self.token as f32);
        v
    }
}

/// Index of the first largest value (0 for an empty slice; NaN never wins).
fn argmax(v: &[f32]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}
