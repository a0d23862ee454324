//! The kernel choices a workload has on this adapter, for the run loop to time against each
//! other (`run/tune.rs`): 64 x 64 or 128 x 128 tiles for an f32 GEMM (the tile-count rule's
//! pick first), the cooperative-matrix GEMM variants for an f16 GEMM, the fused or
//! unfused decode layer, and the grouped or per-query-head f16 decode attention. A choice the
//! user fixed with its environment variable (`ACCELBENCH_GEMM_F16`, `ACCELBENCH_DECODE`,
//! `ACCELBENCH_ATTENTION`) is not offered.

use anyhow::{Result, bail};

use super::GpuBackend;
use super::plan::{COOP_GEMMS, GEMM_F32_KERNELS, coop_variant, gemm_f32_by_rule, gqa_applies};
use crate::workload::{Dtype, Kernel, Workload};

/// The decode layer as 11 dispatches (the default) or 7 (`ACCELBENCH_DECODE=fused`).
pub const DECODE_UNFUSED: &str = "unfused";
pub const DECODE_FUSED: &str = "fused";
/// Suffix of a decode choice with the grouped f16 attention kernel.
pub const WITH_GQA: &str = "+gqa";
/// Decode attention on its own: the per-query-head kernel (default) or the grouped one.
pub const ATTENTION_DEFAULT: &str = "default";
pub const ATTENTION_GQA: &str = "gqa";

fn env_set(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| !v.is_empty())
}

/// `ACCELBENCH_DECODE=fused`.
pub(super) fn env_decode_fused() -> bool {
    std::env::var("ACCELBENCH_DECODE").as_deref() == Ok("fused")
}

/// `ACCELBENCH_ATTENTION=gqa`.
pub(super) fn env_attention_gqa() -> bool {
    std::env::var("ACCELBENCH_ATTENTION").as_deref() == Ok("gqa")
}

impl GpuBackend {
    /// Every kernel choice `w` has on this adapter (the default first), software adapter or
    /// not; empty when there is at most one. [`crate::backend::Backend::choices`] offers them
    /// on hardware adapters only: a software adapter's timings say nothing about a GPU.
    pub fn kernel_choices(&self, w: &Workload) -> Vec<String> {
        let list: Vec<String> = match &w.kernel {
            Kernel::Gemm { m, n, .. } if w.dtype == Dtype::F32 => {
                if self.gemm_f32.is_some() {
                    return Vec::new();
                }
                let rule = gemm_f32_by_rule(*m, *n);
                let other = GEMM_F32_KERNELS.iter().find(|k| **k != rule);
                std::iter::once(rule)
                    .chain(other.copied())
                    .map(String::from)
                    .collect()
            }
            Kernel::Gemm { .. } if w.dtype == Dtype::F16 => {
                if self.coop_variant.is_some()
                    || env_set("ACCELBENCH_GEMM_F16")
                    || self.gemm_f16_fallback().is_some()
                {
                    return Vec::new();
                }
                COOP_GEMMS
                    .iter()
                    .filter(|v| self.coop_too_big(v).is_none())
                    .map(|v| v.name.to_string())
                    .collect()
            }
            Kernel::DecodeAttention(a) => {
                if env_set("ACCELBENCH_ATTENTION")
                    || !gqa_applies(a.q_heads, a.kv_heads, a.head_dim, w.dtype)
                {
                    return Vec::new();
                }
                vec![ATTENTION_DEFAULT.into(), ATTENTION_GQA.into()]
            }
            Kernel::DecodeStep { model, .. } | Kernel::DecodeToken { model, .. } => {
                let fused = if env_set("ACCELBENCH_DECODE") {
                    vec![self.decode_fused]
                } else {
                    vec![false, true]
                };
                let gqa = if env_set("ACCELBENCH_ATTENTION")
                    || !gqa_applies(model.q_heads, model.kv_heads, model.head_dim, w.dtype)
                {
                    vec![self.attention_gqa]
                } else {
                    vec![false, true]
                };
                let mut list = Vec::new();
                for &g in &gqa {
                    for &f in &fused {
                        let base = if f { DECODE_FUSED } else { DECODE_UNFUSED };
                        list.push(format!("{base}{}", if g { WITH_GQA } else { "" }));
                    }
                }
                list
            }
            _ => Vec::new(),
        };
        if list.len() < 2 { Vec::new() } else { list }
    }

    /// Use `choice` (from [`Self::kernel_choices`]) for what is prepared from now on; `None`
    /// restores what the environment (or nothing) set.
    pub fn choose_kernel(&mut self, choice: Option<&str>) -> Result<()> {
        let Some(c) = choice else {
            self.coop_variant = None;
            self.gemm_f32 = None;
            self.decode_fused = env_decode_fused();
            self.attention_gqa = env_attention_gqa();
            return Ok(());
        };
        if let Some(v) = coop_variant(c) {
            self.coop_variant = Some(v);
            return Ok(());
        }
        if let Some(k) = GEMM_F32_KERNELS.iter().find(|k| **k == c) {
            self.gemm_f32 = Some(k);
            return Ok(());
        }
        match c {
            ATTENTION_DEFAULT => self.attention_gqa = false,
            ATTENTION_GQA => self.attention_gqa = true,
            _ => {
                let (base, gqa) = match c.strip_suffix(WITH_GQA) {
                    Some(b) => (b, true),
                    None => (c, false),
                };
                self.decode_fused = match base {
                    DECODE_UNFUSED => false,
                    DECODE_FUSED => true,
                    _ => bail!("no kernel choice named '{c}'"),
                };
                self.attention_gqa = gqa;
            }
        }
        Ok(())
    }
}
