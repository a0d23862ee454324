//! Cost per token: the pricing table (embedded TOML plus the user's file), the roofline
//! projection for cloud accelerators, and $ per 1M tokens for measured and projected rows.
//!
//! Reads results files and the pricing table; never runs a kernel. [`compute`] returns the
//! rows as plain data (the report module draws from it); [`execute`] is `accelbench cost`.

pub mod measured;
pub mod pricing;
pub mod project;
pub mod render;

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use serde::Serialize;

use crate::model::ModelShape;
use crate::results::{self, RunResults};

use pricing::{AcceleratorKind, Efficiency, Instance, Pricing};
use project::{Hardware, ServingShape};

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

impl CostOptions {
    /// `accelbench cost`'s defaults (model, batch, sequence lengths, precision, the embedded
    /// pricing table, no price for local devices) for `files`; the report's cost chart uses
    /// them, so the chart and `accelbench cost RUN.json...` agree. A test checks that they
    /// match the command line's defaults.
    pub fn defaults(files: Vec<PathBuf>) -> CostOptions {
        CostOptions {
            files,
            model: "llama-3.1-8b".into(),
            batch: 1,
            prompt_tokens: 512,
            output_tokens: 256,
            precision: Precision::Bf16,
            pricing: None,
            instance: None,
            price_per_hour: None,
            list: false,
            format: CostFormat::Table,
        }
    }
}

/// One priced row: a local device (measured) or a cloud instance (projected).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostRow {
    /// Instance name as the provider names it, or `host:device` for a local device.
    pub instance: String,
    pub provider: String,
    /// Chip name (local devices: the device name).
    pub accelerator: String,
    /// `gpu`, `custom` or `local`.
    pub kind: String,
    /// `measured` or `projected`.
    pub basis: String,
    pub chips: u64,
    /// Weights and KV cache fit in the instance's memory (always true for measured rows).
    pub fits: bool,
    pub usd_per_hour: Option<f64>,
    pub prefill_tokens_per_s: Option<f64>,
    pub decode_tokens_per_s: Option<f64>,
    /// Decode tokens/s at the low and high ends of the efficiency range.
    pub decode_tokens_per_s_low: Option<f64>,
    pub decode_tokens_per_s_high: Option<f64>,
    /// Output tokens/s over whole requests (prefill time included).
    pub output_tokens_per_s: Option<f64>,
    pub usd_per_m_input: Option<f64>,
    pub usd_per_m_output: Option<f64>,
    /// $/1M output tokens at the high and low ends of the efficiency range (cheapest first).
    pub usd_per_m_output_low: Option<f64>,
    pub usd_per_m_output_high: Option<f64>,
    /// Output tokens per US dollar.
    pub output_tokens_per_usd: Option<f64>,
    /// What dominated decode time (projected rows).
    pub bound: Option<String>,
    pub efficiency_source: String,
    pub price_source: String,
    pub price_date: String,
    pub notes: Vec<String>,
}

/// Best custom-silicon row against the best GPU row, by $/1M output tokens.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub custom_instance: String,
    pub custom_accelerator: String,
    pub custom_usd_per_m_output: f64,
    pub custom_usd_per_hour: f64,
    pub gpu_instance: String,
    pub gpu_accelerator: String,
    pub gpu_usd_per_m_output: f64,
    /// GPU $/1M output over custom $/1M output: above 1, custom silicon is cheaper.
    pub gpu_over_custom: f64,
    /// $/hour at which the custom instance would cost the same per output token as the GPU.
    pub custom_break_even_usd_per_hour: f64,
}

/// Everything `cost` prints, as plain data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostReport {
    pub model: String,
    pub batch: u64,
    pub prompt_tokens: u64,
    pub output_tokens: u64,
    pub precision: Precision,
    pub results_files: Vec<String>,
    pub rows: Vec<CostRow>,
    pub comparison: Option<Comparison>,
}

