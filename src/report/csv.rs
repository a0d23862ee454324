//! CSV: one line per result (device x workload), every field of the row and of its device
//! (written by [`crate::render::csv`], which quotes and guards against formulas).

use anyhow::Result;

use crate::render::csv;
use crate::report::Exporter;
use crate::report::merge::{MergedReport, failure_reason, throughput};

fn num(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        String::new()
    }
}

fn opt(v: Option<f64>) -> String {
    v.map(num).unwrap_or_default()
}

const HEADER: &[&str] = &[
    "file",
    "started_at",
    "host",
    "column",
    "device_id",
    "device_name",
    "device_kind",
    "device_type",
    "software_adapter",
    "backend",
    "driver",
    "kernel",
    "shape",
    "dtype",
    "workload",
    "status",
    "throughput",
    "throughput_unit",
    "flops",
    "bytes",
    "samples",
    "iters_per_sample",
    "timer",
    "min_ns",
    "p50_ns",
    "p90_ns",
    "p99_ns",
    "p999_ns",
    "max_ns",
    "mean_ns",
    "stddev_ns",
    "ci95_low_ns",
    "ci95_high_ns",
    "gflops",
    "gbps",
    "pct_peak_flops",
    "pct_peak_bw",
    "tokens_per_s",
    "verified_ok",
    "max_abs_err",
    "tolerance",
    "error",
    "kernel_variant",
    "in_cache",
    "sm_clock_mhz",
    "mem_clock_mhz",
    "reduced_clock",
    "outlier_samples",
    "outlier_max_over_p50",
];

/// Every result as CSV. Rows without a trustworthy timing have status `FAILED` and empty
/// timing and throughput fields.
pub struct CsvExporter;

impl Exporter for CsvExporter {
    fn render(&self, report: &MergedReport) -> Result<Vec<u8>> {
        let mut rows: Vec<Vec<String>> = Vec::new();
        for (c, col) in report.columns.iter().enumerate() {
            let src = &report.sources[col.source];
            let d = &col.device;
            for w in &report.workloads {
                let Some(row) = &w.cells[c] else { continue };
                let shape: Vec<String> = row
                    .shape
                    .iter()
                    .map(|(k, v)| match v {
                        serde_json::Value::String(s) => format!("{k}={s}"),
                        other => format!("{k}={other}"),
                    })
                    .collect();
                let t = throughput(row, w.metric);
                let ok = t.is_some();
                let timing = |v: f64| if ok { num(v) } else { String::new() };
                let timing_opt = |v: Option<f64>| if ok { opt(v) } else { String::new() };
                let mut f: Vec<String> = vec![
                    src.file.clone(),
                    src.started_at.clone(),
                    src.host.hostname.clone(),
                    col.id.clone(),
                    d.id.clone(),
                    d.name.clone(),
                    format!("{:?}", d.kind).to_lowercase(),
                    d.device_type.clone().unwrap_or_default(),
                    col.software_adapter.to_string(),
                    d.backend.clone(),
                    d.driver.clone(),
                    row.kernel.clone(),
                    shape.join(" "),
                    row.dtype.clone(),
                    w.label.clone(),
                    if ok { "ok" } else { "FAILED" }.to_string(),
                    t.map(|t| num(t.value)).unwrap_or_default(),
                    t.map(|t| t.metric.unit().to_string()).unwrap_or_default(),
                    row.flops.to_string(),
                    row.bytes.to_string(),
                    row.samples.to_string(),
                    row.iters_per_sample.to_string(),
                    format!("{:?}", row.timer).to_lowercase(),
                ];
                let ns = &row.ns;
                for v in [
                    ns.min,
                    ns.p50,
                    ns.p90,
                    ns.p99,
                    ns.p999,
                    ns.max,
                    ns.mean,
                    ns.stddev,
                    row.ci95_ns[0],
                    row.ci95_ns[1],
                    row.gflops,
                    row.gbps,
                ] {
                    f.push(timing(v));
                }
                f.push(timing_opt(row.pct_peak_flops));
                f.push(timing_opt(row.pct_peak_bw));
                f.push(timing_opt(row.tokens_per_s));
                f.push(row.verified.ok.to_string());
                f.push(num(row.verified.max_abs_err));
                f.push(num(row.verified.tolerance));
                f.push(if ok {
                    String::new()
                } else {
                    failure_reason(row)
                });
                // Which kernel made the number, whether it is a cache figure, and the GPU's
                // median clocks while it was timed (NVIDIA, from device_state).
                let state = row.extra.device_state.as_ref();
                f.push(row.extra.kernel_variant.clone().unwrap_or_default());
                f.push(row.extra.in_cache.to_string());
                f.push(opt(state.map(|s| s.sm_clock_mhz.p50)));
                f.push(opt(state.map(|s| s.mem_clock_mhz.p50)));
                f.push(state.and_then(|s| s.cell_note()).unwrap_or_default());
                // Samples from a second state of the machine (`outliers`): how many, how far.
                let o = row.extra.outliers;
                f.push(opt(o.map(|o| o.count() as f64)));
                f.push(opt(o.map(|o| o.max_over_median)));
                debug_assert_eq!(f.len(), HEADER.len());
                rows.push(f);
            }
        }
        Ok(csv::to_string(HEADER, rows).into_bytes())
    }
}
