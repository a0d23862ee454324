//! CPU backend: GEMM through the `gemm` crate (runtime SIMD dispatch; f32, and f16 with f32
//! accumulation), the other kernels hand-written, vectorisable and threaded across `threads`
//! workers. f16 runs for GEMM and GEMV only.
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

use std::ops::Range;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use half::f16;
use rayon::prelude::*;
use rayon::{ThreadPool, ThreadPoolBuilder};

use super::{Backend, Prepared};
use crate::model::ModelShape;
use crate::reference::{Inputs, TRIAD_SCALAR};
use crate::results::{DeviceKind, DeviceRecord};
use crate::workload::{AttentionShape, Dtype, Kernel, RMSNORM_EPS, Workload};

/// The host CPU as a backend.
pub struct CpuBackend {
    threads: usize,
    cpu_model: String,
    pool: ThreadPool,
    isa: Isa,
    llc_bytes: usize,
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
        Ok(CpuBackend {
            threads,
            cpu_model,
            pool,
            isa: Isa::detect(),
            llc_bytes: last_level_cache_bytes().unwrap_or(ASSUMED_LLC_BYTES),
        })
    }

    pub fn threads(&self) -> usize {
        self.threads
    }
}

/// SIMD instruction-set extensions detected at run time (e.g. `avx2`, `fma`, `avx512f`).
pub fn simd_features() -> Vec<&'static str> {
    let mut found = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        macro_rules! probe {
            ($($name:tt),*) => {
                $(if std::arch::is_x86_feature_detected!($name) {
                    found.push($name);
                })*
            };
        }
        probe!(
            "sse4.2",
            "avx",
            "avx2",
            "fma",
            "f16c",
            "avx512f",
            "avx512bw",
            "avx512vl",
            "avx512vnni",
            "avx512bf16",
            "avx512fp16"
        );
    }
    #[cfg(target_arch = "aarch64")]
    {
        macro_rules! probe {
            ($($name:tt),*) => {
                $(if std::arch::is_aarch64_feature_detected!($name) {
                    found.push($name);
                })*
            };
        }
        probe!("neon", "fp16", "bf16", "i8mm", "sve", "sve2");
    }
    found
}

/// Estimated peak f32 GFLOP/s for `threads` threads and how it was estimated, in words.
///
/// threads x clock x f32 FLOP per cycle per core. FLOP per cycle come from the widest FMA
/// instructions detected and the number of FMA pipes such cores have. The clock is measured
/// (a chain of dependent integer adds retires one add per cycle, so adds per second is the
/// clock one busy core runs at, boost included) because the clock the OS reports is often the
/// nominal one, especially under a hypervisor; without a measurement it is the OS's figure
/// (sysinfo). The measurement takes about 10 ms.
pub fn estimated_peak_gflops(threads: usize) -> (Option<f64>, String) {
    let (flop_per_cycle, unit) = f32_flop_per_cycle();
    let os_mhz = crate::env::cpu_frequency_mhz();
    let os_said = os_mhz.map_or_else(
        || "the OS reports none".to_string(),
        |m| format!("the OS reports {:.2}", m as f64 / 1000.0),
    );
    let (ghz, source) = match (measured_clock_ghz(), os_mhz) {
        (Some(g), _) => (g, format!("measured by a dependent add chain; {os_said}")),
        (None, Some(m)) => (m as f64 / 1000.0, "sysinfo, boost not counted".to_string()),
        (None, None) => {
            return (
                None,
                format!("not estimated: the CPU clock is unknown ({unit})"),
            );
        }
    };
    let peak = threads as f64 * ghz * flop_per_cycle as f64;
    (
        Some(peak),
        format!(
            "{threads} threads x {ghz:.2} GHz ({source}) x {flop_per_cycle} f32 FLOP/cycle ({unit})"
        ),
    )
}

/// Clock of this core in GHz, from a chain of dependent adds (one per cycle on every x86 core
/// of the last 20 years). Best of a few short runs, so an interruption does not lower it.
#[cfg(target_arch = "x86_64")]
fn measured_clock_ghz() -> Option<f64> {
    const ROUNDS: u64 = 200_000;
    const ADDS_PER_ROUND: u64 = 20;
    let chain = || {
        let mut x: u64 = 0;
        let mut n = ROUNDS;
        let start = Instant::now();
        // SAFETY: register-only arithmetic, no memory access; both registers are declared.
        unsafe {
            std::arch::asm!(
                "2:",
                "add {x}, 1", "add {x}, 1", "add {x}, 1", "add {x}, 1", "add {x}, 1",
                "add {x}, 1", "add {x}, 1", "add {x}, 1", "add {x}, 1", "add {x}, 1",
                "add {x}, 1", "add {x}, 1", "add {x}, 1", "add {x}, 1", "add {x}, 1",
                "add {x}, 1", "add {x}, 1", "add {x}, 1", "add {x}, 1", "add {x}, 1",
                "dec {n}",
                "jnz 2b",
                x = inout(reg) x,
                n = inout(reg) n,
                options(nomem, nostack),
            );
        }
        let secs = start.elapsed().as_secs_f64();
        std::hint::black_box((x, n));
        secs
    };
    chain(); // wake the core up to its working clock
    let best = (0..5).map(|_| chain()).fold(f64::INFINITY, f64::min);
    let ghz = (ROUNDS * ADDS_PER_ROUND) as f64 / best / 1e9;
    // Outside this range the measurement is not a clock (emulation, a stalled thread).
    (0.3..8.0).contains(&ghz).then_some(ghz)
}

#[cfg(not(target_arch = "x86_64"))]
fn measured_clock_ghz() -> Option<f64> {
    None
}

/// f32 FLOP per cycle per core, and why, from the detected instruction set.
fn f32_flop_per_cycle() -> (u32, String) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        let (vendor, family) = x86_vendor_family();
        if has!("avx512f") {
            // Zen 4 (family 0x19) executes 512-bit FMAs as two 256-bit halves.
            if vendor == "AuthenticAMD" && family <= 0x19 {
                return (
                    32,
                    format!(
                        "AVX-512 on AMD family {family:#x} (Zen 4) runs as 2x256-bit: 2 FMA pipes x 8 lanes x 2"
                    ),
                );
            }
            return (
                64,
                "AVX-512: 2 FMA ports x 16 lanes x 2 (parts with one 512-bit FMA port reach half)"
                    .into(),
            );
        }
        if has!("avx2") && has!("fma") {
            return (32, "AVX2+FMA: 2 FMA ports x 8 lanes x 2".into());
        }
        if has!("avx") {
            return (
                16,
                "AVX without FMA: 1 add + 1 multiply port x 8 lanes".into(),
            );
        }
        (8, "SSE: 1 add + 1 multiply port x 4 lanes".into())
    }
    #[cfg(target_arch = "aarch64")]
    {
        (
            16,
            "NEON: 2 FMA pipes x 4 lanes x 2 (cores with 4 pipes reach double)".into(),
        )
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        (2, "unknown architecture: 1 scalar FMA per cycle".into())
    }
}

#[cfg(target_arch = "x86_64")]
fn x86_vendor_family() -> (String, u32) {
    use std::arch::x86_64::__cpuid;
    let leaf0 = __cpuid(0);
    let vendor: Vec<u8> = [leaf0.ebx, leaf0.edx, leaf0.ecx]
        .iter()
        .flat_map(|r| r.to_le_bytes())
        .collect();
    let eax = __cpuid(1).eax;
    let base = (eax >> 8) & 0xf;
    let family = if base == 0xf {
        base + ((eax >> 20) & 0xff)
    } else {
        base
    };
    (String::from_utf8_lossy(&vendor).into_owned(), family)
}

/// Used when the OS does not say how large the last-level cache is.
const ASSUMED_LLC_BYTES: usize = 64 << 20;

/// Size of the largest cache level of CPU 0 (Linux sysfs), if known.
fn last_level_cache_bytes() -> Option<usize> {
    let dir = std::fs::read_dir("/sys/devices/system/cpu/cpu0/cache").ok()?;
    let mut best: Option<(u32, usize)> = None;
    for entry in dir.flatten() {
        let path = entry.path();
        let read = |f: &str| std::fs::read_to_string(path.join(f)).ok();
        let (Some(level), Some(size)) = (read("level"), read("size")) else {
            continue;
        };
        let Ok(level) = level.trim().parse::<u32>() else {
            continue;
        };
        let Some(bytes) = parse_cache_size(size.trim()) else {
            continue;
        };
        if best.is_none_or(|(l, b)| (level, bytes) > (l, b)) {
            best = Some((level, bytes));
        }
    }
    best.map(|(_, b)| b)
}

