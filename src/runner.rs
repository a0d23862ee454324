//! `accelbench run` and `accelbench devices`: choose devices and workloads, verify each
//! workload against the reference, measure it, and hand the rows to the results file.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::backend::Backend;
use crate::backend::cpu::{self, CpuBackend};
use crate::backend::gpu::{self, GpuBackend};
use crate::measure::{self, Interrupted, MeasureConfig};
use crate::model::ModelShape;
use crate::reference;
use crate::results::{self, DeviceRecord, ResultRow, RunResults, RunSettings, Verified};
use crate::suite;
use crate::workload::{AttentionShape, Kernel, Workload};

/// Which devices to run on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceSelector {
    /// The CPU and every hardware GPU; software adapters are skipped (the default).
    Auto,
    Cpu,
    /// Every GPU adapter, software ones included.
    Gpu,
    /// The CPU and every GPU adapter.
    All,
    /// One device by number: 0 is the CPU, 1.. the GPU adapters in `devices` order.
    Index(usize),
}

impl DeviceSelector {
    /// Parse `cpu|gpu|all|N`.
    pub fn parse(s: Option<&str>) -> Result<Self> {
        Ok(match s {
            None => DeviceSelector::Auto,
            Some("cpu") => DeviceSelector::Cpu,
            Some("gpu") => DeviceSelector::Gpu,
            Some("all") => DeviceSelector::All,
            Some(other) => match other.parse::<usize>() {
                Ok(n) => DeviceSelector::Index(n),
                Err(_) => bail!(
                    "--device '{other}' is not valid; expected cpu, gpu, all or a device number from 'accelbench devices'"
                ),
            },
        })
    }
}

/// What `accelbench run` was asked to do.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub device: DeviceSelector,
    pub suite: String,
    pub kernels: Vec<String>,
    /// `KEY=VALUE,...` replacing the shape of the selected kernel's workloads.
    pub shape: Option<String>,
    pub threads: Option<usize>,
    pub max_time_per_workload_s: Option<f64>,
    pub target_rel_ci: f64,
    pub model: Option<String>,
    pub out: Option<PathBuf>,
    pub force: bool,
    pub json: bool,
}

/// How a run ended.
#[derive(Debug)]
pub struct RunOutcome {
    pub path: PathBuf,
    pub interrupted: bool,
    /// Rows that failed verification or could not run.
    pub failed: usize,
}

/// Check every option before any work is done; returns the workloads to run.
fn plan(opts: &RunOptions) -> Result<(suite::Suite, Vec<Workload>)> {
    let suite = suite::by_name(&opts.suite)?;
    for k in &opts.kernels {
        if !Workload::KERNEL_NAMES.contains(&k.as_str()) {
            bail!(
                "unknown kernel '{k}'; expected one of: {}",
                Workload::KERNEL_NAMES.join(", ")
            );
        }
    }
    if opts.threads == Some(0) {
        bail!("--threads must be at least 1, got 0");
    }
    if let Some(s) = opts.max_time_per_workload_s
        && !(s.is_finite() && s > 0.0)
    {
        bail!("--max-time-per-workload must be a positive number of seconds, got {s}");
    }
    if !(opts.target_rel_ci.is_finite() && opts.target_rel_ci > 0.0 && opts.target_rel_ci < 1.0) {
        bail!(
            "--target-ci must be a fraction between 0 and 1 (e.g. 0.02 for 2%), got {}",
            opts.target_rel_ci
        );
    }
    let model = match &opts.model {
        Some(name) => Some(ModelShape::by_name(name).with_context(|| {
            format!(
                "unknown model '{name}'; expected one of: {}",
                ModelShape::preset_names().join(", ")
            )
        })?),
        None => None,
    };

    let mut workloads: Vec<Workload> = suite
        .workloads
        .iter()
        .filter(|w| opts.kernels.is_empty() || opts.kernels.iter().any(|k| k == w.kernel_name()))
        .cloned()
        .collect();
    if let Some(model) = &model {
        for w in &mut workloads {
            if let Kernel::DecodeStep { model: m, .. } = &mut w.kernel {
                *m = model.clone();
            }
        }
        workloads.dedup();
    }
    if let Some(shape) = &opts.shape {
        workloads = apply_shape(&opts.kernels, shape, &workloads)?;
    }
    if workloads.is_empty() {
        bail!(
            "suite '{}' has no workload for kernel(s) {}",
            suite.name,
            opts.kernels.join(", ")
        );
    }
    let available = crate::env::available_memory_bytes();
    for w in &workloads {
        // Inputs, the reference's copy and the backend's buffers: about three footprints.
        let need = w.footprint_bytes().saturating_mul(3);
        if available > 0 && need > available {
            bail!(
                "workload '{}' needs about {:.1} GiB of memory but only {:.1} GiB is available; choose a smaller --shape",
                w.label(),
                need as f64 / (1u64 << 30) as f64,
                available as f64 / (1u64 << 30) as f64
            );
        }
    }
    Ok((suite, workloads))
}

