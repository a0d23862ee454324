//! Decode-step plan: one layer as a chain of GEMV, RMSNorm, attention and FFN dispatches.

use anyhow::Result;

use super::Plan;
use crate::backend::gpu::GpuBackend;
use crate::backend::gpu::layout::{OutputLayout, matrix_bytes, pad4, u32_of};
use crate::reference::Inputs;
use crate::workload::Dtype;

impl GpuBackend {
    pub(in crate::backend::gpu) fn plan_decode_step(
        &self,
        model: &crate::model::ModelShape,
        context: u64,
        inp: &Inputs,
    ) -> Result<Plan> {
        let f32b = |v: &[f32]| -> Vec<u8> { bytemuck::cast_slice::<f32, u8>(v).to_vec() };
        let h = model.hidden;
        let attn_w = model.q_heads * model.head_dim;
        let qkv_w = model.qkv_width();
        let ffn = model.ffn;
        let b = &inp.buffers;
        let x = self.storage_init("x", &matrix_bytes(&b[0], 1, h, Dtype::F32));
        let attn_norm = self.storage_init("attn_norm", &f32b(&b[1]));
        let w_qkv = self.storage_init("W_qkv", &matrix_bytes(&b[2], qkv_w, h, Dtype::F32));
        let k_cache = self.storage_init("K cache", &f32b(&b[3]));
        let v_cache = self.storage_init("V cache", &f32b(&b[4]));
        let w_o = self.storage_init("W_o", &matrix_bytes(&b[5], h, attn_w, Dtype::F32));
        let mlp_norm = self.storage_init("mlp_norm", &f32b(&b[6]));
        let w_gate = self.storage_init("W_gate", &matrix_bytes(&b[7], ffn, h, Dtype::F32));
        let w_up = self.storage_init("W_up", &matrix_bytes(&b[8], ffn, h, Dtype::F32));
        let w_down = self.storage_init("W_down", &matrix_bytes(&b[9], h, ffn, Dtype::F32));

        // Activations: padded to a multiple of 4 and zero-filled, as the GEMVs read vec4s.
        let xn = self.storage_zeroed("xn", pad4(h) * 4);
        let qkv = self.storage_zeroed("qkv", pad4(qkv_w) * 4);
        let attn = self.storage_zeroed("attention out", pad4(attn_w) * 4);
        let h1 = self.storage_zeroed("h1", pad4(h) * 4);
        let hn = self.storage_zeroed("hn", pad4(h) * 4);
        let gate = self.storage_zeroed("gate", pad4(ffn) * 4);
        let up = self.storage_zeroed("up", pad4(ffn) * 4);
        let act = self.storage_zeroed("act", pad4(ffn) * 4);
        let out = self.storage_zeroed("out", pad4(h) * 4);

        let mut keep = vec![
            x.clone(),
            attn_norm.clone(),
            w_qkv.clone(),
            k_cache.clone(),
            v_cache.clone(),
            w_o.clone(),
            mlp_norm.clone(),
            w_gate.clone(),
            w_up.clone(),
            w_down.clone(),
            xn.clone(),
            qkv.clone(),
            attn.clone(),
            h1.clone(),
            hn.clone(),
            gate.clone(),
            up.clone(),
            act.clone(),
            out.clone(),
        ];
        let norm = Self::rmsnorm_params(1, h)?;
        let f = Dtype::F32;
        let mut ds = Vec::new();
        ds.push(self.rows_dispatch("rmsnorm_f32", &[&x, &attn_norm, &xn], 1, &norm, &mut keep)?);
        ds.push(self.gemv_dispatch(f, &w_qkv, &xn, None, &qkv, qkv_w, h, &mut keep)?);
        let kv_params = self.uniform(&[
            u32_of(model.q_heads, "q_heads")?,
            u32_of(model.kv_heads, "kv_heads")?,
            u32_of(model.head_dim, "head_dim")?,
            u32_of(context, "context")?,
        ]);
        let kv_groups = u32_of((model.kv_heads * model.head_dim).div_ceil(64), "kv width")?;
        ds.push(self.dispatch(
            "kv_append",
            &[&qkv, &k_cache, &v_cache, &kv_params],
            (kv_groups, 1),
        )?);
        keep.push(kv_params);
        ds.extend(self.attention_dispatches(
            &qkv,
            &k_cache,
            &v_cache,
            &attn,
            context,
            model.q_heads,
            model.kv_heads,
            model.head_dim,
            &mut keep,
        )?);
        ds.push(self.gemv_dispatch(f, &w_o, &attn, Some(&x), &h1, h, attn_w, &mut keep)?);
        ds.push(self.rows_dispatch("rmsnorm_f32", &[&h1, &mlp_norm, &hn], 1, &norm, &mut keep)?);
        ds.push(self.gemv_dispatch(f, &w_gate, &hn, None, &gate, ffn, h, &mut keep)?);
        ds.push(self.gemv_dispatch(f, &w_up, &hn, None, &up, ffn, h, &mut keep)?);
        let silu = [u32_of(ffn, "ffn")?];
        let silu_groups = ffn.div_ceil(256);
        ds.push(self.rows_dispatch(
            "silu_mul",
            &[&gate, &up, &act],
            silu_groups,
            &silu,
            &mut keep,
        )?);
        ds.push(self.gemv_dispatch(f, &w_down, &act, Some(&h1), &out, h, ffn, &mut keep)?);
        Ok(Plan {
            dispatches: ds,
            output: out,
            layout: OutputLayout::dense(Dtype::F32, h),
            buffers: keep,
        })
    }
}
