//! The terminal table `run` prints (through the shared [`crate::render::Table`]): each device's
//! peaks with their sources, then one row per workload.

use std::io::Write;

use anyhow::Result;

use crate::render::Table;
use crate::render::units::format_ns;
use crate::results::RunResults;

/// Widest workload label on one line; longer ones (a decode step's shape is 150 characters)
/// wrap onto further lines of their row.
const WORKLOAD_WIDTH: usize = 58;

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
    let mut t = Table::new([
        "device", "workload", "p50", "p99", "±ci", "GFLOP/s", "GB/s", "%flops", "%bw", "verified",
    ])
    .numeric(2..=8)
    .max_width(1, WORKLOAD_WIDTH);
    for r in &run.results {
        let label = r.workload_label();
        if !r.is_valid() {
            let error = r.error.as_deref().unwrap_or("verification failed");
            let mut cells = vec![r.device.clone(), label];
            cells.extend(std::iter::repeat_n("-".to_string(), 7));
            cells.push(format!("FAILED: {error}"));
            t.push(cells);
            continue;
        }
        let ci = 100.0 * (r.ci95_ns[1] - r.ci95_ns[0]) / r.ns.p50 / 2.0;
        let pct = |p: Option<f64>| p.map(|v| format!("{v:.1}")).unwrap_or_else(|| "-".into());
        let bw = if r.extra.in_cache {
            "cache".to_string()
        } else {
            pct(r.pct_peak_bw)
        };
        let mut verified = format!("ok (err {:.1e})", r.verified.max_abs_err);
        if let Some(tok) = r.tokens_per_s {
            verified.push_str(&format!(" ({tok:.2} tok/s, whole model, measured)"));
        }
        if let Some(n) = &r.extra.note {
            verified.push_str(&format!(" [{n}]"));
        }
        t.push([
            r.device.clone(),
            label,
            format_ns(r.ns.p50),
            format_ns(r.ns.p99),
            format!("{ci:.1}%"),
            format!("{:.1}", r.gflops),
            format!("{:.1}", r.gbps),
            pct(r.pct_peak_flops),
            bw,
            verified,
        ]);
    }
    write!(out, "{}", t.to_text())?;
    Ok(())
}
