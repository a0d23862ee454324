//! Cost per token: wiring only. The data takes one road: inputs (query.rs, pricing.rs,
//! dataset.rs, the model shape) -> fit (fit.rs, validate.rs) -> projection (serving.rs) -> rows
//! (rows.rs, measured.rs) -> render (render.rs).
//!
//! Reads results files and tables; never runs a kernel. [`compute`] returns the rows as plain
//! data (the report module draws from it); [`execute`] is `accelbench cost`.

pub mod dataset;
pub mod fit;
pub mod measured;
pub mod pricing;
pub mod query;
pub mod render;
pub mod rows;
pub mod serving;
pub mod validate;

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use serde::Serialize;

use crate::results::{self, RunResults};

use fit::FittedTable;
use pricing::{Instance, Pricing};
pub use query::{CostFormat, CostOptions, Precision, assumptions_line};
pub use rows::{Comparison, CostRow};
pub use serving::Scenario;
use serving::Workload;

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
    let model = query::validate_options(opts)?;
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
