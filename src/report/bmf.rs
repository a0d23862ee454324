//! Bencher Metric Format (<https://bencher.dev/docs/reference/bencher-metric-format>).
//!
//! One benchmark per (workload, device column), named `<workload> @ <column>`, with
//! - `latency`: p50 ns, bounded by the 95% confidence interval of the median;
//! - `throughput`: kernel invocations per second (Bencher's built-in unit, ops/s), bounded
//!   likewise;
//! - the workload's own figure under its own measure: `gflop-per-second`, `gb-per-second` or
//!   `tokens-per-second` (Bencher creates a measure the first time it sees its slug).
//!
//! BMF cannot say "failed", so failed rows are left out (the caller says how many).

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::report::Exporter;
use crate::report::merge::{MergedReport, Metric, throughput};

#[derive(Serialize)]
struct MetricValue {
    value: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    lower_value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    upper_value: Option<f64>,
}

fn slug(metric: Metric) -> &'static str {
    match metric {
        Metric::Gflops => "gflop-per-second",
        Metric::Gbps => "gb-per-second",
        Metric::TokensPerS => "tokens-per-second",
    }
}

/// `<workload> @ <column>`: the benchmark name used by `bmf` and `gab`.
pub fn benchmark_name(workload: &str, column: &str) -> String {
    format!("{workload} @ {column}")
}

/// Valid results as BMF JSON.
pub struct BmfExporter;

impl Exporter for BmfExporter {
    fn render(&self, report: &MergedReport) -> Result<Vec<u8>> {
        let mut doc: BTreeMap<String, BTreeMap<&'static str, MetricValue>> = BTreeMap::new();
        for w in &report.workloads {
            for (c, cell) in w.cells.iter().enumerate() {
                let Some(row) = cell else { continue };
                let Some(t) = throughput(row, w.metric) else {
                    continue;
                };
                let [lo, hi] = row.ci95_ns;
                let bounds_ok = lo > 0.0 && hi >= lo && lo <= row.ns.p50 && row.ns.p50 <= hi;
                let mut m = BTreeMap::new();
                m.insert(
                    "latency",
                    MetricValue {
                        value: row.ns.p50,
                        lower_value: bounds_ok.then_some(lo),
                        upper_value: bounds_ok.then_some(hi),
                    },
                );
                m.insert(
                    "throughput",
                    MetricValue {
                        value: 1e9 / row.ns.p50,
                        lower_value: bounds_ok.then(|| 1e9 / hi),
                        upper_value: bounds_ok.then(|| 1e9 / lo),
                    },
                );
                m.insert(
                    slug(t.metric),
                    MetricValue {
                        value: t.value,
                        lower_value: None,
                        upper_value: None,
                    },
                );
                doc.insert(benchmark_name(&w.label, &report.columns[c].id), m);
            }
        }
        let mut s = serde_json::to_string_pretty(&doc).context("could not serialize BMF")?;
        s.push('\n');
        Ok(s.into_bytes())
    }
}
