//! Helpers shared by the test modules.

use accelbench::model::ModelShape;

/// A tiny decode-step model with odd sizes everywhere: hidden and ffn not multiples of 4, a
/// GQA group of 2, head_dim 6.
pub fn tiny_model() -> ModelShape {
    ModelShape {
        name: "tiny-test".to_string(),
        layers: 2,
        hidden: 30,
        q_heads: 4,
        kv_heads: 2,
        head_dim: 6,
        ffn: 51,
        vocab: 100,
        tied_embeddings: true,
    }
}
