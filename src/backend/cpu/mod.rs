//! CPU backend: GEMM through the `gemm` crate (runtime SIMD dispatch; f32, and f16 with f32
//! accumulation), the other kernels hand-written, vectorisable and threaded across `threads`
//! workers. f16 runs for GEMM, GEMV, decode attention, the decode step and the whole-model
//! decode (`decode_token`); the measured peaks come from `probes`.
//!
//! Threads: every backend owns one rayon pool of exactly `threads` workers, built once; each
//! kernel call runs inside it (`ThreadPool::install`), so `--threads N` means N busy cores.
//!
//! SIMD: the hand-written kernels are plain chunked loops over fixed-size lane arrays that
//! LLVM vectorises. Each kernel is compiled twice by [`multiversion!`]: for the baseline target
//! and with AVX2+FMA+F16C enabled, and the AVX2 copy is chosen at run time when the CPU has
//! them. Where LLVM cannot find the instruction (horizontal sums, f16 widening) the [`Madd`]
//! type of the AVX2 copy supplies it through intrinsics.
//!
//! Memory-bound decode kernels (GEMV, decode attention, decode step) are not timed from cache:
//! `prepare` keeps `copies` identical sets of their weights / KV caches so that one pass over
//! all copies is at least twice the last-level cache, and each invocation reads the next copy
//! (see [`copies_to_defeat_cache`]). A workload whose own buffers are already that large has
//! one copy. The STREAM triad is not rotated: its `n` is the probe size and the suites choose it
//! far larger than any cache.
//!
//! Nothing is allocated inside the timed loop by this module; the `gemm` crate manages its own
//! packing buffers.

use anyhow::{Context, Result, bail};
use half::f16;
use rayon::{ThreadPool, ThreadPoolBuilder};

// `simd` first: its `multiversion!` macro is used by the kernel files declared after it.
#[macro_use]
mod simd;
mod attention;
mod decode;
mod detect;
mod elem;
mod exec;
mod gemm;
mod gemv;
mod math;
mod probes;
mod rowwise;
#[cfg(test)]
mod tests;
mod triad;

pub use detect::{copies_to_defeat_cache, estimated_peak_gflops, simd_features};
pub use probes::Probe;

/// Size of the CPU's last-level cache (sysfs), if the OS says.
pub fn last_level_cache() -> Option<usize> {
    last_level_cache_bytes()
}

use attention::AttentionKernel;
use decode::{DecodeStepKernel, DecodeTokenKernel};
use detect::{ASSUMED_LLC_BYTES, last_level_cache_bytes};
use exec::{Ctx, Runner};
use gemm::GemmKernel;
use gemv::GemvKernel;
use rowwise::{RowOp, RowwiseF16Kernel, RowwiseKernel};
use simd::Isa;
use triad::TriadKernel;

use super::{Backend, Prepared};
use crate::reference::Inputs;
use crate::results::{DeviceKind, DevicePeaks, DeviceRecord, PeakFigure, PeakPair};
use crate::workload::{Dtype, Kernel, Workload};

/// The host CPU as a backend.
pub struct CpuBackend {
    threads: usize,
    cpu_model: String,
    pool: ThreadPool,
    isa: Isa,
    llc_bytes: usize,
    llc_known: bool,
}

impl CpuBackend {
    /// A CPU backend using `threads` worker threads (at least 1).
    pub fn new(threads: usize, cpu_model: String) -> Result<Self> {
        if threads == 0 {
            bail!("--threads must be at least 1");
        }
        let pool = ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("accelbench-cpu-{i}"))
            .build()
            .with_context(|| format!("could not start {threads} CPU worker threads"))?;
        let llc = last_level_cache_bytes();
        Ok(CpuBackend {
            threads,
            cpu_model,
            pool,
            isa: Isa::detect(),
            llc_bytes: llc.unwrap_or(ASSUMED_LLC_BYTES),
            llc_known: llc.is_some(),
        })
    }

    /// Both peaks of each kind (FLOP/s: specification-derived and an FMA loop on every
    /// worker; bandwidth: read, copy and triad probes) and the last-level cache. Takes a
    /// second or two (the probes).
    pub fn peaks(&self) -> DevicePeaks {
        let (spec, how) = estimated_peak_gflops(self.threads);
        let (flop_per_cycle, _) = detect::f32_flop_per_cycle();
        let cores = sysinfo::System::physical_core_count()
            .unwrap_or(self.threads)
            .clamp(1, self.threads.max(1));
        let measured = probes::fma_gflops(&self.pool).map(|p| PeakFigure {
            value: p.value,
            source: format!(
                "{}: {:.2} GHz implied over {cores} physical core(s) at {flop_per_cycle} FLOP/cycle",
                p.how,
                p.value / (cores as f64 * flop_per_cycle as f64)
            ),
        });
        let gflops = PeakPair {
            note: spec.is_none().then(|| how.clone()).or_else(|| {
                measured
                    .is_none()
                    .then(|| "no FMA loop for this CPU in this build".into())
            }),
            spec: spec.map(|value| PeakFigure { value, source: how }),
            measured,
        };
        let bw = probes::bandwidth_gbps(&self.pool, self.llc_bytes);
        let gbps = PeakPair {
            spec: None,
            measured: Some(PeakFigure {
                value: bw.value,
                source: bw.how,
            }),
            note: Some(
                "no specification figure: the memory's channels and speed are not visible to an unprivileged process".into(),
            ),
        };
        DevicePeaks {
            f16_tensor: None,
            gflops,
            gbps,
            cache_bytes: Some(self.llc_bytes as u64),
            cache_source: if self.llc_known {
                "last-level cache, from sysfs".into()
            } else {
                format!(
                    "last-level cache unknown (sysfs does not say): {} MiB assumed",
                    self.llc_bytes >> 20
                )
            },
        }
    }

    pub fn threads(&self) -> usize {
        self.threads
    }
}

