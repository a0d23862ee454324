//! Decode plans: one layer (`decode_step`) as a chain of GEMV, RMSNorm, attention and FFN
//! dispatches, and the whole model (`decode_token`): every layer with its own buffers, the
//! final norm, the LM head GEMV and an argmax.

use anyhow::Result;

use super::Plan;
use crate::backend::gpu::GpuBackend;
use crate::backend::gpu::device::Part;
use crate::backend::gpu::layout::{OutputLayout, matrix_bytes, pad4, u32_of};
use crate::backend::gpu::timing::Dispatch;
use crate::model::ModelShape;
use crate::reference::Inputs;
use crate::workload::{Dtype, Kernel, Workload};

/// One layer's weights and KV cache on the device. The five weight matrices live in one
/// buffer, each bound as a range of it: one allocation per layer, so where the driver places
/// it cannot split a layer's weights between placements of different speed.
struct LayerBuffers {
    attn_norm: wgpu::Buffer,
    k_cache: wgpu::Buffer,
    v_cache: wgpu::Buffer,
    mlp_norm: wgpu::Buffer,
    weights: wgpu::Buffer,
    /// Byte ranges of W_qkv, W_o, W_gate, W_up and W_down in `weights`.
    ranges: [(u64, u64); 5],
}

impl LayerBuffers {
    fn w(&self, i: usize) -> Part<'_> {
        let (offset, size) = self.ranges[i];
        Part {
            buffer: &self.weights,
            offset,
            size,
        }
    }
}

/// Activations of one layer, reused by every layer of a model.
struct Scratch {
    xn: wgpu::Buffer,
    qkv: wgpu::Buffer,
    attn: wgpu::Buffer,
    h1: wgpu::Buffer,
    hn: wgpu::Buffer,
    gate: wgpu::Buffer,
    up: wgpu::Buffer,
    act: wgpu::Buffer,
}

fn f32b(v: &[f32]) -> Vec<u8> {
    bytemuck::cast_slice::<f32, u8>(v).to_vec()
}

impl GpuBackend {
    /// Upload the nine layer buffers of decode_step's input order (`attn_norm` first).
    /// The matrices are stored as `f` (f32, or f16 for a whole model in f16); the norm gains
    /// and KV caches stay f32.
    fn upload_layer(
        &self,
        model: &ModelShape,
        b: &[Vec<f32>],
        f: Dtype,
        keep: &mut Vec<wgpu::Buffer>,
    ) -> LayerBuffers {
        let (h, ffn) = (model.hidden, model.ffn);
        let attn_w = model.q_heads * model.head_dim;
        let (weights, ranges) = self.storage_packed(
            "layer weights",
            &[
                &matrix_bytes(&b[1], model.qkv_width(), h, f),
                &matrix_bytes(&b[4], h, attn_w, f),
                &matrix_bytes(&b[6], ffn, h, f),
                &matrix_bytes(&b[7], ffn, h, f),
                &matrix_bytes(&b[8], h, ffn, f),
            ],
        );
        let l = LayerBuffers {
            attn_norm: self.storage_init("attn_norm", &f32b(&b[0])),
            k_cache: self.storage_init("K cache", &f32b(&b[2])),
            v_cache: self.storage_init("V cache", &f32b(&b[3])),
            mlp_norm: self.storage_init("mlp_norm", &f32b(&b[5])),
            weights,
            ranges: ranges.try_into().expect("five matrices"),
        };
        keep.extend([
            l.attn_norm.clone(),
            l.k_cache.clone(),
            l.v_cache.clone(),
            l.mlp_norm.clone(),
            l.weights.clone(),
        ]);
        l
    }

