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

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use serde::Serialize;

use crate::results::{self, DeviceKind, ResultRow, RunResults};
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

type Key = (DeviceKind, String, String);

/// Rows keyed by (device kind, device name, workload), in file order. A repeated key (two
/// identical devices) gets `#2`, `#3` ... appended to the device name.
fn keyed_rows(run: &RunResults) -> Vec<(Key, usize, &ResultRow)> {
    let mut seen: BTreeMap<Key, usize> = BTreeMap::new();
    let mut out = Vec::with_capacity(run.results.len());
    for (i, row) in run.results.iter().enumerate() {
        // `results::parse` checked that every row names a known device.
        let (kind, name) = match run.device(&row.device) {
            Some(d) => (d.kind, d.name.clone()),
            None => (DeviceKind::Cpu, row.device.clone()),
        };
        let base: Key = (kind, name.clone(), row.workload_label());
        let count = seen.entry(base.clone()).or_insert(0);
        *count += 1;
        let key = if *count == 1 {
            base
        } else {
            (kind, format!("{name} #{count}"), base.2)
        };
        out.push((key, i, row));
    }
    out
}

fn side(row: &ResultRow) -> SideSummary {
    let ok = row.is_valid();
    SideSummary {
        ok,
        p50_ns: ok.then_some(row.ns.p50),
        p99_ns: ok.then_some(row.ns.p99),
        samples: row.samples,
        error: if ok {
            None
        } else {
            Some(
                row.error
                    .clone()
                    .unwrap_or_else(|| "verification failed".to_string()),
            )
        },
    }
}

fn samples_of(row: &ResultRow, index: usize, path: &Path) -> Result<Vec<f64>> {
    let h = row.decode_histogram().map_err(|e| {
        anyhow::anyhow!(
            "'{}': field 'results[{index}].histogram' ({}) could not be read: {e:#}; expected a base64 HdrHistogram V2 blob as accelbench writes it",
            path.display(),
            row.workload_label()
        )
    })?;
    let samples = crate::measure::histogram_samples(&h);
    if samples.is_empty() {
        bail!(
            "'{}': field 'results[{index}].histogram' ({}) holds no samples, but the row is marked verified with {} samples",
            path.display(),
            row.workload_label(),
            row.samples
        );
    }
    Ok(samples)
}

fn file_summary(run: &RunResults, path: &Path) -> FileSummary {
    FileSummary {
        path: path.display().to_string(),
        hostname: run.host.hostname.clone(),
        cpu_model: run.host.cpu_model.clone(),
        started_at: run.started_at.clone(),
        git_commit: run.host.git_commit.clone(),
        suite: run.settings.as_ref().map(|s| s.suite.clone()),
        threads: run.settings.as_ref().map(|s| s.threads),
        partial: run.partial,
    }
}

fn check_threshold(threshold_pct: f64) -> Result<()> {
    if !(threshold_pct.is_finite() && (0.0..100.0).contains(&threshold_pct)) {
        bail!(
            "--threshold must be a percentage from 0 to below 100 (e.g. 5 for 5%), got {threshold_pct}"
        );
    }
    Ok(())
}

/// What a comparison says of a workload present on both sides.
struct Paired {
    baseline: SideSummary,
    candidate: SideSummary,
    verdict: Verdict,
    change: Option<Change>,
}

/// A row of each side by its index in its file.
type IndexedRow<'a> = (usize, &'a ResultRow);

