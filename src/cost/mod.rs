//! Cost per token: wiring only. The data takes one road: inputs (pricing.rs, dataset.rs, the
//! model shape) -> fit (fit.rs, validate.rs) -> projection (serving.rs) -> rows (rows.rs,
//! measured.rs) -> render (render.rs).
//!
//! Reads results files and tables; never runs a kernel. [`compute`] returns the rows as plain
//! data (the report module draws from it); [`execute`] is `accelbench cost`.

pub mod dataset;
pub mod fit;
pub mod measured;
pub mod pricing;
pub mod render;
pub mod rows;
pub mod serving;
pub mod validate;

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use serde::Serialize;

use crate::model::ModelShape;
use crate::results::{self, RunResults};

use fit::FittedTable;
use pricing::{Instance, Pricing};
pub use rows::{Comparison, CostRow};
pub use serving::Scenario;
use serving::Workload;

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

/// Everything `cost` prints, as plain data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostReport {
    pub model: String,
    pub scenario: Scenario,
    /// The batch asked for; None: chosen per instance (see each row's `batch`).
    pub batch: Option<u64>,
    pub prompt_tokens: u64,
    pub output_tokens: u64,
    pub precision: Precision,
    pub results_files: Vec<String>,
    /// Published cases the fitted table rests on.
    pub dataset_cases: usize,
    pub rows: Vec<CostRow>,
    pub comparison: Option<Comparison>,
}

fn validate_options(opts: &CostOptions) -> Result<ModelShape> {
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

/// The fitted table for this query: the shipped one, or a fresh fit when the user's files
/// change the dataset or the accelerators' specs.
fn fitted_table(opts: &CostOptions, pricing: &Pricing) -> Result<FittedTable> {
    let specs_changed =
        opts.pricing.is_some() && Pricing::embedded()?.accelerators != pricing.accelerators;
    let table = if opts.dataset.is_some() || specs_changed {
        let cases = dataset::load(opts.dataset.as_deref(), pricing)?;
        validate::calibrate(&cases, pricing)?.0
    } else {
        FittedTable::embedded()?
    };
    table.check()?;
    Ok(table)
}

/// Compute the cost rows for `opts`, reading exactly the results files in `opts.files`.
pub fn compute(opts: &CostOptions) -> Result<CostReport> {
    let model = validate_options(opts)?;
    let pricing = Pricing::load(opts.pricing.as_deref())?;
    let fitted = fitted_table(opts, &pricing)?;
    let runs: Vec<(PathBuf, RunResults)> = opts
        .files
        .iter()
        .map(|f| Ok((f.clone(), results::load(f)?)))
        .collect::<Result<_>>()?;
    let opt_in = match (&opts.efficiency_from, &opts.family) {
        (Some(file), Some(family)) => {
            if pricing.accelerator(family).is_none() {
                let known: Vec<&str> = pricing.accelerators.iter().map(|a| a.id.as_str()).collect();
                bail!(
                    "--family '{family}' is not an accelerator id of the pricing table; expected one of: {}",
                    known.join(", ")
                );
            }
            let run = results::load(file)?;
            Some(measured::efficiency_from(&run, file, family)?)
        }
        _ => None,
    };
    let w = Workload {
        model: model.clone(),
        precision: opts.precision,
        scenario: opts.scenario,
        batch: opts.batch,
        tensor_parallel: None,
        overlap_prefill: true,
        prompt_tokens: opts.prompt_tokens,
        output_tokens: opts.output_tokens,
    };
    let mut rows = Vec::new();
    for (file, run) in &runs {
        for dev in measured::measured_devices(run, file, &model, &w) {
            rows.push(rows::measured_row(&dev, &pricing, opts.price_per_hour, &w));
        }
    }
    let chosen: Vec<&Instance> = match &opts.instance {
        Some(name) => match pricing.instance(name) {
            Some(i) => vec![i],
            None => {
                let known: Vec<&str> = pricing.instances.iter().map(|i| i.name.as_str()).collect();
                bail!(
                    "--instance '{name}' is not in the pricing table; expected one of: {} (or add it with --pricing FILE)",
                    known.join(", ")
                );
            }
        },
        None => pricing
            .accelerators
            .iter()
            .filter_map(|a| rows::smallest_fitting_instance(&pricing, &fitted, &a.id, &w))
            .collect(),
    };
    for inst in chosen {
        rows.push(rows::projected_row(
            inst,
            &pricing,
            &fitted,
            &w,
            opt_in.as_ref(),
        )?);
    }
    rows::sort_rows(&mut rows);
    let comparison = rows::compare_best(&rows);
    Ok(CostReport {
        model: model.name.clone(),
        scenario: opts.scenario,
        batch: opts.batch,
        prompt_tokens: opts.prompt_tokens,
        output_tokens: opts.output_tokens,
        precision: opts.precision,
        results_files: runs.iter().map(|(f, _)| f.display().to_string()).collect(),
        dataset_cases: fitted.dataset_cases,
        rows,
        comparison,
    })
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

/// Run `accelbench cost`, writing the table to `out` and one line of assumptions to stderr.
pub fn execute(opts: &CostOptions, out: &mut dyn Write) -> Result<()> {
    if opts.list {
        let pricing = Pricing::load(opts.pricing.as_deref())?;
        return render::write_pricing(&pricing, opts.format, out);
    }
    if opts.validate || opts.calibrate {
        let pricing = Pricing::load(opts.pricing.as_deref())?;
        let cases = dataset::load(opts.dataset.as_deref(), &pricing)?;
        let (table, validation) = validate::calibrate(&cases, &pricing)?;
        if opts.calibrate {
            return out
                .write_all(table.to_toml()?.as_bytes())
                .map_err(|e| anyhow::anyhow!("could not write the fitted table: {e}"));
        }
        return render::write_validation(&validation, &cases, opts.format, out);
    }
    let mut opts = opts.clone();
    let files_note = if opts.files.is_empty() {
        match crate::results::newest_results_file(Path::new("results")) {
            Some(newest) => {
                let note = format!("{} (newest in results/)", newest.display());
                opts.files.push(newest);
                note
            }
            None => "no results file in results/: projected rows only".to_string(),
        }
    } else {
        format!(
            "results: {}",
            opts.files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let report = compute(&opts)?;
    let measured = report.rows.iter().filter(|r| r.kind == "local").count();
    let files_note = if opts.files.is_empty() {
        files_note
    } else {
        format!(
            "{files_note}: {measured} measured device(s); cloud rows from the fitted table, not from the local run"
        )
    };
    eprintln!("{}", assumptions_line(&opts, &files_note));
    render::write_report(&report, opts.format, out)
}
