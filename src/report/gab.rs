//! github-action-benchmark's `customSmallerIsBetter` JSON
//! (<https://github.com/benchmark-action/github-action-benchmark>): one entry per
//! (workload, device column) with the p50 latency in ns, the half-width of its 95% confidence
//! interval as `range`, and the p99 and throughput in `extra`.
//!
//! The format cannot say "failed", so failed rows are left out (the caller says how many).

use anyhow::{Context, Result};
use serde::Serialize;

use crate::render::units::format_value;
use crate::report::Exporter;
use crate::report::bmf::benchmark_name;
use crate::report::merge::{MergedReport, throughput};

#[derive(Serialize)]
struct Entry {
    name: String,
    unit: &'static str,
    value: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    range: Option<String>,
    extra: String,
}

/// Valid results as a `customSmallerIsBetter` array.
pub struct GabExporter;

impl Exporter for GabExporter {
    fn render(&self, report: &MergedReport) -> Result<Vec<u8>> {
        let mut entries = Vec::new();
        for w in &report.workloads {
            for (c, cell) in w.cells.iter().enumerate() {
                let Some(row) = cell else { continue };
                let Some(t) = throughput(row, w.metric) else {
                    continue;
                };
                let col = &report.columns[c];
                let [lo, hi] = row.ci95_ns;
                let range =
                    (hi >= lo && hi > 0.0).then(|| format!("± {}", format_value((hi - lo) / 2.0)));
                let mut extra = format!(
                    "p99: {} ns\nthroughput: {} {}\ndevice: {}\nsamples: {}",
                    format_value(row.ns.p99),
                    format_value(t.value),
                    t.metric.unit(),
                    col.device.name,
                    row.samples
                );
                if col.software_adapter {
                    extra.push_str("\nsoftware adapter (CPU emulation, not GPU speed)");
                }
                entries.push(Entry {
                    name: benchmark_name(&w.label, &col.id),
                    unit: "ns",
                    value: row.ns.p50,
                    range,
                    extra,
                });
            }
        }
        let mut s =
            serde_json::to_string_pretty(&entries).context("could not serialize gab JSON")?;
        s.push('\n');
        Ok(s.into_bytes())
    }
}
