//! Rendering of cost reports and the pricing table: terminal table, Markdown, CSV, JSON.
//! Takes plain data from [`super::compute`] and [`super::pricing::Pricing`]; computes nothing.

use std::io::Write;

use anyhow::{Context, Result};

use crate::render;

use super::dataset::Case;
use super::pricing::{Price, Pricing};
use super::validate::{Validation, factor};
use super::{CostFormat, CostReport, CostRow, Scenario};

/// A rectangular table of strings, printed through the shared renderer in any text format.
struct Table {
    headers: Vec<&'static str>,
    /// Columns aligned right in the terminal and Markdown (numbers).
    numeric: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn shared(&self) -> render::Table {
        let numeric = self
            .numeric
            .iter()
            .enumerate()
            .filter(|(_, n)| **n)
            .map(|(i, _)| i);
        // The first column names the row (an instance, a case id): long ones stay on one line.
        let mut t = render::Table::new(self.headers.iter().copied())
            .numeric(numeric)
            .max_width(0, 80);
        for r in &self.rows {
            t.push(r.iter().map(String::as_str));
        }
        t
    }

    fn text(&self) -> String {
        self.shared().to_text()
    }

    fn markdown(&self) -> String {
        self.shared().to_markdown()
    }

    fn csv(&self) -> String {
        render::csv::to_string(&self.headers, &self.rows)
    }
}

/// A number with about `sig` significant digits, never in exponent notation.
pub fn sig(x: f64, sig: usize) -> String {
    if !x.is_finite() {
        return "-".to_string();
    }
    if x == 0.0 {
        return "0".to_string();
    }
    let digits = x.abs().log10().floor() as i64 + 1;
    let decimals = (sig as i64 - digits).max(0) as usize;
    format!("{x:.decimals$}")
}

fn opt(x: Option<f64>, digits: usize) -> String {
    x.map_or_else(|| "-".to_string(), |v| sig(v, digits))
}

fn usd(x: Option<f64>) -> String {
    x.map_or_else(|| "?".to_string(), |v| format!("${}", sig(v, 3)))
}

fn range(lo: Option<f64>, hi: Option<f64>, fmt: fn(Option<f64>) -> String) -> String {
    match (lo, hi) {
        (Some(a), Some(b)) if a == b => "-".to_string(),
        (Some(_), Some(_)) => format!("{}-{}", fmt(lo), fmt(hi)),
        _ => "-".to_string(),
    }
}

fn tps(x: Option<f64>) -> String {
    opt(x, 3)
}

/// Distinct strings numbered in order of first use, for footnotes.
#[derive(Default)]
struct Notes {
    items: Vec<String>,
}

impl Notes {
    fn mark(&mut self, prefix: &str, s: &str) -> String {
        let i = match self.items.iter().position(|x| x == s) {
            Some(i) => i,
            None => {
                self.items.push(s.to_string());
                self.items.len() - 1
            }
        };
        format!("{prefix}{}", i + 1)
    }
}

fn row_price_note(r: &CostRow) -> String {
    format!("{} ({})", r.price_source, r.price_date)
}

/// Write a cost report in `format`.
pub fn write_report(report: &CostReport, format: CostFormat, out: &mut dyn Write) -> Result<()> {
    let text = match format {
        CostFormat::Json => {
            let mut s = serde_json::to_string_pretty(report)
                .context("could not serialize the cost report")?;
            s.push('\n');
            s
        }
        CostFormat::Csv => csv_report(report),
        CostFormat::Table | CostFormat::Md => text_report(report, format == CostFormat::Md),
    };
    out.write_all(text.as_bytes())
        .context("could not write the cost report")
}

/// The columns of the CSV report, and the row's cells in that order.
const CSV_HEADERS: [&str; 29] = [
    "instance",
    "provider",
    "accelerator",
    "kind",
    "basis",
    "scenario",
    "chips",
    "layout",
    "batch",
    "fits",
    "usd_per_hour",
    "output_tokens_per_s",
    "output_tokens_per_s_low",
    "output_tokens_per_s_high",
    "ms_per_output_token",
    "decode_tokens_per_s",
    "prefill_tokens_per_s",
    "usd_per_m_input",
    "usd_per_m_output",
    "usd_per_m_output_low",
    "usd_per_m_output_high",
    "output_tokens_per_usd",
    "bound",
    "fit",
    "fit_cases",
    "price_source",
    "price_date",
    "notes",
    "model",
];