impl Backend for CpuBackend {
    /// Keep every worker busy for 300 ms, so an idle vCPU is running before the first
    /// workload. In back-to-back runs on a 2-vCPU VM, the first workload of a two-thread run
    /// was sometimes measured at one-thread speed (8 of 25 runs after a one-thread run; 1 of
    /// 25 with this warm-up in the same experiment). It does not remove the whole-run
    /// slowdowns that come from the host (notes/compare.md).
    fn warm_up(&mut self) {
        let until = std::time::Instant::now() + std::time::Duration::from_millis(300);
        self.pool.broadcast(|_| {
            while std::time::Instant::now() < until {
                std::hint::spin_loop();
            }
        });
    }

    fn record(&self) -> DeviceRecord {
        let peaks = self.peaks();
        DeviceRecord {
            cooperative_matrix: Vec::new(),
            copy_gbps_after: None,
            dispatch_ns: None,
            id: "cpu".into(),
            kind: DeviceKind::Cpu,
            name: self.cpu_model.clone(),
            backend: "native".into(),
            driver: format!("{} threads", self.threads),
            device_type: Some("cpu".into()),
            peak_gflops: peaks.gflops.best(),
            peak_gbps: peaks.gbps.best(),
            peak_source: crate::results::describe_peaks(&peaks),
            peaks: Some(peaks),
        }
    }

    fn unsupported(&self, w: &Workload) -> Option<String> {
        let f16_ok = !matches!(w.kernel, Kernel::StreamTriad { .. });
        if w.dtype == Dtype::F16 && !f16_ok {
            return Some(format!(
                "the CPU backend has no f16 kernel for {} (it measures memory bandwidth in f32)",
                w.kernel_name()
            ));
        }
        let (q_heads, kv_heads, context) = match &w.kernel {
            Kernel::DecodeAttention(a) => (a.q_heads, a.kv_heads, a.context),
            Kernel::DecodeStep { model, context } | Kernel::DecodeToken { model, context } => {
                (model.q_heads, model.kv_heads, *context)
            }
            _ => return None,
        };
        if matches!(w.kernel, Kernel::DecodeToken { .. }) {
            let need = w.host_memory_bytes();
            // At most three quarters of what is available: the machine keeps running other work.
            let available = crate::env::available_memory_bytes();
            if available > 0 && need > available / 4 * 3 {
                let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
                return Some(format!(
                    "the whole model needs about {:.1} GiB of memory and {:.1} GiB is available now (at most three quarters of it is used)",
                    gib(need),
                    gib(available)
                ));
            }
        }
        if kv_heads == 0 || !q_heads.is_multiple_of(kv_heads) {
            return Some(format!(
                "q_heads ({q_heads}) must be a multiple of kv_heads ({kv_heads})"
            ));
        }
        if context == 0 {
            return Some("attention needs a context of at least 1 position".into());
        }
        None
    }

