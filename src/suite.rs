//! Named suites: `quick` (CI-sized), `standard` (the default) and `full`, as lists of workloads.

use anyhow::{Result, bail};

use crate::model::ModelShape;
use crate::workload::{AttentionShape, Dtype, Kernel, Workload};

/// Suite names, in order of size.
pub const SUITE_NAMES: &[&str] = &["quick", "standard", "full"];

/// A suite as `--suite` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SuiteName {
    Quick,
    Standard,
    Full,
}

impl SuiteName {
    pub fn as_str(self) -> &'static str {
        SUITE_NAMES[self as usize]
    }
}

/// The suite `name` stands for.
pub fn get(name: SuiteName) -> Suite {
    by_name(name.as_str()).expect("every SuiteName is a suite")
}

/// A named list of workloads and the default per-workload time cap that goes with it.
#[derive(Debug, Clone)]
pub struct Suite {
    pub name: &'static str,
    pub workloads: Vec<Workload>,
    /// Default `--max-time-per-workload`, seconds.
    pub default_max_time_s: f64,
}

fn gemm(m: u64, n: u64, k: u64, dtype: Dtype) -> Workload {
    Workload::new(Kernel::Gemm { m, n, k }, dtype)
}
fn gemv(n: u64, k: u64, dtype: Dtype) -> Workload {
    Workload::new(Kernel::Gemv { n, k }, dtype)
}
fn attention(context: u64, dtype: Dtype) -> Workload {
    // Llama-3.1-8B / Mistral-7B attention: 32 query heads, 8 KV heads, head dim 128.
    Workload::new(
        Kernel::DecodeAttention(AttentionShape {
            context,
            q_heads: 32,
            kv_heads: 8,
            head_dim: 128,
        }),
        dtype,
    )
}
fn decode_step(model: &str, context: u64, dtype: Dtype) -> Workload {
    let model = ModelShape::by_name(model).expect("suite names a known preset");
    Workload::new(Kernel::DecodeStep { model, context }, dtype)
}
fn decode_token(model: &str, context: u64, dtype: Dtype) -> Workload {
    let model = ModelShape::by_name(model).expect("suite names a known preset");
    Workload::new(Kernel::DecodeToken { model, context }, dtype)
}
fn f32k(kernel: Kernel) -> Workload {
    Workload::new(kernel, Dtype::F32)
}

/// Look a suite up by name.
pub fn by_name(name: &str) -> Result<Suite> {
    use Dtype::{F16, F32};
    let suite = match name {
        "quick" => Suite {
            name: "quick",
            default_max_time_s: 0.5,
            workloads: vec![
                gemm(512, 512, 512, F32),
                gemm(512, 512, 512, F16),
                gemv(4096, 4096, F32),
                gemv(4096, 4096, F16),
                f32k(Kernel::Softmax {
                    rows: 32,
                    cols: 4096,
                }),
                f32k(Kernel::RmsNorm {
                    rows: 64,
                    cols: 4096,
                }),
                // f16 storage, f32 arithmetic: the parts of a 16-bit decode step.
                Workload::new(
                    Kernel::Softmax {
                        rows: 32,
                        cols: 4096,
                    },
                    F16,
                ),
                Workload::new(
                    Kernel::RmsNorm {
                        rows: 64,
                        cols: 4096,
                    },
                    F16,
                ),
                attention(1024, F32),
                attention(1024, F16),
                f32k(Kernel::StreamTriad { n: 8 << 20 }),
                decode_step("llama-3.2-1b", 1024, F32),
                // f16 weights and KV cache, as served: half the bytes per token.
                decode_step("llama-3.2-1b", 1024, F16),
                // The whole model for one token: tokens/s measured, not multiplied.
                decode_token("llama-3.2-1b", 1024, F32),
                decode_token("llama-3.2-1b", 1024, F16),
            ],
        },
        "standard" | "full" => {
            let mut w = vec![
                gemm(512, 512, 512, F32),
                gemm(1024, 1024, 1024, F32),
                gemm(2048, 2048, 2048, F32),
                gemm(4096, 4096, 4096, F32),
                // Llama prefill projections: 512 tokens through 4096 -> 4096 and 4096 -> 14336.
                gemm(512, 4096, 4096, F32),
                gemm(512, 14336, 4096, F32),
                gemm(2048, 2048, 2048, F16),
                gemm(4096, 4096, 4096, F16),
                // f16 prefill, as served: 4096 -> 4096, 4096 -> 14336 and 14336 -> 4096.
                gemm(512, 4096, 4096, F16),
                gemm(512, 14336, 4096, F16),
                gemm(512, 4096, 14336, F16),
                // Decode: one token through 4096 -> 4096 and 4096 -> 14336.
                gemv(4096, 4096, F32),
                gemv(14336, 4096, F32),
                gemv(4096, 4096, F16),
                gemv(14336, 4096, F16),
                f32k(Kernel::Softmax {
                    rows: 32,
                    cols: 4096,
                }),
                f32k(Kernel::Softmax {
                    rows: 512,
                    cols: 4096,
                }),
                f32k(Kernel::RmsNorm {
                    rows: 1,
                    cols: 4096,
                }),
                f32k(Kernel::RmsNorm {
                    rows: 512,
                    cols: 4096,
                }),
                attention(512, F32),
                attention(1024, F32),
                attention(2048, F32),
                attention(4096, F32),
                attention(4096, F16),
                f32k(Kernel::StreamTriad { n: 32 << 20 }),
                decode_step("llama-3.2-1b", 1024, F32),
                decode_step("llama-3.1-8b", 1024, F32),
                decode_step("llama-3.1-8b", 1024, F16),
                decode_token("llama-3.2-1b", 1024, F32),
                decode_token("llama-3.2-1b", 1024, F16),
                // About 16 GiB: skipped with a note where memory does not allow it.
                decode_token("llama-3.1-8b", 1024, F16),
            ];
            if name == "full" {
                w.extend([
                    gemm(8192, 8192, 8192, F32),
                    gemv(28672, 8192, F32),
                    attention(8192, F32),
                    attention(16384, F32),
                    decode_step("llama-3.1-8b", 4096, F32),
                    decode_step("llama-2-13b", 1024, F32),
                ]);
                return Ok(Suite {
                    name: "full",
                    default_max_time_s: 5.0,
                    workloads: w,
                });
            }
            Suite {
                name: "standard",
                default_max_time_s: 2.0,
                workloads: w,
            }
        }
        other => bail!(
            "unknown suite '{other}'; expected one of: {}",
            SUITE_NAMES.join(", ")
        ),
    };
    Ok(suite)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_suite_resolves() {
        for name in SUITE_NAMES {
            assert!(!by_name(name).unwrap().workloads.is_empty());
        }
    }

    #[test]
    fn unknown_suite_is_a_clear_error() {
        let e = by_name("huge").unwrap_err().to_string();
        assert!(e.contains("unknown suite 'huge'"), "{e}");
    }
}