    /// Activations padded to a multiple of 4 and zero-filled, as the GEMVs read vec4s.
    fn scratch(&self, model: &ModelShape, keep: &mut Vec<wgpu::Buffer>) -> Scratch {
        let (h, ffn) = (model.hidden, model.ffn);
        let s = Scratch {
            xn: self.storage_zeroed("xn", pad4(h) * 4),
            qkv: self.storage_zeroed("qkv", pad4(model.qkv_width()) * 4),
            attn: self.storage_zeroed("attention out", pad4(model.q_heads * model.head_dim) * 4),
            h1: self.storage_zeroed("h1", pad4(h) * 4),
            hn: self.storage_zeroed("hn", pad4(h) * 4),
            gate: self.storage_zeroed("gate", pad4(ffn) * 4),
            up: self.storage_zeroed("up", pad4(ffn) * 4),
            act: self.storage_zeroed("act", pad4(ffn) * 4),
        };
        keep.extend([
            s.xn.clone(),
            s.qkv.clone(),
            s.attn.clone(),
            s.h1.clone(),
            s.hn.clone(),
            s.gate.clone(),
            s.up.clone(),
            s.act.clone(),
        ]);
        s
    }

    /// One layer for one token, `out = layer(x)`: 11 dispatches; `f` is how the layer's
    /// matrices are stored.
    #[allow(clippy::too_many_arguments)]
    fn layer_dispatches(
        &self,
        model: &ModelShape,
        context: u64,
        f: Dtype,
        l: &LayerBuffers,
        s: &Scratch,
        x: &wgpu::Buffer,
        out: &wgpu::Buffer,
        keep: &mut Vec<wgpu::Buffer>,
    ) -> Result<Vec<Dispatch>> {
        let (h, ffn) = (model.hidden, model.ffn);
        let attn_w = model.q_heads * model.head_dim;
        let qkv_w = model.qkv_width();
        let norm = Self::rmsnorm_params(1, h)?;
        let gemv = self.gemv_kernel(f, Dtype::F32);
        let mut ds = Vec::new();
        ds.push(self.rows_dispatch("rmsnorm_f32", &[x, &l.attn_norm, &s.xn], 1, &norm, keep)?);
        ds.push(self.gemv_named(gemv, l.w(0), &s.xn, None, &s.qkv, qkv_w, h, keep)?);
        let kv_params = self.uniform(&[
            u32_of(model.q_heads, "q_heads")?,
            u32_of(model.kv_heads, "kv_heads")?,
            u32_of(model.head_dim, "head_dim")?,
            u32_of(context, "context")?,
        ]);
        let kv_groups = u32_of((model.kv_heads * model.head_dim).div_ceil(64), "kv width")?;
        ds.push(self.dispatch(
            "kv_append",
            &[&s.qkv, &l.k_cache, &l.v_cache, &kv_params],
            (kv_groups, 1),
        )?);
        keep.push(kv_params);
        ds.extend(self.attention_dispatches(
            &s.qkv,
            &l.k_cache,
            &l.v_cache,
            &s.attn,
            context,
            model.q_heads,
            model.kv_heads,
            model.head_dim,
            keep,
        )?);
        ds.push(self.gemv_named(gemv, l.w(1), &s.attn, Some(x), &s.h1, h, attn_w, keep)?);
        ds.push(self.rows_dispatch("rmsnorm_f32", &[&s.h1, &l.mlp_norm, &s.hn], 1, &norm, keep)?);
        ds.push(self.gemv_named(gemv, l.w(2), &s.hn, None, &s.gate, ffn, h, keep)?);
        ds.push(self.gemv_named(gemv, l.w(3), &s.hn, None, &s.up, ffn, h, keep)?);
        let silu = [u32_of(ffn, "ffn")?];
        ds.push(self.rows_dispatch(
            "silu_mul",
            &[&s.gate, &s.up, &s.act],
            ffn.div_ceil(256),
            &silu,
            keep,
        )?);
        ds.push(self.gemv_named(gemv, l.w(4), &s.act, Some(&s.h1), out, h, ffn, keep)?);
        Ok(ds)
    }

