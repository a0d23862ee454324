//! Transformer shapes (Llama-style decoder-only models) and their per-token work.
//!
//! Owns the exact architecture numbers of the model presets and the FLOP / byte counts of one
//! decode layer. The cost model builds prefill and whole-model counts on top of these.

use serde::{Deserialize, Serialize};

use crate::count::{Count, c};

/// Architecture of a Llama-style decoder: RMSNorm, grouped-query attention, gated SiLU MLP.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ModelShape {
    /// Preset name as users type it, e.g. `llama-3.1-8b`.
    pub name: String,
    pub layers: u64,
    pub hidden: u64,
    pub q_heads: u64,
    pub kv_heads: u64,
    pub head_dim: u64,
    /// Intermediate size of the gated MLP.
    pub ffn: u64,
    pub vocab: u64,
    /// Input embedding and output head share one matrix.
    pub tied_embeddings: bool,
}

impl ModelShape {
    #[allow(clippy::too_many_arguments)]
    const fn preset(
        name: &'static str,
        layers: u64,
        hidden: u64,
        q_heads: u64,
        kv_heads: u64,
        head_dim: u64,
        ffn: u64,
        vocab: u64,
        tied_embeddings: bool,
    ) -> Preset {
        Preset {
            name,
            layers,
            hidden,
            q_heads,
            kv_heads,
            head_dim,
            ffn,
            vocab,
            tied_embeddings,
        }
    }

    /// All presets, from the models' published configs (config.json on their model cards).
    pub fn presets() -> Vec<ModelShape> {
        PRESETS.iter().map(Preset::to_shape).collect()
    }

    /// Look a preset up by name, case-insensitively.
    pub fn by_name(name: &str) -> Option<ModelShape> {
        PRESETS
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .map(Preset::to_shape)
    }

    /// A tiny model with odd sizes (not a preset: no cost tables list it): what the whole-model
    /// decode is verified at against the reference before a real model is timed, and what
    /// `run --model tiny` measures. Three layers, hidden 30, ffn 51, 4 query and 2 KV heads of
    /// 6, vocabulary 97.
    pub fn tiny() -> ModelShape {
        ModelShape::preset(TINY, 3, 30, 4, 2, 6, 51, 97, false).to_shape()
    }

    /// A preset by name, or the [`Self::tiny`] model for `tiny` (what `run --model` accepts).
    pub fn for_run(name: &str) -> Option<ModelShape> {
        Self::by_name(name).or_else(|| name.eq_ignore_ascii_case(TINY).then(Self::tiny))
    }

