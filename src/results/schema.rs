//! The serde types of the results schema (what a results file holds).
//!
//! Version 2 (this build): each device records a specification and a measured peak for FLOP/s
//! and bandwidth, each with its source (`peaks`), and `peak_gflops` / `peak_gbps` are the higher
//! of the two (in version 1 they were an estimate and the run's best measured bandwidth); rows
//! record their working set and whether it fits in the device's cache (`in_cache`, no
//! bandwidth percentage then). Version 1 files still load: the new fields are absent.

use std::collections::BTreeMap;

use anyhow::Result;
use serde::{Deserialize, Serialize};

/// Version of the results schema written by this build.
pub const SCHEMA_VERSION: u32 = 2;

/// Versions this build reads (older ones lack the fields added since).
pub const READABLE_SCHEMA_VERSIONS: &[u32] = &[1, 2];

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
    /// Whether kernel choices were timed against each other (`run --no-tune` turns it off);
    /// absent in files from before the option.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tune: Option<bool>,
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
    /// Schema 2: both peaks of each kind with their sources, and the cache size that decides
    /// which rows are `in_cache`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peaks: Option<DevicePeaks>,
    /// GPUs: the cooperative-matrix (tensor core) configurations the adapter lists, as
    /// `MxNxK ab->cr`; empty where it has none (or the file predates the field).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cooperative_matrix: Vec<String>,
    /// GPUs: the copy kernel's bandwidth measured again after the device's last workload.
    /// Beside `peaks.gbps.measured` (taken before the first) it shows whether the device's
    /// state changed during the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy_gbps_after: Option<PeakFigure>,
    /// GPUs: nanoseconds one dependent dispatch takes (a chain of near-empty kernels, each
    /// waiting for the one before it). A row of `extra.dispatches` dependent dispatches cannot
    /// run faster than that many times this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispatch_ns: Option<PeakFigure>,
}

/// One peak figure and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeakFigure {
    pub value: f64,
    pub source: String,
}

/// A specification (datasheet or derived from one) and a measured peak, either may be unknown
/// (then `*_unknown` says why).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct PeakPair {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<PeakFigure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measured: Option<PeakFigure>,
    /// Why a missing figure is missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl PeakPair {
    /// The higher of the two figures: what a row's percentage is taken against.
    pub fn best(&self) -> Option<f64> {
        [&self.spec, &self.measured]
            .into_iter()
            .flatten()
            .map(|f| f.value)
            .filter(|v| v.is_finite() && *v > 0.0)
            .reduce(f64::max)
    }
}

/// Both peaks of each kind, and the cache that decides `in_cache`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DevicePeaks {
    /// f32 GFLOP/s.
    pub gflops: PeakPair,
    /// Memory bandwidth, GB/s.
    pub gbps: PeakPair,
    /// Dense f16 tensor-core GFLOP/s (datasheet), for GPUs that have one: f16 GEMM rows are
    /// read against it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub f16_tensor: Option<PeakFigure>,
    /// Last-level cache (CPU) or L2 (GPU), bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_bytes: Option<u64>,
    pub cache_source: String,
}

/// `peaks` in words, for `peak_source`: each figure with its source, and the cache.
pub fn describe_peaks(p: &DevicePeaks) -> String {
    let pair = |what: &str, unit: &str, pair: &PeakPair| {
        let fig = |kind: &str, f: &Option<PeakFigure>| match f {
            Some(f) => format!("{kind} {:.1} {unit} ({})", f.value, f.source),
            None => format!("{kind} unknown"),
        };
        let mut s = format!(
            "{what}: {}; {}",
            fig("spec", &pair.spec),
            fig("measured", &pair.measured)
        );
        if let Some(n) = &pair.note {
            s.push_str(&format!(" [{n}]"));
        }
        s
    };
    let cache = match p.cache_bytes {
        Some(b) => format!("cache {} MiB ({})", b >> 20, p.cache_source),
        None => format!("cache unknown ({})", p.cache_source),
    };
    let tensor = match &p.f16_tensor {
        Some(f) => format!(
            " | f16 tensor: spec {:.1} GFLOP/s ({}), f16 GEMM rows against it",
            f.value, f.source
        ),
        None => String::new(),
    };
    format!(
        "{} | {} | % of peak against the higher of each pair{tensor} | {cache}",
        pair("FLOP/s", "GFLOP/s", &p.gflops),
        pair("bandwidth", "GB/s", &p.gbps)
    )
}

/// The in-cache rule: a working set that fits in the cache (equal counts as fitting) may be
/// served from it, so its bandwidth is not memory's.
pub fn fits_in_cache(working_set_bytes: u64, cache_bytes: u64) -> bool {
    working_set_bytes <= cache_bytes
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
    /// Schema 2: bytes the timed invocations touch in turn (all rotated copies), inputs,
    /// weights and outputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_set_bytes: Option<u64>,
    /// Schema 2: the working set fits in the device's cache ([`fits_in_cache`]); such a row
    /// has no bandwidth percentage (it is not a memory figure).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub in_cache: bool,
    /// Which kernel ran, when a backend has several for the workload (e.g. `gemm_f16_coop_k64`
    /// on cooperative matrices or the `gemm_f16_tiled` fallback); several `+`-joined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel_variant: Option<String>,
    /// GPUs: dispatches one timed invocation records (for `decode_step`, one layer's); each
    /// waits for the one before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispatches: Option<u64>,
    /// The kernel choices timed against each other for this row, when the backend had
    /// several (`run/tune.rs`), and which one the row measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tuning: Option<Tuning>,
    /// The device's clocks, power, temperature and clock-limiting reasons while the row was
    /// timed (NVIDIA GPUs with `nvidia-smi`; see [`crate::telemetry`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_state: Option<crate::telemetry::DeviceState>,
    /// Samples far from the rest ([`crate::measure::outliers`]), when there were any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outliers: Option<crate::measure::Outliers>,
}

/// Kernel choices timed briefly against each other before a row was measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tuning {
    /// The choice this row measured: the fastest that verified (the first, the default,
    /// when none did).
    pub chosen: String,
    /// The workload the choices were timed on: the row's own, or for a whole-model decode its
    /// decode step (the same layer, one copy of it).
    pub timed_on: String,
    /// Each trial's measuring time cap, seconds.
    pub trial_s: f64,
    pub trials: Vec<TuningTrial>,
}

/// One choice's brief measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TuningTrial {
    pub choice: String,
    /// Median nanoseconds per invocation, when it verified and ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50_ns: Option<f64>,
    /// Why it has no time (failed verification, could not run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn one() -> u64 {
    1
}

impl RowExtra {
    /// Append `n` to the row's note (`; `-separated).
    pub fn add_note(&mut self, n: String) {
        self.note = Some(match self.note.take() {
            Some(old) => format!("{old}; {n}"),
            None => n,
        });
    }
}

impl DeviceRecord {
    /// A GPU adapter whose driver reports it as a CPU (lavapipe, llvmpipe): CPU work, never to
    /// be read as GPU speed.
    pub fn is_software_adapter(&self) -> bool {
        self.kind == DeviceKind::Gpu
            && self
                .device_type
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case("cpu"))
    }
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
