//! One file per side: the stored per-invocation samples of each workload are the units.

use std::path::Path;

use anyhow::{Result, bail};

use super::matching::{Paired, assemble, failure_verdict, match_workloads, pct_change, side};
use super::{
    Change, Comparison, Verdict, change_of_samples, check_threshold, verdict_from_interval,
};
use crate::results::{ResultRow, RunResults};

pub(super) fn samples_of(row: &ResultRow, index: usize, path: &Path) -> Result<Vec<f64>> {
    let h = row.decode_histogram().map_err(|e| {
        anyhow::anyhow!(
            "'{}': field 'results[{index}].histogram' ({}) could not be read: {e:#}; expected a base64 HdrHistogram V2 blob as accelbench writes it",
            path.display(),
            row.workload_label()
        )
    })?;
    let samples = crate::results::histogram::samples(&h);
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
