//! Decode plans: one layer (`decode_step`) as a chain of GEMV, RMSNorm, attention and FFN
//! dispatches, and the whole model (`decode_token`): every layer with its own buffers, the
//! final norm, the LM head GEMV and an argmax. In f16 every buffer is f16 (weights, norm
//! gains, KV caches, activations and the residual stream); the kernels accumulate in f32.
//! With `decode_fused` (`ACCELBENCH_DECODE=fused`) a layer is 7 dispatches instead of 11: each
//! RMSNorm is computed inside the kernel that reads its output (gemv_norm_*: RMSNorm + QKV GEMV;
//! gemv_gate_up_silu_*: RMSNorm + gate and up GEMVs + SiLU), and decode_token's final norm and
//! LM head are one gemv_norm_* dispatch.

use anyhow::Result;

use super::Plan;
use super::rowwise::{by_dtype, vector_bytes};
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

/// Activations of one layer, reused by every layer of a model, in the layer's dtype.
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

impl GpuBackend {
    /// Upload the nine layer buffers of decode_step's input order (`attn_norm` first).
    /// Everything is stored as `f`: matrices, norm gains and KV caches.
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
            attn_norm: self.storage_init("attn_norm", &vector_bytes(&b[0], f)),
            k_cache: self.storage_init("K cache", &vector_bytes(&b[2], f)),
            v_cache: self.storage_init("V cache", &vector_bytes(&b[3], f)),
            mlp_norm: self.storage_init("mlp_norm", &vector_bytes(&b[5], f)),
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

