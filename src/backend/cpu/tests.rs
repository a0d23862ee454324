//! Unit tests of the CPU kernels' parts: exp accuracy, cache parsing, buffers, attention split.

use half::f16;
use rayon::ThreadPoolBuilder;

use super::attention::{ATTENTION_BLOCK, AttentionElem, AttentionPlan, attention_partial};
use super::detect::{
    MAX_COPIES, copies_to_defeat_cache, estimated_peak_gflops, nominal_ghz_in_name,
    parse_cache_size,
};
use super::elem::to_elem;
use super::exec::{Ctx, PHASES, Phased};
use super::gemv::gemv_rows_f16;
use super::math::exp_approx;
#[cfg(target_arch = "x86_64")]
use super::simd::{Avx2Fma, Fused};
use super::simd::{Isa, Madd, Unfused};
use crate::workload::{AttentionShape, Dtype};

#[test]
fn exp_approx_is_within_a_few_ulp() {
    fn check<M: Madd>(mc: M) {
        let mut x = -87.0f32;
        while x < 88.0 {
            let want = (x as f64).exp();
            let got = exp_approx(mc, x) as f64;
            assert!(
                ((got - want) / want).abs() < 4e-7,
                "exp({x}) = {got}, want {want}"
            );
            x += 0.0137;
        }
        assert!(exp_approx(mc, -1000.0) < 1e-37);
    }
    check(Unfused);
    #[cfg(target_arch = "x86_64")]
    if let Some(token) = Avx2Fma::detect() {
        check(Fused::new(token));
    }
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
fn the_nominal_clock_is_read_from_the_cpu_name() {
    assert_eq!(
        nominal_ghz_in_name("Intel(R) Xeon(R) CPU @ 2.30GHz"),
        Some(2.3)
    );
    assert_eq!(nominal_ghz_in_name("AMD EPYC 9R14 96-Core Processor"), None);
}

#[test]
fn peak_estimate_says_how() {
    let (peak, how) = estimated_peak_gflops(2);
    if let Some(p) = peak {
        assert!(p > 0.0);
        assert!(how.contains("used by 2 worker(s)"), "{how}");
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
    fn run<T: AttentionElem>(
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
