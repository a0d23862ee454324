//! Rendering of cost reports and the pricing table: terminal table, Markdown, CSV, JSON.
//! Takes plain data from [`super::compute`] and [`super::pricing::Pricing`]; computes nothing.

use std::io::Write;

use anyhow::{Context, Result};

use super::pricing::{Price, Pricing};
use super::{CostFormat, CostReport, CostRow};

/// A rectangular table of strings, rendered in any of the text formats.
struct Table {
    headers: Vec<&'static str>,
    /// Columns aligned right in the terminal and Markdown (numbers).
    numeric: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn text(&self) -> String {
        let widths: Vec<usize> = (0..self.headers.len())
            .map(|c| {
                self.rows
                    .iter()
                    .map(|r| r[c].chars().count())
                    .chain([self.headers[c].chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: Vec<&str>| {
            let parts: Vec<String> = cells
                .iter()
                .enumerate()
                .map(|(c, s)| {
                    if self.numeric[c] {
                        format!("{s:>w$}", w = widths[c])
                    } else {
                        format!("{s:<w$}", w = widths[c])
                    }
                })
                .collect();
            parts.join("  ").trim_end().to_string() + "\n"
        };
        let mut s = line(self.headers.clone());
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        s.push_str(&line(rule.iter().map(String::as_str).collect()));
        for r in &self.rows {
            s.push_str(&line(r.iter().map(String::as_str).collect()));
        }
        s
    }

    fn markdown(&self) -> String {
        let esc = |s: &str| s.replace('|', "\\|");
        let mut s = format!(
            "| {} |\n",
            self.headers
                .iter()
                .map(|h| esc(h))
                .collect::<Vec<_>>()
                .join(" | ")
        );
        let align: Vec<&str> = self
            .numeric
            .iter()
            .map(|n| if *n { "---:" } else { "---" })
            .collect();
        s.push_str(&format!("|{}|\n", align.join("|")));
        for r in &self.rows {
            s.push_str(&format!(
                "| {} |\n",
                r.iter().map(|c| esc(c)).collect::<Vec<_>>().join(" | ")
            ));
        }
        s
    }

    fn csv(&self) -> String {
        let field = |s: &str| {
            if s.contains([',', '"', '\n']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_string()
            }
        };
        let mut s = self
            .headers
            .iter()
            .map(|h| field(h))
            .collect::<Vec<_>>()
            .join(",")
            + "\n";
        for r in &self.rows {
            s.push_str(&(r.iter().map(|c| field(c)).collect::<Vec<_>>().join(",") + "\n"));
        }
        s
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

fn csv_report(report: &CostReport) -> String {
    let headers = vec![
        "instance",
        "provider",
        "accelerator",
        "kind",
        "basis",
        "chips",
        "fits",
        "usd_per_hour",
        "prefill_tokens_per_s",
        "decode_tokens_per_s",
        "decode_tokens_per_s_low",
        "decode_tokens_per_s_high",
        "output_tokens_per_s",
        "usd_per_m_input",
        "usd_per_m_output",
        "usd_per_m_output_low",
        "usd_per_m_output_high",
        "output_tokens_per_usd",
        "bound",
        "efficiency_source",
        "price_source",
        "price_date",
        "notes",
    ];
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
                r.chips.to_string(),
                r.fits.to_string(),
                num(r.usd_per_hour),
                num(r.prefill_tokens_per_s),
                num(r.decode_tokens_per_s),
                num(r.decode_tokens_per_s_low),
                num(r.decode_tokens_per_s_high),
                num(r.output_tokens_per_s),
                num(r.usd_per_m_input),
                num(r.usd_per_m_output),
                num(r.usd_per_m_output_low),
                num(r.usd_per_m_output_high),
                num(r.output_tokens_per_usd),
                r.bound.clone().unwrap_or_default(),
                r.efficiency_source.clone(),
                r.price_source.clone(),
                r.price_date.clone(),
                r.notes.join("; "),
            ]
        })
        .collect();
    Table {
        numeric: vec![false; headers.len()],
        headers,
        rows,
    }
    .csv()
}

fn text_report(report: &CostReport, md: bool) -> String {
    let mut eff_notes = Notes::default();
    let mut price_notes = Notes::default();
    let mut row_notes = Notes::default();
    let headers = vec![
        "instance",
        "accelerator",
        "kind",
        "basis",
        "chips",
        "$/hour",
        "prefill tok/s",
        "decode tok/s",
        "decode range",
        "$/1M in",
        "$/1M out",
        "$/1M out range",
        "out tok/$",
        "bound",
        "eff",
        "price",
        "notes",
    ];
    let numeric = vec![
        false, false, false, false, true, true, true, true, true, true, true, true, true, false,
        false, false, false,
    ];
    let rows = report
        .rows
        .iter()
        .map(|r| {
            let notes: Vec<String> = r.notes.iter().map(|n| row_notes.mark("n", n)).collect();
            vec![
                r.instance.clone(),
                r.accelerator.clone(),
                r.kind.clone(),
                r.basis.clone(),
                r.chips.to_string(),
                usd(r.usd_per_hour),
                tps(r.prefill_tokens_per_s),
                if r.fits {
                    tps(r.decode_tokens_per_s)
                } else {
                    "does not fit".to_string()
                },
                range(r.decode_tokens_per_s_low, r.decode_tokens_per_s_high, tps),
                if r.fits {
                    usd(r.usd_per_m_input)
                } else {
                    "-".to_string()
                },
                if r.fits {
                    usd(r.usd_per_m_output)
                } else {
                    "-".to_string()
                },
                range(r.usd_per_m_output_low, r.usd_per_m_output_high, usd),
                opt(r.output_tokens_per_usd, 3),
                r.bound.clone().unwrap_or_else(|| "-".to_string()),
                eff_notes.mark("e", &r.efficiency_source),
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
    let title = format!(
        "{}, batch {}, {} prompt + {} output tokens, {}",
        report.model,
        report.batch,
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
    s.push_str(
        "Projected rows: per step max(FLOPs / (peak x compute eff.), bytes / (bandwidth x memory eff.), all-reduce bytes / link) + 2 all-reduce latencies per layer across chips; ranges span the efficiency range.\n",
    );
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
    section("Efficiencies", "e", &eff_notes.items);
    section("Prices (source, date)", "p", &price_notes.items);
    section("Notes", "n", &row_notes.items);
    s
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
            "efficiency",
            "spec source",
            "link source",
        ],
        numeric: vec![
            false, false, false, true, true, true, true, true, true, false, false, false,
        ],
        rows: pricing
            .accelerators
            .iter()
            .map(|a| {
                let eff = a.efficiency.as_ref().unwrap_or(&pricing.default_efficiency);
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
                    format!("{:.2}/{:.2}: {}", eff.compute, eff.memory, eff.source),
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
            "\nDefaults: all-reduce latency {} us, usable memory {}%, efficiency {}\n",
            pricing.allreduce_latency_us,
            100.0 * pricing.usable_memory_fraction,
            pricing.default_efficiency.source
        ));
        s.push_str("\nSource keys:\n");
        for (k, v) in super::pricing::source_keys() {
            s.push_str(&format!("  {k} = {v}\n"));
        }
    }
    out.write_all(s.as_bytes())
        .context("could not write the pricing table")
}
