//! A workload is one kernel at one shape and dtype, with its exact FLOP and byte counts.
//!
//! This module owns the *definition* of each kernel's arithmetic (what is computed, how much
//! work it is) and nothing about how or where it runs. Backends and the reference read it;
//! results files store its [`Workload::kernel_name`], [`Workload::shape_map`] and dtype.

use std::collections::BTreeMap;
use std::fmt;

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

use crate::count::{Count, c};
use crate::model::ModelShape;

/// Element type of a workload's inputs and weights. Accumulation is always f32.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    PartialOrd,
    Ord,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Dtype {
    F32,
    F16,
}

impl Dtype {
    pub fn size_bytes(self) -> u64 {
        match self {
            Dtype::F32 => 4,
            Dtype::F16 => 2,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Dtype::F32 => "f32",
            Dtype::F16 => "f16",
        }
    }
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Decode-time attention over a KV cache for one new token (batch 1), grouped-query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AttentionShape {
    /// Number of cached positions attended to (including the new token).
    pub context: u64,
    pub q_heads: u64,
    pub kv_heads: u64,
    pub head_dim: u64,
}

/// The kernels accelbench measures.
///
/// Conventions (the reference implementation in `reference.rs` is the executable definition):
/// - `Gemm`: C[m,n] = A[m,k] x B[k,n], all row-major.
/// - `Gemv`: y[n] = W[n,k] x x[k], W row-major (one row per output), as in decode.
/// - `Softmax`: numerically stable softmax over each row of a [rows, cols] matrix.
/// - `RmsNorm`: y = x / sqrt(mean(x^2) + 1e-5) * g, per row of [rows, cols]; g has `cols` entries.
/// - `DecodeAttention`: q [q_heads, head_dim], K and V caches [kv_heads, context, head_dim];
///   out [q_heads, head_dim] = softmax(q K^T / sqrt(head_dim)) V, query head h reads
///   KV head h / (q_heads / kv_heads).
/// - `StreamTriad`: a[i] = b[i] + s * c[i] over `n` elements (the STREAM triad, bandwidth probe).
/// - `DecodeStep`: one Llama-style transformer layer for one token at `context` positions:
///   rmsnorm, QKV projection, RoPE-free attention over the KV cache, output projection plus
///   residual, rmsnorm, gated SiLU MLP plus residual. A per-layer figure: it is not the whole
///   model's tokens/s (that is `DecodeToken`).
/// - `DecodeToken`: one token through the whole model: every layer with its own weights and
///   its own KV cache at `context` positions (each layer as `DecodeStep`), then the final
///   RMSNorm, the LM head over the whole vocabulary and an argmax. Its tokens/s is 1 / time.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Kernel {
    Gemm { m: u64, n: u64, k: u64 },
    Gemv { n: u64, k: u64 },
    Softmax { rows: u64, cols: u64 },
    RmsNorm { rows: u64, cols: u64 },
    DecodeAttention(AttentionShape),
    StreamTriad { n: u64 },
    DecodeStep { model: ModelShape, context: u64 },
    DecodeToken { model: ModelShape, context: u64 },
}

/// A kernel as `--kernel` names it (the names of [`Workload::KERNEL_NAMES`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KernelName {
    #[value(name = "gemm")]
    Gemm,
    #[value(name = "gemv")]
    Gemv,
    #[value(name = "softmax")]
    Softmax,
    #[value(name = "rmsnorm")]
    RmsNorm,
    #[value(name = "decode_attention")]
    DecodeAttention,
    #[value(name = "stream_triad")]
    StreamTriad,
    #[value(name = "decode_step")]
    DecodeStep,
    #[value(name = "decode_token")]
    DecodeToken,
}

impl KernelName {
    pub fn as_str(self) -> &'static str {
        Workload::KERNEL_NAMES[self as usize]
    }
}

/// One kernel at one shape and dtype.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Workload {
    pub kernel: Kernel,
    pub dtype: Dtype,
}

/// RMSNorm epsilon used everywhere.
pub const RMSNORM_EPS: f32 = 1e-5;

impl Workload {
    pub fn new(kernel: Kernel, dtype: Dtype) -> Self {
        Workload { kernel, dtype }
    }

