//! Merging results files into one report: rows are workloads, columns are devices.
//!
//! Pure data in, pure data out: the renderers only ever see a [`MergedReport`].

use std::collections::{BTreeMap, HashMap};

use anyhow::{Result, bail};

use crate::results::{DeviceRecord, Host, ResultRow, RunResults, RunSettings};

/// One results file that went into the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// The path as given on the command line.
    pub file: String,
    pub started_at: String,
    pub tool_version: String,
    pub host: Host,
    /// The run was interrupted and holds only the workloads finished before.
    pub partial: bool,
    pub settings: Option<RunSettings>,
}

/// One device of one run: a column of the results table.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Unique within the report: `<hostname>/<device id>`, plus `@<started_at>` when the same
    /// device (or the same id on the same host) appears in several runs.
    pub id: String,
    /// Index into [`MergedReport::sources`].
    pub source: usize,
    pub device: DeviceRecord,
    /// A GPU adapter that the driver says is a CPU (lavapipe, llvmpipe, WARP): its timings are
    /// CPU emulation, never GPU speed.
    pub software_adapter: bool,
}

impl Column {
    /// Column id, device name and the software-adapter mark, as plot titles and legends show
    /// a column: `vm/gpu0: NVIDIA H100 80GB HBM3`.
    pub fn describe(&self) -> String {
        let mut s = format!("{}: {}", self.id, self.device.name);
        if self.software_adapter {
            s.push_str(" (software adapter)");
        }
        s
    }
}

/// Which throughput figure is meaningful for a kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Metric {
    /// Compute-bound: GFLOP/s.
    #[serde(rename = "GFLOP/s")]
    Gflops,
    /// Memory-bound: GB/s.
    #[serde(rename = "GB/s")]
    Gbps,
    /// Whole-model decode: tokens/s.
    #[serde(rename = "tokens/s")]
    TokensPerS,
}

impl Metric {
    /// Unit as printed after a value.
    pub fn unit(self) -> &'static str {
        match self {
            Metric::Gflops => "GFLOP/s",
            Metric::Gbps => "GB/s",
            Metric::TokensPerS => "tokens/s",
        }
    }

    /// The metric for a kernel: GEMM is compute-bound, the decode step is reported per token,
    /// the rest of the suite moves far more bytes than it computes. A kernel this build does not
    /// know is judged by its arithmetic intensity (FLOP per byte, 10 or more: compute-bound).
    pub fn for_kernel(kernel: &str, flops: u64, bytes: u64) -> Metric {
        match kernel {
            "gemm" => Metric::Gflops,
            // decode_step rows of older files carry a whole-model figure multiplied from one
            // layer; this build writes none there, and such rows show GB/s (see `throughput`).
            "decode_step" | "decode_token" => Metric::TokensPerS,
            "gemv" | "softmax" | "rmsnorm" | "decode_attention" | "stream_triad" => Metric::Gbps,
            _ if bytes > 0 && flops as f64 / bytes as f64 >= 10.0 => Metric::Gflops,
            _ => Metric::Gbps,
        }
    }
}

/// A throughput figure with its unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Throughput {
    pub value: f64,
    pub metric: Metric,
}

/// One workload's row: a cell per column (`None` where that device did not run it).
#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadRow {
    /// [`ResultRow::workload_label`], the workload's identity across files.
    pub label: String,
    pub kernel: String,
    pub metric: Metric,
    /// Indexed like [`MergedReport::columns`].
    pub cells: Vec<Option<ResultRow>>,
}

/// Everything a renderer needs.
#[derive(Debug, Clone, PartialEq)]
pub struct MergedReport {
    pub sources: Vec<Source>,
    pub columns: Vec<Column>,
    /// In order of first appearance (the suite's order).
    pub workloads: Vec<WorkloadRow>,
    /// Things a reader must know about how the files were merged.
    pub notes: Vec<String>,
}

/// Throughput of a row, or `None` when the row has no trustworthy timing.
pub fn throughput(row: &ResultRow, metric: Metric) -> Option<Throughput> {
    if !row.is_valid() {
        return None;
    }
    let value = match metric {
        Metric::Gflops => row.gflops,
        Metric::Gbps => row.gbps,
        Metric::TokensPerS => match row.tokens_per_s {
            Some(t) => t,
            // A decode step without a tokens/s figure is still a valid memory-bound timing.
            None => {
                return Some(Throughput {
                    value: row.gbps,
                    metric: Metric::Gbps,
                });
            }
        },
    };
    value.is_finite().then_some(Throughput { value, metric })
}

/// Why a row has no timing, in words.
pub fn failure_reason(row: &ResultRow) -> String {
    match &row.error {
        Some(e) => e.clone(),
        None if !row.verified.ok => "verification failed".into(),
        None => "no samples were recorded".into(),
    }
}

