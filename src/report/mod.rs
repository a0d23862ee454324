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
        figures(&report)?
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

/// The report's plots: one roofline per device column, then one latency distribution per
/// workload (a line per device that has a valid result).
pub fn figures(report: &MergedReport) -> Result<Vec<Figure>> {
    let mut out = Vec::new();
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
        let title = format!("Roofline: {} ({})", col.heading(), col.device.name);
        let svg = svg::roofline(
            &title,
            col.device.peak_gflops,
            col.device.peak_gbps,
            &points,
        )?;
        out.push(Figure {
            file_name: format!("roofline-{:02}-{}.svg", c + 1, slug(&col.id.to_lowercase())),
            title,
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
                    label: report.columns[c].heading(),
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
            svg,
        });
    }
    Ok(out)
}
