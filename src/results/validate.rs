//! What a loaded results file must satisfy beyond its JSON shape: finite, non-negative,
//! plausible figures, ordered percentiles, and samples that agree with the stored histogram.
//! Every error is one sentence naming the file and the field.

use std::path::Path;

use anyhow::{Result, bail};

use super::histogram;
use super::schema::{ResultRow, RunResults};

/// Longest plausible latency of one kernel invocation, ns (about 11.6 days).
const MAX_NS: f64 = 1e15;
/// Most samples a row may claim (the measuring loop stops at 100,000).
pub const MAX_SAMPLES: u64 = 10_000_000;

/// Check every row and device of `run`, read from `path`.
pub fn validate(run: &RunResults, path: &Path) -> Result<()> {
    let file = path.display();
    for (i, d) in run.devices.iter().enumerate() {
        for (name, v) in [("peak_gflops", d.peak_gflops), ("peak_gbps", d.peak_gbps)] {
            if let Some(v) = v
                && !(v.is_finite() && v > 0.0)
            {
                bail!("'{file}': field 'devices[{i}].{name}' is {v}, expected a positive number");
            }
        }
    }
    for (i, row) in run.results.iter().enumerate() {
        row_ok(row).map_err(|e| anyhow::anyhow!("'{file}': field 'results[{i}].{e}"))?;
    }
    Ok(())
}

/// The error is `field' is ..., expected ...` (the caller adds the file and the row).
fn row_ok(r: &ResultRow) -> std::result::Result<(), String> {
    let ns = &r.ns;
    let latencies = [
        ("min", ns.min),
        ("p50", ns.p50),
        ("p90", ns.p90),
        ("p99", ns.p99),
        ("p999", ns.p999),
        ("max", ns.max),
        ("mean", ns.mean),
        ("stddev", ns.stddev),
    ];
    for (name, v) in latencies {
        if !(v.is_finite() && (0.0..=MAX_NS).contains(&v)) {
            return Err(format!(
                "ns.{name}' is {v}, expected a number of nanoseconds between 0 and {MAX_NS:e}"
            ));
        }
    }
    for (k, v) in r.ci95_ns.iter().enumerate() {
        if !(v.is_finite() && (0.0..=MAX_NS).contains(v)) {
            return Err(format!(
                "ci95_ns[{k}]' is {v}, expected a number of nanoseconds between 0 and {MAX_NS:e}"
            ));
        }
    }
    if r.ci95_ns[0] > r.ci95_ns[1] {
        return Err(format!(
            "ci95_ns' is [{}, {}], expected low <= high",
            r.ci95_ns[0], r.ci95_ns[1]
        ));
    }
    let rates = [
        ("gflops", Some(r.gflops)),
        ("gbps", Some(r.gbps)),
        ("pct_peak_flops", r.pct_peak_flops),
        ("pct_peak_bw", r.pct_peak_bw),
        ("tokens_per_s", r.tokens_per_s),
        ("verified.tolerance", Some(r.verified.tolerance)),
    ];
    for (name, v) in rates {
        if let Some(v) = v
            && !(v.is_finite() && v >= 0.0)
        {
            return Err(format!(
                "{name}' is {v}, expected a finite, non-negative number"
            ));
        }
    }
    if r.verified.max_abs_err < 0.0 {
        return Err(format!(
            "verified.max_abs_err' is {}, expected a non-negative number (or null)",
            r.verified.max_abs_err
        ));
    }
    if r.samples > MAX_SAMPLES {
        return Err(format!(
            "samples' is {}, more than the {MAX_SAMPLES} a run can record",
            r.samples
        ));
    }
    if r.iters_per_sample == 0 {
        return Err("iters_per_sample' is 0, expected at least 1".into());
    }
    if r.samples == 0 {
        return Ok(());
    }
    let order = [
        ("min", ns.min),
        ("p50", ns.p50),
        ("p90", ns.p90),
        ("p99", ns.p99),
        ("p999", ns.p999),
        ("max", ns.max),
    ];
    for w in order.windows(2) {
        if w[0].1 > w[1].1 {
            return Err(format!(
                "ns' has {} = {} above {} = {}, expected min <= p50 <= p90 <= p99 <= p999 <= max",
                w[0].0, w[0].1, w[1].0, w[1].1
            ));
        }
    }
    if r.is_valid() && ns.p50 <= 0.0 {
        return Err(format!(
            "ns.p50' is {}, expected a positive median for a verified row",
            ns.p50
        ));
    }
    // An empty histogram means the file carries no per-sample data (hand-made files); one that
    // is present must decode, within bounds, to exactly `samples` samples.
    if r.is_valid() && !r.histogram.is_empty() {
        let h =
            histogram::decode(&r.histogram).map_err(|e| format!("histogram' is unusable: {e}"))?;
        if h.len() != r.samples {
            return Err(format!(
                "histogram' holds {} samples but 'samples' is {}",
                h.len(),
                r.samples
            ));
        }
    }
    Ok(())
}