    pub(in crate::backend::gpu) fn plan_decode_step(
        &self,
        model: &ModelShape,
        context: u64,
        inp: &Inputs,
    ) -> Result<Plan> {
        let h = model.hidden;
        let b = &inp.buffers;
        let mut keep = Vec::new();
        let x = self.storage_init("x", &matrix_bytes(&b[0], 1, h, Dtype::F32));
        let out = self.storage_zeroed("out", pad4(h) * 4);
        keep.extend([x.clone(), out.clone()]);
        let scratch = self.scratch(model, &mut keep);
        // Copies of the layer, read in turn, so a small layer is not timed from L2.
        let layer_bytes = 4 * b[1..].iter().map(|v| v.len() as u64).sum::<u64>();
        let mut sets = Vec::new();
        for _ in 0..self.rotation_copies(layer_bytes) {
            let l = self.upload_layer(model, &b[1..], Dtype::F32, &mut keep);
            let (f, s) = (Dtype::F32, &scratch);
            sets.push(self.layer_dispatches(model, context, f, &l, s, &x, &out, &mut keep)?);
        }
        let ds = sets.remove(0);
        Ok(Plan {
            dispatches: ds,
            more: sets,
            output: out,
            layout: OutputLayout::dense(Dtype::F32, h),
            buffers: keep,
        })
    }

    /// The whole model for one token. Each layer's weights are generated (from the
    /// reference's seed) and uploaded one layer at a time, so host memory holds one layer.
    /// In f16 the matrices (layers and LM head) are f16; the KV caches, norms and activations
    /// stay f32 (the attention kernel is f32), so an f16 row reads a little more than its
    /// byte count, which counts the KV cache in f16.
    /// The hidden state goes from `x` through the layers in two buffers, in turn; the argmax
    /// writes the chosen token (as f32) after the logits.
    pub(in crate::backend::gpu) fn plan_decode_token(
        &self,
        w: &Workload,
        inp: &Inputs,
    ) -> Result<Plan> {
        let Kernel::DecodeToken { model, context } = &w.kernel else {
            anyhow::bail!("plan_decode_token needs a decode_token workload");
        };
        let (h, vocab) = (model.hidden, model.vocab);
        let b = &inp.buffers;
        let mut keep = Vec::new();
        let x = self.storage_init("x", &matrix_bytes(&b[0], 1, h, Dtype::F32));
        let hidden = [
            self.storage_zeroed("hidden a", pad4(h) * 4),
            self.storage_zeroed("hidden b", pad4(h) * 4),
        ];
        let final_norm = self.storage_init("final_norm", &f32b(&b[1]));
        let head = crate::reference::lm_head(w);
        // Matrices in the workload's dtype; norms, KV caches and activations stay f32.
        let f = w.dtype;
        let lm_head = self.storage_init("LM head", &matrix_bytes(&head, vocab, h, f));
        drop(head);
        let xn = self.storage_zeroed("final xn", pad4(h) * 4);
        let logits = self.storage_zeroed("logits", pad4(vocab + 1) * 4);
        keep.extend([
            x.clone(),
            hidden[0].clone(),
            hidden[1].clone(),
            final_norm.clone(),
            lm_head.clone(),
            xn.clone(),
            logits.clone(),
        ]);
        let scratch = self.scratch(model, &mut keep);
        let mut ds = Vec::new();
        let mut input = &x;
        for l in 0..model.layers {
            let layer =
                self.upload_layer(model, &crate::reference::token_layer(w, l), f, &mut keep);
            let out = &hidden[(l % 2) as usize];
            ds.extend(
                self.layer_dispatches(model, *context, f, &layer, &scratch, input, out, &mut keep)?,
            );
            input = out;
        }
        let norm = Self::rmsnorm_params(1, h)?;
        ds.push(self.rows_dispatch(
            "rmsnorm_f32",
            &[input, &final_norm, &xn],
            1,
            &norm,
            &mut keep,
        )?);
        ds.push(self.gemv_named(
            self.gemv_kernel(f, Dtype::F32),
            &lm_head,
            &xn,
            None,
            &logits,
            vocab,
            h,
            &mut keep,
        )?);
        let n = [u32_of(vocab, "vocab")?];
        let p = self.uniform(&n);
        ds.push(self.dispatch("argmax_f32", &[&logits, &p], (1, 1))?);
        keep.push(p);
        Ok(Plan {
            dispatches: ds,
            more: Vec::new(),
            output: logits,
            layout: OutputLayout::dense(Dtype::F32, vocab + 1),
            buffers: keep,
        })
    }
}