/// `32768K`, `1M`, `512` (bytes) as sysfs writes cache sizes.
fn parse_cache_size(s: &str) -> Option<usize> {
    let (digits, mult) = match s.as_bytes().last()? {
        b'K' => (&s[..s.len() - 1], 1 << 10),
        b'M' => (&s[..s.len() - 1], 1 << 20),
        b'G' => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    digits.parse::<usize>().ok().map(|n| n * mult)
}

/// Most copies kept of a memory-bound workload's buffers (bounds the extra memory for tiny
/// shapes, which are then partly served from cache: they are too small to be memory-bound).
const MAX_COPIES: usize = 64;

/// How many copies of `bytes` of weights make one pass over all of them at least twice the
/// last-level cache, so that each invocation reads its copy from memory, not from cache.
pub fn copies_to_defeat_cache(bytes: usize, llc_bytes: usize) -> usize {
    (2 * llc_bytes).div_ceil(bytes.max(1)).clamp(1, MAX_COPIES)
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
        let (peak, how) = estimated_peak_gflops(self.threads);
        DeviceRecord {
            id: "cpu".into(),
            kind: DeviceKind::Cpu,
            name: self.cpu_model.clone(),
            backend: "native".into(),
            driver: format!("{} threads", self.threads),
            device_type: Some("cpu".into()),
            peak_gflops: peak,
            peak_gbps: None,
            peak_source: how,
        }
    }

    fn unsupported(&self, w: &Workload) -> Option<String> {
        let f16_ok = matches!(
            w.kernel,
            Kernel::Gemm { .. }
                | Kernel::Gemv { .. }
                | Kernel::DecodeAttention(_)
                | Kernel::DecodeStep { .. }
        );
        if w.dtype == Dtype::F16 && !f16_ok {
            return Some(format!(
                "the CPU backend runs f16 only for gemm, gemv, decode_attention and decode_step, not {}",
                w.kernel_name()
            ));
        }
        let (q_heads, kv_heads, context) = match &w.kernel {
            Kernel::DecodeAttention(a) => (a.q_heads, a.kv_heads, a.context),
            Kernel::DecodeStep { model, context } => (model.q_heads, model.kv_heads, *context),
            _ => return None,
        };
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
            &Kernel::Softmax { rows, cols } => {
                let kernel =
                    RowwiseKernel::new(RowOp::Softmax, &b[0], rows as usize, cols as usize);
                Box::new(Runner { ctx, kernel })
            }
            &Kernel::RmsNorm { rows, cols } => {
                let op = RowOp::RmsNorm(b[1].clone());
                let kernel = RowwiseKernel::new(op, &b[0], rows as usize, cols as usize);
                Box::new(Runner { ctx, kernel })
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

// ---------------------------------------------------------------------------------------------
// Run loop shared by every kernel.

/// What every kernel runs with: the backend's pool and instruction set.
#[derive(Clone, Copy)]
struct Ctx<'a> {
    pool: &'a ThreadPool,
    isa: Isa,
    threads: usize,
}

/// One prepared CPU kernel: buffers allocated, ready to run.
trait CpuKernel {
    /// Run once, writing the output buffer. Must not allocate.
    fn run(&mut self, ctx: Ctx<'_>);
    /// The output of the last run, as f32.
    fn output(&self) -> Vec<f32>;
}

struct Runner<'a, K> {
    ctx: Ctx<'a>,
    kernel: K,
}

impl<K: CpuKernel> Prepared for Runner<'_, K> {
    fn run_and_read(&mut self) -> Result<Vec<f32>> {
        self.kernel.run(self.ctx);
        Ok(self.kernel.output())
    }

    fn time(&mut self, iters: u64) -> Result<u64> {
        let start = Instant::now();
        for _ in 0..iters {
            self.kernel.run(self.ctx);
        }
        Ok(u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX))
    }
}

/// An f32 buffer that starts `phase` bytes past a 4 KiB boundary. Arrays a kernel streams
/// together get different phases: when an input and an output start at the same offset within
/// a page (as large allocations do, each its own `mmap`), every load looks to the core as if it
/// may depend on a store 4 KiB away, and waits (4K aliasing). Measured here: softmax at
/// 32x4096 took 80-130 us with input and output both at offset 0x10, 38 us apart.
struct Phased {
    buf: Vec<f32>,
    start: usize,
    len: usize,
}

/// Phases for up to three arrays streamed together (STREAM offsets them the same way).
const PHASES: [usize; 3] = [0, 1024 + 64, 2048 + 128];

impl Phased {
    fn new(src: &[f32], phase: usize) -> Self {
        let len = src.len();
        let mut buf = vec![0.0f32; len + 1024];
        let addr = buf.as_ptr() as usize;
        let start = ((phase % 4096) + 4096 - addr % 4096) % 4096 / std::mem::size_of::<f32>();
        buf[start..start + len].copy_from_slice(src);
        Phased { buf, start, len }
    }

    fn zeros(len: usize, phase: usize) -> Self {
        Self::new(&vec![0.0; len], phase)
    }

    fn as_slice(&self) -> &[f32] {
        &self.buf[self.start..self.start + self.len]
    }

    fn as_mut_slice(&mut self) -> &mut [f32] {
        &mut self.buf[self.start..self.start + self.len]
    }
}

/// Identical copies of a memory-bound kernel's buffers, read in turn.
struct Rotation<T> {
    copies: Vec<T>,
    next: usize,
}

impl<T: Clone> Rotation<T> {
    fn new(first: T, copies: usize) -> Self {
        let mut v = Vec::with_capacity(copies);
        for _ in 1..copies {
            v.push(first.clone());
        }
        v.push(first);
        Rotation { copies: v, next: 0 }
    }

    /// The copy to use for this invocation.
    fn advance(&mut self) -> &mut T {
        let i = self.next;
        self.next = (i + 1) % self.copies.len();
        &mut self.copies[i]
    }
}

/// Elements per parallel task when `total` elements (in units of `unit`) are split across
/// `threads` workers: a few tasks per worker for balance, never fewer than `min_units` units.
fn task_len(total_units: usize, threads: usize, min_units: usize, unit: usize) -> usize {
    let per_task = total_units.div_ceil(threads * 4).max(min_units).max(1);
    per_task * unit
}

/// Split `out` into chunks of `chunk` elements and run `f(first_index, chunk)` on each, in
/// the pool (or inline when there is only one chunk).
fn par_chunks<F>(ctx: Ctx<'_>, out: &mut [f32], chunk: usize, f: F)
where
    F: Fn(usize, &mut [f32]) + Sync + Send,
{
    if out.len() <= chunk || ctx.threads == 1 {
        for (i, c) in out.chunks_mut(chunk.max(1)).enumerate() {
            f(i * chunk, c);
        }
        return;
    }
    ctx.pool.install(|| {
        out.par_chunks_mut(chunk)
            .enumerate()
            .for_each(|(i, c)| f(i * chunk, c));
    });
}

// ---------------------------------------------------------------------------------------------
// SIMD dispatch.

/// Instruction set the hand-written kernels were compiled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Isa {
    /// The build's baseline target features.
    Baseline,
    /// AVX2, FMA and F16C, detected at run time.
    #[cfg(target_arch = "x86_64")]
    Avx2Fma,
}

impl Isa {
    fn detect() -> Isa {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
            && std::arch::is_x86_feature_detected!("f16c")
        {
            return Isa::Avx2Fma;
        }
        Isa::Baseline
    }
}

/// How a kernel body multiplies and adds: one fused instruction in the copy compiled with FMA,
/// a multiply then an add in the baseline x86 copy (there `mul_add` would be a slow library
/// call, not an instruction).
trait Madd {
    /// `a * b + c`.
    fn madd(a: f32, b: f32, c: f32) -> f32;

    /// The sums of four 16-lane accumulators (pairwise, as [`hsum16`]).
    #[inline(always)]
    fn hsum4x16(acc: [&[f32; 16]; 4]) -> [f32; 4] {
        acc.map(hsum16)
    }

    /// Eight halves widened to f32 (exact).
    #[inline(always)]
    fn widen8(h: &[f16; 8]) -> [f32; 8] {
        h.map(f16::to_f32)
    }
}

/// `a.mul_add(b, c)`: one instruction where FMA is enabled.
struct Fused;

impl Madd for Fused {
    #[inline(always)]
    fn madd(a: f32, b: f32, c: f32) -> f32 {
        a.mul_add(b, c)
    }

    /// Three horizontal adds for all four sums, instead of a scalar tree for each.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn hsum4x16(acc: [&[f32; 16]; 4]) -> [f32; 4] {
        use std::arch::x86_64::*;
        // SAFETY: on x86_64, `Fused` is only instantiated in the copies that `multiversion!`
        // compiles with AVX2+FMA enabled and calls after detecting them, so AVX is available;
        // each load reads 8 lanes inside a 16-lane array.
        unsafe {
            let half = |a: &[f32; 16]| {
                _mm256_add_ps(
                    _mm256_loadu_ps(a.as_ptr()),
                    _mm256_loadu_ps(a.as_ptr().add(8)),
                )
            };
            let h01 = _mm256_hadd_ps(half(acc[0]), half(acc[1]));
            let h23 = _mm256_hadd_ps(half(acc[2]), half(acc[3]));
            let h = _mm256_hadd_ps(h01, h23);
            let sums = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps::<1>(h));
            let mut out = [0.0f32; 4];
            _mm_storeu_ps(out.as_mut_ptr(), sums);
            out
        }
    }

    /// One `vcvtph2ps`.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn widen8(h: &[f16; 8]) -> [f32; 8] {
        use std::arch::x86_64::*;
        // SAFETY: as for `hsum4x16` (the copy is compiled and chosen with F16C too); the load
        // reads the 16 bytes of `h`.
        unsafe {
            let v = _mm256_cvtph_ps(_mm_loadu_si128(h.as_ptr().cast()));
            let mut out = [0.0f32; 8];
            _mm256_storeu_ps(out.as_mut_ptr(), v);
            out
        }
    }
}