    /// Names of all presets, for error messages.
    pub fn preset_names() -> Vec<&'static str> {
        PRESETS.iter().map(|p| p.name).collect()
    }

    // Every count below is computed with checked arithmetic ([`Count`]); the plain `u64`
    // methods saturate at `u64::MAX` on overflow, the `checked_` ones return `None`.

    fn qkv_width_count(&self) -> Count {
        (c(self.q_heads) + c(2) * self.kv_heads) * self.head_dim
    }

    /// Output width of the fused QKV projection.
    pub fn qkv_width(&self) -> u64 {
        self.qkv_width_count().saturate()
    }

    fn layer_weight_params_count(&self) -> Count {
        let attn =
            c(self.hidden) * self.qkv_width_count() + c(self.q_heads) * self.head_dim * self.hidden;
        let mlp = c(3) * self.hidden * self.ffn;
        attn + mlp + c(2) * self.hidden
    }

    /// Weight elements of one layer (QKV, O, gate, up, down, two norm gains).
    pub fn layer_weight_params(&self) -> u64 {
        self.layer_weight_params_count().saturate()
    }

    /// Weight elements of the whole model, embeddings and final norm included.
    pub fn checked_total_params(&self) -> Option<u64> {
        let embed = c(self.vocab) * self.hidden;
        let head = if self.tied_embeddings { c(0) } else { embed };
        (c(self.layers) * self.layer_weight_params_count() + embed + head + self.hidden).get()
    }

    /// [`Self::checked_total_params`], saturating.
    pub fn total_params(&self) -> u64 {
        self.checked_total_params().unwrap_or(u64::MAX)
    }

    fn kv_elems_per_position_per_layer_count(&self) -> Count {
        c(2) * self.kv_heads * self.head_dim
    }

    /// KV-cache elements per cached position for one layer (K and V).
    pub fn kv_elems_per_position_per_layer(&self) -> u64 {
        self.kv_elems_per_position_per_layer_count().saturate()
    }

    /// FLOPs of one decode layer for one token attending over `context` positions.
    pub fn checked_decode_layer_flops(&self, context: u64) -> Option<u64> {
        self.decode_layer_flops_count(context).get()
    }

    fn decode_layer_flops_count(&self, context: u64) -> Count {
        let h = self.hidden;
        let qkv = c(2) * h * self.qkv_width_count();
        let attn = c(self.q_heads) * context * (c(4) * self.head_dim + 5u64);
        let o = c(2) * self.q_heads * self.head_dim * h;
        let mlp = c(3) * 2u64 * h * self.ffn;
        // two rmsnorms (4/elem), two residual adds, SiLU and gating (~5 per ffn element)
        let elementwise = c(2) * 4u64 * h + c(2) * h + c(5) * self.ffn;
        qkv + attn + o + mlp + elementwise
    }

    /// [`Self::checked_decode_layer_flops`], saturating.
    pub fn decode_layer_flops(&self, context: u64) -> u64 {
        self.decode_layer_flops_count(context).saturate()
    }

    /// Compulsory bytes of one decode layer: every weight and the whole KV cache read once.
    pub fn checked_decode_layer_bytes(&self, context: u64, elem_bytes: u64) -> Option<u64> {
        let weights = self.layer_weight_params_count();
        let kv = self.kv_elems_per_position_per_layer_count() * context;
        let activations = self.activation_elems_per_token_per_layer_count();
        (c(elem_bytes) * (weights + kv + activations)).get()
    }

    /// [`Self::checked_decode_layer_bytes`], saturating.
    pub fn decode_layer_bytes(&self, context: u64, elem_bytes: u64) -> u64 {
        self.checked_decode_layer_bytes(context, elem_bytes)
            .unwrap_or(u64::MAX)
    }
}

/// Bytes per element of the three kinds of data an inference step moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElemBytes {
    /// Weights as stored (2 for bf16, 1 for fp8/int8).
    pub weight: u64,
    /// KV-cache entries.
    pub kv: u64,
    /// Activations passed between layers (and between chips under tensor parallelism).
    pub activation: u64,
}

/// Work of one step of the whole model: every layer, the final norm and the LM head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StepWork {
    /// Floating-point operations (a multiply-add counts as 2).
    pub flops: u64,
    /// Weight bytes read (each weight once per step, however large the batch).
    pub weight_bytes: u64,
    /// KV-cache bytes read by attention.
    pub kv_read_bytes: u64,
    /// KV-cache bytes written for the new positions.
    pub kv_write_bytes: u64,
    /// Activation bytes read and written between kernels.
    pub activation_bytes: u64,
}

impl StepWork {
    /// Compulsory memory traffic of the step (saturating at `u64::MAX`).
    pub fn bytes(&self) -> u64 {
        (c(self.weight_bytes) + self.kv_read_bytes + self.kv_write_bytes + self.activation_bytes)
            .saturate()
    }
}

impl ModelShape {
    /// Elements of the output head (the LM head reads all of it for every token it scores).
    pub fn lm_head_params(&self) -> u64 {
        (c(self.vocab) * self.hidden).saturate()
    }

    /// Weight elements read by one forward step: every layer, the final norm and the LM head.
    /// The input embedding is a row lookup, not a full read, so it is not counted here even
    /// when it is a separate matrix.
    pub fn step_weight_params(&self) -> u64 {
        self.step_weight_params_count().saturate()
    }

    fn step_weight_params_count(&self) -> Count {
        c(self.layers) * self.layer_weight_params_count()
            + self.hidden
            + c(self.vocab) * self.hidden
    }

    /// KV-cache elements per cached position over all layers.
    pub fn kv_elems_per_position(&self) -> u64 {
        self.kv_elems_per_position_count().saturate()
    }

    fn kv_elems_per_position_count(&self) -> Count {
        c(self.layers) * self.kv_elems_per_position_per_layer_count()
    }

