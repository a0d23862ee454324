//! Slow, obviously correct kernels, and the deterministic inputs every backend is fed.
//!
//! Every backend's output is checked here before it is timed. The reference favours clarity
//! over speed: plain loops, f64 accumulation. For very large GEMMs it checks a fixed sample of
//! output entries instead of all of them (each entry is still computed in full).

use crate::results::Verified;
use crate::workload::{Dtype, Kernel, Workload};

/// Input buffers of a workload, in the order documented for each kernel on [`inputs`].
#[derive(Debug, Clone)]
pub struct Inputs {
    pub buffers: Vec<Vec<f32>>,
}

/// Scalar of the STREAM triad `a = b + s * c`.
pub const TRIAD_SCALAR: f32 = 3.0;

/// Deterministic inputs for `w`. Values are uniform in [-1, 1) (weights scaled by 1/sqrt(fan-in)
/// so activations stay near unit size), rounded to the dtype's precision so that a backend
/// storing them in that dtype sees exactly these values.
///
/// Buffer order:
/// - gemm: `[A (m*k), B (k*n)]`
/// - gemv: `[W (n*k), x (k)]`
/// - softmax: `[X (rows*cols)]`
/// - rmsnorm: `[X (rows*cols), g (cols)]`
/// - decode_attention: `[q (q_heads*head_dim), K (kv_heads*context*head_dim), V (same)]`
/// - stream_triad: `[b (n), c (n)]`
/// - decode_step: `[x (hidden), attn_norm (hidden), w_qkv ((q_heads+2*kv_heads)*head_dim*hidden),
///   k_cache (kv_heads*context*head_dim), v_cache (same), w_o (hidden*q_heads*head_dim),
///   mlp_norm (hidden), w_gate (ffn*hidden), w_up (ffn*hidden), w_down (hidden*ffn)]`.
///   Weight matrices are row-major with one row per output. The step writes the new token's
///   K and V at cache position `context - 1` and attends over all `context` positions.
pub fn inputs(w: &Workload) -> Inputs {
    let mut rng = SplitMix64::new(0x5eed_ab1e ^ w.flops());
    let mut gen_buf = |len: u64, scale: f32| -> Vec<f32> {
        let mut v: Vec<f32> = (0..len).map(|_| rng.uniform() * scale).collect();
        round_to_dtype(&mut v, w.dtype);
        v
    };
    let inv_sqrt = |k: u64| 1.0 / (k as f32).sqrt();
    let buffers = match &w.kernel {
        Kernel::Gemm { m, n, k } => vec![gen_buf(m * k, 1.0), gen_buf(k * n, inv_sqrt(*k))],
        Kernel::Gemv { n, k } => vec![gen_buf(n * k, inv_sqrt(*k)), gen_buf(*k, 1.0)],
        Kernel::Softmax { rows, cols } => vec![gen_buf(rows * cols, 4.0)],
        Kernel::RmsNorm { rows, cols } => vec![gen_buf(rows * cols, 1.0), gen_buf(*cols, 1.0)],
        Kernel::DecodeAttention(a) => {
            let kv = a.kv_heads * a.context * a.head_dim;
            vec![
                gen_buf(a.q_heads * a.head_dim, 1.0),
                gen_buf(kv, 1.0),
                gen_buf(kv, 1.0),
            ]
        }
        Kernel::StreamTriad { n } => vec![gen_buf(*n, 1.0), gen_buf(*n, 1.0)],
        Kernel::DecodeStep { model, context } => {
            let h = model.hidden;
            let kv = model.kv_heads * context * model.head_dim;
            let attn_width = model.q_heads * model.head_dim;
            vec![
                gen_buf(h, 1.0),
                gen_buf(h, 1.0),
                gen_buf(model.qkv_width() * h, inv_sqrt(h)),
                gen_buf(kv, 1.0),
                gen_buf(kv, 1.0),
                gen_buf(h * attn_width, inv_sqrt(attn_width)),
                gen_buf(h, 1.0),
                gen_buf(model.ffn * h, inv_sqrt(h)),
                gen_buf(model.ffn * h, inv_sqrt(h)),
                gen_buf(h * model.ffn, inv_sqrt(model.ffn)),
            ]
        }
    };
    Inputs { buffers }
}

/// Round values in place to the nearest value representable in `dtype`.
pub fn round_to_dtype(v: &mut [f32], dtype: Dtype) {
    if dtype == Dtype::F16 {
        for x in v {
            *x = half::f16::from_f32(*x).to_f32();
        }
    }
}

/// Small, fast, deterministic generator (SplitMix64), so inputs never depend on a crate's
/// algorithm changing.
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [-1, 1).
    pub fn uniform(&mut self) -> f32 {
        ((self.next_u64() >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
}

/// Check a backend's `output` for `w` against the reference computed from `inputs`.
pub fn check(w: &Workload, inputs: &Inputs, output: &[f32]) -> Verified {
    let _ = (w, inputs, output);
    todo!("reference kernels")
}