fn csv_report(report: &CostReport) -> String {
    let num = |x: Option<f64>| x.map_or_else(String::new, |v| sig(v, 6));
    let rows = report
        .rows
        .iter()
        .map(|r| {
            vec![
                r.instance.clone(),
                r.provider.clone(),
                r.accelerator.clone(),
                r.kind.clone(),
                r.basis.clone(),
                r.scenario.clone(),
                r.chips.to_string(),
                r.layout.clone().unwrap_or_default(),
                r.batch.to_string(),
                r.fits.to_string(),
                num(r.usd_per_hour),
                num(r.output_tokens_per_s),
                num(r.output_tokens_per_s_low),
                num(r.output_tokens_per_s_high),
                num(r.ms_per_output_token),
                num(r.decode_tokens_per_s),
                num(r.prefill_tokens_per_s),
                num(r.usd_per_m_input),
                num(r.usd_per_m_output),
                num(r.usd_per_m_output_low),
                num(r.usd_per_m_output_high),
                num(r.output_tokens_per_usd),
                r.bound.clone().unwrap_or_default(),
                r.fit.clone(),
                r.fit_cases.to_string(),
                r.price_source.clone(),
                r.price_date.clone(),
                r.notes.join("; "),
                report.model.clone(),
            ]
        })
        .collect();
    Table {
        numeric: vec![false; CSV_HEADERS.len()],
        headers: CSV_HEADERS.to_vec(),
        rows,
    }
    .csv()
}

fn text_report(report: &CostReport, md: bool) -> String {
    let mut fit_notes = Notes::default();
    let mut price_notes = Notes::default();
    let mut row_notes = Notes::default();
    let headers = vec![
        "instance",
        "accelerator",
        "kind",
        "basis",
        "chips",
        "layout",
        "batch",
        "$/hour",
        "out tok/s",
        "out tok/s range",
        "ms/token",
        "$/1M in",
        "$/1M out",
        "$/1M out range",
        "bound",
        "fit",
        "price",
        "notes",
    ];
    let numeric = vec![
        false, false, false, false, true, false, true, true, true, true, true, true, true, true,
        false, false, false, false,
    ];
    let rows = report
        .rows
        .iter()
        .map(|r| {
            let notes: Vec<String> = r.notes.iter().map(|n| row_notes.mark("n", n)).collect();
            let fit = if r.basis == "measured" {
                "measured".to_string()
            } else {
                fit_notes.mark("f", &fit_note(r))
            };
            let fits = |v: String| if r.fits { v } else { "-".to_string() };
            vec![
                r.instance.clone(),
                r.accelerator.clone(),
                r.kind.clone(),
                r.basis.clone(),
                r.chips.to_string(),
                r.layout.clone().unwrap_or_else(|| "-".to_string()),
                r.batch.to_string(),
                usd(r.usd_per_hour),
                if r.fits {
                    tps(r.output_tokens_per_s)
                } else {
                    "does not fit".to_string()
                },
                range(r.output_tokens_per_s_low, r.output_tokens_per_s_high, tps),
                fits(opt(r.ms_per_output_token, 3)),
                fits(usd(r.usd_per_m_input)),
                fits(usd(r.usd_per_m_output)),
                range(r.usd_per_m_output_low, r.usd_per_m_output_high, usd),
                r.bound.clone().unwrap_or_else(|| "-".to_string()),
                fit,
                price_notes.mark("p", &row_price_note(r)),
                notes.join(" "),
            ]
        })
        .collect();
    let table = Table {
        headers,
        numeric,
        rows,
    };
    let mut s = String::new();
    let batch = match report.batch {
        Some(b) => format!("batch {b}"),
        None if report.scenario == Scenario::Offline => {
            "batch: largest that fits per instance".to_string()
        }
        None => "batch 1".to_string(),
    };
    let title = format!(
        "{}, {} ({batch}), {} prompt + {} output tokens, {}",
        report.model,
        report.scenario.name(),
        report.prompt_tokens,
        report.output_tokens,
        report.precision.name()
    );
    if md {
        s.push_str(&format!("### Cost per token: {title}\n\n"));
        s.push_str(&table.markdown());
        s.push('\n');
    } else {
        s.push_str(&format!("Cost per token: {title}\n\n"));
        s.push_str(&table.text());
        s.push('\n');
    }
    let bullet = if md { "- " } else { "  " };
    s.push_str(&format!(
        "Projected rows: a model of FLOPs, bytes, memory and all-reduces whose efficiencies and collective latency are fitted per accelerator family to {} published measurements (accelbench cost --validate prints how well it reproduces each); ranges span the family's leave-one-out errors. {}\n",
        report.dataset_cases,
        match report.scenario {
            Scenario::Offline => "Offline: continuous batching, prompts prefilled in the same steps as running sequences decode; $/1M out is the whole instance's cost per output token, prompts included.",
            Scenario::Latency => "Latency: one static batch, prefilled then decoded in lockstep; ms/token is one decode step with its collectives.",
        }
    ));
    if let Some(c) = &report.comparison {
        s.push_str(&format!(
            "\nBest custom silicon: {} ({}) at {}/1M output tokens; best GPU: {} ({}) at {}/1M output tokens. ",
            c.custom_instance,
            c.custom_accelerator,
            usd(Some(c.custom_usd_per_m_output)),
            c.gpu_instance,
            c.gpu_accelerator,
            usd(Some(c.gpu_usd_per_m_output)),
        ));
        s.push_str(&format!(
            "The GPU costs {}x as much per output token; {} breaks even with it at {}/hour (listed {}/hour).\n",
            sig(c.gpu_over_custom, 3),
            c.custom_instance,
            usd(Some(c.custom_break_even_usd_per_hour)),
            usd(Some(c.custom_usd_per_hour)),
        ));
    }
    let mut section = |title: &str, prefix: &str, items: &[String]| {
        if items.is_empty() {
            return;
        }
        s.push_str(&format!("\n{title}:\n"));
        for (i, item) in items.iter().enumerate() {
            s.push_str(&format!("{bullet}{prefix}{}: {item}\n", i + 1));
        }
    };
    section("Fits", "f", &fit_notes.items);
    section("Prices (source, date)", "p", &price_notes.items);
    section("Notes", "n", &row_notes.items);
    s
}