    /// Activation elements one token moves through one layer (as in [`Self::decode_layer_bytes`]).
    fn activation_elems_per_token_per_layer_count(&self) -> Count {
        c(4) * self.hidden + self.qkv_width_count() + c(2) * self.ffn
    }

    /// FLOPs per token of the LM head plus the final RMSNorm.
    fn head_flops_per_token_count(&self) -> Count {
        c(2) * (c(self.vocab) * self.hidden) + c(4) * self.hidden
    }

    /// One decode step of the whole model: `batch` sequences each produce one token while
    /// attending over `context` positions (the new one included). Weights are read once for
    /// the whole batch; every sequence reads its own KV cache, which grows with `context`.
    ///
    /// Counts that overflow u64 saturate; [`Self::checked_decode_step_work`] refuses them.
    pub fn decode_step_work(&self, batch: u64, context: u64, bytes: ElemBytes) -> StepWork {
        self.decode_step_work_counts(batch, context, bytes)
            .map(Count::saturate)
            .into()
    }

    /// [`Self::decode_step_work`], or `None` when a count overflows u64.
    pub fn checked_decode_step_work(
        &self,
        batch: u64,
        context: u64,
        bytes: ElemBytes,
    ) -> Option<StepWork> {
        checked_step_work(self.decode_step_work_counts(batch, context, bytes))
    }

    fn decode_step_work_counts(&self, batch: u64, context: u64, bytes: ElemBytes) -> [Count; 5] {
        let per_token_flops = c(self.layers) * self.decode_layer_flops_count(context)
            + self.head_flops_per_token_count();
        [
            c(batch) * per_token_flops,
            c(bytes.weight) * self.step_weight_params_count(),
            c(bytes.kv) * batch * self.kv_elems_per_position_count() * context,
            c(bytes.kv) * batch * self.kv_elems_per_position_count(),
            c(bytes.activation)
                * batch
                * (c(self.layers) * self.activation_elems_per_token_per_layer_count()
                    + self.hidden
                    + self.vocab),
        ]
    }

    /// Prefill of `batch` prompts of `prompt` tokens each, in one step: causal attention (token
    /// `i` attends over `i` positions), the KV cache written for every prompt position, and the
    /// LM head applied to the last position of each prompt only (it yields the first output
    /// token). Attention reads K and V from on-chip memory (flash-attention style), so no KV
    /// read traffic is counted.
    ///
    /// Counts that overflow u64 saturate; [`Self::checked_prefill_work`] refuses them.
    pub fn prefill_work(&self, batch: u64, prompt: u64, bytes: ElemBytes) -> StepWork {
        self.prefill_work_counts(batch, prompt, bytes)
            .map(Count::saturate)
            .into()
    }

    /// [`Self::prefill_work`], or `None` when a count overflows u64.
    pub fn checked_prefill_work(
        &self,
        batch: u64,
        prompt: u64,
        bytes: ElemBytes,
    ) -> Option<StepWork> {
        checked_step_work(self.prefill_work_counts(batch, prompt, bytes))
    }

    fn prefill_work_counts(&self, batch: u64, prompt: u64, bytes: ElemBytes) -> [Count; 5] {
        // decode_layer_flops(c) is affine in c: a + b*c. Summing over c = 1..=prompt gives
        // prompt*a + b*prompt*(prompt+1)/2 without a loop.
        let a = self.decode_layer_flops_count(0);
        let b = self.decode_layer_flops_count(1) - a;
        let layer_flops = c(prompt) * a + b * ((c(prompt) * (c(prompt) + 1u64)) / 2u64);
        let per_seq_flops = c(self.layers) * layer_flops + self.head_flops_per_token_count();
        let tokens = c(batch) * prompt;
        [
            c(batch) * per_seq_flops,
            c(bytes.weight) * self.step_weight_params_count(),
            c(0),
            c(bytes.kv) * tokens * self.kv_elems_per_position_count(),
            c(bytes.activation)
                * (tokens * self.layers * self.activation_elems_per_token_per_layer_count()
                    + c(batch) * (c(self.hidden) + self.vocab)),
        ]
    }

