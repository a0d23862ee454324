//! JSON: the merged data (runs, devices as columns, workloads with one result per column).
//! Histograms are left out; timing fields are left out of rows that failed.

use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::Value;

use crate::report::Exporter;
use crate::report::merge::{MergedReport, failure_reason, throughput};
use crate::results::{DeviceRecord, Host, RunSettings};

/// Identifies the document; bumped when its layout changes.
pub const REPORT_FORMAT_VERSION: u32 = 1;

#[derive(Serialize)]
struct Doc<'a> {
    report_format_version: u32,
    sources: Vec<SourceOut<'a>>,
    columns: Vec<ColumnOut<'a>>,
    workloads: Vec<WorkloadOut<'a>>,
    notes: &'a [String],
}

#[derive(Serialize)]
struct SourceOut<'a> {
    file: &'a str,
    started_at: &'a str,
    tool_version: &'a str,
    host: &'a Host,
    partial: bool,
    settings: &'a Option<RunSettings>,
}

#[derive(Serialize)]
struct ColumnOut<'a> {
    id: &'a str,
    /// Index into `sources`.
    source: usize,
    software_adapter: bool,
    device: &'a DeviceRecord,
}

#[derive(Serialize)]
struct WorkloadOut<'a> {
    label: &'a str,
    kernel: &'a str,
    unit: &'static str,
    results: Vec<CellOut<'a>>,
}

#[derive(Serialize)]
struct CellOut<'a> {
    column: &'a str,
    status: &'static str,
    /// Throughput in `unit` (or `throughput_unit` when it differs); null when failed.
    throughput: Option<f64>,
    throughput_unit: Option<&'static str>,
    p50_ns: Option<f64>,
    p99_ns: Option<f64>,
    error: Option<String>,
    /// The stored row, without its histogram (and without timings when failed).
    row: Value,
}

const TIMING_FIELDS: &[&str] = &[
    "ns",
    "ci95_ns",
    "gflops",
    "gbps",
    "pct_peak_flops",
    "pct_peak_bw",
    "tokens_per_s",
];

/// The merged data as pretty JSON.
pub struct JsonExporter;

impl Exporter for JsonExporter {
    fn render(&self, report: &MergedReport) -> Result<Vec<u8>> {
        let mut workloads = Vec::new();
        for w in &report.workloads {
            let mut results = Vec::new();
            for (c, cell) in w.cells.iter().enumerate() {
                let Some(row) = cell else { continue };
                let t = throughput(row, w.metric);
                let mut value =
                    serde_json::to_value(row).context("could not serialize a result")?;
                if let Value::Object(m) = &mut value {
                    m.remove("histogram");
                    if t.is_none() {
                        for f in TIMING_FIELDS {
                            m.remove(*f);
                        }
                    }
                }
                results.push(CellOut {
                    column: &report.columns[c].id,
                    status: if t.is_some() { "ok" } else { "failed" },
                    throughput: t.map(|t| t.value),
                    throughput_unit: t.map(|t| t.metric.unit()),
                    p50_ns: t.map(|_| row.ns.p50),
                    p99_ns: t.map(|_| row.ns.p99),
                    error: t.is_none().then(|| failure_reason(row)),
                    row: value,
                });
            }
            workloads.push(WorkloadOut {
                label: &w.label,
                kernel: &w.kernel,
                unit: w.metric.unit(),
                results,
            });
        }
        let doc = Doc {
            report_format_version: REPORT_FORMAT_VERSION,
            sources: report
                .sources
                .iter()
                .map(|s| SourceOut {
                    file: &s.file,
                    started_at: &s.started_at,
                    tool_version: &s.tool_version,
                    host: &s.host,
                    partial: s.partial,
                    settings: &s.settings,
                })
                .collect(),
            columns: report
                .columns
                .iter()
                .map(|c| ColumnOut {
                    id: &c.id,
                    source: c.source,
                    software_adapter: c.software_adapter,
                    device: &c.device,
                })
                .collect(),
            workloads,
            notes: &report.notes,
        };
        let mut s = serde_json::to_string_pretty(&doc).context("could not serialize the report")?;
        s.push('\n');
        Ok(s.into_bytes())
    }
}