    /// Activations stored as `f`, padded to a multiple of 4 and zero-filled, as the GEMVs
    /// read vec4s.
    fn scratch(&self, model: &ModelShape, f: Dtype, keep: &mut Vec<wgpu::Buffer>) -> Scratch {
        let (h, ffn) = (model.hidden, model.ffn);
        let e = f.size_bytes();
        let s = Scratch {
            xn: self.storage_zeroed("xn", pad4(h) * e),
            qkv: self.storage_zeroed("qkv", pad4(model.qkv_width()) * e),
            attn: self.storage_zeroed("attention out", pad4(model.q_heads * model.head_dim) * e),
            h1: self.storage_zeroed("h1", pad4(h) * e),
            hn: self.storage_zeroed("hn", pad4(h) * e),
            gate: self.storage_zeroed("gate", pad4(ffn) * e),
            up: self.storage_zeroed("up", pad4(ffn) * e),
            act: self.storage_zeroed("act", pad4(ffn) * e),
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

    /// One layer for one token, `out = layer(x)`: 11 dispatches, or 7 with `decode_fused`
    /// (each RMSNorm computed inside the GEMV that reads its output, the gate and up GEMVs and
    /// the SiLU in one kernel); `f` is how the layer's buffers, `x`, `out` and the scratch
    /// activations are stored.
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
        let gemv = self.gemv_kernel(f);
        let rmsnorm = by_dtype(f, "rmsnorm_f32", "rmsnorm_f16");
        let mut ds = Vec::new();
        if self.decode_fused {
            ds.push(self.gemv_norm_dispatch(f, l.w(0), x, &l.attn_norm, &s.qkv, qkv_w, h, keep)?);
        } else {
            ds.push(self.rows_dispatch(rmsnorm, &[x, &l.attn_norm, &s.xn], 1, &norm, keep)?);
            ds.push(self.gemv_named(gemv, l.w(0), &s.xn, None, &s.qkv, qkv_w, h, keep)?);
        }
        let kv_params = self.uniform(&[
            u32_of(model.q_heads, "q_heads")?,
            u32_of(model.kv_heads, "kv_heads")?,
            u32_of(model.head_dim, "head_dim")?,
            u32_of(context, "context")?,
        ]);
        let kv_groups = u32_of((model.kv_heads * model.head_dim).div_ceil(64), "kv width")?;
        ds.push(self.dispatch(
            by_dtype(f, "kv_append", "kv_append_f16"),
            &[&s.qkv, &l.k_cache, &l.v_cache, &kv_params],
            (kv_groups, 1),
        )?);
        keep.push(kv_params);
        ds.extend(self.attention_dispatches(
            &s.qkv,
            &l.k_cache,
            &l.v_cache,
            &s.attn,
            f,
            context,
            model.q_heads,
            model.kv_heads,
            model.head_dim,
            keep,
        )?);
        ds.push(self.gemv_named(gemv, l.w(1), &s.attn, Some(x), &s.h1, h, attn_w, keep)?);
        if self.decode_fused {
            let (gate, up) = (l.w(2), l.w(3));
            let (hn, act) = (&l.mlp_norm, &s.act);
            ds.push(self.gate_up_silu_dispatch(f, gate, up, &s.h1, hn, act, ffn, h, keep)?);
        } else {
            ds.push(self.rows_dispatch(rmsnorm, &[&s.h1, &l.mlp_norm, &s.hn], 1, &norm, keep)?);
            ds.push(self.gemv_named(gemv, l.w(2), &s.hn, None, &s.gate, ffn, h, keep)?);
            ds.push(self.gemv_named(gemv, l.w(3), &s.hn, None, &s.up, ffn, h, keep)?);
            let silu = [u32_of(ffn, "ffn")?];
            ds.push(self.rows_dispatch(
                by_dtype(f, "silu_mul", "silu_mul_f16"),
                &[&s.gate, &s.up, &s.act],
                ffn.div_ceil(256),
                &silu,
                keep,
            )?);
        }
        ds.push(self.gemv_named(gemv, l.w(4), &s.act, Some(&s.h1), out, h, ffn, keep)?);
        Ok(ds)
    }

    pub(in crate::backend::gpu) fn plan_decode_step(
        &self,
        model: &ModelShape,
        context: u64,
        f: Dtype,
        inp: &Inputs,
    ) -> Result<Plan> {
        let h = model.hidden;
        let b = &inp.buffers;
        let mut keep = Vec::new();
        let x = self.storage_init("x", &matrix_bytes(&b[0], 1, h, f));
        let out = self.storage_zeroed("out", pad4(h) * f.size_bytes());
        keep.extend([x.clone(), out.clone()]);
        let scratch = self.scratch(model, f, &mut keep);
        // Copies of the layer, read in turn, so a small layer is not timed from L2.
        let layer_bytes = f.size_bytes() * b[1..].iter().map(|v| v.len() as u64).sum::<u64>();
        let mut sets = Vec::new();
        for _ in 0..self.rotation_copies(layer_bytes) {
            let l = self.upload_layer(model, &b[1..], f, &mut keep);
            let s = &scratch;
            sets.push(self.layer_dispatches(model, context, f, &l, s, &x, &out, &mut keep)?);
        }
        let ds = sets.remove(0);
        Ok(Plan {
            dispatches: ds,
            more: sets,
            output: out,
            layout: OutputLayout::dense(f, h),
            buffers: keep,
        })
    }

    /// The whole model for one token. Each layer's weights are generated (from the
    /// reference's seed) and uploaded one layer at a time, so host memory holds one layer.
    /// In f16 every buffer up to the logits is f16 (matrices, norms, KV caches, activations);
    /// `argmax_f16` widens the logits into an f32 output. The hidden state goes from `x`
    /// through the layers in two buffers, in turn; the argmax writes the chosen token (as f32)
    /// after the logits.
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
        let f = w.dtype;
        let e = f.size_bytes();
        let x = self.storage_init("x", &matrix_bytes(&b[0], 1, h, f));
        let hidden = [
            self.storage_zeroed("hidden a", pad4(h) * e),
            self.storage_zeroed("hidden b", pad4(h) * e),
        ];
        let final_norm = self.storage_init("final_norm", &vector_bytes(&b[1], f));
        let head = crate::reference::lm_head(w);
        let lm_head = self.storage_init("LM head", &matrix_bytes(&head, vocab, h, f));
        drop(head);
        let xn = self.storage_zeroed("final xn", pad4(h) * e);
        let logits = self.storage_zeroed("logits", pad4(vocab + 1) * e);
        keep.extend([
            x.clone(),
            hidden[0].clone(),
            hidden[1].clone(),
            final_norm.clone(),
            lm_head.clone(),
            xn.clone(),
            logits.clone(),
        ]);
        let scratch = self.scratch(model, f, &mut keep);
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
        if self.decode_fused {
            let (g, k) = (&final_norm, &mut keep);
            ds.push(self.gemv_norm_dispatch(f, &lm_head, input, g, &logits, vocab, h, k)?);
        } else {
            let norm = Self::rmsnorm_params(1, h)?;
            ds.push(self.rows_dispatch(
                by_dtype(f, "rmsnorm_f32", "rmsnorm_f16"),
                &[input, &final_norm, &xn],
                1,
                &norm,
                &mut keep,
            )?);
            ds.push(self.gemv_named(
                self.gemv_kernel(f),
                &lm_head,
                &xn,
                None,
                &logits,
                vocab,
                h,
                &mut keep,
            )?);
        }
        let n = [u32_of(vocab, "vocab")?];
        let p = self.uniform(&n);
        let output = match f {
            Dtype::F32 => {
                ds.push(self.dispatch("argmax_f32", &[&logits, &p], (1, 1))?);
                logits
            }
            Dtype::F16 => {
                let wide = self.storage_zeroed("logits f32", pad4(vocab + 1) * 4);
                ds.push(self.dispatch("argmax_f16", &[&logits, &wide, &p], (1, 1))?);
                keep.push(wide.clone());
                wide
            }
        };
        keep.push(p);
        Ok(Plan {
            dispatches: ds,
            more: Vec::new(),
            output,
            layout: OutputLayout::dense(Dtype::F32, vocab + 1),
            buffers: keep,
        })
    }
}