/// Replace the selected kernel's workloads by one workload of the given shape.
fn apply_shape(kernels: &[String], spec: &str, workloads: &[Workload]) -> Result<Vec<Workload>> {
    let [kernel] = kernels else {
        bail!("--shape needs exactly one --kernel to apply to");
    };
    let mut vals = BTreeMap::new();
    for part in spec.split(',').filter(|p| !p.trim().is_empty()) {
        let Some((k, v)) = part.split_once('=') else {
            bail!("--shape '{spec}': '{part}' is not KEY=VALUE");
        };
        let n: u64 = v.trim().parse().ok().filter(|&n| n > 0).with_context(|| {
            format!("--shape '{spec}': '{k}' must be a positive integer, got '{v}'")
        })?;
        vals.insert(k.trim().to_string(), n);
    }
    let get = |key: &str| -> Result<u64> {
        vals.get(key)
            .copied()
            .with_context(|| format!("--shape '{spec}' for kernel '{kernel}' is missing '{key}'"))
    };
    let dtype = workloads
        .first()
        .map(|w| w.dtype)
        .unwrap_or(crate::workload::Dtype::F32);
    let k = match kernel.as_str() {
        "gemm" => Kernel::Gemm {
            m: get("m")?,
            n: get("n")?,
            k: get("k")?,
        },
        "gemv" => Kernel::Gemv {
            n: get("n")?,
            k: get("k")?,
        },
        "softmax" => Kernel::Softmax {
            rows: get("rows")?,
            cols: get("cols")?,
        },
        "rmsnorm" => Kernel::RmsNorm {
            rows: get("rows")?,
            cols: get("cols")?,
        },
        "decode_attention" => {
            let a = AttentionShape {
                context: get("context")?,
                q_heads: get("q_heads")?,
                kv_heads: get("kv_heads")?,
                head_dim: get("head_dim")?,
            };
            if !a.q_heads.is_multiple_of(a.kv_heads) {
                bail!("--shape '{spec}': q_heads must be a multiple of kv_heads");
            }
            Kernel::DecodeAttention(a)
        }
        "stream_triad" => Kernel::StreamTriad { n: get("n")? },
        "decode_step" => bail!("--shape does not apply to decode_step; use --model"),
        other => bail!("unknown kernel '{other}'"),
    };
    // Guard against overflow in the FLOP and byte counts of absurd shapes.
    let dims: Vec<u64> = vals.values().copied().collect();
    if dims
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d))
        .is_none()
    {
        bail!("--shape '{spec}' is too large to represent");
    }
    Ok(vec![Workload::new(k, dtype)])
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
pub fn execute(opts: &RunOptions, stdout: &mut dyn Write) -> Result<RunOutcome> {
    let (suite, workloads) = plan(opts)?;
    let host = crate::env::host();
    let out_path = opts
        .out
        .clone()
        .unwrap_or_else(|| default_out_path(&host.hostname));
    results::check_writable(&out_path, opts.force)?;

    let threads = opts.threads.unwrap_or(host.threads);
    let mut backends = open_backends(&opts.device, threads, &host.cpu_model)?;

    let interrupted = Arc::new(AtomicBool::new(false));
    {
        let flag = interrupted.clone();
        // A second registration (tests calling execute twice) fails harmlessly.
        let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
    }

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
            match measure_one(backend.as_mut(), &device_id, w, &cfg, &interrupted) {
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

fn open_backends(
    sel: &DeviceSelector,
    threads: usize,
    cpu_model: &str,
) -> Result<Vec<Box<dyn Backend>>> {
    let mut out: Vec<Box<dyn Backend>> = Vec::new();
    let want_cpu = matches!(
        sel,
        DeviceSelector::Auto | DeviceSelector::Cpu | DeviceSelector::All | DeviceSelector::Index(0)
    );
    if want_cpu {
        out.push(Box::new(CpuBackend::new(threads, cpu_model.to_string())?));
    }
    if *sel == DeviceSelector::Cpu || *sel == DeviceSelector::Index(0) {
        return Ok(out);
    }
    let adapters = gpu::enumerate();
    let chosen: Vec<&gpu::AdapterInfo> = match sel {
        DeviceSelector::Index(n) => {
            let a = adapters.get(n - 1).with_context(|| {
                format!(
                    "--device {n}: there is no such device; 'accelbench devices' lists 0 (the CPU) to {}",
                    adapters.len()
                )
            })?;
            vec![a]
        }
        DeviceSelector::Auto => {
            for a in adapters.iter().filter(|a| a.software) {
                eprintln!(
                    "note: skipping software adapter '{}' ({}); its timings are CPU emulation, not GPU speed. Ask for it with --device gpu or --device {}",
                    a.name,
                    a.backend,
                    a.index + 1
                );
            }
            adapters.iter().filter(|a| !a.software).collect()
        }
        _ => adapters.iter().collect(),
    };
    if adapters.is_empty() {
        if *sel == DeviceSelector::Gpu {
            bail!(
                "no GPU adapter found (wgpu saw no Vulkan, Metal, DX12 or GL device); run with --device cpu"
            );
        }
        eprintln!("note: no GPU adapter found; measuring the CPU only");
    }
    for a in chosen {
        match GpuBackend::open(a.index) {
            Ok(b) => out.push(Box::new(b)),
            Err(e) => {
                if matches!(sel, DeviceSelector::Index(_)) {
                    return Err(e.context(format!("could not open GPU adapter '{}'", a.name)));
                }
                eprintln!("warning: could not open GPU adapter '{}': {e:#}", a.name);
            }
        }
    }
    if out.is_empty() {
        bail!("no device could be opened");
    }
    Ok(out)
}

/// Verify, then measure one workload. Failures of the workload itself become a row with an
/// error; only an interrupt is returned as an error.
fn measure_one(
    backend: &mut dyn Backend,
    device_id: &str,
    w: &Workload,
    cfg: &MeasureConfig,
    interrupted: &AtomicBool,
) -> Result<ResultRow> {
    let inputs = reference::inputs(w);
    let mut row = empty_row(device_id, w);
    let mut prepared = match backend.prepare(w, &inputs) {
        Ok(p) => p,
        Err(e) => {
            row.error = Some(format!("could not prepare: {e:#}"));
            return Ok(row);
        }
    };
    row.timer = prepared.timer();
    let output = match prepared.run_and_read() {
        Ok(o) => o,
        Err(e) => {
            row.error = Some(format!("could not run: {e:#}"));
            return Ok(row);
        }
    };
    row.verified = reference::check(w, &inputs, &output);
    drop(output);
    drop(inputs);
    if !row.verified.ok {
        row.error = Some(format!(
            "verification failed: max abs error {:.3e} exceeds tolerance {:.3e}",
            row.verified.max_abs_err, row.verified.tolerance
        ));
        return Ok(row);
    }
    let samples = match measure::until_stable(cfg, interrupted, |iters| prepared.time(iters)) {
        Ok(s) => s,
        Err(e) if e.is::<Interrupted>() => return Err(e),
        Err(e) => {
            row.error = Some(format!("failed while timing: {e:#}"));
            row.verified.ok = false;
            return Ok(row);
        }
    };
    drop(prepared);
    let (ns, ci) = measure::summarize(&samples.per_invocation_ns);
    row.samples = samples.per_invocation_ns.len() as u64;
    row.iters_per_sample = samples.iters_per_sample;
    row.ns = ns;
    row.ci95_ns = ci;
    row.gflops = w.flops() as f64 / ns.p50;
    row.gbps = w.bytes() as f64 / ns.p50;
    if let Kernel::DecodeStep { model, .. } = &w.kernel {
        row.tokens_per_s = Some(1e9 / (ns.p50 * model.layers as f64));
    }
    row.histogram = measure::encode_histogram(&samples.per_invocation_ns)?;
    Ok(row)
}

fn empty_row(device_id: &str, w: &Workload) -> ResultRow {
    ResultRow {
        device: device_id.to_string(),
        kernel: w.kernel_name().to_string(),
        shape: w.shape_map(),
        dtype: w.dtype.name().to_string(),
        flops: w.flops(),
        bytes: w.bytes(),
        samples: 0,
        iters_per_sample: 1,
        timer: crate::results::TimerKind::Wall,
        ns: Default::default(),
        ci95_ns: [0.0, 0.0],
        gflops: 0.0,
        gbps: 0.0,
        pct_peak_flops: None,
        pct_peak_bw: None,
        tokens_per_s: None,
        verified: Verified {
            ok: false,
            max_abs_err: f64::NAN,
            tolerance: 0.0,
        },
        histogram: String::new(),
        error: None,
    }
}

/// Fill each device's measured bandwidth peak (from its STREAM triad row when the backend did
/// not supply one) and every row's % of peak.
fn fill_peaks(run: &mut RunResults) {
    for dev in &mut run.devices {
        let best = run
            .results
            .iter()
            .filter(|r| r.device == dev.id && r.kernel == "stream_triad" && r.is_valid())
            .map(|r| r.gbps)
            .fold(0.0, f64::max);
        // The bandwidth peak is the best bandwidth measured on the device: the backend's own
        // probe (a copy kernel on GPUs) or this run's STREAM triad, whichever is higher.
        match dev.peak_gbps {
            None if best > 0.0 => {
                dev.peak_gbps = Some(best);
                dev.peak_source
                    .push_str("; bandwidth: measured STREAM triad in this run");
            }
            Some(probe) if best > probe => {
                dev.peak_gbps = Some(best);
                dev.peak_source.push_str(&format!(
                    "; bandwidth raised to this run's STREAM triad, {best:.0} GB/s (the probe gave {probe:.0} GB/s)"
                ));
            }
            _ => {}
        }
    }
    let devices: Vec<DeviceRecord> = run.devices.clone();
    for row in &mut run.results {
        if !row.is_valid() {
            continue;
        }
        if let Some(d) = devices.iter().find(|d| d.id == row.device) {
            row.pct_peak_flops = d.peak_gflops.map(|p| 100.0 * row.gflops / p);
            row.pct_peak_bw = d.peak_gbps.map(|p| 100.0 * row.gbps / p);
        }
    }
}

/// Human table of a run.
pub fn write_table(run: &RunResults, out: &mut dyn Write) -> Result<()> {
    writeln!(
        out,
        "{:<6} {:<58} {:>11} {:>11} {:>7} {:>9} {:>8} {:>7} {:>7}  verified",
        "device", "workload", "p50", "p99", "±ci", "GFLOP/s", "GB/s", "%flops", "%bw"
    )?;
    for r in &run.results {
        let label = r.workload_label();
        if !r.is_valid() {
            writeln!(
                out,
                "{:<6} {:<58} {:>11} {:>11} {:>7} {:>9} {:>8} {:>7} {:>7}  FAILED: {}",
                r.device,
                label,
                "-",
                "-",
                "-",
                "-",
                "-",
                "-",
                "-",
                r.error.as_deref().unwrap_or("verification failed")
            )?;
            continue;
        }
        let ci = 100.0 * (r.ci95_ns[1] - r.ci95_ns[0]) / r.ns.p50 / 2.0;
        let pct = |p: Option<f64>| p.map(|v| format!("{v:.1}")).unwrap_or_else(|| "-".into());
        let mut extra = String::new();
        if let Some(t) = r.tokens_per_s {
            extra = format!(" ({t:.2} tok/s full model)");
        }
        writeln!(
            out,
            "{:<6} {:<58} {:>11} {:>11} {:>6.1}% {:>9.1} {:>8.1} {:>7} {:>7}  ok (err {:.1e}){extra}",
            r.device,
            label,
            format_ns(r.ns.p50),
            format_ns(r.ns.p99),
            ci,
            r.gflops,
            r.gbps,
            pct(r.pct_peak_flops),
            pct(r.pct_peak_bw),
            r.verified.max_abs_err,
        )?;
    }
    Ok(())
}

/// `1.23 ms`, `456.7 µs`, ...
pub fn format_ns(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.3} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.3} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// What `accelbench devices --json` prints.
#[derive(Debug, serde::Serialize)]
struct DevicesReport {
    cpu: CpuReport,
    gpus: Vec<gpu::AdapterInfo>,
}

#[derive(Debug, serde::Serialize)]
struct CpuReport {
    index: usize,
    model: String,
    cores: usize,
    threads: usize,
    memory_bytes: u64,
    simd: Vec<&'static str>,
    peak_gflops_estimate: Option<f64>,
    peak_source: String,
}

/// `accelbench devices`.
pub fn devices(json: bool, out: &mut dyn Write) -> Result<()> {
    let host = crate::env::host();
    let (peak, how) = cpu::estimated_peak_gflops(host.threads);
    let report = DevicesReport {
        cpu: CpuReport {
            index: 0,
            model: host.cpu_model.clone(),
            cores: host.cores,
            threads: host.threads,
            memory_bytes: host.memory_bytes,
            simd: cpu::simd_features(),
            peak_gflops_estimate: peak,
            peak_source: how,
        },
        gpus: gpu::enumerate(),
    };
    if json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
        return Ok(());
    }
    let c = &report.cpu;
    writeln!(out, "0  cpu  {}", c.model)?;
    writeln!(
        out,
        "         {} cores, {} threads, {:.1} GiB memory",
        c.cores,
        c.threads,
        c.memory_bytes as f64 / (1u64 << 30) as f64
    )?;
    writeln!(out, "         SIMD: {}", c.simd.join(" "))?;
    match c.peak_gflops_estimate {
        Some(p) => writeln!(out, "         peak f32: {p:.0} GFLOP/s ({})", c.peak_source)?,
        None => writeln!(out, "         peak f32: unknown ({})", c.peak_source)?,
    }
    if report.gpus.is_empty() {
        writeln!(out, "(no GPU adapter found)")?;
    }
    for g in &report.gpus {
        writeln!(
            out,
            "{}  gpu  {} [{}, {}{}]",
            g.index + 1,
            g.name,
            g.backend,
            g.device_type,
            if g.software {
                ", software: timings are not GPU speed"
            } else {
                ""
            }
        )?;
        writeln!(out, "         driver: {}", g.driver)?;
        writeln!(out, "         features: {}", g.features.join(" "))?;
        if let Some((lo, hi)) = g.subgroup_sizes {
            writeln!(out, "         subgroup size: {lo}..{hi}")?;
        }
        writeln!(
            out,
            "         max storage binding: {:.0} MiB, max buffer: {:.0} MiB",
            g.max_storage_buffer_binding_size as f64 / (1u64 << 20) as f64,
            g.max_buffer_size as f64 / (1u64 << 20) as f64
        )?;
    }
    Ok(())
}

/// Used by tests and by `cost` to find the newest results file in a directory.
pub fn newest_results_file(dir: &Path) -> Option<PathBuf> {
    let entries = std::fs::read_dir(dir).ok()?;
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter_map(|p| Some((std::fs::metadata(&p).ok()?.modified().ok()?, p)))
        .collect();
    files.sort_by(|a, b| b.cmp(a));
    // Other JSON may sit beside results files (a vendor baseline, a report): skip files that
    // are not accelbench results, i.e. have no top-level `schema_version`.
    files.into_iter().map(|(_, p)| p).find(|p| {
        std::fs::read_to_string(p)
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .is_some_and(|v| v.get("schema_version").is_some())
    })
}
