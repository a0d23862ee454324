//! Statistical comparison of two results files: a verdict per workload and an exit code for CI.
//!
//! Owns matching workloads across two files, the change estimate, the verdict rule and its
//! three renderings (terminal table, Markdown for a pull-request comment, JSON). It reads
//! results files only and never runs a kernel.
//!
//! # Matching
//! A workload is identified by its device's *kind and name* plus
//! [`ResultRow::workload_label`] (kernel, shape, dtype). Device ids such as `cpu` or `gpu0` are
//! per file and are not used. Workloads found in one file only are listed, never dropped.
//!
//! # The change and its interval
//! For each workload present and verified in both files, the stored HdrHistograms give back
//! every per-invocation sample. The change is the Hodges-Lehmann estimate of the shift between
//! the log-latencies, reported as a percentage (`+10%` = candidate 10% slower); for a pure
//! slowdown it equals the ratio of the medians minus one. Its 95% confidence interval inverts
//! the Mann-Whitney rank test (see [`crate::stats::hodges_lehmann`]): distribution-free, exact
//! in rank terms, deterministic (no resampling, no seed). The change in p99 is reported next to
//! it for information; it does not enter the verdict (a p99 of a few dozen samples is their
//! maximum, set by whatever else ran on the machine).
//!
//! # The verdict rule (criterion's model: noise threshold plus significance)
//! With threshold `t` (`--threshold`, default 5%) and the 95% interval `[low, high]` of the
//! change:
//! - **regression** when `low > +t`: the *whole* interval lies above the threshold;
//! - **improvement** when `high < -t`: the whole interval lies below minus the threshold;
//! - **no change** otherwise.
//!
//! This is a one-sided test, at level 2.5% each way, of "the change is larger than `t`", not
//! of "the change is not zero". The interval accounts only for sampling noise within a run;
//! two runs on a shared machine also differ systematically by a few percent (clock frequency,
//! neighbours, memory placement), which no within-run interval can see. The threshold is the
//! allowance for that drift, and requiring the whole interval beyond it keeps a change that is
//! merely at the edge of the drift from being flagged. It implies both conditions of the
//! simpler rule "point estimate beyond `t` and interval excludes zero". notes/compare.md has
//! the A/A experiment that chose it.
//!
//! A workload that verified in the baseline and failed (or could not run) in the candidate is
//! a regression. Failed rows are never compared as numbers.
//!
//! # Replicate runs
//! Either side may be a directory of results files: replicate runs of one build. Then the runs
//! are the units ([`compare_sides`]): each run contributes its median, the change is the
//! Hodges-Lehmann estimate over runs, and the interval is the Mann-Whitney interval over runs
//! at a Bonferroni-corrected confidence (95% for the whole family of workloads). This is what
//! a shared CI machine needs: there the noise between two runs of the same binary (memory
//! placement, neighbours, clocks) is much larger than the noise inside a run, and only
//! replicates can measure it.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Result, bail};
use serde::Serialize;

mod matching;
mod render;
mod replicates;
mod samples;

pub use render::{write_markdown, write_table};
pub use replicates::{Replicates, compare_sides, load_side};
pub use samples::compare_runs;

use crate::results::DeviceKind;
use crate::stats;

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

/// Confidence level of the interval of the change.
pub const CONFIDENCE: f64 = 0.95;

/// Outcome for one workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The whole interval of the change lies above the threshold.
    Regression,
    /// The whole interval of the change lies below minus the threshold.
    Improvement,
    /// Neither: within the noise threshold, or not known precisely enough.
    NoChange,
    /// Verified in the baseline, failed or could not run in the candidate (a regression).
    NewFailure,
    /// Failed in both files.
    StillFailing,
    /// Failed in the baseline, verified in the candidate.
    Fixed,
    /// Present in the baseline only.
    OnlyInBaseline,
    /// Present in the candidate only.
    OnlyInCandidate,
}

impl Verdict {
    /// True for the verdicts that fail a CI gate.
    pub fn is_regression(self) -> bool {
        matches!(self, Verdict::Regression | Verdict::NewFailure)
    }

    /// Words for tables.
    pub fn words(self) -> &'static str {
        match self {
            Verdict::Regression => "REGRESSION",
            Verdict::Improvement => "improvement",
            Verdict::NoChange => "no change",
            Verdict::NewFailure => "REGRESSION (now fails)",
            Verdict::StillFailing => "failed in both",
            Verdict::Fixed => "fixed (failed before)",
            Verdict::OnlyInBaseline => "only in baseline",
            Verdict::OnlyInCandidate => "only in candidate",
        }
    }
}

