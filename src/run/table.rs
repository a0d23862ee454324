//! The terminal table `run` prints.

use std::io::Write;

use anyhow::Result;

use crate::results::RunResults;

/// Human table of a run: each device's peaks with their sources, then the rows.
pub fn write_table(run: &RunResults, out: &mut dyn Write) -> Result<()> {
    for d in &run.devices {
        let fig = |v: Option<f64>, unit: &str| {
            v.map_or_else(|| "unknown".to_string(), |v| format!("{v:.1} {unit}"))
        };
        writeln!(
            out,
            "peaks of {} ({}): {} and {} (the higher of specification and measurement)",
            d.id,
            d.name,
            fig(d.peak_gflops, "GFLOP/s"),
            fig(d.peak_gbps, "GB/s")
        )?;
        for part in d.peak_source.split(" | ") {
            writeln!(out, "  {part}")?;
        }
    }
    writeln!(
        out,
        "%bw: 'cache' where the row's working set fits in the device's cache (not a memory figure)."
    )?;
    writeln!(
        out,
        "{:<6} {:<58} {:>11} {:>11} {:>7} {:>9} {:>8} {:>7} {:>7}  verified",
        "device", "workload", "p50", "p99", "±ci", "GFLOP/s", "GB/s", "%flops", "%bw"
    )?;
    for r in &run.results {
        let label = r.workload_label();
        if !r.is_valid() {
            writeln!(
                out,
                "{:<6} {:<58} {:>11} {:>11} {:>7} {:>9} {:>8} {:>7} {:>7}  FAILED: {}",
                r.device,
                label,
                "-",
                "-",
                "-",
                "-",
                "-",
                "-",
                "-",
                r.error.as_deref().unwrap_or("verification failed")
            )?;
            continue;
        }
        let ci = 100.0 * (r.ci95_ns[1] - r.ci95_ns[0]) / r.ns.p50 / 2.0;
        let pct = |p: Option<f64>| p.map(|v| format!("{v:.1}")).unwrap_or_else(|| "-".into());
        let bw = if r.extra.in_cache {
            "cache".to_string()
        } else {
            pct(r.pct_peak_bw)
        };
        let mut extra = String::new();
        if let Some(t) = r.tokens_per_s {
            extra = format!(" ({t:.2} tok/s, whole model, measured)");
        }
        if let Some(n) = &r.extra.note {
            extra.push_str(&format!(" [{n}]"));
        }
        writeln!(
            out,
            "{:<6} {:<58} {:>11} {:>11} {:>6.1}% {:>9.1} {:>8.1} {:>7} {:>7}  ok (err {:.1e}){extra}",
            r.device,
            label,
            format_ns(r.ns.p50),
            format_ns(r.ns.p99),
            ci,
            r.gflops,
            r.gbps,
            pct(r.pct_peak_flops),
            bw,
            r.verified.max_abs_err,
        )?;
    }
    Ok(())
}

/// `1.23 ms`, `456.7 µs`, ...
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
