//! Transformer shapes (Llama-style decoder-only models) and their per-token work.
//!
//! Owns the exact architecture numbers of the model presets and the FLOP / byte counts of one
//! decode layer. The cost model builds prefill and whole-model counts on top of these.

use serde::{Deserialize, Serialize};

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

    /// Names of all presets, for error messages.
    pub fn preset_names() -> Vec<&'static str> {
        PRESETS.iter().map(|p| p.name).collect()
    }

    /// Output width of the fused QKV projection.
    pub fn qkv_width(&self) -> u64 {
        (self.q_heads + 2 * self.kv_heads) * self.head_dim
    }

    /// Weight elements of one layer (QKV, O, gate, up, down, two norm gains).
    pub fn layer_weight_params(&self) -> u64 {
        let attn = self.hidden * self.qkv_width() + self.q_heads * self.head_dim * self.hidden;
        let mlp = 3 * self.hidden * self.ffn;
        attn + mlp + 2 * self.hidden
    }

    /// Weight elements of the whole model, embeddings and final norm included.
    pub fn total_params(&self) -> u64 {
        let embed = self.vocab * self.hidden;
        let head = if self.tied_embeddings { 0 } else { embed };
        self.layers * self.layer_weight_params() + embed + head + self.hidden
    }

    /// KV-cache elements per cached position for one layer (K and V).
    pub fn kv_elems_per_position_per_layer(&self) -> u64 {
        2 * self.kv_heads * self.head_dim
    }

    /// FLOPs of one decode layer for one token attending over `context` positions.
    pub fn decode_layer_flops(&self, context: u64) -> u64 {
        let h = self.hidden;
        let qkv = 2 * h * self.qkv_width();
        let attn = self.q_heads * context * (4 * self.head_dim + 5);
        let o = 2 * self.q_heads * self.head_dim * h;
        let mlp = 3 * 2 * h * self.ffn;
        // two rmsnorms (4/elem), two residual adds, SiLU and gating (~5 per ffn element)
        let elementwise = 2 * 4 * h + 2 * h + 5 * self.ffn;
        qkv + attn + o + mlp + elementwise
    }

    /// Compulsory bytes of one decode layer: every weight and the whole KV cache read once.
    pub fn decode_layer_bytes(&self, context: u64, elem_bytes: u64) -> u64 {
        let weights = self.layer_weight_params();
        let kv = self.kv_elems_per_position_per_layer() * context;
        let activations = 4 * self.hidden + self.qkv_width() + 2 * self.ffn;
        elem_bytes * (weights + kv + activations)
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
    /// Compulsory memory traffic of the step.
    pub fn bytes(&self) -> u64 {
        self.weight_bytes + self.kv_read_bytes + self.kv_write_bytes + self.activation_bytes
    }
}

impl ModelShape {
    /// Elements of the output head (the LM head reads all of it for every token it scores).
    pub fn lm_head_params(&self) -> u64 {
        self.vocab * self.hidden
    }

    /// Weight elements read by one forward step: every layer, the final norm and the LM head.
    /// The input embedding is a row lookup, not a full read, so it is not counted here even
    /// when it is a separate matrix.
    pub fn step_weight_params(&self) -> u64 {
        self.layers * self.layer_weight_params() + self.hidden + self.lm_head_params()
    }

    /// KV-cache elements per cached position over all layers.
    pub fn kv_elems_per_position(&self) -> u64 {
        self.layers * self.kv_elems_per_position_per_layer()
    }

    /// Activation elements one token moves through one layer (as in [`Self::decode_layer_bytes`]).
    fn activation_elems_per_token_per_layer(&self) -> u64 {
        4 * self.hidden + self.qkv_width() + 2 * self.ffn
    }

    /// FLOPs per token of the LM head plus the final RMSNorm.
    fn head_flops_per_token(&self) -> u64 {
        2 * self.lm_head_params() + 4 * self.hidden
    }

    /// One decode step of the whole model: `batch` sequences each produce one token while
    /// attending over `context` positions (the new one included). Weights are read once for
    /// the whole batch; every sequence reads its own KV cache, which grows with `context`.
    pub fn decode_step_work(&self, batch: u64, context: u64, bytes: ElemBytes) -> StepWork {
        let per_token_flops =
            self.layers * self.decode_layer_flops(context) + self.head_flops_per_token();
        StepWork {
            flops: batch * per_token_flops,
            weight_bytes: bytes.weight * self.step_weight_params(),
            kv_read_bytes: bytes.kv * batch * self.kv_elems_per_position() * context,
            kv_write_bytes: bytes.kv * batch * self.kv_elems_per_position(),
            activation_bytes: bytes.activation
                * batch
                * (self.layers * self.activation_elems_per_token_per_layer()
                    + self.hidden
                    + self.vocab),
        }
    }

    /// Prefill of `batch` prompts of `prompt` tokens each, in one step: causal attention (token
    /// `i` attends over `i` positions), the KV cache written for every prompt position, and the
    /// LM head applied to the last position of each prompt only (it yields the first output
    /// token). Attention reads K and V from on-chip memory (flash-attention style), so no KV
    /// read traffic is counted.
    pub fn prefill_work(&self, batch: u64, prompt: u64, bytes: ElemBytes) -> StepWork {
        // decode_layer_flops(c) is affine in c: a + b*c. Summing over c = 1..=prompt gives
        // prompt*a + b*prompt*(prompt+1)/2 without a loop.
        let a = self.decode_layer_flops(0);
        let b = self.decode_layer_flops(1) - a;
        let layer_flops = prompt * a + b * (prompt * (prompt + 1) / 2);
        let per_seq_flops = self.layers * layer_flops + self.head_flops_per_token();
        let tokens = batch * prompt;
        StepWork {
            flops: batch * per_seq_flops,
            weight_bytes: bytes.weight * self.step_weight_params(),
            kv_read_bytes: 0,
            kv_write_bytes: bytes.kv * tokens * self.kv_elems_per_position(),
            activation_bytes: bytes.activation
                * (tokens * self.layers * self.activation_elems_per_token_per_layer()
                    + batch * (self.hidden + self.vocab)),
        }
    }

    /// Bytes that must stay resident to serve `batch` sequences of up to `max_context`
    /// positions: all weights (embedding and head included) plus the full KV cache.
    pub fn resident_bytes(&self, batch: u64, max_context: u64, bytes: ElemBytes) -> u64 {
        bytes.weight * self.total_params()
            + bytes.kv * batch * max_context * self.kv_elems_per_position()
    }
}

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
