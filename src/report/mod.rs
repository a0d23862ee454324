//! Rendering results files: merging runs (`merge`), one module per output format, and SVG
//! plots (`svg`). Reads results files only; never runs a kernel.
//!
//! Every format sees the same [`MergedReport`] through the small [`Exporter`] trait;
//! Markdown and HTML share one document layout (`document`).

mod bmf;
mod csv;
pub mod document;
mod gab;
mod html;
mod json;
mod markdown;
pub mod merge;
pub mod svg;

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::cost::{self, CostOptions, CostReport, CostRow};
use crate::results;
use document::Figure;
pub use merge::{MergedReport, merge};

/// Output format of `report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// GitHub-flavoured Markdown tables.
    Md,
    /// One row per result, every field.
    Csv,
    /// The merged data.
    Json,
    /// One self-contained HTML file with tables and inline SVG plots.
    Html,
    /// Bencher Metric Format.
    Bmf,
    /// github-action-benchmark `customSmallerIsBetter`.
    Gab,
}

/// What `accelbench report` was asked to do.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    pub files: Vec<PathBuf>,
    pub format: ReportFormat,
    pub transpose: bool,
    pub out: Option<PathBuf>,
    pub force: bool,
}

/// One output format: the merged report in, the file's bytes out.
trait Exporter {
    fn render(&self, report: &MergedReport) -> Result<Vec<u8>>;
}

/// Load the files and merge them; errors name the file.
pub fn load_and_merge(files: &[PathBuf]) -> Result<MergedReport> {
    let mut runs = Vec::with_capacity(files.len());
    for f in files {
        runs.push((f.display().to_string(), results::load(f)?));
    }
    merge(runs)
}

/// Render `report` in `format`. `figures` are used by HTML (inline) and by Markdown when
/// `figure_dir` names the directory, relative to the document, the SVG files are written to.
pub fn render(
    report: &MergedReport,
    format: ReportFormat,
    transpose: bool,
    figures: Vec<Figure>,
    figure_dir: Option<String>,
) -> Result<Vec<u8>> {
    let exporter: Box<dyn Exporter> = match format {
        ReportFormat::Md => Box::new(markdown::MarkdownExporter {
            transpose,
            figures,
            figure_dir,
        }),
        ReportFormat::Html => Box::new(html::HtmlExporter { transpose, figures }),
        ReportFormat::Csv => Box::new(csv::CsvExporter),
        ReportFormat::Json => Box::new(json::JsonExporter),
        ReportFormat::Bmf => Box::new(bmf::BmfExporter),
        ReportFormat::Gab => Box::new(gab::GabExporter),
    };
    exporter.render(report)
}

/// Render the report to `opts.out` (atomically) or to `stdout`.
///
/// Markdown written to a file also writes its plots as SVG files into a directory next to it,
/// named after the file (`results/README.md` -> `results/README-plots/`), and links them.
pub fn execute(opts: &ReportOptions, stdout: &mut dyn Write) -> Result<()> {
    if let Some(out) = &opts.out {
        results::check_writable(out, opts.force)?;
    }
    let report = load_and_merge(&opts.files)?;
    let plot_dir = match (&opts.out, opts.format) {
        (Some(out), ReportFormat::Md) => Some(plot_dir_for(out)?),
        _ => None,
    };
    let figures = if opts.format == ReportFormat::Html || plot_dir.is_some() {
        let priced = cost::compute(&cost_options(opts.files.clone()))
            .context("could not price tokens for the report's cost chart")?;
        figures(&report, Some(&priced))?
    } else {
        Vec::new()
    };
    if let Some((_, dir)) = &plot_dir {
        for f in &figures {
            let p = dir.join(&f.file_name);
            if p.exists() && !opts.force {
                bail!(
                    "'{}' already exists; pass --force to overwrite the report and its plots",
                    p.display()
                );
            }
        }
    }
    let bytes = render(
        &report,
        opts.format,
        opts.transpose,
        figures.clone(),
        plot_dir.as_ref().map(|(rel, _)| rel.clone()),
    )?;
    if matches!(opts.format, ReportFormat::Bmf | ReportFormat::Gab) {
        let failed = failed_count(&report);
        if failed > 0 {
            eprintln!(
                "note: {failed} failed result(s) are left out: this format has no way to mark a failure (see --format md or csv)"
            );
        }
    }
    match &opts.out {
        Some(out) => {
            if let Some((_, dir)) = &plot_dir {
                for f in &figures {
                    results::write_atomic(&dir.join(&f.file_name), f.svg.as_bytes(), opts.force)?;
                }
                if !figures.is_empty() {
                    eprintln!("wrote {} plot(s) to '{}'", figures.len(), dir.display());
                }
            }
            results::write_atomic(out, &bytes, opts.force)?;
            eprintln!("wrote '{}'", out.display());
        }
        None => stdout
            .write_all(&bytes)
            .context("could not write the report to stdout")?,
    }
    Ok(())
}

