//! `accelbench run` and `accelbench devices`: choose devices and workloads, verify each
//! workload against the reference, measure it, and hand the rows to the results file.
//!
//! Layout: `plan` checks the options, `devices` selects and opens backends (and lists them),
//! `verify` runs one workload, `peaks` fills % of peak, `table` prints the run; this file holds
//! the run loop.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Result, bail};

mod devices;
mod peaks;
mod plan;
mod state;
mod table;
mod tune;
mod verify;

pub use devices::{DeviceSelector, devices};
pub use state::{
    PROBE_DRIFT, dispatch_summaries, outlier_warnings, state_summaries, state_warnings,
};
pub use table::write_table;

use devices::open_backends;
use peaks::fill_peaks;
use plan::plan;
use tune::Tuner;

use crate::backend::Backend;
use crate::measure::{Interrupted, MeasureConfig};
use crate::results::{self, RunResults, RunSettings};
use crate::suite::SuiteName;
use crate::workload::KernelName;

/// What `accelbench run` was asked to do.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub device: DeviceSelector,
    pub suite: SuiteName,
    pub kernels: Vec<KernelName>,
    /// `KEY=VALUE,...` replacing the shape of the selected kernel's workloads.
    pub shape: Option<String>,
    pub threads: Option<usize>,
    pub max_time_per_workload_s: Option<f64>,
    pub target_rel_ci: f64,
    pub model: Option<String>,
    /// Only workloads of this dtype.
    pub dtype: Option<crate::workload::Dtype>,
    pub out: Option<PathBuf>,
    pub force: bool,
    pub json: bool,
    /// Time a backend's kernel choices for a workload against each other and measure the
    /// fastest (`run/tune.rs`); `--no-tune` turns it off.
    pub tune: bool,
}

/// How a run ended.
#[derive(Debug)]
pub struct RunOutcome {
    pub path: PathBuf,
    pub interrupted: bool,
    /// Rows that failed verification or could not run.
    pub failed: usize,
}

/// Where a run gets its devices.
pub trait OpenBackends {
    /// The backends `sel` asks for, CPU first, with `threads` CPU threads.
    fn open(
        &self,
        sel: &DeviceSelector,
        threads: usize,
        cpu_model: &str,
    ) -> Result<Vec<Box<dyn Backend>>>;
}

/// This machine's CPU and GPU adapters.
pub struct SystemBackends;

impl OpenBackends for SystemBackends {
    fn open(
        &self,
        sel: &DeviceSelector,
        threads: usize,
        cpu_model: &str,
    ) -> Result<Vec<Box<dyn Backend>>> {
        open_backends(sel, threads, cpu_model)
    }
}

/// A flag that Ctrl-C sets, for [`execute`]. Call once per process: a second registration
/// fails harmlessly, and its flag is then never set.
pub fn ctrl_c_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let f = flag.clone();
    let _ = ctrlc::set_handler(move || f.store(true, Ordering::SeqCst));
    flag
}

/// Default results path: `results/<host>-<timestamp>.json`.
pub fn default_out_path(hostname: &str) -> PathBuf {
    let host: String = hostname
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let ts = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    PathBuf::from("results").join(format!("{host}-{ts}.json"))
}

