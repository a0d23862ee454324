//! Measured peaks of the CPU: a sustained FMA loop on every worker (FLOP/s, and the all-core
//! clock it implies), and read, copy and triad bandwidth probes over arrays far larger than the
//! last-level cache, best of several repetitions, write-allocate traffic counted.

use std::time::Instant;

use rayon::ThreadPool;
use rayon::prelude::*;

/// A measured figure and how it was measured, in words.
#[derive(Debug, Clone)]
pub struct Probe {
    pub value: f64,
    pub how: String,
}

/// Repetitions of each probe; the best is kept (an interruption only lowers a repetition).
const REPS: usize = 5;

/// FLOP per call of [`fma_block`] per worker: `ACC` vectors of `lanes` f32, 2 FLOP per FMA.
const ACC: usize = 12;

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn fma_avx512(iters: u64) -> f32 {
    use std::arch::x86_64::*;
    let a = _mm512_set1_ps(0.999_999);
    let b = _mm512_set1_ps(1e-7);
    let mut acc = [_mm512_set1_ps(1.0); ACC];
    for _ in 0..iters {
        for x in acc.iter_mut() {
            *x = _mm512_fmadd_ps(*x, a, b);
        }
    }
    let mut s = _mm512_setzero_ps();
    for x in acc {
        s = _mm512_add_ps(s, x);
    }
    _mm512_reduce_add_ps(s)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn fma_avx2(iters: u64) -> f32 {
    use std::arch::x86_64::*;
    let a = _mm256_set1_ps(0.999_999);
    let b = _mm256_set1_ps(1e-7);
    let mut acc = [_mm256_set1_ps(1.0); ACC];
    for _ in 0..iters {
        for x in acc.iter_mut() {
            *x = _mm256_fmadd_ps(*x, a, b);
        }
    }
    let mut s = [0.0f32; 8];
    for x in acc {
        let mut v = [0.0f32; 8];
        // SAFETY: `v` holds 8 f32, the width of one __m256.
        unsafe { _mm256_storeu_ps(v.as_mut_ptr(), x) };
        for (s, v) in s.iter_mut().zip(v) {
            *s += v;
        }
    }
    s.iter().sum()
}

/// One worker's FMA loop: `iters` rounds of [`ACC`] independent vector FMAs.
type FmaLoop = fn(u64) -> f32;

/// The widest FMA this CPU has: (loop, f32 lanes, its name), if any.
fn fma_block() -> Option<(FmaLoop, u64, &'static str)> {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F (checked on the line above).
            return Some((|n| unsafe { fma_avx512(n) }, 16, "AVX-512"));
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU has AVX2 and FMA (checked on the line above).
            return Some((|n| unsafe { fma_avx2(n) }, 8, "AVX2+FMA"));
        }
    }
    None
}

/// f32 GFLOP/s of every worker of `pool` running independent FMA chains at once for about
/// 50 ms, best of [`REPS`]; `None` where this build has no FMA loop for the CPU.
pub fn fma_gflops(pool: &ThreadPool) -> Option<Probe> {
    let (block, lanes, isa) = fma_block()?;
    let threads = pool.current_num_threads();
    // Size one call to ~50 ms at 4 GHz x 1 FMA/cycle, after a short warm-up.
    let iters: u64 = 20_000_000 / ACC as u64;
    let flops_per_call = iters * ACC as u64 * lanes * 2;
    pool.broadcast(|_| std::hint::black_box(block(iters / 10)));
    let mut best = 0.0f64;
    for _ in 0..REPS {
        let start = Instant::now();
        let sums: Vec<f32> = pool.broadcast(|_| block(iters));
        let secs = start.elapsed().as_secs_f64();
        std::hint::black_box(sums);
        best = best.max(threads as f64 * flops_per_call as f64 / secs / 1e9);
    }
    (best.is_finite() && best > 0.0).then(|| Probe {
        value: best,
        how: format!(
            "measured: {threads} workers each running {ACC} independent {isa} FMA chains at once, best of {REPS}"
        ),
    })
}

/// Bytes of each probe array: four times the last-level cache, at least 128 MiB.
fn probe_len(llc_bytes: usize) -> usize {
    (4 * llc_bytes).max(128 << 20) / std::mem::size_of::<f32>()
}

/// Best of [`REPS`] runs of `f`, seconds.
fn best_secs(mut f: impl FnMut()) -> f64 {
    (0..REPS)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

const CHUNK: usize = 1 << 16;

/// Memory bandwidth of `pool`'s workers: read, copy and triad over arrays of four times the
/// last-level cache (at least 128 MiB each). Copy and triad count the write-allocate read of
/// each destination line (their stores are ordinary, not streaming). The best of the three.
pub fn bandwidth_gbps(pool: &ThreadPool, llc_bytes: usize) -> Probe {
    let n = probe_len(llc_bytes);
    let bytes = (n * 4) as f64;
    let (mut a, mut b, mut c) = (vec![1.0f32; n], vec![2.0f32; n], vec![0.5f32; n]);
    let (read, copy, triad) = pool.install(|| {
        let read = best_secs(|| {
            let s: f32 = b
                .par_chunks(CHUNK)
                .map(|ch| {
                    let mut acc = [0.0f32; 16];
                    for v in ch.chunks_exact(16) {
                        for (a, x) in acc.iter_mut().zip(v) {
                            *a += x;
                        }
                    }
                    acc.iter().sum::<f32>()
                })
                .sum();
            std::hint::black_box(s);
        });
        let copy = best_secs(|| {
            a.par_chunks_mut(CHUNK)
                .zip(b.par_chunks(CHUNK))
                .for_each(|(d, s)| {
                    // `+ 0.0` is not an identity for -0.0, so this stays a loop of ordinary
                    // stores rather than a memcpy that may switch to streaming stores.
                    for (d, s) in d.iter_mut().zip(s) {
                        *d = s + 0.0;
                    }
                });
        });
        let triad = best_secs(|| {
            a.par_chunks_mut(CHUNK)
                .zip(b.par_chunks(CHUNK).zip(c.par_chunks(CHUNK)))
                .for_each(|(d, (x, y))| {
                    for ((d, x), y) in d.iter_mut().zip(x).zip(y) {
                        *d = x + 3.0 * y;
                    }
                });
        });
        (read, copy, triad)
    });
    std::hint::black_box((&mut a, &mut b, &mut c));
    let read = bytes / read / 1e9;
    let copy = 3.0 * bytes / copy / 1e9;
    let triad = 4.0 * bytes / triad / 1e9;
    let best = read.max(copy).max(triad);
    Probe {
        value: best,
        how: format!(
            "measured: best of read {read:.1}, copy {copy:.1} and triad {triad:.1} GB/s (copy and triad count write-allocate bytes: 3 and 4 array passes), each best of {REPS} over {} MiB arrays, {} workers",
            (n * 4) >> 20,
            pool.current_num_threads()
        ),
    }
}