/// One side of a compared workload.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SideSummary {
    /// True when the row verified and has a timing.
    pub ok: bool,
    /// Median latency per invocation, ns (absent when failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p50_ns: Option<f64>,
    /// 99th percentile latency per invocation, ns (absent when failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p99_ns: Option<f64>,
    pub samples: u64,
    /// Why the row has no timing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Change from baseline to candidate, in percent of the baseline (`+10` = 10% slower).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Change {
    /// Hodges-Lehmann estimate of the change in latency (median of the pairwise log-ratios).
    pub median_pct: f64,
    /// Confidence interval of `median_pct`: 95% with one file per side; with replicate runs,
    /// the per-workload level in [`Replicates::per_workload_confidence`] (the field keeps its
    /// name so that JSON readers do not break).
    pub median_ci95_pct: [f64; 2],
    /// Plain ratio of the stored medians, minus one.
    pub p50_ratio_pct: f64,
    /// Ratio of the stored 99th percentiles, minus one; information only.
    pub p99_pct: f64,
}

/// One workload's comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkloadComparison {
    pub device_kind: DeviceKind,
    pub device_name: String,
    pub workload: String,
    pub verdict: Verdict,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<SideSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub candidate: Option<SideSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<Change>,
}

/// Where a compared file came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileSummary {
    pub path: String,
    pub hostname: String,
    pub cpu_model: String,
    pub started_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub git_commit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suite: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threads: Option<usize>,
    pub partial: bool,
}

/// Counts of verdicts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub regressions: usize,
    pub improvements: usize,
    pub no_change: usize,
    pub new_failures: usize,
    pub still_failing: usize,
    pub fixed: usize,
    pub only_in_baseline: usize,
    pub only_in_candidate: usize,
}

/// The whole comparison: plain data that every output format renders.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub threshold_pct: f64,
    pub confidence: f64,
    /// The rule, in words.
    pub rule: String,
    pub baseline: FileSummary,
    pub candidate: FileSummary,
    pub workloads: Vec<WorkloadComparison>,
    pub summary: Summary,
    /// True when any workload regressed or newly fails (exit code 1).
    pub regressed: bool,
    /// Things a reader should know (different hosts, settings, partial files).
    pub notes: Vec<String>,
    /// Present when either side is a directory of replicate runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicates: Option<Replicates>,
}

/// Verdict from the interval of the change (fractions, `0.05` = 5%) and the threshold.
pub fn verdict_from_interval(low: f64, high: f64, threshold: f64) -> Verdict {
    if low > threshold {
        Verdict::Regression
    } else if high < -threshold {
        Verdict::Improvement
    } else {
        Verdict::NoChange
    }
}

/// Change from `baseline` to `candidate` per-invocation samples (any order, at least one
/// each) as fractions: the Hodges-Lehmann estimate and its 95% interval.
pub fn change_of_samples(baseline: &[f64], candidate: &[f64]) -> stats::Shift {
    stats::relative_change(baseline, candidate, stats::Z_95)
}

fn rule_text(threshold_pct: f64) -> String {
    format!(
        "regression when the whole 95% interval of the change in median latency lies above +{threshold_pct}%, improvement when it lies below -{threshold_pct}%, otherwise no change; a workload that verified in the baseline and fails in the candidate is a regression"
    )
}

fn check_threshold(threshold_pct: f64) -> Result<()> {
    if !(threshold_pct.is_finite() && (0.0..100.0).contains(&threshold_pct)) {
        bail!(
            "--threshold must be a percentage from 0 to below 100 (e.g. 5 for 5%), got {threshold_pct}"
        );
    }
    Ok(())
}

/// Compare and write the verdicts to `out`. Returns true when any workload regressed.
pub fn execute(opts: &CompareOptions, out: &mut dyn Write) -> Result<bool> {
    if !(opts.threshold_pct.is_finite() && (0.0..100.0).contains(&opts.threshold_pct)) {
        bail!(
            "--threshold must be a percentage from 0 to below 100 (e.g. 5 for 5%), got {}",
            opts.threshold_pct
        );
    }
    let baseline = load_side(&opts.baseline)?;
    let candidate = load_side(&opts.candidate)?;
    let cmp = compare_sides(&baseline, &candidate, opts.threshold_pct)?;
    match opts.format {
        CompareFormat::Table => write_table(&cmp, out)?,
        CompareFormat::Md => write_markdown(&cmp, out)?,
        CompareFormat::Json => {
            let mut s = serde_json::to_string_pretty(&cmp)?;
            s.push('\n');
            out.write_all(s.as_bytes())?;
        }
    }
    Ok(cmp.regressed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_needs_the_whole_interval_beyond_the_threshold() {
        assert_eq!(verdict_from_interval(0.06, 0.2, 0.05), Verdict::Regression);
        // Point estimate beyond the threshold, interval excludes zero, but not all above t.
        assert_eq!(verdict_from_interval(0.04, 0.2, 0.05), Verdict::NoChange);
        assert_eq!(
            verdict_from_interval(-0.2, -0.06, 0.05),
            Verdict::Improvement
        );
        assert_eq!(verdict_from_interval(-0.01, 0.01, 0.05), Verdict::NoChange);
    }
}
