//! Statistical comparison of two results files: verdict per workload and an exit code for CI.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Result, bail};

/// Output format of `compare`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompareFormat {
    Table,
    Md,
    Json,
}

/// What `accelbench compare` was asked to do.
#[derive(Debug, Clone)]
pub struct CompareOptions {
    pub baseline: PathBuf,
    pub candidate: PathBuf,
    /// Noise threshold in percent.
    pub threshold_pct: f64,
    pub format: CompareFormat,
}

/// Compare and write the verdicts to `out`. Returns true when any workload regressed.
pub fn execute(opts: &CompareOptions, out: &mut dyn Write) -> Result<bool> {
    let _ = (opts, out);
    bail!("compare is not implemented yet")
}
