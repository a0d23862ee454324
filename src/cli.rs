//! Command-line definitions (clap) only. Nothing else in the crate imports this module.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::compare::CompareFormat;
use crate::cost::{CostFormat, Precision, Scenario};
use crate::report::ReportFormat;
use crate::run::DeviceSelector;
use crate::suite::SuiteName;
use crate::workload::KernelName;

/// Measure LLM inference kernels on this machine's CPU and GPUs, and price tokens against
/// cloud GPUs and custom silicon.
#[derive(Debug, Parser)]
#[command(name = "accelbench", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the devices accelbench can measure (the CPU and every wgpu adapter).
    Devices(DevicesArgs),
    /// Measure a suite of kernels, verify each against the reference, write a results file.
    Run(RunArgs),
    /// Render one or many results files as a table or a report.
    Report(ReportArgs),
    /// Price tokens: $ per 1M tokens, measured (local devices) and projected (cloud).
    Cost(CostArgs),
    /// Compare two results files; exit code 1 if the candidate regressed.
    Compare(CompareArgs),
}

#[derive(Debug, Args)]
pub struct DevicesArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Which devices: `cpu`, `gpu` (every GPU adapter, software ones included), `all` (the CPU
    /// and every GPU adapter), or a device number from `accelbench devices`. Default: the CPU
    /// and every hardware GPU (software adapters such as lavapipe only when asked for).
    #[arg(long, value_name = "cpu|gpu|all|N", value_parser = DeviceSelector::parse_arg)]
    pub device: Option<DeviceSelector>,
    /// Suite to run.
    #[arg(long, value_enum, default_value = "standard")]
    pub suite: SuiteName,
    /// Only run these kernels (repeatable).
    #[arg(long = "kernel", value_enum, value_name = "NAME")]
    pub kernels: Vec<KernelName>,
    /// Replace the shape of the one --kernel given, e.g. `--kernel gemm --shape m=4096,n=4096,k=4096`.
    #[arg(long, value_name = "KEY=VALUE,...")]
    pub shape: Option<String>,
    /// Worker threads for CPU kernels (default: all hardware threads).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Cap on measuring time per workload, seconds (default depends on the suite).
    #[arg(long, value_name = "SECS")]
    pub max_time_per_workload: Option<f64>,
    /// Stop sampling when the 95% CI of the median is narrower than this fraction of it.
    #[arg(long, default_value_t = 0.02, value_name = "FRACTION")]
    pub target_ci: f64,
    /// Model preset for the decode_step and decode_token workloads (overrides the suite's;
    /// `tiny` is a three-layer test model).
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,
    /// Only run workloads of this dtype.
    #[arg(long, value_enum, value_name = "f32|f16")]
    pub dtype: Option<crate::workload::Dtype>,
    /// Results file to write (default: results/<host>-<timestamp>.json).
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// Measure each workload with the backend's default kernel, without timing its other
    /// kernel choices first (GPUs: cooperative-matrix GEMM variants, the fused decode layer,
    /// the grouped attention kernel).
    #[arg(long)]
    pub no_tune: bool,
    /// Overwrite --out if it exists.
    #[arg(long)]
    pub force: bool,
    /// Print the results JSON on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Results files to merge.
    #[arg(required = true, value_name = "RUN.json")]
    pub files: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "md")]
    pub format: ReportFormat,
    /// Rows are devices and columns workloads instead of the reverse.
    #[arg(long)]
    pub transpose: bool,
    /// Write here instead of stdout.
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// Overwrite --out if it exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct CostArgs {
    /// Results files with measured local devices (default: the newest in results/).
    #[arg(value_name = "RUN.json")]
    pub files: Vec<PathBuf>,
    /// Model preset.
    #[arg(long, default_value = "llama-3.1-8b")]
    pub model: String,
    /// offline: sustained throughput with continuous batching; latency: one static batch
    /// (1 by default), time per output token.
    #[arg(long, value_enum, default_value = "offline")]
    pub scenario: Scenario,
    /// Concurrent sequences on the instance (default: offline takes the largest batch that
    /// fits, up to the pricing table's max_batch per model replica; latency takes 1).
    #[arg(long)]
    pub batch: Option<u64>,
    #[arg(long, default_value_t = 512)]
    pub prompt_tokens: u64,
    #[arg(long, default_value_t = 256)]
    pub output_tokens: u64,
    #[arg(long, value_enum, default_value = "bf16")]
    pub precision: Precision,
    /// TOML file that adds or overrides pricing entries.
    #[arg(long, value_name = "FILE")]
    pub pricing: Option<PathBuf>,
    /// TOML file of extra published measurements, appended to the embedded dataset; the
    /// model is refitted with them.
    #[arg(long, value_name = "FILE")]
    pub dataset: Option<PathBuf>,
    /// Price only this instance (as its provider names it, e.g. p5.48xlarge).
    #[arg(long, value_name = "NAME")]
    pub instance: Option<String>,
    /// Price per hour of the local devices, USD.
    #[arg(long, value_name = "USD")]
    pub price_per_hour: Option<f64>,
    /// Opt-in: use the GEMM and GEMV efficiencies measured in this results file for the
    /// accelerator family named by --family (instead of its fitted ones).
    #[arg(long, value_name = "RUN.json", requires = "family")]
    pub efficiency_from: Option<PathBuf>,
    /// Accelerator id (as in --list) that --efficiency-from applies to.
    #[arg(long, value_name = "ID", requires = "efficiency_from")]
    pub family: Option<String>,
    /// Show the pricing table with dates and sources, and exit.
    #[arg(long)]
    pub list: bool,
    /// Print every published case beside its projection (in-sample and leave-one-out) and
    /// the model's errors, and exit.
    #[arg(long, conflicts_with_all = ["list", "calibrate"])]
    pub validate: bool,
    /// Fit the model to the dataset and print the fitted table (src/cost/fitted.toml), and exit.
    #[arg(long, conflicts_with = "list")]
    pub calibrate: bool,
    #[arg(long, value_enum, default_value = "table")]
    pub format: CostFormat,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Baseline results file, or a directory of replicate runs (every *.json in it).
    #[arg(value_name = "BASELINE.json")]
    pub baseline: PathBuf,
    /// Candidate results file, or a directory of replicate runs.
    #[arg(value_name = "CANDIDATE.json")]
    pub candidate: PathBuf,
    /// Noise threshold, percent: smaller changes are never flagged.
    #[arg(long, default_value_t = 5.0, value_name = "PCT")]
    pub threshold: f64,
    #[arg(long, value_enum, default_value = "table")]
    pub format: CompareFormat,
}