/// Run the benchmark. `stdout` gets the table (or JSON); notes and progress go to stderr.
///
/// `backends` opens the devices (after the options are checked): [`SystemBackends`] for this
/// machine's CPU and GPUs, a fake in tests. `interrupted` is polled between samples and
/// workloads; when it is set the run stops and keeps what it measured in a partial file
/// ([`ctrl_c_flag`] sets it on Ctrl-C).
pub fn execute(
    opts: &RunOptions,
    backends: &dyn OpenBackends,
    interrupted: &AtomicBool,
    stdout: &mut dyn Write,
) -> Result<RunOutcome> {
    let (suite, workloads) = plan(opts)?;
    let host = crate::env::host();
    let out_path = opts
        .out
        .clone()
        .unwrap_or_else(|| default_out_path(&host.hostname));
    results::check_writable(&out_path, opts.force)?;

    let threads = opts.threads.unwrap_or(host.threads);
    let mut backends = backends.open(&opts.device, threads, &host.cpu_model)?;

    let max_time = opts
        .max_time_per_workload_s
        .unwrap_or(suite.default_max_time_s);
    let cfg = MeasureConfig {
        target_rel_ci: opts.target_rel_ci,
        max_time: Duration::from_secs_f64(max_time),
        warmup: Duration::from_secs_f64((max_time / 10.0).min(0.2)),
        ..MeasureConfig::default()
    };

    let mut run = RunResults {
        schema_version: results::SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        started_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        host,
        devices: Vec::new(),
        results: Vec::new(),
        partial: false,
        settings: Some(RunSettings {
            suite: suite.name.to_string(),
            threads,
            max_time_per_workload_s: max_time,
            target_rel_ci: opts.target_rel_ci,
            tune: Some(opts.tune),
        }),
    };

    let total: usize = backends
        .iter()
        .map(|b| {
            workloads
                .iter()
                .filter(|w| b.unsupported(w).is_none())
                .count()
        })
        .sum();
    let progress = indicatif::ProgressBar::with_draw_target(
        Some(total as u64),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed} {wide_msg}")
    {
        progress.set_style(style);
    }

    let mut tuner = Tuner::new(opts.tune);
    let mut was_interrupted = false;
    let mut skipped: Vec<String> = Vec::new();
    'devices: for backend in backends.iter_mut() {
        let record = backend.record();
        let device_id = record.id.clone();
        run.devices.push(record);
        backend.warm_up();
        for w in &workloads {
            if let Some(why) = backend.unsupported(w) {
                progress
                    .suspend(|| eprintln!("note: skipping {} on {device_id}: {why}", w.label()));
                skipped.push(format!("{} on {device_id}: {why}", w.label()));
                continue;
            }
            progress.set_message(format!("{device_id}: {}", w.label()));
            match tuner.measure(backend.as_mut(), &device_id, w, &cfg, interrupted) {
                Ok(row) => {
                    if let Some(e) = &row.error {
                        progress
                            .suspend(|| eprintln!("warning: {} on {device_id}: {e}", w.label()));
                    }
                    run.results.push(row);
                }
                Err(e) if e.is::<Interrupted>() => {
                    was_interrupted = true;
                    break 'devices;
                }
                Err(e) => return Err(e),
            }
            progress.inc(1);
            if interrupted.load(Ordering::SeqCst) {
                was_interrupted = true;
                break 'devices;
            }
        }
        progress.set_message(format!("{device_id}: bandwidth probe again"));
        let after = backend.bandwidth_after();
        if let Some(d) = run.devices.last_mut() {
            d.copy_gbps_after = after;
        }
    }
    progress.finish_and_clear();
    drop(backends);

    // Exit code 2 (an error) only when nothing at all could run; otherwise the failed and
    // skipped workloads are reported beside the ones that ran.
    if !was_interrupted && !run.results.iter().any(|r| r.is_valid()) {
        let mut reasons: Vec<String> = run
            .results
            .iter()
            .map(|r| {
                format!(
                    "{} on {}: {}",
                    r.workload_label(),
                    r.device,
                    r.error.as_deref().unwrap_or("failed")
                )
            })
            .collect();
        reasons.extend(skipped);
        let first = reasons
            .first()
            .cloned()
            .unwrap_or_else(|| "no workloads".into());
        bail!(
            "nothing could run ({} workload(s) skipped or failed; first: {first}); no results file written",
            reasons.len()
        );
    }

    fill_peaks(&mut run);
    run.partial = was_interrupted;
    results::save(&run, &out_path, opts.force)?;
    if opts.json {
        stdout.write_all(results::to_json(&run)?.as_bytes())?;
    } else {
        write_table(&run, stdout)?;
    }
    for n in dispatch_summaries(&run)
        .into_iter()
        .chain(state_summaries(&run))
    {
        eprintln!("note: {n}");
    }
    for w in state_warnings(&run)
        .into_iter()
        .chain(outlier_warnings(&run))
    {
        eprintln!("warning: {w}");
    }
    let failed = run.results.iter().filter(|r| !r.is_valid()).count();
    if was_interrupted {
        eprintln!(
            "interrupted: kept the {} workloads measured so far in '{}' (marked partial)",
            run.results.len(),
            out_path.display()
        );
    } else {
        eprintln!("wrote '{}'", out_path.display());
    }
    if failed > 0 {
        eprintln!(
            "warning: {failed} workload(s) failed verification or could not run; they have no timing"
        );
    }
    Ok(RunOutcome {
        path: out_path,
        interrupted: was_interrupted,
        failed,
    })
}