    /// Short kernel name as stored in results files (`gemm`, `gemv`, ...).
    pub fn kernel_name(&self) -> &'static str {
        match self.kernel {
            Kernel::Gemm { .. } => "gemm",
            Kernel::Gemv { .. } => "gemv",
            Kernel::Softmax { .. } => "softmax",
            Kernel::RmsNorm { .. } => "rmsnorm",
            Kernel::DecodeAttention(_) => "decode_attention",
            Kernel::StreamTriad { .. } => "stream_triad",
            Kernel::DecodeStep { .. } => "decode_step",
            Kernel::DecodeToken { .. } => "decode_token",
        }
    }

    /// All kernel names, for `--kernel` validation and help text.
    pub const KERNEL_NAMES: &'static [&'static str] = &[
        "gemm",
        "gemv",
        "softmax",
        "rmsnorm",
        "decode_attention",
        "stream_triad",
        "decode_step",
        "decode_token",
    ];

    /// The shape as a flat map, exactly as written to the results file's `shape` field.
    pub fn shape_map(&self) -> BTreeMap<String, serde_json::Value> {
        let mut m = BTreeMap::new();
        let mut put = |k: &str, v: serde_json::Value| {
            m.insert(k.to_string(), v);
        };
        match &self.kernel {
            Kernel::Gemm { m, n, k } => {
                put("m", (*m).into());
                put("n", (*n).into());
                put("k", (*k).into());
            }
            Kernel::Gemv { n, k } => {
                put("n", (*n).into());
                put("k", (*k).into());
            }
            Kernel::Softmax { rows, cols } | Kernel::RmsNorm { rows, cols } => {
                put("rows", (*rows).into());
                put("cols", (*cols).into());
            }
            Kernel::DecodeAttention(a) => {
                put("context", a.context.into());
                put("q_heads", a.q_heads.into());
                put("kv_heads", a.kv_heads.into());
                put("head_dim", a.head_dim.into());
            }
            Kernel::StreamTriad { n } => put("n", (*n).into()),
            Kernel::DecodeStep { model, context } | Kernel::DecodeToken { model, context } => {
                put("model", model.name.clone().into());
                put("layers", model.layers.into());
                put("hidden", model.hidden.into());
                put("q_heads", model.q_heads.into());
                put("kv_heads", model.kv_heads.into());
                put("head_dim", model.head_dim.into());
                put("ffn", model.ffn.into());
                // The whole model reads the LM head: its vocabulary is part of the shape.
                if matches!(self.kernel, Kernel::DecodeToken { .. }) {
                    put("vocab", model.vocab.into());
                }
                put("context", (*context).into());
            }
        }
        m
    }

    /// A one-line human label, e.g. `gemm m=2048 n=2048 k=2048 f32`. Stable: used as the
    /// workload's identity when results are merged or compared.
    pub fn label(&self) -> String {
        label_from_parts(self.kernel_name(), &self.shape_map(), self.dtype.name())
    }

    /// Exact floating-point operations per invocation (a multiply-add counts as 2), or `None`
    /// when the count does not fit in 64 bits.
    pub fn checked_flops(&self) -> Option<u64> {
        match &self.kernel {
            Kernel::Gemm { m, n, k } => (c(2) * *m * *n * *k).get(),
            Kernel::Gemv { n, k } => (c(2) * *n * *k).get(),
            // max, subtract, exp, sum, divide: 5 per element (exp counted as one op).
            Kernel::Softmax { rows, cols } => (c(5) * *rows * *cols).get(),
            // square+accumulate (2), scale (1), multiply by gain (1) per element.
            Kernel::RmsNorm { rows, cols } => (c(4) * *rows * *cols).get(),
            Kernel::DecodeAttention(a) => attention_flops(a).get(),
            Kernel::StreamTriad { n } => (c(2) * *n).get(),
            Kernel::DecodeStep { model, context } => model.checked_decode_layer_flops(*context),
            Kernel::DecodeToken { .. } => self.token_work().map(|w| w.flops),
        }
    }

    /// Bytes that must move between memory and the compute unit per invocation, counting each
    /// input read once and each output written once (the compulsory traffic), or `None` when
    /// the count does not fit in 64 bits.
    pub fn checked_bytes(&self) -> Option<u64> {
        let s = c(self.dtype.size_bytes());
        match &self.kernel {
            Kernel::Gemm { m, n, k } => (s * (c(*m) * *k + c(*k) * *n + c(*m) * *n)).get(),
            Kernel::Gemv { n, k } => (s * (c(*n) * *k + *k + *n)).get(),
            Kernel::Softmax { rows, cols } => (s * 2u64 * *rows * *cols).get(),
            Kernel::RmsNorm { rows, cols } => (s * (c(2) * *rows * *cols + *cols)).get(),
            Kernel::DecodeAttention(a) => (s
                * (c(2) * a.kv_heads * a.context * a.head_dim + c(2) * a.q_heads * a.head_dim))
                .get(),
            Kernel::StreamTriad { n } => (s * 3u64 * *n).get(),
            Kernel::DecodeStep { model, context } => {
                model.checked_decode_layer_bytes(*context, self.dtype.size_bytes())
            }
            Kernel::DecodeToken { .. } => self.token_work().and_then(|w| {
                (c(w.weight_bytes) + w.kv_read_bytes + w.kv_write_bytes + w.activation_bytes).get()
            }),
        }
    }

    /// Whole-model work of a `DecodeToken` (weights, KV cache and activations all in the
    /// workload's dtype), from [`ModelShape::checked_decode_step_work`] at batch 1.
    fn token_work(&self) -> Option<crate::model::StepWork> {
        let Kernel::DecodeToken { model, context } = &self.kernel else {
            return None;
        };
        let e = self.dtype.size_bytes();
        let bytes = crate::model::ElemBytes {
            weight: e,
            kv: e,
            activation: e,
        };
        model.checked_decode_step_work(1, *context, bytes)
    }

    /// Refuse a workload whose FLOP or byte count does not fit in 64 bits (an absurd
    /// `--shape`), before anything is allocated or measured.
    pub fn check_counts(&self) -> Result<()> {
        if self.checked_flops().is_none() {
            bail!(
                "workload '{}' is too large: its FLOP count does not fit in 64 bits; choose a smaller --shape",
                self.label()
            );
        }
        if self.checked_bytes().is_none() {
            bail!(
                "workload '{}' is too large: its byte count does not fit in 64 bits; choose a smaller --shape",
                self.label()
            );
        }
        Ok(())
    }

    /// [`Self::checked_flops`], saturating at `u64::MAX` (callers check [`Self::check_counts`]
    /// first).
    pub fn flops(&self) -> u64 {
        self.checked_flops().unwrap_or(u64::MAX)
    }

    /// [`Self::checked_bytes`], saturating at `u64::MAX`.
    pub fn bytes(&self) -> u64 {
        self.checked_bytes().unwrap_or(u64::MAX)
    }

    /// Bytes of memory the workload's buffers occupy (inputs, weights, outputs), used to refuse
    /// shapes that do not fit; `u64::MAX` when the count overflows.
    pub fn footprint_bytes(&self) -> u64 {
        // Every buffer is resident at once and read once, so footprint equals compulsory traffic.
        self.bytes()
    }

    /// Host memory a run of `w` needs at its peak, bytes (saturating). Most workloads hold
    /// their inputs, the reference's copy and the backend's buffers: about three footprints.
    /// A `DecodeToken` builds its weights a layer per worker at a time from a seed, so it needs
    /// its footprint plus, while they are converted, the LM head in f32 or two layers in f32.
    pub fn host_memory_bytes(&self) -> u64 {
        match &self.kernel {
            Kernel::DecodeToken { model, .. } => (c(self.footprint_bytes())
                + c(4) * model.lm_head_params()
                + c(8) * model.layer_weight_params())
            .saturate(),
            _ => self.footprint_bytes().saturating_mul(3),
        }
    }
}

