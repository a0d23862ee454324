//! Matching workloads across two runs (device kind and name plus workload label) and
//! assembling the comparison with its notes.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Result, bail};

use super::{
    CONFIDENCE, Change, Comparison, FileSummary, SideSummary, Summary, Verdict, WorkloadComparison,
    rule_text,
};
use crate::results::{DeviceKind, ResultRow, RunResults};

pub(super) type Key = (DeviceKind, String, String);

/// Rows keyed by (device kind, device name, workload), in file order. A repeated key (two
/// identical devices) gets `#2`, `#3` ... appended to the device name.
pub(super) fn keyed_rows(run: &RunResults) -> Vec<(Key, usize, &ResultRow)> {
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

pub(super) fn file_summary(run: &RunResults, path: &Path) -> FileSummary {
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

/// What a comparison says of a workload present on both sides.
pub(super) struct Paired {
    pub(super) baseline: SideSummary,
    pub(super) candidate: SideSummary,
    pub(super) verdict: Verdict,
    pub(super) change: Option<Change>,
}

/// A row of each side by its index in its file.
pub(super) type IndexedRow<'a> = (usize, &'a ResultRow);

/// The workloads of two runs matched on their key, in baseline order and then the candidate's
/// own; `pair` decides each workload present on both sides. Errors (exit code 2) when the runs
/// share no workload, or when `pair` does.
pub(super) fn match_workloads(
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
pub(super) fn failure_verdict(baseline_ok: bool, candidate_ok: bool) -> Option<Verdict> {
    match (baseline_ok, candidate_ok) {
        (true, true) => None,
        (true, false) => Some(Verdict::NewFailure),
        (false, false) => Some(Verdict::StillFailing),
        (false, true) => Some(Verdict::Fixed),
    }
}

/// Relative change in percent of `new` over `old` (NaN when `old` is not positive).
pub(super) fn pct_change(new: f64, old: f64) -> f64 {
    if old > 0.0 {
        100.0 * (new / old - 1.0)
    } else {
        f64::NAN
    }
}

/// A comparison of matched workloads, with notes on what differs between the two sides' first
/// files (machine, threads, suite, partial runs).
pub(super) fn assemble(
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
    notes.extend(state_notes(baseline.0, "baseline"));
    notes.extend(state_notes(candidate.0, "candidate"));
    notes.extend(outlier_notes(baseline, "baseline"));
    notes.extend(outlier_notes(candidate, "candidate"));
    notes.extend(variant_notes(baseline.0, candidate.0));
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

/// Rows of one side timed while the GPU held its clocks down (`device_state`): a change in
/// them may be the GPU's state rather than the code.
fn state_notes(run: &RunResults, which: &str) -> Option<String> {
    let flagged: Vec<(String, String)> = run
        .results
        .iter()
        .filter_map(|r| {
            let why = r.extra.device_state.as_ref()?.concern()?;
            Some((format!("{} on {}", r.workload_label(), r.device), why))
        })
        .collect();
    let (first, why) = flagged.first()?;
    Some(format!(
        "{} row(s) of the {which} were timed below the GPU's full clock (first: {first}, {why}); a change in them may be the GPU's state, not the code",
        flagged.len()
    ))
}

/// Rows of one side's file (the first run of a directory) whose samples had statistical
/// outliers (`outliers`): their p99 (and any tail) change may be the machine's state while
/// they were timed rather than the code.
fn outlier_notes((run, path): (&RunResults, &Path), which: &str) -> Option<String> {
    let flagged: Vec<(&ResultRow, crate::measure::Outliers)> = run
        .results
        .iter()
        .filter_map(|r| Some((r, r.extra.outliers?)))
        .collect();
    let (first, o) = flagged.first()?;
    Some(format!(
        "{} row(s) of the {which} ('{}') had statistical outliers among their samples (first: {} on {}, {} of {} samples, the slowest {:.2}x its median); the medians compared are robust to them, the p99 changes are not",
        flagged.len(),
        path.display(),
        first.workload_label(),
        first.device,
        o.count(),
        first.samples,
        o.max_over_median,
    ))
}

/// Workloads whose kernel differs between the sides (`kernel_variant`, e.g. cooperative
/// matrices in one and the tiled fallback in the other): their change is the kernel choice.
fn variant_notes(baseline: &RunResults, candidate: &RunResults) -> Vec<String> {
    let theirs: BTreeMap<Key, &ResultRow> = keyed_rows(candidate)
        .into_iter()
        .map(|(k, _, r)| (k, r))
        .collect();
    keyed_rows(baseline)
        .into_iter()
        .filter_map(|(key, _, b)| {
            let c = theirs.get(&key)?;
            let (bv, cv) = (
                b.extra.kernel_variant.as_ref()?,
                c.extra.kernel_variant.as_ref()?,
            );
            (bv != cv).then(|| {
                format!(
                    "{} on {} ran different kernels: {bv} in the baseline, {cv} in the candidate",
                    key.2, key.1
                )
            })
        })
        .collect()
}

pub(super) fn side(row: &ResultRow) -> SideSummary {
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

/// Counts of each verdict.
pub(super) fn count_verdicts(workloads: &[WorkloadComparison]) -> Summary {
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
