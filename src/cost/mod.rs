//! Cost per token: the pricing table (embedded TOML plus the user's file), the roofline
//! projection for cloud accelerators, and $ per 1M tokens for measured and projected rows.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Result, bail};

/// Output format of `cost`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CostFormat {
    Table,
    Md,
    Csv,
    Json,
}

/// Numeric precision of weights and matmuls in the projection.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    Bf16,
    Fp8,
    Int8,
}

/// What `accelbench cost` was asked to do.
#[derive(Debug, Clone)]
pub struct CostOptions {
    pub files: Vec<PathBuf>,
    pub model: String,
    pub batch: u64,
    pub prompt_tokens: u64,
    pub output_tokens: u64,
    pub precision: Precision,
    pub pricing: Option<PathBuf>,
    pub instance: Option<String>,
    pub price_per_hour: Option<f64>,
    pub list: bool,
    pub format: CostFormat,
}

/// Run `accelbench cost`, writing the table to `out`.
pub fn execute(opts: &CostOptions, out: &mut dyn Write) -> Result<()> {
    let _ = (opts, out);
    bail!("cost is not implemented yet")
}