/// The workloads of two runs matched on their key, in baseline order and then the candidate's
/// own; `pair` decides each workload present on both sides. Errors (exit code 2) when the runs
/// share no workload, or when `pair` does.
fn match_workloads(
    baseline: &RunResults,
    baseline_path: &Path,
    candidate: &RunResults,
    candidate_path: &Path,
    mut pair: impl FnMut(&Key, IndexedRow<'_>, IndexedRow<'_>) -> Result<Paired>,
) -> Result<Vec<WorkloadComparison>> {
    let base_rows = keyed_rows(baseline);
    let cand_rows = keyed_rows(candidate);
    let cand_by_key: BTreeMap<&Key, IndexedRow<'_>> =
        cand_rows.iter().map(|(k, i, r)| (k, (*i, *r))).collect();
    let base_keys: std::collections::BTreeSet<&Key> = base_rows.iter().map(|(k, _, _)| k).collect();
    if !base_keys.iter().any(|k| cand_by_key.contains_key(k)) {
        bail!(
            "'{}' and '{}' have no workload in common (workloads are matched on device kind, device name, kernel, shape and dtype); compare two runs of the same suite on the same devices",
            baseline_path.display(),
            candidate_path.display()
        );
    }
    let entry = |key: &Key, verdict, baseline, candidate, change| WorkloadComparison {
        device_kind: key.0,
        device_name: key.1.clone(),
        workload: key.2.clone(),
        verdict,
        baseline,
        candidate,
        change,
    };
    let mut workloads = Vec::new();
    for (key, bi, brow) in &base_rows {
        workloads.push(match cand_by_key.get(key) {
            Some(&c) => {
                let p = pair(key, (*bi, *brow), c)?;
                entry(
                    key,
                    p.verdict,
                    Some(p.baseline),
                    Some(p.candidate),
                    p.change,
                )
            }
            None => entry(key, Verdict::OnlyInBaseline, Some(side(brow)), None, None),
        });
    }
    for (key, _, crow) in &cand_rows {
        if !base_keys.contains(key) {
            workloads.push(entry(
                key,
                Verdict::OnlyInCandidate,
                None,
                Some(side(crow)),
                None,
            ));
        }
    }
    Ok(workloads)
}

/// The verdict when at least one side failed, or None when both verified.
fn failure_verdict(baseline_ok: bool, candidate_ok: bool) -> Option<Verdict> {
    match (baseline_ok, candidate_ok) {
        (true, true) => None,
        (true, false) => Some(Verdict::NewFailure),
        (false, false) => Some(Verdict::StillFailing),
        (false, true) => Some(Verdict::Fixed),
    }
}

/// Relative change in percent of `new` over `old` (NaN when `old` is not positive).
fn pct_change(new: f64, old: f64) -> f64 {
    if old > 0.0 {
        100.0 * (new / old - 1.0)
    } else {
        f64::NAN
    }
}

/// A comparison of matched workloads, with notes on what differs between the two sides' first
/// files (machine, threads, suite, partial runs).
fn assemble(
    baseline: (&RunResults, &Path),
    candidate: (&RunResults, &Path),
    threshold_pct: f64,
    workloads: Vec<WorkloadComparison>,
) -> Comparison {
    let summary = count_verdicts(&workloads);
    let regressed = workloads.iter().any(|w| w.verdict.is_regression());
    let b = file_summary(baseline.0, baseline.1);
    let c = file_summary(candidate.0, candidate.1);
    let mut notes = Vec::new();
    if b.cpu_model != c.cpu_model || b.hostname != c.hostname {
        notes.push(format!(
            "the files come from different machines ('{}', {} vs '{}', {}); a change may be the machine, not the code",
            b.hostname, b.cpu_model, c.hostname, c.cpu_model
        ));
    }
    if b.threads != c.threads {
        notes.push(format!(
            "the runs used different --threads ({} vs {})",
            b.threads.map_or("unknown".into(), |t| t.to_string()),
            c.threads.map_or("unknown".into(), |t| t.to_string())
        ));
    }
    if b.suite != c.suite {
        notes.push(format!(
            "the runs used different suites ({} vs {})",
            b.suite.as_deref().unwrap_or("unknown"),
            c.suite.as_deref().unwrap_or("unknown")
        ));
    }
    for (f, which) in [(&b, "baseline"), (&c, "candidate")] {
        if f.partial {
            notes.push(format!(
                "the {which} '{}' is partial (the run was interrupted)",
                f.path
            ));
        }
    }
    Comparison {
        threshold_pct,
        confidence: CONFIDENCE,
        rule: rule_text(threshold_pct),
        baseline: b,
        candidate: c,
        workloads,
        summary,
        regressed,
        notes,
        replicates: None,
    }
}