fn attention_flops(a: &AttentionShape) -> Count {
    // scores: q_heads x context dot products of head_dim (2 flops each),
    // softmax ~5 per score, weighted sum of V: 2 per (score, dim).
    c(a.q_heads) * a.context * (c(2) * a.head_dim + 5u64 + c(2) * a.head_dim)
}

/// Label from a results row's parts; the same function [`Workload::label`] uses.
pub fn label_from_parts(
    kernel: &str,
    shape: &BTreeMap<String, serde_json::Value>,
    dtype: &str,
) -> String {
    let mut s = kernel.to_string();
    for (k, v) in shape {
        match v {
            serde_json::Value::String(t) => s.push_str(&format!(" {k}={t}")),
            other => s.push_str(&format!(" {k}={other}")),
        }
    }
    s.push(' ');
    s.push_str(dtype);
    s
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gemm_counts_are_exact() {
        let w = Workload::new(Kernel::Gemm { m: 2, n: 3, k: 4 }, Dtype::F32);
        assert_eq!(w.flops(), 48);
        assert_eq!(w.bytes(), 4 * (8 + 12 + 6));
        assert_eq!(w.label(), "gemm k=4 m=2 n=3 f32");
    }

    #[test]
    fn gemv_bytes_are_dominated_by_weights() {
        let w = Workload::new(Kernel::Gemv { n: 4096, k: 4096 }, Dtype::F16);
        assert_eq!(w.flops(), 2 * 4096 * 4096);
        assert_eq!(w.bytes(), 2 * (4096 * 4096 + 4096 + 4096));
    }
}