/// `a * b + c`, two roundings.
#[cfg_attr(target_arch = "aarch64", allow(dead_code))]
struct Unfused;

impl Madd for Unfused {
    #[inline(always)]
    fn madd(a: f32, b: f32, c: f32) -> f32 {
        a * b + c
    }
}

/// aarch64 always has fused multiply-add (NEON); baseline x86_64 does not.
#[cfg(target_arch = "aarch64")]
type BaselineMadd = Fused;
#[cfg(not(target_arch = "aarch64"))]
type BaselineMadd = Unfused;

/// Define `fn name(isa: Isa, args...)` whose body is compiled for the baseline target and, on
/// x86_64, again with AVX2+FMA enabled; `isa` picks the copy. The body is generic over a
/// [`Madd`] type named in the definition (`fn name<M>(...)`) and must multiply-add through it.
/// Helpers the body calls must be `#[inline(always)]` so they are compiled with the same
/// features.
macro_rules! multiversion {
    ($(#[$meta:meta])* fn $name:ident<$m:ident>($($arg:ident : $ty:ty),* $(,)?) $body:block) => {
        $(#[$meta])*
        #[allow(clippy::too_many_arguments)]
        fn $name(isa: Isa, $($arg: $ty),*) {
            #[inline(always)]
            #[allow(clippy::too_many_arguments)]
            fn body<$m: Madd>($($arg: $ty),*) $body

            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma,f16c")]
            #[allow(clippy::too_many_arguments)]
            fn avx2($($arg: $ty),*) {
                body::<Fused>($($arg),*)
            }

            match isa {
                #[cfg(target_arch = "x86_64")]
                // SAFETY: `Isa::Avx2Fma` is only constructed after run-time detection of all three.
                Isa::Avx2Fma => unsafe { avx2($($arg),*) },
                Isa::Baseline => body::<BaselineMadd>($($arg),*),
            }
        }
    };
}

/// Lanes of the accumulator arrays: four 256-bit vectors, enough independent chains to hide
/// add latency.
const LANES: usize = 32;

#[inline(always)]
fn dot<M: Madd>(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; LANES];
    let mut ca = a.chunks_exact(LANES);
    let mut cb = b.chunks_exact(LANES);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for j in 0..LANES {
            acc[j] = M::madd(x[j], y[j], acc[j]);
        }
    }
    let mut tail = 0.0f32;
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        tail = M::madd(*x, *y, tail);
    }
    hsum(&acc) + tail
}

/// Four dot products of rows with the same `x`, `x` loaded once for all four; either side
/// stored as f32 or f16 (f16 widened 16 values at a time, in registers): weight rows with an
/// f32 input (GEMV), or f32 query rows with a cached key (attention).
#[inline(always)]
fn dot4_mixed<M: Madd, R: Elem, X: Elem>(rows: [&[R]; 4], x: &[X]) -> [f32; 4] {
    const W: usize = 16;
    let k = x.len();
    let rows = rows.map(|r| &r[..k]);
    let mut acc = [[0.0f32; W]; 4];
    let full = k / W * W;
    for c in (0..full).step_by(W) {
        let xs = X::tile16::<M>(&x[c..c + W]);
        for (a, row) in acc.iter_mut().zip(&rows) {
            let w = R::tile16::<M>(&row[c..c + W]);
            for j in 0..W {
                a[j] = M::madd(w[j], xs[j], a[j]);
            }
        }
    }
    let sums = M::hsum4x16([&acc[0], &acc[1], &acc[2], &acc[3]]);
    let mut out = [0.0f32; 4];
    for (o, (s, row)) in out.iter_mut().zip(sums.iter().zip(&rows)) {
        *o = row[full..]
            .iter()
            .zip(&x[full..])
            .fold(*s, |t, (a, b)| M::madd(a.to_f32(), b.to_f32(), t));
    }
    out
}

#[inline(always)]
fn hsum16(acc: &[f32; 16]) -> f32 {
    let mut v = *acc;
    for w in [8, 4, 2, 1] {
        for j in 0..w {
            v[j] += v[j + w];
        }
    }
    v[0]
}

#[inline(always)]
fn hsum(acc: &[f32; LANES]) -> f32 {
    // Pairwise, so the result does not depend on a long serial chain.
    let mut v = *acc;
    let mut w = LANES;
    while w > 1 {
        w /= 2;
        for j in 0..w {
            v[j] += v[j + w];
        }
    }
    v[0]
}

#[inline(always)]
fn sum_squares<M: Madd>(x: &[f32]) -> f32 {
    dot::<M>(x, x)
}

#[inline(always)]
fn max_of(x: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; LANES];
    let mut c = x.chunks_exact(LANES);
    for v in &mut c {
        for j in 0..LANES {
            acc[j] = acc[j].max(v[j]);
        }
    }
    let mut m = acc.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    for &v in c.remainder() {
        m = m.max(v);
    }
    m
}

/// `y += a * x`.
#[inline(always)]
fn axpy<M: Madd>(y: &mut [f32], a: f32, x: &[f32]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y = M::madd(a, *x, *y);
    }
}

/// Values per call of [`exp_block`] in the softmax loops: four 256-bit vectors, enough
/// independent work to keep the FMA pipes busy through the polynomial's dependency chain.
const EXP_BLOCK: usize = 32;

/// `x[i] = exp(x[i] - shift)`, returning the sum of the results.
#[inline(always)]
fn exp_shifted_sum<M: Madd>(x: &mut [f32], shift: f32) -> f32 {
    let mut acc = [0.0f32; 8];
    let mut c = x.chunks_exact_mut(EXP_BLOCK);
    for v in &mut c {
        let block: &mut [f32; EXP_BLOCK] = v.try_into().expect("chunks_exact");
        *block = exp_block::<M, EXP_BLOCK>(block, shift);
        for j in 0..EXP_BLOCK {
            acc[j % 8] += block[j];
        }
    }
    let mut tail = 0.0f32;
    for v in c.into_remainder() {
        *v = exp_approx::<M>(*v - shift);
        tail += *v;
    }
    acc.iter().sum::<f32>() + tail
}

/// `y[i] = exp(x[i] - shift)`, returning the sum of the results.
#[inline(always)]
fn exp_shifted_sum_into<M: Madd>(x: &[f32], y: &mut [f32], shift: f32) -> f32 {
    let mut acc = [0.0f32; 8];
    let mut cy = y.chunks_exact_mut(EXP_BLOCK);
    let mut cx = x.chunks_exact(EXP_BLOCK);
    for (y, x) in (&mut cy).zip(&mut cx) {
        let e = exp_block::<M, EXP_BLOCK>(x.try_into().expect("chunks_exact"), shift);
        y.copy_from_slice(&e);
        for j in 0..EXP_BLOCK {
            acc[j % 8] += e[j];
        }
    }
    let mut tail = 0.0f32;
    for (y, x) in cy.into_remainder().iter_mut().zip(cx.remainder()) {
        *y = exp_approx::<M>(*x - shift);
        tail += *y;
    }
    acc.iter().sum::<f32>() + tail
}

/// e^x to about 2 ulp; see [`exp_block`].
#[inline(always)]
fn exp_approx<M: Madd>(x: f32) -> f32 {
    exp_block::<M, 1>(&[x], 0.0)[0]
}

/// `e^(x[j] - shift)` to about 2 ulp for arguments in [-87, 88] (clamped outside), branch-free
/// so it vectorises: x = n ln2 + r with |r| <= ln2/2, e^r by the Cephes `expf` polynomial
/// (evaluated by Estrin's scheme, a shorter dependency chain than Horner's), 2^n from the
/// exponent bits. Softmax and attention only evaluate it at arguments <= 0, where the clamp
/// costs < 2e-38. Written stage by stage over the block so each stage is a few independent
/// vector instructions.
#[inline(always)]
fn exp_block<M: Madd, const B: usize>(x: &[f32; B], shift: f32) -> [f32; B] {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    // 1.5 * 2^23: adding it rounds to an integer held in the low mantissa bits.
    const ROUND: f32 = 12_582_912.0;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let mut v = [0.0f32; B];
    for j in 0..B {
        v[j] = (x[j] - shift).clamp(-87.0, 88.0);
    }
    let mut t = [0.0f32; B];
    for j in 0..B {
        t[j] = M::madd(v[j], LOG2E, ROUND);
    }
    let mut r = [0.0f32; B];
    for j in 0..B {
        let n = t[j] - ROUND;
        r[j] = M::madd(n, -LN2_LO, M::madd(n, -LN2_HI, v[j]));
    }
    let mut e = [0.0f32; B];
    for j in 0..B {
        let (r1, r2) = (r[j], r[j] * r[j]);
        let r4 = r2 * r2;
        let a = M::madd(1.666_666_5e-1, r1, 0.5);
        let b = M::madd(8.333_452e-3, r1, 4.166_579_6e-2);
        let c = M::madd(1.987_569_1e-4, r1, 1.398_199_9e-3);
        let p = M::madd(r4, c, M::madd(r2, b, a));
        e[j] = M::madd(p, r2, r1) + 1.0;
    }
    for j in 0..B {
        let n = t[j].to_bits().wrapping_sub(ROUND.to_bits()) as i32;
        e[j] *= f32::from_bits(((n + 127) as u32) << 23);
    }
    e
}

