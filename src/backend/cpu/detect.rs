//! CPU detection: SIMD features, the peak-FLOP estimate (measured clock), cache sizes and how many
//! buffer copies defeat the last-level cache.

#[cfg(target_arch = "x86_64")]
use std::time::Instant;

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

/// Specification-derived peak f32 GFLOP/s for `threads` workers, and how it was derived, in
/// words: physical cores in use (SMT threads share a core's FMA units, so never more than the
/// physical cores) x the specified clock x f32 FLOP per cycle of the widest FMA and the number
/// of FMA pipes such cores have. The clock is the CPU's maximum from cpufreq when the OS gives
/// it, else the nominal clock (in the CPU's name, or as the OS reports it; boost not counted).
/// The measured peak (an FMA loop on every worker) is `probes::fma_gflops`; a row's percentage
/// is taken against the higher of the two.
pub fn estimated_peak_gflops(threads: usize) -> (Option<f64>, String) {
    let (flop_per_cycle, unit) = f32_flop_per_cycle();
    let cores = sysinfo::System::physical_core_count()
        .unwrap_or(threads)
        .max(1);
    let units = threads.min(cores).max(1);
    let one_core = measured_clock_ghz().map_or_else(String::new, |g| {
        format!("; a dependent add chain measured one core at {g:.2} GHz")
    });
    let Some((ghz, source)) = spec_clock_ghz() else {
        return (
            None,
            format!("not derived: the specified CPU clock is unknown ({unit}){one_core}"),
        );
    };
    let peak = units as f64 * ghz * flop_per_cycle as f64;
    (
        Some(peak),
        format!(
            "{units} physical core(s) used by {threads} worker(s) ({cores} in the machine) x {ghz:.2} GHz ({source}) x {flop_per_cycle} f32 FLOP/cycle ({unit}){one_core}"
        ),
    )
}

/// The CPU's specified clock in GHz and where it came from.
fn spec_clock_ghz() -> Option<(f64, &'static str)> {
    let max_khz = std::fs::read_to_string("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")
        .ok()
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|&k| k > 0.0);
    if let Some(k) = max_khz {
        return Some((k / 1e6, "maximum clock, cpufreq"));
    }
    let brand = sysinfo::System::new()
        .ok()
        .and_then(|mut sys| {
            sys.refresh_cpu_all();
            sys.cpus().first().map(|c| c.brand().to_string())
        })
        .unwrap_or_default();
    if let Some(g) = nominal_ghz_in_name(&brand) {
        return Some((g, "nominal clock in the CPU's name, boost not counted"));
    }
    crate::env::cpu_frequency_mhz()
        .map(|m| (m as f64 / 1000.0, "clock the OS reports, boost not counted"))
}

/// `2.30` from `Intel(R) Xeon(R) CPU @ 2.30GHz`.
pub(super) fn nominal_ghz_in_name(name: &str) -> Option<f64> {
    let at = name.rfind('@')?;
    let rest = name[at + 1..].trim();
    let num = rest
        .strip_suffix("GHz")
        .or_else(|| rest.strip_suffix("GHZ"))?;
    num.trim().parse::<f64>().ok().filter(|g| *g > 0.0)
}

/// Clock of this core in GHz, from a chain of dependent adds (one per cycle on every x86 core
/// of the last 20 years). Best of a few short runs, so an interruption does not lower it.
#[cfg(target_arch = "x86_64")]
pub(super) fn measured_clock_ghz() -> Option<f64> {
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
pub(super) fn measured_clock_ghz() -> Option<f64> {
    None
}

/// f32 FLOP per cycle per core, and why, from the detected instruction set.
pub(super) fn f32_flop_per_cycle() -> (u32, String) {
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
pub(super) fn x86_vendor_family() -> (String, u32) {
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
pub(super) const ASSUMED_LLC_BYTES: usize = 64 << 20;

/// Size of the largest cache level of CPU 0 (Linux sysfs), if known.
pub(super) fn last_level_cache_bytes() -> Option<usize> {
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
pub(super) fn parse_cache_size(s: &str) -> Option<usize> {
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
pub(super) const MAX_COPIES: usize = 64;

/// How many copies of `bytes` of weights make one pass over all of them at least twice the
/// last-level cache, so that each invocation reads its copy from memory, not from cache.
pub fn copies_to_defeat_cache(bytes: usize, llc_bytes: usize) -> usize {
    (2 * llc_bytes).div_ceil(bytes.max(1)).clamp(1, MAX_COPIES)
}
