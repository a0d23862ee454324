//! Devices: `--device` selection, opening the backends, and the `devices` command.

use std::io::Write;

use anyhow::{Context, Result, bail};

use crate::backend::Backend;
use crate::backend::cpu::{self, CpuBackend};
use crate::backend::gpu::{self, GpuBackend};

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

/// The named choices of `--device` (a device number is the other form).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DeviceName {
    Cpu,
    Gpu,
    All,
}

impl DeviceSelector {
    /// `--device`'s value parser: `cpu`, `gpu`, `all`, or a device number from `devices`.
    pub fn parse_arg(s: &str) -> std::result::Result<Self, String> {
        use clap::ValueEnum;
        if let Ok(name) = DeviceName::from_str(s, false) {
            return Ok(match name {
                DeviceName::Cpu => DeviceSelector::Cpu,
                DeviceName::Gpu => DeviceSelector::Gpu,
                DeviceName::All => DeviceSelector::All,
            });
        }
        s.parse::<usize>().map(DeviceSelector::Index).map_err(|_| {
            "expected cpu, gpu, all or a device number from 'accelbench devices'".to_string()
        })
    }
}

pub(super) fn open_backends(
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

/// What `accelbench devices --json` prints.
#[derive(Debug, serde::Serialize)]
pub(super) struct DevicesReport {
    pub(super) cpu: CpuReport,
    pub(super) gpus: Vec<gpu::AdapterInfo>,
}

#[derive(Debug, serde::Serialize)]
pub(super) struct CpuReport {
    pub(super) index: usize,
    pub(super) model: String,
    pub(super) cores: usize,
    pub(super) threads: usize,
    pub(super) memory_bytes: u64,
    pub(super) simd: Vec<&'static str>,
    pub(super) peak_gflops_estimate: Option<f64>,
    pub(super) peak_source: String,
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
        Some(p) => writeln!(
            out,
            "         peak f32 (specification; `run` also measures it): {p:.0} GFLOP/s ({})",
            c.peak_source
        )?,
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
        if !g.cooperative_matrix.is_empty() {
            writeln!(
                out,
                "         cooperative matrices (tensor cores): {}",
                g.cooperative_matrix.join(", ")
            )?;
        }
        if let Some(src) = &g.state_source {
            writeln!(out, "         clocks while timing: {src}")?;
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