fn validate(opts: &CostOptions) -> Result<ModelShape> {
    let Some(model) = ModelShape::by_name(&opts.model) else {
        bail!(
            "--model '{}' is not a known model; expected one of: {}",
            opts.model,
            ModelShape::preset_names().join(", ")
        );
    };
    for (flag, v) in [
        ("--batch", opts.batch),
        ("--prompt-tokens", opts.prompt_tokens),
        ("--output-tokens", opts.output_tokens),
    ] {
        if v == 0 {
            bail!("{flag} is 0; expected a whole number of at least 1");
        }
    }
    // Bounds keep every count within u64 and the decode loop short.
    if opts.batch > 1 << 20 || opts.prompt_tokens > 1 << 22 || opts.output_tokens > 1 << 22 {
        bail!(
            "--batch {} / --prompt-tokens {} / --output-tokens {} is too large; expected batch up to {} and token counts up to {}",
            opts.batch,
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
    let flops_bound = opts.batch as f64 * model.layers as f64 * per_position * context;
    if flops_bound > 1e18 {
        bail!(
            "--batch {} with {} prompt + {} output tokens is beyond what accelbench counts exactly for {} (about {flops_bound:.1e} FLOPs per prefill); expected a smaller batch or shorter sequences",
            opts.batch,
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
    Ok(model)
}

/// Compute the cost rows for `opts`, reading exactly the results files in `opts.files`.
pub fn compute(opts: &CostOptions) -> Result<CostReport> {
    let model = validate(opts)?;
    let pricing = Pricing::load(opts.pricing.as_deref())?;
    let runs: Vec<(PathBuf, RunResults)> = opts
        .files
        .iter()
        .map(|f| Ok((f.clone(), results::load(f)?)))
        .collect::<Result<_>>()?;
    compute_with(opts, &model, &pricing, &runs)
}

fn compute_with(
    opts: &CostOptions,
    model: &ModelShape,
    pricing: &Pricing,
    runs: &[(PathBuf, RunResults)],
) -> Result<CostReport> {
    let shape = ServingShape {
        model: model.clone(),
        batch: opts.batch,
        prompt_tokens: opts.prompt_tokens,
        output_tokens: opts.output_tokens,
        precision: opts.precision,
    };
    let calibrated = measured::calibrate(runs);
    let mut rows = Vec::new();

    for (file, run) in runs {
        for dev in measured::measured_devices(run, file, model, &shape) {
            rows.push(measured_row(&dev, opts, pricing));
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
            .filter_map(|a| smallest_fitting_instance(pricing, &a.id, &shape))
            .collect(),
    };
    for inst in chosen {
        rows.push(projected_row(inst, pricing, &shape, calibrated.as_ref())?);
    }
    sort_rows(&mut rows);
    let comparison = compare_best(&rows);
    Ok(CostReport {
        model: model.name.clone(),
        batch: opts.batch,
        prompt_tokens: opts.prompt_tokens,
        output_tokens: opts.output_tokens,
        precision: opts.precision,
        results_files: runs.iter().map(|(f, _)| f.display().to_string()).collect(),
        rows,
        comparison,
    })
}

/// The instance with the fewest chips whose memory holds weights and KV cache (cheapest known
/// price among equals); the largest one when none does, so the row can say it does not fit.
fn smallest_fitting_instance<'a>(
    pricing: &'a Pricing,
    accelerator: &str,
    shape: &ServingShape,
) -> Option<&'a Instance> {
    let acc = pricing.accelerator(accelerator)?;
    let mut candidates: Vec<&Instance> = pricing
        .instances
        .iter()
        .filter(|i| i.accelerator == accelerator)
        .collect();
    let price_key = |i: &Instance| i.usd_per_hour().unwrap_or(f64::INFINITY);
    candidates.sort_by(|a, b| {
        a.chips
            .cmp(&b.chips)
            .then(price_key(a).total_cmp(&price_key(b)))
    });
    let resident = shape.resident_bytes() as f64;
    candidates
        .iter()
        .find(|i| {
            let hw = Hardware::from_accelerator(
                acc,
                i.chips,
                shape.precision,
                pricing.allreduce_latency_us,
                pricing.usable_memory_fraction,
            );
            resident <= hw.usable_memory_bytes()
        })
        .or_else(|| {
            let max_chips = candidates.last()?.chips;
            candidates.iter().find(|i| i.chips == max_chips)
        })
        .copied()
}

fn projected_row(
    inst: &Instance,
    pricing: &Pricing,
    shape: &ServingShape,
    calibrated: Option<&Efficiency>,
) -> Result<CostRow> {
    let Some(acc) = pricing.accelerator(&inst.accelerator) else {
        bail!(
            "instance '{}' names accelerator '{}', which is not in the pricing table",
            inst.name,
            inst.accelerator
        );
    };
    let eff = calibrated
        .or(acc.efficiency.as_ref())
        .unwrap_or(&pricing.default_efficiency);
    let hw = Hardware::from_accelerator(
        acc,
        inst.chips,
        shape.precision,
        pricing.allreduce_latency_us,
        pricing.usable_memory_fraction,
    );
    let p = project::project_range(shape, &hw, eff);
    let usd = inst.usd_per_hour();
    let mut notes = Vec::new();
    if acc.peak_tflops(shape.precision).1 {
        notes.push(format!(
            "no {} matmul peak published: bf16 peak used with {}-byte weights",
            shape.precision.name(),
            shape.elem_bytes().weight
        ));
    }
    if usd.is_none() {
        notes.push("price unknown: supply one with --pricing FILE".to_string());
    }
    if inst.chips > 1 && acc.link_gbps.is_none() {
        notes.push("no chip-to-chip bandwidth in the table: 16 GB/s PCIe assumed".to_string());
    }
    if !p.point.fits {
        notes.push(format!(
            "does not fit: needs {:.0} GB for weights and KV cache, {:.0} GB usable",
            p.point.resident_bytes / 1e9,
            p.point.usable_memory_bytes / 1e9
        ));
        return Ok(CostRow {
            instance: inst.name.clone(),
            provider: inst.provider.clone(),
            accelerator: acc.name.clone(),
            kind: acc.kind.name().to_string(),
            basis: "projected".to_string(),
            chips: inst.chips,
            fits: false,
            usd_per_hour: usd,
            prefill_tokens_per_s: None,
            decode_tokens_per_s: None,
            decode_tokens_per_s_low: None,
            decode_tokens_per_s_high: None,
            output_tokens_per_s: None,
            usd_per_m_input: None,
            usd_per_m_output: None,
            usd_per_m_output_low: None,
            usd_per_m_output_high: None,
            output_tokens_per_usd: None,
            bound: None,
            efficiency_source: eff.source.clone(),
            price_source: inst.price_source.clone(),
            price_date: inst.price_date.clone(),
            notes,
        });
    }
    if inst.chips > 1 && p.point.decode_comm_share > 0.2 {
        notes.push(format!(
            "tensor parallel over {} chips: {:.0}% of decode time is all-reduce",
            inst.chips,
            100.0 * p.point.decode_comm_share
        ));
    }
    let per_m = |tps: f64| usd.map(|u| project::usd_per_million(u, tps));
    Ok(CostRow {
        instance: inst.name.clone(),
        provider: inst.provider.clone(),
        accelerator: acc.name.clone(),
        kind: acc.kind.name().to_string(),
        basis: "projected".to_string(),
        chips: inst.chips,
        fits: true,
        usd_per_hour: usd,
        prefill_tokens_per_s: Some(p.point.prefill_tokens_per_s),
        decode_tokens_per_s: Some(p.point.decode_tokens_per_s),
        decode_tokens_per_s_low: Some(p.low.decode_tokens_per_s),
        decode_tokens_per_s_high: Some(p.high.decode_tokens_per_s),
        output_tokens_per_s: Some(p.point.output_tokens_per_s),
        usd_per_m_input: per_m(p.point.prefill_tokens_per_s),
        usd_per_m_output: per_m(p.point.decode_tokens_per_s),
        usd_per_m_output_low: per_m(p.high.decode_tokens_per_s),
        usd_per_m_output_high: per_m(p.low.decode_tokens_per_s),
        output_tokens_per_usd: usd.map(|u| p.point.decode_tokens_per_s * 3600.0 / u),
        bound: Some(p.point.decode_bound.name().to_string()),
        efficiency_source: eff.source.clone(),
        price_source: inst.price_source.clone(),
        price_date: inst.price_date.clone(),
        notes,
    })
}

fn measured_row(dev: &measured::MeasuredDevice, opts: &CostOptions, pricing: &Pricing) -> CostRow {
    let (usd, price_source, price_date) =
        match (opts.price_per_hour, pricing.local_price(&dev.device_name)) {
            (Some(p), _) => (Some(p), "--price-per-hour".to_string(), "given".to_string()),
            (None, Some(l)) => (
                Some(l.usd_per_hour),
                l.price_source.clone(),
                "given".to_string(),
            ),
            (None, None) => (
                None,
                "no price: pass --price-per-hour".to_string(),
                "n/a".to_string(),
            ),
        };
    let per_m = |tps: Option<f64>| match (usd, tps) {
        (Some(u), Some(t)) => Some(project::usd_per_million(u, t)),
        _ => None,
    };
    let output_tps = match (dev.prefill_tokens_per_s, dev.decode_tokens_per_s) {
        (Some(p), Some(d)) => {
            // Batch 1 as measured: one prompt, then one token per decode step.
            let secs = opts.prompt_tokens as f64 / p + opts.output_tokens as f64 / d;
            Some(opts.output_tokens as f64 / secs)
        }
        _ => None,
    };
    let mut notes = dev.notes.clone();
    notes.push(format!("from {}", dev.file.display()));
    CostRow {
        instance: format!("{}:{}", dev.hostname, dev.device_id),
        provider: "local".to_string(),
        accelerator: dev.device_name.clone(),
        kind: "local".to_string(),
        basis: "measured".to_string(),
        chips: 1,
        fits: true,
        usd_per_hour: usd,
        prefill_tokens_per_s: dev.prefill_tokens_per_s,
        decode_tokens_per_s: dev.decode_tokens_per_s,
        decode_tokens_per_s_low: dev.decode_tokens_per_s,
        decode_tokens_per_s_high: dev.decode_tokens_per_s,
        output_tokens_per_s: output_tps,
        usd_per_m_input: per_m(dev.prefill_tokens_per_s),
        usd_per_m_output: per_m(dev.decode_tokens_per_s),
        usd_per_m_output_low: per_m(dev.decode_tokens_per_s),
        usd_per_m_output_high: per_m(dev.decode_tokens_per_s),
        output_tokens_per_usd: match (usd, dev.decode_tokens_per_s) {
            (Some(u), Some(d)) => Some(d * 3600.0 / u),
            _ => None,
        },
        bound: None,
        efficiency_source: "n/a (measured throughput)".to_string(),
        price_source,
        price_date,
        notes,
    }
}

/// Local rows first; then priced rows cheapest per output token first; then unpriced rows by
/// decode speed; rows that do not fit last.
fn sort_rows(rows: &mut [CostRow]) {
    let key = |r: &CostRow| {
        let group = match (r.kind.as_str(), r.fits, r.usd_per_m_output) {
            ("local", _, _) => 0,
            (_, false, _) => 3,
            (_, true, Some(_)) => 1,
            (_, true, None) => 2,
        };
        let value = match group {
            1 => r.usd_per_m_output.unwrap_or(0.0),
            2 => -r.decode_tokens_per_s.unwrap_or(0.0),
            _ => 0.0,
        };
        (group, value)
    };
    rows.sort_by(|a, b| {
        let (ga, va) = key(a);
        let (gb, vb) = key(b);
        ga.cmp(&gb)
            .then(va.total_cmp(&vb))
            .then(a.instance.cmp(&b.instance))
    });
}

fn compare_best(rows: &[CostRow]) -> Option<Comparison> {
    let best = |kind: AcceleratorKind| {
        rows.iter()
            .filter(|r| r.kind == kind.name() && r.fits)
            .filter(|r| r.usd_per_m_output.is_some() && r.usd_per_hour.is_some())
            .min_by(|a, b| {
                a.usd_per_m_output
                    .unwrap_or(0.0)
                    .total_cmp(&b.usd_per_m_output.unwrap_or(0.0))
            })
    };
    let custom = best(AcceleratorKind::Custom)?;
    let gpu = best(AcceleratorKind::Gpu)?;
    let c = custom.usd_per_m_output?;
    let g = gpu.usd_per_m_output?;
    let decode = custom.decode_tokens_per_s?;
    Some(Comparison {
        custom_instance: custom.instance.clone(),
        custom_accelerator: custom.accelerator.clone(),
        custom_usd_per_m_output: c,
        custom_usd_per_hour: custom.usd_per_hour?,
        gpu_instance: gpu.instance.clone(),
        gpu_accelerator: gpu.accelerator.clone(),
        gpu_usd_per_m_output: g,
        gpu_over_custom: g / c,
        custom_break_even_usd_per_hour: g * decode * 3600.0 / 1e6,
    })
}

/// One line saying what `cost` assumed, for stderr.
pub fn assumptions_line(opts: &CostOptions, files_note: &str) -> String {
    format!(
        "cost: {} at batch {}, {} prompt + {} output tokens, {}; {}",
        opts.model.to_lowercase(),
        opts.batch,
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
    let mut opts = opts.clone();
    let files_note = if opts.files.is_empty() {
        match crate::results::newest_results_file(Path::new("results")) {
            Some(newest) => {
                let note = format!(
                    "{} (newest in results/)",
                    newest.display()
                );
                opts.files.push(newest);
                note
            }
            None => {
                "no results file in results/: projected rows only, efficiencies from the pricing table"
                    .to_string()
            }
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
    let calibrated = report
        .rows
        .iter()
        .any(|r| r.basis == "projected" && r.efficiency_source.starts_with("measured"));
    let files_note = if opts.files.is_empty() {
        files_note
    } else {
        format!(
            "{files_note}: {measured} measured device(s), projections {}",
            if calibrated {
                "calibrated to the measured efficiencies"
            } else {
                "at the pricing table's efficiencies (no usable GEMM and GEMV rows with peaks)"
            }
        )
    };
    eprintln!("{}", assumptions_line(&opts, &files_note));
    render::write_report(&report, opts.format, out)
}