    fn prepare<'a>(&'a mut self, w: &Workload, inputs: &Inputs) -> Result<Box<dyn Prepared + 'a>> {
        if let Some(why) = self.unsupported(w) {
            bail!("{}: {why}", w.label());
        }
        let b = &inputs.buffers;
        let want = expected_input_lengths(w);
        if b.len() != want.len() || b.iter().zip(&want).any(|(buf, &n)| buf.len() != n) {
            bail!(
                "{}: expected input buffers of lengths {want:?}, got {:?}",
                w.label(),
                b.iter().map(Vec::len).collect::<Vec<_>>()
            );
        }
        let ctx = Ctx {
            pool: &self.pool,
            isa: self.isa,
            threads: self.threads,
        };
        let llc = self.llc_bytes;
        Ok(match &w.kernel {
            &Kernel::Gemm { m, n, k } => {
                let (m, n, k) = (m as usize, n as usize, k as usize);
                if w.dtype == Dtype::F16 {
                    let kernel = GemmKernel::<f16>::new(b, m, n, k);
                    Box::new(Runner { ctx, kernel })
                } else {
                    let kernel = GemmKernel::<f32>::new(b, m, n, k);
                    Box::new(Runner { ctx, kernel })
                }
            }
            &Kernel::Gemv { n, k } => {
                let (n, k) = (n as usize, k as usize);
                if w.dtype == Dtype::F16 {
                    let kernel = GemvKernel::<f16>::new(b, n, k, llc);
                    Box::new(Runner { ctx, kernel })
                } else {
                    let kernel = GemvKernel::<f32>::new(b, n, k, llc);
                    Box::new(Runner { ctx, kernel })
                }
            }
            &Kernel::Softmax { rows, cols } | &Kernel::RmsNorm { rows, cols } => {
                let op = match w.kernel {
                    Kernel::RmsNorm { .. } => RowOp::RmsNorm(b[1].clone()),
                    _ => RowOp::Softmax,
                };
                let (rows, cols) = (rows as usize, cols as usize);
                if w.dtype == Dtype::F16 {
                    let kernel = RowwiseF16Kernel::new(op, &b[0], rows, cols);
                    Box::new(Runner { ctx, kernel })
                } else {
                    let kernel = RowwiseKernel::new(op, &b[0], rows, cols);
                    Box::new(Runner { ctx, kernel })
                }
            }
            Kernel::DecodeAttention(a) => {
                if w.dtype == Dtype::F16 {
                    let kernel = AttentionKernel::<f16>::new(b, a, self.threads, llc);
                    Box::new(Runner { ctx, kernel })
                } else {
                    let kernel = AttentionKernel::<f32>::new(b, a, self.threads, llc);
                    Box::new(Runner { ctx, kernel })
                }
            }
            &Kernel::StreamTriad { .. } => {
                let kernel = TriadKernel::new(b);
                Box::new(Runner { ctx, kernel })
            }
            Kernel::DecodeStep { model, context } => {
                let (context, threads) = (*context as usize, self.threads);
                if w.dtype == Dtype::F16 {
                    let kernel = DecodeStepKernel::<f16>::new(b, model, context, threads, llc);
                    Box::new(Runner { ctx, kernel })
                } else {
                    let kernel = DecodeStepKernel::<f32>::new(b, model, context, threads, llc);
                    Box::new(Runner { ctx, kernel })
                }
            }
            Kernel::DecodeToken { .. } => {
                if w.dtype == Dtype::F16 {
                    let kernel = DecodeTokenKernel::<f16>::new(ctx, w, b);
                    Box::new(Runner { ctx, kernel })
                } else {
                    let kernel = DecodeTokenKernel::<f32>::new(ctx, w, b);
                    Box::new(Runner { ctx, kernel })
                }
            }
        })
    }
}

/// Lengths of the input buffers [`crate::reference::inputs`] produces for `w`.
fn expected_input_lengths(w: &Workload) -> Vec<usize> {
    let v: Vec<u64> = match &w.kernel {
        Kernel::Gemm { m, n, k } => vec![m * k, k * n],
        Kernel::Gemv { n, k } => vec![n * k, *k],
        Kernel::Softmax { rows, cols } => vec![rows * cols],
        Kernel::RmsNorm { rows, cols } => vec![rows * cols, *cols],
        Kernel::DecodeAttention(a) => {
            let kv = a.kv_heads * a.context * a.head_dim;
            vec![a.q_heads * a.head_dim, kv, kv]
        }
        Kernel::StreamTriad { n } => vec![*n, *n],
        Kernel::DecodeToken { model, .. } => vec![model.hidden, model.hidden],
        Kernel::DecodeStep { model, context } => {
            let h = model.hidden;
            let kv = model.kv_heads * context * model.head_dim;
            let attn = model.q_heads * model.head_dim;
            vec![
                h,
                h,
                model.qkv_width() * h,
                kv,
                kv,
                h * attn,
                h,
                model.ffn * h,
                model.ffn * h,
                h * model.ffn,
            ]
        }
    };
    v.into_iter().map(|n| n as usize).collect()
}