/// `results/README.md` -> (`README-plots`, `results/README-plots`).
fn plot_dir_for(out: &Path) -> Result<(String, PathBuf)> {
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .with_context(|| format!("'{}' has no file name", out.display()))?;
    let rel = format!("{}-plots", slug(&stem));
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.join(&rel),
        _ => PathBuf::from(&rel),
    };
    Ok((rel, dir))
}

fn failed_count(report: &MergedReport) -> usize {
    report
        .workloads
        .iter()
        .flat_map(|w| {
            w.cells
                .iter()
                .flatten()
                .filter(move |r| merge::throughput(r, w.metric).is_none())
        })
        .count()
}

/// ASCII letters and digits, everything else one `-`, at most 60 characters.
fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out: String = out.trim_matches('-').chars().take(60).collect();
    if out.is_empty() { "x".into() } else { out }
}

/// The settings of the report's cost chart: `accelbench cost`'s defaults for `files`.
pub fn cost_options(files: Vec<PathBuf>) -> CostOptions {
    CostOptions::defaults(files)
}

/// The report's plots: the cost chart when `cost` is given, one roofline per device column,
/// then one latency distribution per workload (a line per device that has a valid result).
pub fn figures(report: &MergedReport, cost: Option<&CostReport>) -> Result<Vec<Figure>> {
    let mut out = Vec::new();
    if let Some(c) = cost {
        out.push(cost_figure(c, report)?);
    }
    for (c, col) in report.columns.iter().enumerate() {
        let points: Vec<svg::RooflinePoint> = report
            .workloads
            .iter()
            .filter_map(|w| {
                let row = w.cells[c].as_ref()?;
                merge::throughput(row, w.metric)?;
                (row.bytes > 0).then(|| svg::RooflinePoint {
                    group: row.kernel.clone(),
                    intensity_flop_per_byte: row.flops as f64 / row.bytes as f64,
                    gflops: row.gflops,
                })
            })
            .collect();
        let title = format!("Roofline: {}", col.describe());
        let svg = svg::roofline(
            &title,
            col.device.peak_gflops,
            col.device.peak_gbps,
            &points,
        )?;
        out.push(Figure {
            file_name: format!("roofline-{:02}-{}.svg", c + 1, slug(&col.id.to_lowercase())),
            title,
            caption: Vec::new(),
            svg,
        });
    }
    for (i, w) in report.workloads.iter().enumerate() {
        let mut series = Vec::new();
        for (c, cell) in w.cells.iter().enumerate() {
            let Some(row) = cell else { continue };
            if merge::throughput(row, w.metric).is_none() {
                continue;
            }
            // A damaged histogram loses its line, not the whole report.
            let Ok(h) = row.decode_histogram() else {
                continue;
            };
            let points = svg::percentile_points(&h);
            if !points.is_empty() {
                series.push(svg::LatencySeries {
                    label: report.columns[c].describe(),
                    points,
                });
            }
        }
        if series.is_empty() {
            continue;
        }
        let svg = svg::latency_percentiles(&w.label, &series)?;
        out.push(Figure {
            file_name: format!("latency-{:02}-{}.svg", i + 1, slug(&w.label.to_lowercase())),
            title: format!("Latency distribution: {}", w.label),
            caption: Vec::new(),
            svg,
        });
    }
    Ok(out)
}

/// How a cost row's bar is labelled: `measured` for a local device, `projected: cloud GPU` or
/// `projected: custom silicon` for a cloud instance.
fn cost_kind(row: &CostRow) -> String {
    match (row.basis.as_str(), row.kind.as_str()) {
        ("measured", _) => "measured (local device)".into(),
        (_, "gpu") => "projected: cloud GPU".into(),
        (_, "custom") => "projected: custom silicon".into(),
        (basis, kind) => format!("{basis}: {kind}"),
    }
}

fn cost_label(row: &CostRow) -> String {
    if row.basis == "measured" {
        format!("{} ({})", row.instance, row.accelerator)
    } else {
        format!("{} ({}x {})", row.instance, row.chips, row.accelerator)
    }
}

/// `1.23`, `45.6`, `789`.
fn tokens_per_s(v: f64) -> String {
    crate::render::units::format_value(v)
}