fn fit_note(r: &CostRow) -> String {
    format!("{}, {} published cases", r.fit, r.fit_cases)
}

/// Write the pricing table (`cost --list`) in `format`.
pub fn write_pricing(pricing: &Pricing, format: CostFormat, out: &mut dyn Write) -> Result<()> {
    if format == CostFormat::Json {
        let mut s = serde_json::to_string_pretty(pricing)
            .context("could not serialize the pricing table")?;
        s.push('\n');
        return out
            .write_all(s.as_bytes())
            .context("could not write the pricing table");
    }
    let instances = Table {
        headers: vec![
            "instance",
            "provider",
            "accelerator",
            "chips",
            "$/hour",
            "$/chip-hour",
            "region",
            "price date",
            "price source",
        ],
        numeric: vec![false, false, false, true, true, true, false, false, false],
        rows: pricing
            .instances
            .iter()
            .map(|i| {
                vec![
                    i.name.clone(),
                    i.provider.clone(),
                    i.accelerator.clone(),
                    i.chips.to_string(),
                    usd(i.usd_per_hour()),
                    match i.price {
                        Price::PerChipHour(p) => format!("${p}"),
                        Price::PerHour(p) => format!("${}", sig(p / i.chips as f64, 4)),
                        Price::Unknown => "?".to_string(),
                    },
                    i.region.clone(),
                    i.price_date.clone(),
                    i.price_source.clone(),
                ]
            })
            .collect(),
    };
    let o = |x: Option<f64>| x.map_or_else(|| "-".to_string(), |v| format!("{v}"));
    let accelerators = Table {
        headers: vec![
            "id",
            "name",
            "kind",
            "bf16 TFLOP/s",
            "fp8 TFLOP/s",
            "int8 TOP/s",
            "HBM GB",
            "HBM GB/s",
            "link GB/s",
            "spec source",
            "link source",
        ],
        numeric: vec![
            false, false, false, true, true, true, true, true, true, false, false,
        ],
        rows: pricing
            .accelerators
            .iter()
            .map(|a| {
                vec![
                    a.id.clone(),
                    a.name.clone(),
                    a.kind.name().to_string(),
                    format!("{}", a.bf16_tflops),
                    o(a.fp8_tflops),
                    o(a.int8_tops),
                    format!("{}", a.hbm_gb),
                    format!("{}", a.hbm_gbps),
                    o(a.link_gbps),
                    a.spec_source.clone(),
                    a.link_source.clone().unwrap_or_else(|| "-".to_string()),
                ]
            })
            .collect(),
    };
    let mut s = String::new();
    match format {
        CostFormat::Csv => {
            s.push_str(&instances.csv());
            s.push('\n');
            s.push_str(&accelerators.csv());
        }
        CostFormat::Md => {
            s.push_str("### Instances\n\n");
            s.push_str(&instances.markdown());
            s.push_str("\n### Accelerators\n\n");
            s.push_str(&accelerators.markdown());
        }
        _ => {
            s.push_str("Instances\n\n");
            s.push_str(&instances.text());
            s.push_str("\nAccelerators\n\n");
            s.push_str(&accelerators.text());
        }
    }
    if format != CostFormat::Csv {
        s.push_str(&format!(
            "\nStated defaults: usable memory {}%, at most {} sequences per replica when --batch is not given. Efficiencies and all-reduce latency are fitted: accelbench cost --validate.\n",
            100.0 * pricing.usable_memory_fraction,
            pricing.max_batch,
        ));
        s.push_str("\nSource keys:\n");
        for (k, v) in &pricing.sources {
            s.push_str(&format!("  {k} = {v}\n"));
        }
    }
    out.write_all(s.as_bytes())
        .context("could not write the pricing table")
}