#[inline(always)]
fn silu(x: f32) -> f32 {
    x / (1.0 + (-x).exp())
}

/// `y = x / sqrt(mean(x^2) + eps) * g`.
#[inline(always)]
fn rmsnorm_row<M: Madd>(x: &[f32], g: &[f32], y: &mut [f32]) {
    let inv = 1.0 / (sum_squares::<M>(x) / x.len() as f32 + RMSNORM_EPS).sqrt();
    for ((y, x), g) in y.iter_mut().zip(x).zip(g) {
        *y = x * inv * g;
    }
}

// ---------------------------------------------------------------------------------------------
// Multiversioned kernel bodies.

/// `y[i] = W[i] . x (+ residual[i])` for the rows of `y`, four rows at a time: four weight
/// streams in flight keep more memory requests outstanding than one. The last one to three rows
/// are padded with repeats of the last row and their sums dropped.
#[inline(always)]
fn gemv_body<M: Madd, T: Elem>(w: &[T], x: &[f32], residual: Option<&[f32]>, y: &mut [f32]) {
    let k = x.len();
    let n = y.len();
    for b in 0..n.div_ceil(4) {
        let row = |r: usize| {
            let i = (4 * b + r).min(n - 1);
            &w[i * k..(i + 1) * k]
        };
        let d = dot4_mixed::<M, T, f32>([row(0), row(1), row(2), row(3)], x);
        for (r, d) in d.into_iter().enumerate().take(n - 4 * b) {
            y[4 * b + r] = d + residual.map_or(0.0, |res| res[4 * b + r]);
        }
    }
}

/// `act[i] = silu(W_gate[i] . x) * (W_up[i] . x)` for the rows of `act`, two rows (four weight
/// streams) at a time, a last odd row paired with itself and its repeat dropped.
#[inline(always)]
fn gate_up_body<M: Madd, T: Elem>(w_gate: &[T], w_up: &[T], x: &[f32], act: &mut [f32]) {
    let k = x.len();
    let n = act.len();
    for p in 0..n.div_ceil(2) {
        let rows = |r: usize| {
            let i = (2 * p + r).min(n - 1);
            i * k..(i + 1) * k
        };
        let d = dot4_mixed::<M, T, f32>(
            [
                &w_gate[rows(0)],
                &w_gate[rows(1)],
                &w_up[rows(0)],
                &w_up[rows(1)],
            ],
            x,
        );
        act[2 * p] = silu(d[0]) * d[2];
        if 2 * p + 1 < n {
            act[2 * p + 1] = silu(d[1]) * d[3];
        }
    }
}

multiversion! {
    /// [`gemv_body`] with f32 weights.
    fn gemv_rows<M>(w: &[f32], x: &[f32], residual: Option<&[f32]>, y: &mut [f32]) {
        gemv_body::<M, f32>(w, x, residual, y)
    }
}

multiversion! {
    /// [`gemv_body`] with f16 weights.
    fn gemv_rows_f16<M>(w: &[f16], x: &[f32], residual: Option<&[f32]>, y: &mut [f32]) {
        gemv_body::<M, f16>(w, x, residual, y)
    }
}

multiversion! {
    /// [`gate_up_body`] with f32 weights.
    fn gate_up_rows<M>(w_gate: &[f32], w_up: &[f32], x: &[f32], act: &mut [f32]) {
        gate_up_body::<M, f32>(w_gate, w_up, x, act)
    }
}

multiversion! {
    /// [`gate_up_body`] with f16 weights.
    fn gate_up_rows_f16<M>(w_gate: &[f16], w_up: &[f16], x: &[f32], act: &mut [f32]) {
        gate_up_body::<M, f16>(w_gate, w_up, x, act)
    }
}

multiversion! {
    /// `dst[i] = src[i]` widened from f16.
    fn widen_f16<M>(src: &[f16], dst: &mut [f32]) {
        widen_into::<M>(src, dst);
    }
}

multiversion! {
    /// Numerically stable softmax of each `cols`-wide row of `x` into `y`.
    fn softmax_rows<M>(x: &[f32], y: &mut [f32], cols: usize) {
        for (x, y) in x.chunks_exact(cols).zip(y.chunks_exact_mut(cols)) {
            let m = max_of(x);
            let inv = 1.0 / exp_shifted_sum_into::<M>(x, y, m);
            for v in y.iter_mut() {
                *v *= inv;
            }
        }
    }
}

multiversion! {
    /// RMSNorm of each `g.len()`-wide row of `x` into `y`.
    fn rmsnorm_rows<M>(x: &[f32], g: &[f32], y: &mut [f32]) {
        let cols = g.len();
        for (x, y) in x.chunks_exact(cols).zip(y.chunks_exact_mut(cols)) {
            rmsnorm_row::<M>(x, g, y);
        }
    }
}

multiversion! {
    /// `a = b + s * c`.
    fn triad<M>(a: &mut [f32], b: &[f32], c: &[f32], s: f32) {
        for ((a, b), c) in a.iter_mut().zip(b).zip(c) {
            *a = M::madd(s, *c, *b);
        }
    }
}

/// Positions per block of [`attention_partial`]: one block of K and of V (16 KiB each at head
/// dim 128) stays in L1 between the scores and the value pass.
const ATTENTION_BLOCK: usize = 32;

/// How many blocks ahead [`attention_partial`] asks the cache for K and V rows (into L2):
/// far enough that the memory system has rows in flight while a block computes.
const PREFETCH_BLOCKS: usize = 2;

/// Output dims per register tile of the value pass: two 256-bit vectors per query head, so
/// that the tile of four heads (8 vectors), the V row slice and the weight fit in 16 ymm.
const V_TILE: usize = 16;
const _: () = assert!(V_TILE == 16, "the value tiles are loaded with Elem::tile16");

/// Attention of the `q.len() / head_dim` query heads sharing one KV head, over the cached
/// positions `k.len() / head_dim` (a contiguous range of them). Writes, per query head,
/// `[max score, sum of exp(score - max), sum of exp(score - max) * v (head_dim)]` into
/// `partial`; `scores` is scratch of at least (query heads x ATTENTION_BLOCK). An f16 cache is
/// widened 16 values at a time in registers as it is read.
///
/// One pass over the cache, a block of positions at a time (online softmax): the block's
/// scores, then the running max and sums rescaled when the max grows, then the block's V
/// rows accumulated into register tiles of four query heads, so that each V row is read
/// once for the whole group and the partial sums are stored once per block, not per row.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn attention_body<M: Madd, T: Elem>(
    q: &[f32],
    k: &[T],
    v: &[T],
    head_dim: usize,
    scale: f32,
    scores: &mut [f32],
    partial: &mut [f32],
) {
    let group = q.len() / head_dim;
    let positions = k.len() / head_dim;
    let stride = head_dim + 2;
    let partial = &mut partial[..group * stride];
    for p in partial.chunks_exact_mut(stride) {
        p[0] = f32::NEG_INFINITY;
        p[1] = 0.0;
        p[2..].fill(0.0);
    }
    let q_row = |r: usize| &q[r * head_dim..(r + 1) * head_dim];
    let quads = group / 4;
    let mut start = 0;
    while start < positions {
        let tb = ATTENTION_BLOCK.min(positions - start);
        let kb = &k[start * head_dim..(start + tb) * head_dim];
        let vb = &v[start * head_dim..(start + tb) * head_dim];
        // Scores of the block, row r at scores[r * tb..]: each K row read once for the
        // group, four heads at a time.
        let sc = &mut scores[..group * tb];
        let ahead_pos = start + tb + (PREFETCH_BLOCKS - 1) * ATTENTION_BLOCK;
        let ahead = ahead_pos.min(positions) * head_dim
            ..(ahead_pos + ATTENTION_BLOCK).min(positions) * head_dim;
        let (k_next, v_next) = (&k[ahead.clone()], &v[ahead]);
        // Heads four at a time; a last one to three padded with repeats of the last head.
        let q_pad = |r: usize| q_row(r.min(group - 1));
        for (t, k_row) in kb.chunks_exact(head_dim).enumerate() {
            // The next block's rows, so that memory works while this block computes.
            prefetch_row(k_next.get(t * head_dim..(t + 1) * head_dim));
            prefetch_row(v_next.get(t * head_dim..(t + 1) * head_dim));
            for b in 0..quads {
                let r = 4 * b;
                let q4 = [q_row(r), q_row(r + 1), q_row(r + 2), q_row(r + 3)];
                let d = dot4_mixed::<M, f32, T>(q4, k_row);
                for (j, d) in d.into_iter().enumerate() {
                    sc[(r + j) * tb + t] = d * scale;
                }
            }
            if !group.is_multiple_of(4) {
                let r = 4 * quads;
                let q4 = [q_pad(r), q_pad(r + 1), q_pad(r + 2), q_pad(r + 3)];
                let d = dot4_mixed::<M, f32, T>(q4, k_row);
                for (j, d) in d.into_iter().enumerate().take(group - r) {
                    sc[(r + j) * tb + t] = d * scale;
                }
            }
        }
        // Online softmax: weights exp(s - m) under the new running max m.
        for (r, s) in sc.chunks_exact_mut(tb).enumerate() {
            let p = &mut partial[r * stride..(r + 1) * stride];
            let m = p[0].max(max_of(s));
            if p[0] != m && p[0] != f32::NEG_INFINITY {
                let c = (p[0] - m).exp();
                p[1] *= c;
                for x in &mut p[2..] {
                    *x *= c;
                }
            }
            p[0] = m;
            p[1] += exp_shifted_sum::<M>(s, m);
        }
        // Values.
        for b in 0..quads {
            accumulate_values::<M, T, 4>(
                &sc[4 * b * tb..],
                tb,
                vb,
                head_dim,
                &mut partial[4 * b * stride..],
            );
        }
        for r in 4 * quads..group {
            accumulate_values::<M, T, 1>(
                &sc[r * tb..],
                tb,
                vb,
                head_dim,
                &mut partial[r * stride..],
            );
        }
        start += tb;
    }
}