/// The cost-per-token bar chart: one bar per priced row of `cost` (measured local devices and
/// projected cloud instances), and a caption that states the model, batch, sequence lengths,
/// precision and efficiencies behind the bars, and names every row that has no bar and why.
/// Prices are never invented: a row without one is listed, not drawn.
pub fn cost_figure(cost: &CostReport, report: &MergedReport) -> Result<Figure> {
    let mut bars = Vec::new();
    let mut unpriced_local = Vec::new();
    let mut not_drawn = Vec::new();
    for r in &cost.rows {
        let label = cost_label(r);
        match (r.fits, r.usd_per_m_output) {
            (true, Some(usd)) if usd.is_finite() && usd >= 0.0 => bars.push(svg::CostBar {
                label,
                usd_per_m_output: usd,
                kind: cost_kind(r),
            }),
            _ if r.basis == "measured" => match r.decode_tokens_per_s {
                Some(t) if r.usd_per_hour.is_none() => {
                    let how: Vec<&str> = r
                        .notes
                        .iter()
                        .filter_map(|n| n.strip_prefix("decode: "))
                        .collect();
                    let how = if how.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", how.join(", "))
                    };
                    unpriced_local.push(format!(
                        "{label} at {} output tokens/s{how}",
                        tokens_per_s(t)
                    ));
                }
                Some(_) => not_drawn.push(format!("{label}: no price per token")),
                None => not_drawn.push(format!(
                    "{label}: no decode_step result, so no output-token rate"
                )),
            },
            (false, _) => not_drawn.push(format!(
                "{label}: weights and KV cache do not fit in its memory"
            )),
            _ => not_drawn.push(format!("{label}: no sourced price in the pricing table")),
        }
    }
    let title = format!(
        "Cost per million output tokens: {}, {}",
        cost.model,
        cost.scenario.name()
    );
    let svg = svg::cost_per_token(&title, &bars)?;

    let mut caption = vec![format!(
        "{} {} (batch {}), {} prompt + {} output tokens, {} weights; US$ per 1M output tokens = price per hour / (output tokens/s x 3600) x 1e6, as accelbench cost computes it (run it for input-token prices, ranges and sources).",
        cost.model,
        cost.scenario.name(),
        cost.batch.map_or_else(
            || "largest that fits per instance".to_string(),
            |b| b.to_string()
        ),
        cost.prompt_tokens,
        cost.output_tokens,
        cost.precision.name()
    )];
    if cost
        .rows
        .iter()
        .any(|r| r.basis == "measured" && r.usd_per_m_output.is_some())
    {
        caption.push(
            "Measured bars: a local device's decode_step throughput from the results files, batch 1, at the price per hour given for it."
                .into(),
        );
    }
    // Which fit projected each accelerator, and on how many published cases it rests.
    let fits: Vec<String> = cost
        .rows
        .iter()
        .filter(|r| r.basis == "projected")
        .map(|r| format!("{}: {} ({} cases)", r.accelerator, r.fit, r.fit_cases))
        .collect();
    if !fits.is_empty() {
        caption.push(format!(
            "Projected bars: a model of FLOPs, bytes and all-reduces fitted per accelerator family to {} published measurements (accelbench cost --validate shows its errors), not a measurement; the smallest instance of each accelerator that holds the weights and KV cache, at on-demand list prices (dates and sources: accelbench cost --list). Fits: {}.",
            cost.dataset_cases,
            fits.join("; ")
        ));
    }
    if !unpriced_local.is_empty() {
        caption.push(format!(
            "No bar for local devices without a price per hour (none is assumed; give one with accelbench cost --price-per-hour USD): {}.",
            unpriced_local.join("; ")
        ));
    }
    if !not_drawn.is_empty() {
        caption.push(format!("Also not drawn: {}.", not_drawn.join("; ")));
    }
    let unmeasured: Vec<String> = report
        .columns
        .iter()
        .filter(|c| !c.software_adapter)
        .filter(|c| {
            let host = &report.sources[c.source].host.hostname;
            let instance = format!("{host}:{}", c.device.id);
            !cost
                .rows
                .iter()
                .any(|r| r.basis == "measured" && r.instance == instance)
        })
        .map(|c| c.id.clone())
        .collect();
    if !unmeasured.is_empty() {
        caption.push(format!(
            "Not priced, no valid decode_step or GEMM result to turn into tokens/s: {}.",
            unmeasured.join(", ")
        ));
    }
    let software: Vec<String> = report
        .columns
        .iter()
        .filter(|c| c.software_adapter)
        .map(|c| c.id.clone())
        .collect();
    if !software.is_empty() {
        caption.push(format!(
            "Software adapters are never priced (their speed is CPU emulation, not GPU speed): {}.",
            software.join(", ")
        ));
    }
    Ok(Figure {
        title,
        caption,
        file_name: "cost-per-token.svg".into(),
        svg,
    })
}
