//! Directories of replicate runs: each run's median is a unit; intervals Bonferroni-corrected.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use serde::Serialize;

use super::matching::{
    Key, Paired, assemble, failure_verdict, keyed_rows, match_workloads, pct_change,
};
use super::samples::compare_runs;
use super::{
    CONFIDENCE, Change, Comparison, SideSummary, Verdict, check_threshold, verdict_from_interval,
};
use crate::results::{self, ResultRow, RunResults};
use crate::stats;

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

/// Median of at least one value.
pub(super) fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    crate::measure::sort_f64(&mut s);
    crate::measure::percentile(&s, 50.0)
}

/// One side of a workload over replicate runs: medians of the runs' p50 and p99.
pub(super) fn replicate_side(
    rows: &[Option<ResultRow>],
    runs: &[(PathBuf, RunResults)],
) -> SideSummary {
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