/// Compare two loaded results files: the stored samples of each workload are the units.
/// `threshold_pct` is the noise threshold in percent; the paths are only used in messages.
/// Errors (exit code 2) when the files share no workload or a stored histogram cannot be read.
pub fn compare_runs(
    baseline: &RunResults,
    baseline_path: &Path,
    candidate: &RunResults,
    candidate_path: &Path,
    threshold_pct: f64,
) -> Result<Comparison> {
    check_threshold(threshold_pct)?;
    let threshold = threshold_pct / 100.0;
    let workloads = match_workloads(
        baseline,
        baseline_path,
        candidate,
        candidate_path,
        |_, (bi, brow), (ci, crow)| {
            let mut p = Paired {
                baseline: side(brow),
                candidate: side(crow),
                verdict: Verdict::NoChange,
                change: None,
            };
            match failure_verdict(brow.is_valid(), crow.is_valid()) {
                Some(v) => p.verdict = v,
                None => {
                    let b = samples_of(brow, bi, baseline_path)?;
                    let c = samples_of(crow, ci, candidate_path)?;
                    let shift = change_of_samples(&b, &c);
                    p.change = Some(Change {
                        median_pct: 100.0 * shift.estimate,
                        median_ci95_pct: [100.0 * shift.low, 100.0 * shift.high],
                        p50_ratio_pct: pct_change(crow.ns.p50, brow.ns.p50),
                        p99_pct: pct_change(crow.ns.p99, brow.ns.p99),
                    });
                    p.verdict = verdict_from_interval(shift.low, shift.high, threshold);
                }
            }
            Ok(p)
        },
    )?;
    Ok(assemble(
        (baseline, baseline_path),
        (candidate, candidate_path),
        threshold_pct,
        workloads,
    ))
}

/// Replicate runs behind one side of a comparison (a directory of results files).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Replicates {
    pub baseline_runs: usize,
    pub candidate_runs: usize,
    /// Workloads compared as numbers: the family the confidence level is corrected for.
    pub workloads_compared: usize,
    /// Per-workload two-sided confidence level after the Bonferroni correction.
    pub per_workload_confidence: f64,
}

