//! The serde types of results schema v1 (what a results file holds).

use std::collections::BTreeMap;

use anyhow::Result;
use serde::{Deserialize, Serialize};

/// Version of the results schema written by this build.
pub const SCHEMA_VERSION: u32 = 1;

/// A whole results file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResults {
    pub schema_version: u32,
    pub tool_version: String,
    /// RFC 3339 time the run started.
    pub started_at: String,
    pub host: Host,
    pub devices: Vec<DeviceRecord>,
    pub results: Vec<ResultRow>,
    /// True when the run was interrupted (Ctrl-C) and holds only the workloads finished so far.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
    /// Suite name and settings the run used, for readers of the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<RunSettings>,
}

/// How a run was configured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSettings {
    pub suite: String,
    pub threads: usize,
    pub max_time_per_workload_s: f64,
    pub target_rel_ci: f64,
}

/// Host fingerprint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Host {
    pub hostname: String,
    pub os: String,
    pub kernel: String,
    pub cpu_model: String,
    /// Physical cores.
    pub cores: usize,
    /// Hardware threads.
    pub threads: usize,
    pub memory_bytes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_commit: Option<String>,
    /// rustc version the binary was built with, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rustc: Option<String>,
}

/// `cpu` or `gpu`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum DeviceKind {
    Cpu,
    Gpu,
}

/// One measured device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceRecord {
    /// Identifier unique within the file: `cpu`, `gpu0`, `gpu1` ...
    pub id: String,
    pub kind: DeviceKind,
    pub name: String,
    /// `native` for the CPU; `vulkan`, `metal`, `dx12`, `gl` for GPUs.
    pub backend: String,
    pub driver: String,
    /// Device type as the driver reports it (`discrete`, `integrated`, `cpu` for software
    /// adapters such as lavapipe, ...). Software adapters must never be read as GPU speed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_gflops: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_gbps: Option<f64>,
    /// Where the peak figures came from, in words.
    pub peak_source: String,
}

/// Which clock timed the samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimerKind {
    Wall,
    GpuTimestamp,
}

/// Latency summary of one workload, nanoseconds per kernel invocation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct LatencyNs {
    pub min: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    pub mean: f64,
    pub stddev: f64,
}

/// Outcome of checking a backend's output against the reference.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Verified {
    pub ok: bool,
    /// NaN when the workload never ran; serde_json writes NaN as `null`, so read it back.
    #[serde(deserialize_with = "f64_or_null_as_nan")]
    pub max_abs_err: f64,
    pub tolerance: f64,
}

fn f64_or_null_as_nan<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// One workload measured on one device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultRow {
    /// `DeviceRecord::id` of the device that ran it.
    pub device: String,
    pub kernel: String,
    pub shape: BTreeMap<String, serde_json::Value>,
    pub dtype: String,
    pub flops: u64,
    pub bytes: u64,
    /// Number of recorded samples (each sample may batch several invocations).
    pub samples: u64,
    /// Kernel invocations per sample.
    #[serde(default = "one")]
    pub iters_per_sample: u64,
    pub timer: TimerKind,
    pub ns: LatencyNs,
    /// 95% confidence interval of the median, ns.
    pub ci95_ns: [f64; 2],
    /// Throughput at the median; 0 when verification failed.
    pub gflops: f64,
    pub gbps: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pct_peak_flops: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pct_peak_bw: Option<f64>,
    /// Tokens/s of the whole model. For `decode_token`: measured, 1 / p50. Files written
    /// before decode_token existed have it on `decode_step` rows as 1 / (p50 x layers), which
    /// leaves out the LM head; this build no longer writes it there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_per_s: Option<f64>,
    pub verified: Verified,
    /// Every sample, per-invocation ns, as a base64 HdrHistogram V2 (deflate) blob.
    pub histogram: String,
    /// Why the workload has no timing (verification failed, did not fit, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What a reader needs to read the row right (fields absent in older files).
    #[serde(flatten)]
    pub extra: RowExtra,
}

/// Optional facts about a row, written only when they apply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct RowExtra {
    /// How the row was verified or measured when that is not the obvious way (e.g. a whole
    /// model verified against the reference at a tiny shape), in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

fn one() -> u64 {
    1
}

impl ResultRow {
    /// Stable identity of the workload (kernel, shape, dtype), without the device.
    pub fn workload_label(&self) -> String {
        crate::workload::label_from_parts(&self.kernel, &self.shape, &self.dtype)
    }

    /// True when this row carries a trustworthy timing.
    pub fn is_valid(&self) -> bool {
        self.verified.ok && self.error.is_none() && self.samples > 0
    }

    /// Decode the stored histogram.
    pub fn decode_histogram(&self) -> Result<hdrhistogram::Histogram<u64>> {
        super::histogram::decode(&self.histogram)
    }
}

impl RunResults {
    /// Device record by id.
    pub fn device(&self, id: &str) -> Option<&DeviceRecord> {
        self.devices.iter().find(|d| d.id == id)
    }
}
