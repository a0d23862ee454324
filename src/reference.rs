//! Slow, obviously correct kernels, and the deterministic inputs every backend is fed.
//!
//! Every backend's output is checked here before it is timed. The reference favours clarity
//! over speed: plain loops, f64 accumulation. For very large GEMMs it checks a fixed sample of
//! output entries instead of all of them (each entry is still computed in full).

use crate::results::Verified;
use crate::workload::{AttentionShape, Dtype, Kernel, Workload};

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
/// - decode_token: `[x (hidden), final_norm (hidden)]` only. The weights (gigabytes at real
///   model sizes) are generated where they are stored, one matrix at a time, by
///   [`token_layer`] (each layer's buffers in decode_step's order, from `attn_norm` on) and
///   [`lm_head`] (`vocab*hidden`, row-major, one row per token).
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
        Kernel::DecodeToken { model, .. } => {
            vec![gen_buf(model.hidden, 1.0), gen_buf(model.hidden, 1.0)]
        }
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

/// Seed of one generated part of a decode_token model (`part` 0 is the LM head, `l + 1` layer `l`).
fn token_seed(w: &Workload, part: u64) -> u64 {
    0x70ce_2d5e_ed00_0000 ^ w.flops() ^ part.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

fn generated(seed: u64, len: u64, scale: f32, dtype: Dtype) -> Vec<f32> {
    // The same values as `SplitMix64::new(seed)`'s `uniform()` calls in turn, computed by
    // index so every core can fill a part (a whole 8B model is 8e9 values).
    crate::par::fill(len as usize, |i| {
        let x = SplitMix64::uniform_of(SplitMix64::at(seed, i as u64)) * scale;
        match dtype {
            Dtype::F32 => x,
            Dtype::F16 => half::f16::from_f32(x).to_f32(),
        }
    })
}

/// Layer `layer`'s buffers of a decode_token workload, in decode_step's order without `x`:
/// `[attn_norm, w_qkv, k_cache, v_cache, w_o, mlp_norm, w_gate, w_up, w_down]`, rounded to
/// the workload's dtype. Deterministic: backends and the reference build the same model.
pub fn token_layer(w: &Workload, layer: u64) -> Vec<Vec<f32>> {
    let Kernel::DecodeToken { model, context } = &w.kernel else {
        return Vec::new();
    };
    let (h, d) = (model.hidden, w.dtype);
    let kv = model.kv_heads * context * model.head_dim;
    let attn_width = model.q_heads * model.head_dim;
    let inv_sqrt = |k: u64| 1.0 / (k as f32).sqrt();
    let base = token_seed(w, layer + 1);
    let part = |i: u64, len: u64, scale: f32| generated(base ^ (i << 56), len, scale, d);
    vec![
        part(1, h, 1.0),
        part(2, model.qkv_width() * h, inv_sqrt(h)),
        part(3, kv, 1.0),
        part(4, kv, 1.0),
        part(5, h * attn_width, inv_sqrt(attn_width)),
        part(6, h, 1.0),
        part(7, model.ffn * h, inv_sqrt(h)),
        part(8, model.ffn * h, inv_sqrt(h)),
        part(9, h * model.ffn, inv_sqrt(model.ffn)),
    ]
}

/// The LM head of a decode_token workload (`vocab*hidden`), rounded to its dtype.
pub fn lm_head(w: &Workload) -> Vec<f32> {
    let Kernel::DecodeToken { model, .. } = &w.kernel else {
        return Vec::new();
    };
    let scale = 1.0 / (model.hidden as f32).sqrt();
    generated(token_seed(w, 0), model.vocab * model.hidden, scale, w.dtype)
}

/// Round values in place to the nearest value representable in `dtype`.
pub fn round_to_dtype(v: &mut [f32], dtype: Dtype) {
    if dtype == Dtype::F16 {
        for x in v {
            *x = half::f16::from_f32(*x).to_f32();
        }
    }
}

const SPLITMIX_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

fn splitmix_mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Small, fast, deterministic generator (SplitMix64), so inputs never depend on a crate's
/// algorithm changing.
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(SPLITMIX_GAMMA);
        splitmix_mix(self.0)
    }
    /// Uniform in [-1, 1).
    pub fn uniform(&mut self) -> f32 {
        Self::uniform_of(self.next_u64())
    }
    /// The `i`-th (0-based) `next_u64` of a generator seeded with `seed`, without the `i`
    /// calls before it.
    pub fn at(seed: u64, i: u64) -> u64 {
        splitmix_mix(seed.wrapping_add(i.wrapping_add(1).wrapping_mul(SPLITMIX_GAMMA)))
    }
    /// [`SplitMix64::uniform`] of a `next_u64` value.
    pub fn uniform_of(bits: u64) -> f32 {
        ((bits >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
}

/// Number of f32 values a backend's output for `w` has.
pub fn output_len(w: &Workload) -> usize {
    let n = match &w.kernel {
        Kernel::Gemm { m, n, .. } => m * n,
        Kernel::Gemv { n, .. } => *n,
        Kernel::Softmax { rows, cols } | Kernel::RmsNorm { rows, cols } => rows * cols,
        Kernel::DecodeAttention(a) => a.q_heads * a.head_dim,
        Kernel::StreamTriad { n } => *n,
        Kernel::DecodeStep { model, .. } => model.hidden,
        // The logits, then the argmax as a number.
        Kernel::DecodeToken { model, .. } => model.vocab + 1,
    };
    n as usize
}

/// GEMMs with more multiply-adds than this are checked on a sample of output entries.
const GEMM_FULL_CHECK_MACS: u64 = 1 << 27;
/// Number of sampled output entries for large GEMMs (plus the four corners).
const GEMM_SAMPLES: usize = 4096;

/// Relative tolerance of `w` in `dtype`: the base error of one rounding step, widened with the
/// square root of the longest reduction (f32 accumulation error grows roughly like that).
pub fn relative_tolerance(w: &Workload) -> f64 {
    let base = match w.dtype {
        Dtype::F32 => 1e-4,
        // f16 storage of the output (2^-11 relative) dominates; accumulation is f32.
        Dtype::F16 => 4e-3,
    };
    let reduction = match &w.kernel {
        Kernel::Gemm { k, .. } | Kernel::Gemv { k, .. } => *k,
        Kernel::Softmax { cols, .. } | Kernel::RmsNorm { cols, .. } => *cols,
        Kernel::DecodeAttention(a) => a.context.max(a.head_dim),
        Kernel::StreamTriad { .. } => 1,
        Kernel::DecodeStep { model, context } => model.hidden.max(model.ffn).max(*context),
        // Every layer adds its rounding to the hidden state the next one reads.
        Kernel::DecodeToken { model, context } => {
            model.hidden.max(model.ffn).max(*context) * (model.layers + 1)
        }
    };
    base * (reduction as f64 / 256.0).sqrt().max(1.0)
}

/// Check a backend's `output` for `w` against the reference computed from `inputs`.
///
/// The error is the largest absolute difference over the checked entries; the tolerance is
/// [`relative_tolerance`] times the largest magnitude of the expected values, so it scales
/// with the data. A wrong length or any non-finite value fails with an infinite error.
pub fn check(w: &Workload, inputs: &Inputs, output: &[f32]) -> Verified {
    let expected = expected_entries(w, &inputs.buffers);
    let scale = expected
        .iter()
        .fold(0.0f64, |m, &(_, v)| m.max(v.abs()))
        .max(f64::MIN_POSITIVE);
    let tolerance = scale * relative_tolerance(w);
    if output.len() != output_len(w) {
        return Verified {
            ok: false,
            max_abs_err: f64::INFINITY,
            tolerance,
        };
    }
    let mut max_abs_err = 0.0f64;
    if let Kernel::DecodeToken { model, .. } = &w.kernel {
        // The argmax (last entry) must pick a logit within the tolerance of the largest one:
        // a near-tie may go either way.
        let vocab = model.vocab as usize;
        let best = expected[..vocab]
            .iter()
            .fold(f64::NEG_INFINITY, |m, &(_, v)| m.max(v));
        let picked = output[vocab];
        let ok = picked.is_finite()
            && picked >= 0.0
            && picked.fract() == 0.0
            && (picked as usize) < vocab
            && expected[picked as usize].1 >= best - tolerance;
        if !ok {
            max_abs_err = f64::INFINITY;
        }
    }
    for &(i, want) in &expected {
        let got = output[i];
        let err = if got.is_finite() {
            (got as f64 - want).abs()
        } else {
            f64::INFINITY
        };
        max_abs_err = max_abs_err.max(err);
    }
    if output.iter().any(|v| !v.is_finite()) {
        max_abs_err = f64::INFINITY;
    }
    Verified {
        ok: max_abs_err <= tolerance,
        max_abs_err,
        tolerance,
    }
}

/// The reference output of `w` for `buffers` (as from [`inputs`]), in full, as f64.
/// For large GEMMs this computes every entry, slowly; [`check`] samples instead.
pub fn compute(w: &Workload, buffers: &[Vec<f32>]) -> Vec<f64> {
    let mut out = vec![0.0; output_len(w)];
    for (i, v) in expected_entries_all(w, buffers) {
        out[i] = v;
    }
    out
}

fn expected_entries(w: &Workload, b: &[Vec<f32>]) -> Vec<(usize, f64)> {
    if let Kernel::Gemm { m, n, k } = w.kernel
        && m * n * k > GEMM_FULL_CHECK_MACS
    {
        let mut rng = SplitMix64::new(0xc0ff_ee00 ^ (m * n * k));
        let mut idx: Vec<(u64, u64)> = vec![(0, 0), (0, n - 1), (m - 1, 0), (m - 1, n - 1)];
        idx.extend((0..GEMM_SAMPLES).map(|_| (rng.next_u64() % m, rng.next_u64() % n)));
        return idx
            .into_iter()
            .map(|(i, j)| {
                let (i, j) = (i as usize, j as usize);
                (
                    (i * n as usize + j),
                    gemm_entry(b, n as usize, k as usize, i, j),
                )
            })
            .collect();
    }
    expected_entries_all(w, b)
}

fn gemm_entry(b: &[Vec<f32>], n: usize, k: usize, i: usize, j: usize) -> f64 {
    (0..k)
        .map(|l| b[0][i * k + l] as f64 * b[1][l * n + j] as f64)
        .sum()
}

fn dot(a: &[f32], x: &[f64]) -> f64 {
    a.iter().zip(x).map(|(&a, &x)| a as f64 * x).sum()
}

/// y[n] = W[n, k] x[k], W row-major f32, x in f64.
fn gemv(wt: &[f32], x: &[f64], n: usize, k: usize) -> Vec<f64> {
    (0..n).map(|i| dot(&wt[i * k..(i + 1) * k], x)).collect()
}

fn widen(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| x as f64).collect()
}

fn rmsnorm(x: &[f64], g: &[f32]) -> Vec<f64> {
    let ms = x.iter().map(|v| v * v).sum::<f64>() / x.len() as f64;
    let inv = 1.0 / (ms + crate::workload::RMSNORM_EPS as f64).sqrt();
    x.iter().zip(g).map(|(v, &g)| v * inv * g as f64).collect()
}

fn softmax(row: &[f64]) -> Vec<f64> {
    let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = row.iter().map(|x| (x - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.into_iter().map(|x| x / s).collect()
}

/// Grouped-query decode attention; `k` and `v` are `[kv_heads, context, head_dim]`.
fn attention(q: &[f64], k: &[f32], v: &[f32], a: &AttentionShape) -> Vec<f64> {
    let (t, hd) = (a.context as usize, a.head_dim as usize);
    let group = (a.q_heads / a.kv_heads) as usize;
    let scale = 1.0 / (hd as f64).sqrt();
    let mut out = Vec::with_capacity(a.q_heads as usize * hd);
    for h in 0..a.q_heads as usize {
        let kvh = h / group;
        let qh = &q[h * hd..(h + 1) * hd];
        let scores: Vec<f64> = (0..t)
            .map(|p| dot(&k[(kvh * t + p) * hd..(kvh * t + p + 1) * hd], qh) * scale)
            .collect();
        let probs = softmax(&scores);
        let mut o = vec![0.0; hd];
        for (p, &pr) in probs.iter().enumerate() {
            let row = &v[(kvh * t + p) * hd..(kvh * t + p + 1) * hd];
            for (od, &vd) in o.iter_mut().zip(row) {
                *od += pr * vd as f64;
            }
        }
        out.extend(o);
    }
    out
}

fn indexed(v: Vec<f64>) -> Vec<(usize, f64)> {
    v.into_iter().enumerate().collect()
}

fn expected_entries_all(w: &Workload, b: &[Vec<f32>]) -> Vec<(usize, f64)> {
    match &w.kernel {
        Kernel::Gemm { m, n, k } => {
            let (m, n, k) = (*m as usize, *n as usize, *k as usize);
            let mut c = vec![0.0f64; m * n];
            for i in 0..m {
                let row = &mut c[i * n..(i + 1) * n];
                for l in 0..k {
                    let a = b[0][i * k + l] as f64;
                    for (cj, &bj) in row.iter_mut().zip(&b[1][l * n..(l + 1) * n]) {
                        *cj += a * bj as f64;
                    }
                }
            }
            indexed(c)
        }
        Kernel::Gemv { n, k } => indexed(gemv(&b[0], &widen(&b[1]), *n as usize, *k as usize)),
        Kernel::Softmax { cols, .. } => indexed(
            b[0].chunks(*cols as usize)
                .flat_map(|row| softmax(&widen(row)))
                .collect(),
        ),
        Kernel::RmsNorm { cols, .. } => indexed(
            b[0].chunks(*cols as usize)
                .flat_map(|row| rmsnorm(&widen(row), &b[1]))
                .collect(),
        ),
        Kernel::DecodeAttention(a) => indexed(attention(&widen(&b[0]), &b[1], &b[2], a)),
        Kernel::StreamTriad { .. } => indexed(
            b[0].iter()
                .zip(&b[1])
                .map(|(&x, &y)| x as f64 + TRIAD_SCALAR as f64 * y as f64)
                .collect(),
        ),
        Kernel::DecodeStep { model, context } => indexed(decode_step(model, *context, b)),
        // Logits only: `check` judges the argmax entry against them.
        Kernel::DecodeToken { .. } => indexed(decode_token(w, b)),
    }
}

/// The whole model for one token, as documented on [`Kernel::DecodeToken`]: the logits.
/// The hidden state is rounded to f32 between layers, as backends keep it.
fn decode_token(w: &Workload, b: &[Vec<f32>]) -> Vec<f64> {
    let Kernel::DecodeToken { model, context } = &w.kernel else {
        return Vec::new();
    };
    let mut x = b[0].clone();
    for layer in 0..model.layers {
        let mut bufs = vec![x];
        bufs.extend(token_layer(w, layer));
        x = decode_step(model, *context, &bufs)
            .into_iter()
            .map(|v| v as f32)
            .collect();
    }
    let xn = rmsnorm(&widen(&x), &b[1]);
    gemv(
        &lm_head(w),
        &xn,
        model.vocab as usize,
        model.hidden as usize,
    )
}

/// One decode layer, exactly as documented on [`Kernel::DecodeStep`] and [`inputs`].
fn decode_step(model: &crate::model::ModelShape, context: u64, b: &[Vec<f32>]) -> Vec<f64> {
    let (h, hd, t) = (
        model.hidden as usize,
        model.head_dim as usize,
        context as usize,
    );
    let (qh, kvh, ffn) = (
        model.q_heads as usize,
        model.kv_heads as usize,
        model.ffn as usize,
    );
    let x = widen(&b[0]);
    let xn = rmsnorm(&x, &b[1]);
    let qkv = gemv(&b[2], &xn, model.qkv_width() as usize, h);
    // The caches with the new token's K and V written at position context - 1.
    let (mut kc, mut vc) = (b[3].clone(), b[4].clone());
    for head in 0..kvh {
        for d in 0..hd {
            let dst = (head * t + t - 1) * hd + d;
            kc[dst] = qkv[qh * hd + head * hd + d] as f32;
            vc[dst] = qkv[qh * hd + kvh * hd + head * hd + d] as f32;
        }
    }
    let a = AttentionShape {
        context,
        q_heads: model.q_heads,
        kv_heads: model.kv_heads,
        head_dim: model.head_dim,
    };
    let att = attention(&qkv[..qh * hd], &kc, &vc, &a);
    let o = gemv(&b[5], &att, h, qh * hd);
    let h1: Vec<f64> = x.iter().zip(&o).map(|(a, b)| a + b).collect();
    let hn = rmsnorm(&h1, &b[6]);
    let gate = gemv(&b[7], &hn, ffn, h);
    let up = gemv(&b[8], &hn, ffn, h);
    let act: Vec<f64> = gate
        .iter()
        .zip(&up)
        .map(|(g, u)| g / (1.0 + (-g).exp()) * u)
        .collect();
    let down = gemv(&b[9], &act, h, ffn);
    h1.iter().zip(&down).map(|(a, b)| a + b).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiny_gemm_by_hand() {
        let w = Workload::new(Kernel::Gemm { m: 2, n: 2, k: 2 }, Dtype::F32);
        let b = vec![vec![1.0, 2.0, 3.0, 4.0], vec![5.0, 6.0, 7.0, 8.0]];
        assert_eq!(compute(&w, &b), vec![19.0, 22.0, 43.0, 50.0]);
        let inputs = Inputs { buffers: b };
        assert!(check(&w, &inputs, &[19.0, 22.0, 43.0, 50.0]).ok);
        let bad = check(&w, &inputs, &[19.0, 22.0, 43.0, 50.1]);
        assert!(!bad.ok && (bad.max_abs_err - 0.1).abs() < 1e-5);
        assert!(!check(&w, &inputs, &[19.0, 22.0, 43.0]).ok);
        assert!(!check(&w, &inputs, &[19.0, 22.0, 43.0, f32::NAN]).ok);
    }

    #[test]
    fn softmax_rows_sum_to_one_and_rmsnorm_has_unit_rms() {
        let w = Workload::new(Kernel::Softmax { rows: 3, cols: 7 }, Dtype::F32);
        let out = compute(&w, &inputs(&w).buffers);
        for row in out.chunks(7) {
            assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
        let w = Workload::new(Kernel::RmsNorm { rows: 2, cols: 5 }, Dtype::F32);
        let mut inp = inputs(&w);
        inp.buffers[1] = vec![1.0; 5];
        for row in compute(&w, &inp.buffers).chunks(5) {
            let ms = row.iter().map(|v| v * v).sum::<f64>() / 5.0;
            assert!((ms - 1.0).abs() < 1e-3, "{ms}");
        }
    }

    #[test]
    fn attention_over_one_position_returns_its_value() {
        let a = AttentionShape {
            context: 1,
            q_heads: 4,
            kv_heads: 2,
            head_dim: 3,
        };
        let w = Workload::new(Kernel::DecodeAttention(a), Dtype::F32);
        let inp = inputs(&w);
        let out = compute(&w, &inp.buffers);
        // Heads 0,1 read KV head 0; heads 2,3 read KV head 1.
        for h in 0..4 {
            for d in 0..3 {
                let want = inp.buffers[2][(h / 2) * 3 + d] as f64;
                assert!((out[h * 3 + d] - want).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn large_gemm_is_sampled_and_a_wrong_entry_in_the_sample_fails() {
        let w = Workload::new(
            Kernel::Gemm {
                m: 600,
                n: 600,
                k: 600,
            },
            Dtype::F32,
        );
        let inp = inputs(&w);
        let sampled = expected_entries(&w, &inp.buffers);
        assert_eq!(sampled.len(), GEMM_SAMPLES + 4);
        let mut out = vec![0.0f32; 600 * 600];
        for &(i, v) in &sampled {
            out[i] = v as f32;
        }
        assert!(check(&w, &inp, &out).ok);
        out[599 * 600 + 599] += 1.0;
        assert!(!check(&w, &inp, &out).ok);
    }
}
#[cfg(test)]
mod splitmix_tests {
    #[test]
    fn the_indexed_generator_gives_the_sequence_of_the_stateful_one() {
        let mut g = super::SplitMix64::new(0xDEAD_BEEF);
        for i in 0..1000 {
            assert_eq!(super::SplitMix64::at(0xDEAD_BEEF, i), g.next_u64());
        }
    }
}
