//! Rendering results files: one module per output format, plus SVG plots.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Result, bail};

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

/// Render the report to `opts.out` (atomically) or to `stdout`.
pub fn execute(opts: &ReportOptions, stdout: &mut dyn Write) -> Result<()> {
    let _ = (opts, stdout);
    bail!("report is not implemented yet")
}
