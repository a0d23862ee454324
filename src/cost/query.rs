//! What `accelbench cost` is asked: the options, their defaults and their checks, and the one
//! line of assumptions printed on stderr.

use std::path::PathBuf;

use anyhow::{Result, bail};

use crate::model::ModelShape;

use super::serving::Scenario;

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

impl Precision {
    pub fn name(self) -> &'static str {
        match self {
            Precision::Bf16 => "bf16",
            Precision::Fp8 => "fp8",
            Precision::Int8 => "int8",
        }
    }
}

/// What `accelbench cost` was asked to do.
#[derive(Debug, Clone)]
pub struct CostOptions {
    pub files: Vec<PathBuf>,
    pub model: String,
    pub scenario: Scenario,
    /// Concurrent sequences; None: offline takes the largest that fits (up to the table's
    /// `max_batch` per replica), latency takes 1.
    pub batch: Option<u64>,
    pub prompt_tokens: u64,
    pub output_tokens: u64,
    pub precision: Precision,
    pub pricing: Option<PathBuf>,
    /// Extra published cases, appended to the embedded dataset (the fit is then redone).
    pub dataset: Option<PathBuf>,
    pub instance: Option<String>,
    pub price_per_hour: Option<f64>,
    /// Opt-in: efficiencies measured in this results file replace `family`'s fitted ones.
    pub efficiency_from: Option<PathBuf>,
    pub family: Option<String>,
    pub list: bool,
    pub validate: bool,
    pub calibrate: bool,
    pub format: CostFormat,
}

impl CostOptions {
    /// `accelbench cost`'s defaults (model, batch, sequence lengths, precision, the embedded
    /// pricing table, no price for local devices) for `files`; the report's cost chart uses
    /// them, so the chart and `accelbench cost RUN.json...` agree. A test checks that they
    /// match the command line's defaults.
    pub fn defaults(files: Vec<PathBuf>) -> CostOptions {
        CostOptions {
            files,
            model: "llama-3.1-8b".into(),
            scenario: Scenario::Offline,
            batch: None,
            prompt_tokens: 512,
            output_tokens: 256,
            precision: Precision::Bf16,
            pricing: None,
            dataset: None,
            instance: None,
            price_per_hour: None,
            efficiency_from: None,
            family: None,
            list: false,
            validate: false,
            calibrate: false,
            format: CostFormat::Table,
        }
    }
}

pub fn validate_options(opts: &CostOptions) -> Result<ModelShape> {
    let Some(model) = ModelShape::by_name(&opts.model) else {
        bail!(
            "--model '{}' is not a known model; expected one of: {}",
            opts.model,
            ModelShape::preset_names().join(", ")
        );
    };
    for (flag, v) in [
        ("--batch", opts.batch.unwrap_or(1)),
        ("--prompt-tokens", opts.prompt_tokens),
        ("--output-tokens", opts.output_tokens),
    ] {
        if v == 0 {
            bail!("{flag} is 0; expected a whole number of at least 1");
        }
    }
    // Bounds keep every count within u64.
    let batch = opts.batch.unwrap_or(1);
    if batch > 1 << 20 || opts.prompt_tokens > 1 << 22 || opts.output_tokens > 1 << 22 {
        bail!(
            "--batch {} / --prompt-tokens {} / --output-tokens {} is too large; expected batch up to {} and token counts up to {}",
            batch,
            opts.prompt_tokens,
            opts.output_tokens,
            1u64 << 20,
            1u64 << 22
        );
    }
    // Work counts are exact u64; refuse shapes whose prefill would not fit in one.
    let context = (opts.prompt_tokens + opts.output_tokens) as f64;
    let per_position = model.decode_layer_flops(0) as f64
        + (model.decode_layer_flops(1) - model.decode_layer_flops(0)) as f64 * context;
    // An automatic batch is at most max_batch (256 by default) per replica; 4096 bounds it.
    let flops_bound =
        opts.batch.unwrap_or(4096) as f64 * model.layers as f64 * per_position * context;
    if flops_bound > 1e18 {
        bail!(
            "--batch {} with {} prompt + {} output tokens is beyond what accelbench counts exactly for {} (about {flops_bound:.1e} FLOPs per prefill); expected a smaller batch or shorter sequences",
            batch,
            opts.prompt_tokens,
            opts.output_tokens,
            model.name
        );
    }
    if let Some(p) = opts.price_per_hour
        && !(p.is_finite() && p > 0.0)
    {
        bail!("--price-per-hour is {p}; expected a positive number of US dollars per hour");
    }
    if opts.efficiency_from.is_some() != opts.family.is_some() {
        bail!(
            "--efficiency-from and --family go together: name the results file and the accelerator family whose fitted efficiencies it replaces"
        );
    }
    Ok(model)
}

/// One line saying what `cost` assumed, for stderr.
pub fn assumptions_line(opts: &CostOptions, files_note: &str) -> String {
    format!(
        "cost: {} {} at batch {}, {} prompt + {} output tokens, {}; {}",
        opts.model.to_lowercase(),
        opts.scenario.name(),
        opts.batch.map_or_else(
            || match opts.scenario {
                Scenario::Offline => "auto (largest that fits, per instance)".to_string(),
                Scenario::Latency => "1".to_string(),
            },
            |b| b.to_string()
        ),
        opts.prompt_tokens,
        opts.output_tokens,
        opts.precision.name(),
        files_note
    )
}