    /// Bytes that must stay resident to serve `batch` sequences of up to `max_context`
    /// positions: all weights (embedding and head included) plus the full KV cache.
    /// Saturates on overflow; [`Self::checked_resident_bytes`] refuses it.
    pub fn resident_bytes(&self, batch: u64, max_context: u64, bytes: ElemBytes) -> u64 {
        self.checked_resident_bytes(batch, max_context, bytes)
            .unwrap_or(u64::MAX)
    }

    /// [`Self::resident_bytes`], or `None` when it overflows u64.
    pub fn checked_resident_bytes(
        &self,
        batch: u64,
        max_context: u64,
        bytes: ElemBytes,
    ) -> Option<u64> {
        let params = Count::from(self.checked_total_params()?);
        (c(bytes.weight) * params
            + c(bytes.kv) * batch * max_context * self.kv_elems_per_position_count())
        .get()
    }
}

/// The work of `counts`, or `None` when any of them overflowed.
fn checked_step_work(counts: [Count; 5]) -> Option<StepWork> {
    let [a, b, c, d, e] = counts.map(Count::get);
    Some([a?, b?, c?, d?, e?].into())
}

impl From<[u64; 5]> for StepWork {
    /// `[flops, weight, kv read, kv write, activation bytes]`.
    fn from(v: [u64; 5]) -> Self {
        StepWork {
            flops: v[0],
            weight_bytes: v[1],
            kv_read_bytes: v[2],
            kv_write_bytes: v[3],
            activation_bytes: v[4],
        }
    }
}

/// Name of [`ModelShape::tiny`].
const TINY: &str = "tiny";

struct Preset {
    name: &'static str,
    layers: u64,
    hidden: u64,
    q_heads: u64,
    kv_heads: u64,
    head_dim: u64,
    ffn: u64,
    vocab: u64,
    tied_embeddings: bool,
}

impl Preset {
    fn to_shape(&self) -> ModelShape {
        ModelShape {
            name: self.name.to_string(),
            layers: self.layers,
            hidden: self.hidden,
            q_heads: self.q_heads,
            kv_heads: self.kv_heads,
            head_dim: self.head_dim,
            ffn: self.ffn,
            vocab: self.vocab,
            tied_embeddings: self.tied_embeddings,
        }
    }
}

const PRESETS: &[Preset] = &[
    ModelShape::preset("llama-3.2-1b", 16, 2048, 32, 8, 64, 8192, 128256, true),
    ModelShape::preset("llama-3.1-8b", 32, 4096, 32, 8, 128, 14336, 128256, false),
    ModelShape::preset("llama-2-7b", 32, 4096, 32, 32, 128, 11008, 32000, false),
    ModelShape::preset("llama-2-13b", 40, 5120, 40, 40, 128, 13824, 32000, false),
    ModelShape::preset("llama-2-70b", 80, 8192, 64, 8, 128, 28672, 32000, false),
    ModelShape::preset("llama-3.3-70b", 80, 8192, 64, 8, 128, 28672, 128256, false),
    ModelShape::preset(
        "llama-3.1-405b",
        126,
        16384,
        128,
        8,
        128,
        53248,
        128256,
        false,
    ),
    // Mistral-7B v0.1 (v0.3 grew the vocabulary to 32768).
    ModelShape::preset("mistral-7b", 32, 4096, 32, 8, 128, 14336, 32000, false),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn llama_3_1_8b_has_eight_billion_parameters() {
        let m = ModelShape::by_name("Llama-3.1-8B").unwrap();
        // Published: 8.03 B parameters.
        let p = m.total_params() as f64 / 1e9;
        assert!((p - 8.03).abs() < 0.01, "{p}");
    }

    #[test]
    fn llama_3_1_405b_has_405_billion_parameters() {
        let m = ModelShape::by_name("llama-3.1-405b").unwrap();
        // Published: 405.9 B parameters (model card, safetensors total).
        let p = m.total_params() as f64 / 1e9;
        assert!((p - 405.85).abs() < 0.2, "{p}");
    }

    #[test]
    fn llama_2_7b_has_6_7_billion_parameters() {
        let m = ModelShape::by_name("llama-2-7b").unwrap();
        let p = m.total_params() as f64 / 1e9;
        assert!((p - 6.74).abs() < 0.01, "{p}");
    }
}