/// Write `cost --validate`: every case published vs projected, in-sample and leave-one-out,
/// then the per-family and overall errors.
pub fn write_validation(
    v: &Validation,
    cases: &[Case],
    format: CostFormat,
    out: &mut dyn Write,
) -> Result<()> {
    if format == CostFormat::Json {
        let mut s =
            serde_json::to_string_pretty(v).context("could not serialize the validation")?;
        s.push('\n');
        return out
            .write_all(s.as_bytes())
            .context("could not write the validation");
    }
    let ratio = |r: f64| format!("{r:.2}");
    let table = Table {
        headers: vec![
            "case",
            "family",
            "chips",
            "model",
            "prec",
            "scenario",
            "batch",
            "in/out",
            "metric",
            "published",
            "projected",
            "ratio",
            "LOO projected",
            "LOO ratio",
        ],
        numeric: vec![
            false, false, true, false, false, false, true, false, false, true, true, true, true,
            true,
        ],
        rows: v
            .cases
            .iter()
            .map(|c| {
                vec![
                    c.id.clone(),
                    c.family.clone(),
                    c.chips.to_string(),
                    c.model.clone(),
                    c.precision.clone(),
                    c.scenario.clone(),
                    c.batch
                        .map_or_else(|| "auto".to_string(), |b| b.to_string()),
                    format!("{}/{}", c.prompt_tokens, c.output_tokens),
                    c.metric.clone(),
                    sig(c.published, 4),
                    sig(c.projected, 4),
                    ratio(c.ratio),
                    sig(c.loo_projected, 4),
                    ratio(c.loo_ratio),
                ]
            })
            .collect(),
    };
    let opt = |x: Option<f64>| x.map_or_else(|| "-".to_string(), |v| format!("{v:.2}x"));
    let families = Table {
        headers: vec![
            "family",
            "cases",
            "GM error",
            "LOO GM error",
            "leave-family-out GM error",
            "leave-family-out worst",
        ],
        numeric: vec![false, true, true, true, true, true],
        rows: v
            .families
            .iter()
            .map(|f| {
                vec![
                    f.family.clone(),
                    f.cases.to_string(),
                    format!("{:.2}x", f.gm_error),
                    format!("{:.2}x", f.loo_gm_error),
                    opt(f.lofo_gm_error),
                    opt(f.lofo_worst),
                ]
            })
            .collect(),
    };
    let mut s = String::new();
    match format {
        CostFormat::Csv => {
            s.push_str(&table.csv());
            return out
                .write_all(s.as_bytes())
                .context("could not write the validation");
        }
        CostFormat::Md => {
            s.push_str("### Published cases: projected vs published\n\n");
            s.push_str(&table.markdown());
            s.push_str("\n### Per family\n\n");
            s.push_str(&families.markdown());
        }
        _ => {
            s.push_str("Published cases: projected vs published\n\n");
            s.push_str(&table.text());
            s.push_str("\nPer family\n\n");
            s.push_str(&families.text());
        }
    }
    let n_families = v.families.len();
    let worst = v
        .cases
        .iter()
        .max_by(|a, b| factor(a.loo_ratio).total_cmp(&factor(b.loo_ratio)));
    s.push_str(&format!(
        "\n{} cases over {n_families} accelerator families. Ratio = projected / published speed (for ms per token: published / projected), so above 1 the model is optimistic.\n\
         In-sample geometric-mean error {:.2}x; leave-one-out (each case projected by a fit of all the others) {:.2}x, worst {:.2}x{}.\n",
        cases.len(),
        v.gm_error,
        v.loo_gm_error,
        v.loo_worst,
        worst.map_or(String::new(), |w| format!(" ({})", w.id)),
    ));
    out.write_all(s.as_bytes())
        .context("could not write the validation")
}