multiversion! {
    /// [`attention_body`] over an f32 KV cache.
    fn attention_partial<M>(
        q: &[f32],
        k: &[f32],
        v: &[f32],
        head_dim: usize,
        scale: f32,
        scores: &mut [f32],
        partial: &mut [f32],
    ) {
        attention_body::<M, f32>(q, k, v, head_dim, scale, scores, partial)
    }
}

multiversion! {
    /// [`attention_body`] over an f16 KV cache, widened a block at a time.
    fn attention_partial_f16<M>(
        q: &[f32],
        k: &[f16],
        v: &[f16],
        head_dim: usize,
        scale: f32,
        scores: &mut [f32],
        partial: &mut [f32],
    ) {
        attention_body::<M, f16>(q, k, v, head_dim, scale, scores, partial)
    }
}

/// Asks the cache to fetch every line of `row` (when present) into L2 without waiting for it.
#[inline(always)]
fn prefetch_row<T>(row: Option<&[T]>) {
    #[cfg(target_arch = "x86_64")]
    if let Some(row) = row {
        use std::arch::x86_64::{_MM_HINT_T1, _mm_prefetch};
        for line in row.chunks((64 / std::mem::size_of::<T>()).max(1)) {
            // SAFETY: prefetching is a hint that never faults; the address is inside `row`.
            unsafe { _mm_prefetch::<_MM_HINT_T1>(line.as_ptr().cast()) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = row;
}

/// `partial[r][2 + d] += sum over t of w[r * tb + t] * v[t][d]` for `R` query heads: tiles of
/// `V_TILE` dims x `R` heads held in registers across the block's `tb` rows.
#[inline(always)]
fn accumulate_values<M: Madd, T: Elem, const R: usize>(
    w: &[f32],
    tb: usize,
    v: &[T],
    head_dim: usize,
    partial: &mut [f32],
) {
    let stride = head_dim + 2;
    let full = head_dim / V_TILE * V_TILE;
    // Each head's weights as its own slice of exactly `tb`, so `ws[r][t]` needs no check.
    let ws: [&[f32]; R] = std::array::from_fn(|r| &w[r * tb..(r + 1) * tb]);
    let mut d0 = 0;
    while d0 < full {
        let mut acc = [[0.0f32; V_TILE]; R];
        for (r, a) in acc.iter_mut().enumerate() {
            a.copy_from_slice(&partial[r * stride + 2 + d0..r * stride + 2 + d0 + V_TILE]);
        }
        for (t, v_row) in v.chunks_exact(head_dim).take(tb).enumerate() {
            let x = T::tile16::<M>(&v_row[d0..d0 + V_TILE]);
            for (a, wr) in acc.iter_mut().zip(&ws) {
                let wt = wr[t];
                for j in 0..V_TILE {
                    a[j] = M::madd(wt, x[j], a[j]);
                }
            }
        }
        for (r, a) in acc.iter().enumerate() {
            partial[r * stride + 2 + d0..r * stride + 2 + d0 + V_TILE].copy_from_slice(a);
        }
        d0 += V_TILE;
    }
    if full < head_dim {
        for (t, v_row) in v.chunks_exact(head_dim).enumerate() {
            for r in 0..R {
                let p = &mut partial[r * stride + 2 + full..(r + 1) * stride];
                let wt = w[r * tb + t];
                for (y, x) in p.iter_mut().zip(&v_row[full..]) {
                    *y = M::madd(wt, x.to_f32(), *y);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Kernels.

/// How weights and caches are stored: f32, or f16 (widened to f32 for arithmetic; every sum
/// is accumulated in f32). The `gemm` crate multiplies both.
trait Elem: Copy + Send + Sync + 'static {
    const ZERO: Self;
    const ONE: Self;
    /// Narrower than f32: results are rounded to it when stored.
    const NARROW: bool;
    /// From an f32 input (already representable, see [`crate::reference::round_to_dtype`]).
    fn from_f32(x: f32) -> Self;
    fn to_f32(self) -> f32;
    /// `src[..16]` as f32, inside a multiversioned body (f16: two `widen8`).
    fn tile16<M: Madd>(src: &[Self]) -> [f32; 16];
    /// The same outside one (picks the copy for `isa`).
    fn widened<'a>(isa: Isa, src: &'a [Self], scratch: &'a mut [f32]) -> &'a [f32];
    fn gemv_rows(isa: Isa, w: &[Self], x: &[f32], residual: Option<&[f32]>, y: &mut [f32]);
    fn gate_up_rows(isa: Isa, w_gate: &[Self], w_up: &[Self], x: &[f32], act: &mut [f32]);
    #[allow(clippy::too_many_arguments)]
    fn attention_partial(
        isa: Isa,
        q: &[f32],
        k: &[Self],
        v: &[Self],
        head_dim: usize,
        scale: f32,
        scores: &mut [f32],
        partial: &mut [f32],
    );
}

impl Elem for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    const NARROW: bool = false;
    fn from_f32(x: f32) -> Self {
        x
    }
    fn to_f32(self) -> f32 {
        self
    }
    #[inline(always)]
    fn tile16<M: Madd>(src: &[f32]) -> [f32; 16] {
        src[..16].try_into().expect("16 values")
    }
    fn widened<'a>(_: Isa, src: &'a [f32], _: &'a mut [f32]) -> &'a [f32] {
        src
    }
    fn gemv_rows(isa: Isa, w: &[f32], x: &[f32], residual: Option<&[f32]>, y: &mut [f32]) {
        gemv_rows(isa, w, x, residual, y)
    }
    fn gate_up_rows(isa: Isa, w_gate: &[f32], w_up: &[f32], x: &[f32], act: &mut [f32]) {
        gate_up_rows(isa, w_gate, w_up, x, act)
    }
    fn attention_partial(
        isa: Isa,
        q: &[f32],
        k: &[f32],
        v: &[f32],
        head_dim: usize,
        scale: f32,
        scores: &mut [f32],
        partial: &mut [f32],
    ) {
        attention_partial(isa, q, k, v, head_dim, scale, scores, partial)
    }
}

impl Elem for f16 {
    const ZERO: Self = f16::ZERO;
    const ONE: Self = f16::ONE;
    const NARROW: bool = true;
    fn from_f32(x: f32) -> Self {
        f16::from_f32(x)
    }
    fn to_f32(self) -> f32 {
        f16::to_f32(self)
    }
    #[inline(always)]
    fn tile16<M: Madd>(src: &[f16]) -> [f32; 16] {
        let lo = M::widen8(src[..8].try_into().expect("8 halves"));
        let hi = M::widen8(src[8..16].try_into().expect("8 halves"));
        std::array::from_fn(|j| if j < 8 { lo[j] } else { hi[j - 8] })
    }
    fn widened<'a>(isa: Isa, src: &'a [f16], scratch: &'a mut [f32]) -> &'a [f32] {
        let dst = &mut scratch[..src.len()];
        widen_f16(isa, src, dst);
        dst
    }
    fn gemv_rows(isa: Isa, w: &[f16], x: &[f32], residual: Option<&[f32]>, y: &mut [f32]) {
        gemv_rows_f16(isa, w, x, residual, y)
    }
    fn gate_up_rows(isa: Isa, w_gate: &[f16], w_up: &[f16], x: &[f32], act: &mut [f32]) {
        gate_up_rows_f16(isa, w_gate, w_up, x, act)
    }
    fn attention_partial(
        isa: Isa,
        q: &[f32],
        k: &[f16],
        v: &[f16],
        head_dim: usize,
        scale: f32,
        scores: &mut [f32],
        partial: &mut [f32],
    ) {
        attention_partial_f16(isa, q, k, v, head_dim, scale, scores, partial)
    }
}

/// `dst[i] = src[i]` widened eight halves at a time through the copy's [`Madd::widen8`].
#[inline(always)]
fn widen_into<M: Madd>(src: &[f16], dst: &mut [f32]) {
    let mut s = src.chunks_exact(8);
    let mut d = dst.chunks_exact_mut(8);
    for (s, d) in (&mut s).zip(&mut d) {
        d.copy_from_slice(&M::widen8(s.try_into().expect("chunks_exact")));
    }
    for (s, d) in s.remainder().iter().zip(d.into_remainder()) {
        *d = s.to_f32();
    }
}

/// `C = A x B` through the `gemm` crate, threaded by it inside the backend's pool.
struct GemmKernel<T> {
    a: Vec<T>,
    b: Vec<T>,
    c: Vec<T>,
    m: usize,
    n: usize,
    k: usize,
}

impl<T: Elem> GemmKernel<T> {
    fn new(b: &[Vec<f32>], m: usize, n: usize, k: usize) -> Self {
        GemmKernel {
            a: to_elem(&b[0]),
            b: to_elem(&b[1]),
            c: vec![T::ZERO; m * n],
            m,
            n,
            k,
        }
    }
}

impl<T: Elem> CpuKernel for GemmKernel<T> {
    fn run(&mut self, ctx: Ctx<'_>) {
        let (m, n, k) = (self.m, self.n, self.k);
        let parallelism = if ctx.threads == 1 {
            gemm::Parallelism::None
        } else {
            gemm::Parallelism::Rayon(ctx.threads)
        };
        let (a, b, c) = (&self.a, &self.b, &mut self.c);
        ctx.pool.install(|| {
            // SAFETY: A is m x k, B is k x n and C is m x n, all row-major (column stride 1,
            // row stride = width) and owned here; C does not alias A or B. With
            // `read_dst = false` C is only written. T is f32 or f16 (`gemm::f16` is
            // `half::f16`), the element types the crate implements.
            unsafe {
                gemm::gemm(
                    m,
                    n,
                    k,
                    c.as_mut_ptr(),
                    1,
                    n as isize,
                    false,
                    a.as_ptr(),
                    1,
                    k as isize,
                    b.as_ptr(),
                    1,
                    n as isize,
                    T::ZERO,
                    T::ONE,
                    false,
                    false,
                    false,
                    parallelism,
                );
            }
        });
    }

    fn output(&self) -> Vec<f32> {
        self.c.iter().map(|x| x.to_f32()).collect()
    }
}

/// Decode GEMV `y = W x` (f32 accumulation; with f16, f16 weights, input and output), rows
/// split across the workers; weights rotated (module doc).
struct GemvKernel<T> {
    bufs: Rotation<(Vec<T>, Vec<T>)>,
    /// `x` widened per call (f16 only).
    x: Vec<f32>,
    y: Vec<f32>,
    /// `y` rounded to `T` when `T` is narrower than f32 (empty otherwise).
    out: Vec<T>,
}

impl<T: Elem> GemvKernel<T> {
    fn new(b: &[Vec<f32>], n: usize, k: usize, llc: usize) -> Self {
        let bytes = std::mem::size_of::<T>() * (n * k + k);
        GemvKernel {
            bufs: Rotation::new(
                (to_elem(&b[0]), to_elem(&b[1])),
                copies_to_defeat_cache(bytes, llc),
            ),
            x: vec![0.0; k],
            y: vec![0.0; n],
            out: vec![T::ZERO; if T::NARROW { n } else { 0 }],
        }
    }
}

impl<T: Elem> CpuKernel for GemvKernel<T> {
    fn run(&mut self, ctx: Ctx<'_>) {
        let (w, x) = self.bufs.advance();
        let x = T::widened(ctx.isa, x, &mut self.x);
        gemv(ctx, w, x, None, &mut self.y);
        for (o, y) in self.out.iter_mut().zip(&self.y) {
            *o = T::from_f32(*y);
        }
    }

    fn output(&self) -> Vec<f32> {
        if T::NARROW {
            self.out.iter().map(|x| x.to_f32()).collect()
        } else {
            self.y.clone()
        }
    }
}

/// `y = W x (+ residual)`, rows split across the pool.
fn gemv<T: Elem>(ctx: Ctx<'_>, w: &[T], x: &[f32], residual: Option<&[f32]>, y: &mut [f32]) {
    let k = x.len();
    // Whole blocks of four rows per task (gemv_rows' unit), at least 16 rows.
    let rows = task_len(y.len().div_ceil(4), ctx.threads, 4, 4);
    par_chunks(ctx, y, rows, |row0, y| {
        let w = &w[row0 * k..(row0 + y.len()) * k];
        let residual = residual.map(|r| &r[row0..row0 + y.len()]);
        T::gemv_rows(ctx.isa, w, x, residual, y);
    });
}

/// f32 inputs (already representable, see [`crate::reference::round_to_dtype`]) as `T`.
fn to_elem<T: Elem>(v: &[f32]) -> Vec<T> {
    v.iter().map(|&x| T::from_f32(x)).collect()
}

/// What a [`RowwiseKernel`] does to each row.
enum RowOp {
    Softmax,
    /// RMSNorm with this gain.
    RmsNorm(Vec<f32>),
}

/// Softmax or RMSNorm over each row of `[rows, cols]`, blocks of rows split across the pool.
struct RowwiseKernel {
    op: RowOp,
    x: Phased,
    y: Phased,
    rows: usize,
    cols: usize,
}

impl RowwiseKernel {
    fn new(op: RowOp, x: &[f32], rows: usize, cols: usize) -> Self {
        RowwiseKernel {
            op,
            x: Phased::new(x, PHASES[0]),
            y: Phased::zeros(rows * cols, PHASES[1]),
            rows,
            cols,
        }
    }
}

impl CpuKernel for RowwiseKernel {
    fn run(&mut self, ctx: Ctx<'_>) {
        let (op, x, cols) = (&self.op, self.x.as_slice(), self.cols);
        let chunk = task_len(self.rows, ctx.threads, 1, cols);
        par_chunks(ctx, self.y.as_mut_slice(), chunk, |i0, y| {
            let x = &x[i0..i0 + y.len()];
            match op {
                RowOp::Softmax => softmax_rows(ctx.isa, x, y, cols),
                RowOp::RmsNorm(g) => rmsnorm_rows(ctx.isa, x, g, y),
            }
        });
    }

    fn output(&self) -> Vec<f32> {
        self.y.as_slice().to_vec()
    }
}

struct TriadKernel {
    a: Phased,
    b: Phased,
    c: Phased,
}

impl TriadKernel {
    fn new(bufs: &[Vec<f32>]) -> Self {
        TriadKernel {
            a: Phased::zeros(bufs[0].len(), PHASES[0]),
            b: Phased::new(&bufs[0], PHASES[1]),
            c: Phased::new(&bufs[1], PHASES[2]),
        }
    }
}

impl CpuKernel for TriadKernel {
    fn run(&mut self, ctx: Ctx<'_>) {
        let (b, c) = (self.b.as_slice(), self.c.as_slice());
        let a = self.a.as_mut_slice();
        // Whole 4 KiB pages per task.
        let chunk = task_len(a.len().div_ceil(1024), ctx.threads, 1, 1024);
        par_chunks(ctx, a, chunk, |i0, a| {
            let r = i0..i0 + a.len();
            triad(ctx.isa, a, &b[r.clone()], &c[r], TRIAD_SCALAR);
        });
    }

    fn output(&self) -> Vec<f32> {
        self.a.as_slice().to_vec()
    }
}

/// Scratch and work split of decode attention, reused by the decode step.
///
/// Work items are (KV head, range of positions): each KV head's positions are split into
/// `splits` ranges when there are fewer KV heads than workers, and the partial results
/// (flash-decoding style: max, sum, unnormalised output) are merged afterwards.
#[derive(Clone)]
struct AttentionPlan {
    shape: AttentionShape,
    splits: usize,
    /// Positions per split (the last may have fewer).
    split_len: usize,
    /// `items x group x min(split_len, ATTENTION_BLOCK)`.
    scores: Vec<f32>,
    /// `items x group x (head_dim + 2)`.
    partials: Vec<f32>,
}

impl AttentionPlan {
    fn new(shape: AttentionShape, threads: usize) -> Self {
        let (kv_heads, ctx, group) = (
            shape.kv_heads as usize,
            shape.context as usize,
            (shape.q_heads / shape.kv_heads) as usize,
        );
        let hd = shape.head_dim as usize;
        let splits = threads.div_ceil(kv_heads).clamp(1, ctx.max(1));
        let split_len = ctx.div_ceil(splits);
        let items = kv_heads * splits;
        AttentionPlan {
            shape,
            splits,
            split_len,
            scores: vec![0.0; items * group * split_len.min(ATTENTION_BLOCK)],
            partials: vec![0.0; items * group * (hd + 2)],
        }
    }

    fn positions(&self, split: usize) -> Range<usize> {
        split_positions(split, self.split_len, self.shape.context as usize)
    }

    /// `out [q_heads x head_dim] = attention(q, K, V)`.
    fn run<T: Elem>(&mut self, ctx: Ctx<'_>, q: &[f32], k: &[T], v: &[T], out: &mut [f32]) {
        let hd = self.shape.head_dim as usize;
        let context = self.shape.context as usize;
        let group = (self.shape.q_heads / self.shape.kv_heads) as usize;
        let scale = 1.0 / (hd as f32).sqrt();
        let (splits, split_len) = (self.splits, self.split_len);
        let item = |i: usize, scores: &mut [f32], partial: &mut [f32]| {
            let (head, split) = (i / splits, i % splits);
            let pos = split_positions(split, split_len, context);
            let base = head * context * hd;
            let kv = base + pos.start * hd..base + pos.end * hd;
            T::attention_partial(
                ctx.isa,
                &q[head * group * hd..(head + 1) * group * hd],
                &k[kv.clone()],
                &v[kv],
                hd,
                scale,
                scores,
                partial,
            );
        };
        let score_stride = group * split_len.min(ATTENTION_BLOCK);
        let partial_stride = group * (hd + 2);
        let scores = &mut self.scores;
        let partials = &mut self.partials;
        let items = partials.len() / partial_stride;
        if items == 1 || ctx.threads == 1 {
            for (i, (s, p)) in scores
                .chunks_exact_mut(score_stride)
                .zip(partials.chunks_exact_mut(partial_stride))
                .enumerate()
            {
                item(i, s, p);
            }
        } else {
            ctx.pool.install(|| {
                scores
                    .par_chunks_exact_mut(score_stride)
                    .zip(partials.par_chunks_exact_mut(partial_stride))
                    .enumerate()
                    .for_each(|(i, (s, p))| item(i, s, p));
            });
        }
        self.merge(out);
    }

    /// Combine the splits of every query head into its normalised output.
    fn merge(&self, out: &mut [f32]) {
        let hd = self.shape.head_dim as usize;
        let group = (self.shape.q_heads / self.shape.kv_heads) as usize;
        let stride = hd + 2;
        for (h, o) in out.chunks_exact_mut(hd).enumerate() {
            let (head, r) = (h / group, h % group);
            let part = |s: usize| {
                let at = ((head * self.splits + s) * group + r) * stride;
                &self.partials[at..at + stride]
            };
            let m = (0..self.splits)
                .filter(|&s| !self.positions(s).is_empty())
                .map(|s| part(s)[0])
                .fold(f32::NEG_INFINITY, f32::max);
            o.fill(0.0);
            let mut l = 0.0f32;
            for s in (0..self.splits).filter(|&s| !self.positions(s).is_empty()) {
                let p = part(s);
                let w = (p[0] - m).exp();
                l += w * p[1];
                axpy::<BaselineMadd>(o, w, &p[2..]);
            }
            let inv = 1.0 / l;
            for x in o.iter_mut() {
                *x *= inv;
            }
        }
    }
}

/// Positions `[split * len, (split + 1) * len)` clipped to the context (possibly empty).
fn split_positions(split: usize, len: usize, context: usize) -> Range<usize> {
    (split * len).min(context)..((split + 1) * len).min(context)
}

/// Decode attention; KV caches rotated (module doc).
struct AttentionKernel<T> {
    q: Vec<f32>,
    caches: Rotation<(Vec<T>, Vec<T>)>,
    plan: AttentionPlan,
    out: Vec<f32>,
}

impl<T: Elem> AttentionKernel<T> {
    fn new(b: &[Vec<f32>], shape: &AttentionShape, threads: usize, llc: usize) -> Self {
        let bytes = std::mem::size_of::<T>() * (b[1].len() + b[2].len());
        AttentionKernel {
            q: b[0].clone(),
            caches: Rotation::new(
                (to_elem(&b[1]), to_elem(&b[2])),
                copies_to_defeat_cache(bytes, llc),
            ),
            plan: AttentionPlan::new(*shape, threads),
            out: vec![0.0; b[0].len()],
        }
    }
}

impl<T: Elem> CpuKernel for AttentionKernel<T> {
    fn run(&mut self, ctx: Ctx<'_>) {
        let (k, v) = self.caches.advance();
        self.plan.run(ctx, &self.q, k, v, &mut self.out);
    }

    fn output(&self) -> Vec<f32> {
        self.out.clone()
    }
}

/// One layer's weights and KV cache, in the order of [`crate::reference::inputs`].
/// The norm gains stay f32 (a few KiB); matrices and caches are stored as `T`.
#[derive(Clone)]
struct LayerWeights<T> {
    attn_norm: Vec<f32>,
    w_qkv: Vec<T>,
    k_cache: Vec<T>,
    v_cache: Vec<T>,
    w_o: Vec<T>,
    mlp_norm: Vec<f32>,
    w_gate: Vec<T>,
    w_up: Vec<T>,
    w_down: Vec<T>,
}

/// One Llama-style decode layer for one token; weights and caches rotated (module doc).
struct DecodeStepKernel<T> {
    x: Vec<f32>,
    layers: Rotation<LayerWeights<T>>,
    model: ModelShape,
    context: usize,
    attention: AttentionPlan,
    xn: Vec<f32>,
    qkv: Vec<f32>,
    attn: Vec<f32>,
    o: Vec<f32>,
    hn: Vec<f32>,
    act: Vec<f32>,
    out: Vec<f32>,
}

impl<T: Elem> DecodeStepKernel<T> {
    fn new(b: &[Vec<f32>], model: &ModelShape, context: usize, threads: usize, llc: usize) -> Self {
        let layer = LayerWeights {
            attn_norm: b[1].clone(),
            w_qkv: to_elem(&b[2]),
            k_cache: to_elem(&b[3]),
            v_cache: to_elem(&b[4]),
            w_o: to_elem(&b[5]),
            mlp_norm: b[6].clone(),
            w_gate: to_elem(&b[7]),
            w_up: to_elem(&b[8]),
            w_down: to_elem(&b[9]),
        };
        let bytes = std::mem::size_of::<T>() * b[1..].iter().map(Vec::len).sum::<usize>();
        let h = model.hidden as usize;
        let attn_width = (model.q_heads * model.head_dim) as usize;
        let shape = AttentionShape {
            context: context as u64,
            q_heads: model.q_heads,
            kv_heads: model.kv_heads,
            head_dim: model.head_dim,
        };
        DecodeStepKernel {
            x: b[0].clone(),
            layers: Rotation::new(layer, copies_to_defeat_cache(bytes, llc)),
            model: model.clone(),
            context,
            attention: AttentionPlan::new(shape, threads),
            xn: vec![0.0; h],
            qkv: vec![0.0; model.qkv_width() as usize],
            attn: vec![0.0; attn_width],
            o: vec![0.0; h],
            hn: vec![0.0; h],
            act: vec![0.0; model.ffn as usize],
            out: vec![0.0; h],
        }
    }
}

impl<T: Elem> CpuKernel for DecodeStepKernel<T> {
    fn run(&mut self, ctx: Ctx<'_>) {
        let lw = self.layers.advance();
        let hd = self.model.head_dim as usize;
        let q_width = self.model.q_heads as usize * hd;
        let kv_width = self.model.kv_heads as usize * hd;

        rmsnorm_rows(ctx.isa, &self.x, &lw.attn_norm, &mut self.xn);
        gemv(ctx, &lw.w_qkv, &self.xn, None, &mut self.qkv);

        // The new token's K and V go to position context - 1 of every KV head.
        let (q, kv) = self.qkv.split_at(q_width);
        let (k_new, v_new) = kv.split_at(kv_width);
        let last = self.context - 1;
        for head in 0..self.model.kv_heads as usize {
            let at = (head * self.context + last) * hd;
            let new = head * hd..(head + 1) * hd;
            for (dst, src) in [
                (&mut lw.k_cache, &k_new[new.clone()]),
                (&mut lw.v_cache, &v_new[new]),
            ] {
                for (d, s) in dst[at..at + hd].iter_mut().zip(src) {
                    *d = T::from_f32(*s);
                }
            }
        }
        self.attention
            .run(ctx, q, &lw.k_cache, &lw.v_cache, &mut self.attn);

        gemv(ctx, &lw.w_o, &self.attn, Some(&self.x), &mut self.o);
        rmsnorm_rows(ctx.isa, &self.o, &lw.mlp_norm, &mut self.hn);

        let (w_gate, w_up, hn) = (&lw.w_gate, &lw.w_up, &self.hn);
        let h = hn.len();
        // Whole pairs of rows per task (gate_up_rows' unit), at least 16 rows.
        let rows = task_len(self.act.len().div_ceil(2), ctx.threads, 8, 2);
        par_chunks(ctx, &mut self.act, rows, |row0, act| {
            let r = row0 * h..(row0 + act.len()) * h;
            T::gate_up_rows(ctx.isa, &w_gate[r.clone()], &w_up[r], hn, act);
        });
        gemv(ctx, &lw.w_down, &self.act, Some(&self.o), &mut self.out);
    }

    fn output(&self) -> Vec<f32> {
        self.out.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_approx_is_within_a_few_ulp() {
        fn check<M: Madd>() {
            let mut x = -87.0f32;
            while x < 88.0 {
                let want = (x as f64).exp();
                let got = exp_approx::<M>(x) as f64;
                assert!(
                    ((got - want) / want).abs() < 4e-7,
                    "exp({x}) = {got}, want {want}"
                );
                x += 0.0137;
            }
            assert!(exp_approx::<M>(-1000.0) < 1e-37);
        }
        check::<Unfused>();
        check::<Fused>();
    }

    #[test]
    fn cache_sizes_parse_as_sysfs_writes_them() {
        assert_eq!(parse_cache_size("32768K"), Some(32 << 20));
        assert_eq!(parse_cache_size("1M"), Some(1 << 20));
        assert_eq!(parse_cache_size("512"), Some(512));
        assert_eq!(parse_cache_size("x"), None);
    }

    #[test]
    fn phased_buffers_start_at_their_phase_and_hold_their_values() {
        let src: Vec<f32> = (0..100_000).map(|i| i as f32).collect();
        for phase in PHASES {
            let p = Phased::new(&src, phase);
            assert_eq!(p.as_slice().as_ptr() as usize % 4096, phase);
            assert_eq!(p.as_slice(), &src[..]);
        }
        let mut z = Phased::zeros(5, PHASES[2]);
        z.as_mut_slice()[4] = 1.0;
        assert_eq!(z.as_slice(), &[0.0, 0.0, 0.0, 0.0, 1.0]);
    }

    #[test]
    fn copies_cover_twice_the_cache_within_bounds() {
        assert_eq!(copies_to_defeat_cache(64 << 20, 32 << 20), 1);
        assert_eq!(copies_to_defeat_cache(8 << 20, 32 << 20), 8);
        assert_eq!(copies_to_defeat_cache(12, 32 << 20), MAX_COPIES);
        assert_eq!(copies_to_defeat_cache(0, 32 << 20), MAX_COPIES);
    }

    #[test]
    fn peak_estimate_says_how() {
        let (peak, how) = estimated_peak_gflops(2);
        if let Some(p) = peak {
            assert!(p > 0.0);
            assert!(how.contains("2 threads x"), "{how}");
            assert!(how.contains("FLOP/cycle"), "{how}");
        }
    }

    #[test]
    fn attention_split_merge_matches_one_split() {
        // Same inputs through 1 and 3 splits per KV head must agree.
        let shape = AttentionShape {
            context: 37,
            q_heads: 4,
            kv_heads: 2,
            head_dim: 8,
        };
        let pool = ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let ctx = Ctx {
            pool: &pool,
            isa: Isa::detect(),
            threads: 1,
        };
        let mut rng = crate::reference::SplitMix64::new(7);
        let mut gen_buf = |n: usize| (0..n).map(|_| rng.uniform()).collect::<Vec<f32>>();
        let q = gen_buf(32);
        let k = gen_buf(2 * 37 * 8);
        let v = gen_buf(2 * 37 * 8);
        let mut one = vec![0.0; 32];
        let mut three = vec![0.0; 32];
        AttentionPlan::new(shape, 1).run(ctx, &q, &k, &v, &mut one);
        AttentionPlan::new(shape, 6).run(ctx, &q, &k, &v, &mut three);
        for (a, b) in one.iter().zip(&three) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
    }

    #[test]
    fn attention_baseline_and_detected_copies_agree() {
        // The baseline copy (no AVX2/FMA; its own horizontal sums and f16 widening) is what
        // machines without AVX2 run: it must give the detected copy's answer, for f32 and f16
        // caches; and the f16 cache must give the f32 answer for the same (f16-representable)
        // values. Odd shapes: a group of 6 (a tile of four heads and two single heads), head
        // dim 72 (tiles and a remainder), 70 positions (two full blocks and a short one).
        let (group, hd, positions) = (6usize, 72usize, 70usize);
        let mut rng = crate::reference::SplitMix64::new(11);
        let mut gen_buf = |n: usize| {
            let mut v: Vec<f32> = (0..n).map(|_| rng.uniform()).collect();
            crate::reference::round_to_dtype(&mut v, Dtype::F16);
            v
        };
        let q = gen_buf(group * hd);
        let k = gen_buf(positions * hd);
        let v = gen_buf(positions * hd);
        fn run<T: Elem>(
            isa: Isa,
            q: &[f32],
            k: &[f32],
            v: &[f32],
            group: usize,
            hd: usize,
        ) -> Vec<f32> {
            let mut scores = vec![0.0; group * ATTENTION_BLOCK];
            let mut partial = vec![0.0; group * (hd + 2)];
            let (k, v): (Vec<T>, Vec<T>) = (to_elem(k), to_elem(v));
            T::attention_partial(isa, q, &k, &v, hd, 0.3, &mut scores, &mut partial);
            partial
        }
        let want = run::<f32>(Isa::Baseline, &q, &k, &v, group, hd);
        for got in [
            run::<f32>(Isa::detect(), &q, &k, &v, group, hd),
            run::<f16>(Isa::Baseline, &q, &k, &v, group, hd),
            run::<f16>(Isa::detect(), &q, &k, &v, group, hd),
        ] {
            for (a, b) in want.iter().zip(&got) {
                assert!((a - b).abs() <= 1e-5 * a.abs().max(1.0), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn f16_gemv_baseline_and_detected_copies_agree() {
        // The baseline copy widens halves in software, the AVX2 copy with F16C.
        let (n, k) = (7usize, 37usize);
        let mut rng = crate::reference::SplitMix64::new(12);
        let w: Vec<f16> = (0..n * k).map(|_| f16::from_f32(rng.uniform())).collect();
        let x: Vec<f32> = (0..k).map(|_| rng.uniform()).collect();
        let residual: Vec<f32> = (0..n).map(|_| rng.uniform()).collect();
        let run = |isa: Isa| {
            let mut y = vec![0.0f32; n];
            gemv_rows_f16(isa, &w, &x, Some(&residual), &mut y);
            y
        };
        let want: Vec<f32> = (0..n)
            .map(|i| {
                let dot: f64 = (0..k)
                    .map(|j| w[i * k + j].to_f32() as f64 * x[j] as f64)
                    .sum();
                (dot + residual[i] as f64) as f32
            })
            .collect();
        for y in [run(Isa::Baseline), run(Isa::detect())] {
            for (a, b) in y.iter().zip(&want) {
                assert!((a - b).abs() <= 1e-5 * b.abs().max(1.0), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn online_softmax_rescales_when_a_later_block_holds_the_max() {
        // Scores rise with the position by far more than exp can absorb without rescaling
        // (0.5 per position, 50 over a 100-position context, spanning four blocks): the
        // weights must come out as the exact softmax of the whole row.
        let (positions, hd) = (100usize, 4usize);
        let q = vec![1.0f32; hd];
        let k: Vec<f32> = (0..positions)
            .flat_map(|t| std::iter::repeat_n(t as f32 / hd as f32, hd))
            .collect();
        let v: Vec<f32> = (0..positions)
            .flat_map(|t| std::iter::repeat_n(t as f32, hd))
            .collect();
        let mut scores = vec![0.0; ATTENTION_BLOCK];
        let mut partial = vec![0.0; hd + 2];
        attention_partial(
            Isa::detect(),
            &q,
            &k,
            &v,
            hd,
            0.5,
            &mut scores,
            &mut partial,
        );
        let s: Vec<f64> = (0..positions).map(|t| 0.5 * t as f64).collect();
        let m = s.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let l: f64 = s.iter().map(|x| (x - m).exp()).sum();
        let want: f64 = s
            .iter()
            .enumerate()
            .map(|(t, x)| (x - m).exp() * t as f64)
            .sum::<f64>()
            / l;
        assert_eq!(partial[0], m as f32);
        assert!(
            ((partial[1] as f64) - l).abs() < 1e-4 * l,
            "{} vs {l}",
            partial[1]
        );
        for d in 0..hd {
            let got = (partial[2 + d] / partial[1]) as f64;
            assert!((got - want).abs() < 1e-4 * want, "{got} vs {want}");
        }
    }
}