/// Merge loaded results files (`(path as given, contents)`) into one report.
///
/// The same device (same hostname, device name and backend) in several runs is kept once per
/// run, each column labelled with its run's start time, and a note says so. The same run given
/// twice (same host, start time and devices) is refused.
pub fn merge(runs: Vec<(String, RunResults)>) -> Result<MergedReport> {
    if runs.is_empty() {
        bail!("no results files given; pass at least one RUN.json");
    }
    let mut notes = Vec::new();
    refuse_repeated_runs(&runs)?;

    // Which (host, device) pairs and which base ids occur in more than one run.
    let mut device_runs: HashMap<(String, String, String), Vec<usize>> = HashMap::new();
    let mut base_id_runs: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, (_, run)) in runs.iter().enumerate() {
        for d in &run.devices {
            let key = (run.host.hostname.clone(), d.name.clone(), d.backend.clone());
            push_unique(device_runs.entry(key).or_default(), i);
            push_unique(
                base_id_runs
                    .entry(format!("{}/{}", run.host.hostname, d.id))
                    .or_default(),
                i,
            );
        }
    }
    let mut repeated: Vec<_> = device_runs
        .iter()
        .filter(|(_, v)| v.len() > 1)
        .map(|((host, name, backend), v)| (v[0], host.clone(), name.clone(), backend.clone()))
        .collect();
    repeated.sort();
    for (_, host, name, backend) in &repeated {
        let n = device_runs[&(host.clone(), name.clone(), backend.clone())].len();
        notes.push(format!(
            "device '{name}' ({backend}) on host '{host}' appears in {n} runs; each run is kept as its own column, labelled with the time the run started"
        ));
    }

    let mut sources = Vec::with_capacity(runs.len());
    let mut columns: Vec<Column> = Vec::new();
    let mut workloads: Vec<WorkloadRow> = Vec::new();
    let mut workload_index: HashMap<String, usize> = HashMap::new();
    let mut used_ids: BTreeMap<String, usize> = BTreeMap::new();

    for (i, (file, run)) in runs.into_iter().enumerate() {
        let mut column_of_device: HashMap<String, usize> = HashMap::new();
        for d in &run.devices {
            let base = format!("{}/{}", run.host.hostname, d.id);
            let key = (run.host.hostname.clone(), d.name.clone(), d.backend.clone());
            let needs_time = device_runs[&key].len() > 1 || base_id_runs[&base].len() > 1;
            let mut id = if needs_time {
                format!("{base}@{}", run.started_at)
            } else {
                base
            };
            // Still taken (two runs on one host started in the same second): number it.
            let n = used_ids.entry(id.clone()).or_insert(0);
            *n += 1;
            if *n > 1 {
                id = format!("{id}#{n}");
            }
            column_of_device.insert(d.id.clone(), columns.len());
            columns.push(Column {
                id,
                source: i,
                software_adapter: d.is_software_adapter(),
                device: d.clone(),
            });
        }
        for row in run.results {
            let Some(&col) = column_of_device.get(&row.device) else {
                // results::parse already refuses rows naming an unknown device.
                bail!(
                    "'{file}': field 'results[].device' is '{}', which is not the id of any entry in 'devices'",
                    row.device
                );
            };
            let label = row.workload_label();
            let w = *workload_index.entry(label.clone()).or_insert_with(|| {
                workloads.push(WorkloadRow {
                    label: label.clone(),
                    kernel: row.kernel.clone(),
                    metric: Metric::for_kernel(&row.kernel, row.flops, row.bytes),
                    cells: Vec::new(),
                });
                workloads.len() - 1
            });
            let cells = &mut workloads[w].cells;
            if cells.len() <= col {
                cells.resize(col + 1, None);
            }
            if cells[col].is_some() {
                notes.push(format!(
                    "'{file}' holds workload '{label}' on device '{}' more than once; the report shows the first",
                    row.device
                ));
                continue;
            }
            cells[col] = Some(row);
        }
        sources.push(Source {
            file,
            started_at: run.started_at,
            tool_version: run.tool_version,
            host: run.host,
            partial: run.partial,
            settings: run.settings,
        });
    }
    for w in &mut workloads {
        w.cells.resize(columns.len(), None);
    }
    for (i, s) in sources.iter().enumerate() {
        if s.partial {
            notes.push(format!(
                "run {} ('{}') was interrupted: it holds only the workloads finished before the interrupt",
                i + 1,
                s.file
            ));
        }
    }
    Ok(MergedReport {
        sources,
        columns,
        workloads,
        notes,
    })
}

fn push_unique(v: &mut Vec<usize>, i: usize) {
    if !v.contains(&i) {
        v.push(i);
    }
}

/// The same run twice would give two identical columns that only look like a repetition.
fn refuse_repeated_runs(runs: &[(String, RunResults)]) -> Result<()> {
    for (j, (file_b, b)) in runs.iter().enumerate() {
        for (file_a, a) in &runs[..j] {
            let same_devices = a.devices.len() == b.devices.len()
                && a.devices
                    .iter()
                    .zip(&b.devices)
                    .all(|(x, y)| x.id == y.id && x.name == y.name && x.backend == y.backend);
            if a.host == b.host && a.started_at == b.started_at && same_devices {
                bail!(
                    "'{file_b}' holds the same run as '{file_a}' (host '{}', started at {}); pass each results file once",
                    b.host.hostname,
                    b.started_at
                );
            }
        }
    }
    Ok(())
}