/// One side of a comparison: a results file, or every results file in a directory (replicate
/// runs of the same build). Each entry is the file's path and its contents.
pub fn load_side(path: &Path) -> Result<Vec<(PathBuf, RunResults)>> {
    if !path.is_dir() {
        return Ok(vec![(path.to_path_buf(), results::load(path)?)]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| anyhow::anyhow!("'{}': cannot list the directory: {e}", path.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let runs = files
        .iter()
        .map(|f| Ok((f.clone(), results::load(f)?)))
        .collect::<Result<Vec<_>>>()?;
    if runs.is_empty() {
        bail!(
            "'{}' is a directory with no results files (*.json); expected a results file, or a directory of replicate runs",
            path.display()
        );
    }
    Ok(runs)
}

/// Compare two sides. With one file per side this is [`compare_runs`] (the stored samples of
/// each workload are the units). With replicate runs on either side (directories), the units
/// are the runs: each run contributes its median per workload, the change is the
/// Hodges-Lehmann estimate over runs, and its interval is the Mann-Whitney interval over runs
/// at a confidence level Bonferroni-corrected for the number of workloads, so that the chance
/// of any false alarm in an A/A comparison stays near 5% however many workloads there are.
/// Replicates see what a single run cannot: run-to-run noise (memory placement, clock and
/// neighbours), which on a shared machine is far larger than the noise inside a run.
pub fn compare_sides(
    baseline: &[(PathBuf, RunResults)],
    candidate: &[(PathBuf, RunResults)],
    threshold_pct: f64,
) -> Result<Comparison> {
    let (b0, c0) = match (baseline.first(), candidate.first()) {
        (Some(b), Some(c)) => (b, c),
        _ => bail!("compare needs at least one results file on each side"),
    };
    if baseline.len() == 1 && candidate.len() == 1 {
        return compare_runs(&b0.1, &b0.0, &c0.1, &c0.0, threshold_pct);
    }
    check_threshold(threshold_pct)?;
    let threshold = threshold_pct / 100.0;
    // Per run: key -> row.
    let index = |runs: &[(PathBuf, RunResults)]| -> Vec<BTreeMap<Key, ResultRow>> {
        runs.iter()
            .map(|(_, run)| {
                keyed_rows(run)
                    .into_iter()
                    .map(|(k, _, r)| (k, r.clone()))
                    .collect()
            })
            .collect()
    };
    let (bix, cix) = (index(baseline), index(candidate));
    let rows_of = |ix: &[BTreeMap<Key, ResultRow>], key: &Key| -> Vec<Option<ResultRow>> {
        ix.iter().map(|m| m.get(key).cloned()).collect()
    };
    let all_valid = |rows: &[Option<ResultRow>]| {
        rows.iter()
            .all(|r| r.as_ref().is_some_and(|r| r.is_valid()))
    };
    // The family the confidence level is corrected for: workloads of the first runs that
    // verified in every run on both sides.
    let compared = bix[0]
        .keys()
        .filter(|k| cix[0].contains_key(*k))
        .filter(|k| all_valid(&rows_of(&bix, k)) && all_valid(&rows_of(&cix, k)))
        .count()
        .max(1);
    let alpha = 1.0 - CONFIDENCE;
    let per_workload = 1.0 - alpha / compared as f64;
    let z = stats::normal_quantile(1.0 - alpha / (2.0 * compared as f64));
    let workloads = match_workloads(&b0.1, &b0.0, &c0.1, &c0.0, |key, _, _| {
        let (brows, crows) = (rows_of(&bix, key), rows_of(&cix, key));
        let mut p = Paired {
            baseline: replicate_side(&brows, baseline),
            candidate: replicate_side(&crows, candidate),
            verdict: Verdict::NoChange,
            change: None,
        };
        match failure_verdict(all_valid(&brows), all_valid(&crows)) {
            Some(v) => p.verdict = v,
            None => {
                let med = |rows: &[Option<ResultRow>], f: fn(&ResultRow) -> f64| -> Vec<f64> {
                    rows.iter().flatten().map(f).collect()
                };
                let (b50, c50) = (med(&brows, |r| r.ns.p50), med(&crows, |r| r.ns.p50));
                let (b99, c99) = (med(&brows, |r| r.ns.p99), med(&crows, |r| r.ns.p99));
                let shift = stats::relative_change(&b50, &c50, z);
                p.change = Some(Change {
                    median_pct: 100.0 * shift.estimate,
                    median_ci95_pct: [100.0 * shift.low, 100.0 * shift.high],
                    p50_ratio_pct: pct_change(median(&c50), median(&b50)),
                    p99_pct: pct_change(median(&c99), median(&b99)),
                });
                p.verdict = verdict_from_interval(shift.low, shift.high, threshold);
            }
        }
        Ok(p)
    })?;
    let mut cmp = assemble((&b0.1, &b0.0), (&c0.1, &c0.0), threshold_pct, workloads);
    for (sum, runs) in [
        (&mut cmp.baseline, baseline),
        (&mut cmp.candidate, candidate),
    ] {
        if runs.len() > 1 {
            let dir = runs[0].0.parent().unwrap_or(Path::new("."));
            sum.path = format!("{} ({} runs)", dir.display(), runs.len());
        }
    }
    cmp.rule = format!(
        "runs are the units: regression when the whole interval of the change in median latency, over {} baseline and {} candidate runs, lies above +{threshold_pct}%, improvement when it lies below -{threshold_pct}%, otherwise no change; the interval's confidence is {:.2}% per workload (95% Bonferroni-corrected over {compared} workloads); a workload that verified in every baseline run and fails in a candidate run is a regression",
        baseline.len(),
        candidate.len(),
        100.0 * per_workload
    );
    cmp.replicates = Some(Replicates {
        baseline_runs: baseline.len(),
        candidate_runs: candidate.len(),
        workloads_compared: compared,
        per_workload_confidence: per_workload,
    });
    Ok(cmp)
}

/// Counts of each verdict.
fn count_verdicts(workloads: &[WorkloadComparison]) -> Summary {
    let mut summary = Summary::default();
    for w in workloads {
        let slot = match w.verdict {
            Verdict::Regression => &mut summary.regressions,
            Verdict::Improvement => &mut summary.improvements,
            Verdict::NoChange => &mut summary.no_change,
            Verdict::NewFailure => &mut summary.new_failures,
            Verdict::StillFailing => &mut summary.still_failing,
            Verdict::Fixed => &mut summary.fixed,
            Verdict::OnlyInBaseline => &mut summary.only_in_baseline,
            Verdict::OnlyInCandidate => &mut summary.only_in_candidate,
        };
        *slot += 1;
    }
    summary
}

/// Median of at least one value.
fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    crate::measure::sort_f64(&mut s);
    crate::measure::percentile(&s, 50.0)
}

/// One side of a workload over replicate runs: medians of the runs' p50 and p99.
fn replicate_side(rows: &[Option<ResultRow>], runs: &[(PathBuf, RunResults)]) -> SideSummary {
    let missing = rows
        .iter()
        .zip(runs)
        .find(|(r, _)| !r.as_ref().is_some_and(|r| r.is_valid()));
    if let Some((row, (path, _))) = missing {
        let why = match row {
            Some(r) => r
                .error
                .clone()
                .unwrap_or_else(|| "verification failed".to_string()),
            None => "not in this run".to_string(),
        };
        return SideSummary {
            ok: false,
            p50_ns: None,
            p99_ns: None,
            samples: rows.iter().flatten().map(|r| r.samples).sum(),
            error: Some(format!("{why} ('{}')", path.display())),
        };
    }
    let all: Vec<&ResultRow> = rows.iter().flatten().collect();
    SideSummary {
        ok: true,
        p50_ns: Some(median(&all.iter().map(|r| r.ns.p50).collect::<Vec<_>>())),
        p99_ns: Some(median(&all.iter().map(|r| r.ns.p99).collect::<Vec<_>>())),
        samples: all.iter().map(|r| r.samples).sum(),
        error: None,
    }
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

/// Human-readable latency.
pub fn format_ns(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.3} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.3} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

fn pct(v: f64) -> String {
    if v.is_finite() {
        // Round first so that -0.04 prints as +0.0%, not -0.0%.
        let r = (v * 10.0).round() / 10.0;
        let r = if r == 0.0 { 0.0 } else { r };
        format!("{r:+.1}%")
    } else {
        "-".to_string()
    }
}

/// The cells every table format shows, in order.
fn cells(w: &WorkloadComparison) -> [String; 7] {
    let device = format!(
        "{} {}",
        match w.device_kind {
            DeviceKind::Cpu => "cpu",
            DeviceKind::Gpu => "gpu",
        },
        w.device_name
    );
    let lat = |s: &Option<SideSummary>| match s {
        Some(SideSummary {
            p50_ns: Some(p), ..
        }) => format_ns(*p),
        Some(_) => "failed".to_string(),
        None => "-".to_string(),
    };
    let (change, p99) = match &w.change {
        Some(c) => (
            format!(
                "{} [{}, {}]",
                pct(c.median_pct),
                pct(c.median_ci95_pct[0]),
                pct(c.median_ci95_pct[1])
            ),
            pct(c.p99_pct),
        ),
        None => ("-".to_string(), "-".to_string()),
    };
    [
        device,
        w.workload.clone(),
        lat(&w.baseline),
        lat(&w.candidate),
        change,
        p99,
        w.verdict.words().to_string(),
    ]
}

fn summary_sentence(cmp: &Comparison) -> String {
    let s = &cmp.summary;
    let mut parts = vec![
        format!(
            "{} regression{}",
            s.regressions,
            if s.regressions == 1 { "" } else { "s" }
        ),
        format!(
            "{} improvement{}",
            s.improvements,
            if s.improvements == 1 { "" } else { "s" }
        ),
        format!("{} no change", s.no_change),
    ];
    for (n, words) in [
        (s.new_failures, "newly failing"),
        (s.still_failing, "failed in both"),
        (s.fixed, "fixed"),
        (s.only_in_baseline, "only in baseline"),
        (s.only_in_candidate, "only in candidate"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {words}"));
        }
    }
    parts.join(", ")
}

fn failures(cmp: &Comparison) -> Vec<String> {
    let mut out = Vec::new();
    for w in &cmp.workloads {
        for (s, which) in [(&w.baseline, "baseline"), (&w.candidate, "candidate")] {
            if let Some(SideSummary {
                ok: false,
                error: Some(e),
                ..
            }) = s
            {
                out.push(format!(
                    "{} on {} ({which}): {e}",
                    w.workload, w.device_name
                ));
            }
        }
    }
    out
}

/// Column headings; the interval's heading names its confidence (95% for one file per side,
/// the per-workload corrected level for replicate runs).
fn headers(cmp: &Comparison) -> [String; 7] {
    let ci = match &cmp.replicates {
        None => "change in median [95% CI]".to_string(),
        Some(r) => format!(
            "change in median [{:.1}% CI, runs]",
            100.0 * r.per_workload_confidence
        ),
    };
    let mut h = HEADERS.map(String::from);
    h[4] = ci;
    h
}

const HEADERS: [&str; 7] = [
    "device",
    "workload",
    "baseline p50",
    "candidate p50",
    "change in median [95% CI]",
    "p99 change",
    "verdict",
];

/// Terminal table.
pub fn write_table(cmp: &Comparison, out: &mut dyn Write) -> Result<()> {
    writeln!(
        out,
        "baseline:  {} ({}, {})",
        cmp.baseline.path, cmp.baseline.hostname, cmp.baseline.started_at
    )?;
    writeln!(
        out,
        "candidate: {} ({}, {})",
        cmp.candidate.path, cmp.candidate.hostname, cmp.candidate.started_at
    )?;
    writeln!(out)?;
    let rows: Vec<[String; 7]> = cmp.workloads.iter().map(cells).collect();
    let heads = headers(cmp);
    let mut widths = heads.clone().map(|h| h.chars().count());
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[String]| -> String {
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
            let pad = w.saturating_sub(c.chars().count());
            // Numbers right-aligned, words left-aligned.
            if (2..=5).contains(&i) {
                s.push_str(&" ".repeat(pad));
                s.push_str(c);
            } else {
                s.push_str(c);
                if i + 1 < cells.len() {
                    s.push_str(&" ".repeat(pad));
                }
            }
            if i + 1 < cells.len() {
                s.push_str("  ");
            }
        }
        s
    };
    writeln!(out, "{}", line(&heads))?;
    for r in &rows {
        writeln!(out, "{}", line(r))?;
    }
    writeln!(out)?;
    writeln!(out, "{}.", summary_sentence(cmp))?;
    writeln!(out, "rule: {}.", cmp.rule)?;
    for f in failures(cmp) {
        writeln!(out, "failed: {f}")?;
    }
    for n in &cmp.notes {
        writeln!(out, "note: {n}")?;
    }
    Ok(())
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|")
}

/// Markdown ready for a pull-request comment.
pub fn write_markdown(cmp: &Comparison, out: &mut dyn Write) -> Result<()> {
    let head = if cmp.regressed {
        let mut parts = Vec::new();
        let n = cmp.summary.regressions;
        if n > 0 {
            parts.push(format!(
                "{n} regression{} beyond {}%",
                if n == 1 { "" } else { "s" },
                cmp.threshold_pct
            ));
        }
        let f = cmp.summary.new_failures;
        if f > 0 {
            parts.push(format!(
                "{f} workload{} newly failing",
                if f == 1 { "" } else { "s" }
            ));
        }
        format!("### accelbench: {}", parts.join(", "))
    } else {
        format!(
            "### accelbench: no regression beyond {}%",
            cmp.threshold_pct
        )
    };
    writeln!(out, "{head}")?;
    writeln!(out)?;
    writeln!(
        out,
        "Baseline `{}` ({}, {}) vs candidate `{}` ({}, {}): {}.",
        md_escape(&cmp.baseline.path),
        md_escape(&cmp.baseline.hostname),
        cmp.baseline.started_at,
        md_escape(&cmp.candidate.path),
        md_escape(&cmp.candidate.hostname),
        cmp.candidate.started_at,
        summary_sentence(cmp)
    )?;
    writeln!(out)?;
    writeln!(out, "| {} |", headers(cmp).join(" | "))?;
    writeln!(out, "|---|---|---:|---:|---:|---:|---|")?;
    for w in &cmp.workloads {
        let mut c = cells(w).map(|s| md_escape(&s));
        if w.verdict.is_regression() {
            c[6] = format!("**{}**", c[6]);
        }
        writeln!(out, "| {} |", c.join(" | "))?;
    }
    writeln!(out)?;
    writeln!(out, "Rule: {}.", cmp.rule)?;
    let fails = failures(cmp);
    let notes = &cmp.notes;
    if !fails.is_empty() || !notes.is_empty() {
        writeln!(out)?;
        for f in fails {
            writeln!(out, "- failed: {}", md_escape(&f))?;
        }
        for n in notes {
            writeln!(out, "- note: {}", md_escape(n))?;
        }
    }
    Ok(())
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
