//! Pure statistical functions on samples, used by `compare`.
//!
//! Owns the Hodges-Lehmann estimate of the shift between two samples and its distribution-free
//! confidence interval (the inversion of the Mann-Whitney rank test). No I/O, no results
//! types: slices of numbers in, numbers out.

/// Two-sided 95% standard normal quantile, z(0.975).
pub const Z_95: f64 = 1.959_963_984_540_054;

/// Estimate and confidence interval of the shift `y - x` between two samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shift {
    /// Hodges-Lehmann estimate: the median of all pairwise differences `y_j - x_i`.
    pub estimate: f64,
    /// Lower bound of the confidence interval.
    pub low: f64,
    /// Upper bound of the confidence interval.
    pub high: f64,
}

/// Hodges-Lehmann shift `y - x` with a confidence interval at normal quantile `z`
/// (use [`Z_95`] for 95%).
///
/// The interval is the inversion of the two-sided Mann-Whitney test: the order statistics
/// `K + 1` and `nm - K` of the `nm` pairwise differences, with
/// `K = floor(nm/2 - z sqrt(nm(n+m+1)/12))` (normal approximation without tie correction,
/// which makes it slightly conservative when samples are tied, as quantized timings are).
/// It covers the true shift with the stated probability when both samples are independent
/// draws from distributions that differ only by a shift. With very few samples (`K < 0`) it
/// is the full range of the pairwise differences.
///
/// Requires both slices sorted ascending, non-empty and free of NaN. Cost is
/// O((n + m) log(range/precision)), never O(nm) memory, so histograms of 10^5 samples are fine.
pub fn hodges_lehmann(x_sorted: &[f64], y_sorted: &[f64], z: f64) -> Shift {
    assert!(
        !x_sorted.is_empty() && !y_sorted.is_empty(),
        "hodges_lehmann needs at least one sample on each side"
    );
    let n = x_sorted.len() as u64;
    let m = y_sorted.len() as u64;
    let nm = n * m;
    let estimate = if nm % 2 == 1 {
        kth_pairwise_difference(x_sorted, y_sorted, nm.div_ceil(2))
    } else {
        0.5 * (kth_pairwise_difference(x_sorted, y_sorted, nm / 2)
            + kth_pairwise_difference(x_sorted, y_sorted, nm / 2 + 1))
    };
    let (nf, mf) = (n as f64, m as f64);
    let sd = (nf * mf * (nf + mf + 1.0) / 12.0).sqrt();
    let k = (nf * mf / 2.0 - z * sd).floor();
    let k = if k < 0.0 { 0 } else { k as u64 };
    let low = kth_pairwise_difference(x_sorted, y_sorted, k + 1);
    let high = kth_pairwise_difference(x_sorted, y_sorted, nm - k);
    Shift {
        estimate,
        low,
        high,
    }
}

/// Number of pairwise differences `y_j - x_i` that are `<= d`. Both slices sorted ascending.
fn count_at_most(x_sorted: &[f64], y_sorted: &[f64], d: f64) -> u64 {
    // `y - x` is monotone in both (rounding preserves order), so as x_i grows the count of
    // y_j with y_j - x_i <= d only moves forward.
    let mut j = 0usize;
    let mut total = 0u64;
    for &x in x_sorted {
        while j < y_sorted.len() && y_sorted[j] - x <= d {
            j += 1;
        }
        total += j as u64;
    }
    total
}

/// Smallest pairwise difference `y_j - x_i` strictly above `d`, if any.
fn smallest_above(x_sorted: &[f64], y_sorted: &[f64], d: f64) -> Option<f64> {
    let mut best: Option<f64> = None;
    let mut j = 0usize;
    for &x in x_sorted {
        while j < y_sorted.len() && y_sorted[j] - x <= d {
            j += 1;
        }
        if j < y_sorted.len() {
            let v = y_sorted[j] - x;
            best = Some(best.map_or(v, |b: f64| b.min(v)));
        }
    }
    best
}

/// The `k`-th smallest (1-based) of the `n m` pairwise differences `y_j - x_i`, found by
/// bisection on the value with an O(n + m) count per step, then stepping to the exact
/// difference, so ties and quantized values come back exactly.
///
/// Requires both slices sorted ascending and non-empty, and `1 <= k <= n m`.
pub fn kth_pairwise_difference(x_sorted: &[f64], y_sorted: &[f64], k: u64) -> f64 {
    let nm = x_sorted.len() as u64 * y_sorted.len() as u64;
    assert!(k >= 1 && k <= nm, "k must be in 1..=n*m");
    let mut lo = y_sorted[0] - x_sorted[x_sorted.len() - 1];
    let mut hi = y_sorted[y_sorted.len() - 1] - x_sorted[0];
    if count_at_most(x_sorted, y_sorted, lo) >= k {
        return lo;
    }
    // Invariant: count(lo) < k <= count(hi).
    loop {
        for _ in 0..64 {
            let mid = lo + (hi - lo) / 2.0;
            if mid <= lo || mid >= hi {
                break;
            }
            if count_at_most(x_sorted, y_sorted, mid) >= k {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        // The next actual difference above `lo` is the answer when it already reaches rank k;
        // otherwise it becomes the new lower end (strictly larger, so this terminates).
        match smallest_above(x_sorted, y_sorted, lo) {
            Some(c) if count_at_most(x_sorted, y_sorted, c) >= k => return c,
            Some(c) => lo = c,
            None => return hi,
        }
    }
}

/// Sorted natural logarithms of positive samples (non-positive values are clamped to the
/// smallest positive time, 1 ns, since a timing cannot be zero).
pub fn sorted_logs(samples: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = samples.iter().map(|&s| s.max(1.0).ln()).collect();
    v.sort_by(|a, b| a.total_cmp(b));
    v
}

/// Relative change in latency from `x` (baseline) to `y` (candidate), as a fraction
/// (`0.10` = 10% slower), with its confidence interval: the Hodges-Lehmann shift of the
/// log-latencies, exponentiated. For a pure multiplicative slowdown this is the ratio of the
/// medians minus one. Samples in any order, positive, at least one on each side.
pub fn relative_change(x: &[f64], y: &[f64], z: f64) -> Shift {
    let s = hodges_lehmann(&sorted_logs(x), &sorted_logs(y), z);
    Shift {
        estimate: s.estimate.exp_m1(),
        low: s.low.exp_m1(),
        high: s.high.exp_m1(),
    }
}

/// Quantile function of the standard normal distribution (Acklam's rational approximation,
/// relative error below 1.2e-9), for `p` in (0, 1).
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let p = p.clamp(1e-300, 1.0 - 1e-16);
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.02425 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.02425 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_quantile_matches_known_values() {
        assert!((normal_quantile(0.975) - Z_95).abs() < 1e-8);
        assert!((normal_quantile(0.5)).abs() < 1e-12);
        assert!((normal_quantile(0.001) + 3.090_232_306_167_813_5).abs() < 1e-7);
        assert!((normal_quantile(0.996_428_571) - 2.690_1).abs() < 1e-3);
        assert!((normal_quantile(0.999_642_857) - 3.384_0).abs() < 1e-3);
    }

    fn brute_kth(x: &[f64], y: &[f64], k: usize) -> f64 {
        let mut d: Vec<f64> = x
            .iter()
            .flat_map(|a| y.iter().map(move |b| b - a))
            .collect();
        d.sort_by(|a, b| a.total_cmp(b));
        d[k - 1]
    }

    #[test]
    fn kth_pairwise_difference_matches_brute_force_with_ties() {
        let mut rng = crate::reference::SplitMix64::new(7);
        for trial in 0..200 {
            let n = 1 + (rng.next_u64() % 9) as usize;
            let m = 1 + (rng.next_u64() % 9) as usize;
            // Few distinct values, so there are many ties.
            let mut x: Vec<f64> = (0..n).map(|_| (rng.next_u64() % 5) as f64).collect();
            let mut y: Vec<f64> = (0..m).map(|_| (rng.next_u64() % 5) as f64 * 0.5).collect();
            x.sort_by(|a, b| a.total_cmp(b));
            y.sort_by(|a, b| a.total_cmp(b));
            for k in 1..=n * m {
                assert_eq!(
                    kth_pairwise_difference(&x, &y, k as u64),
                    brute_kth(&x, &y, k),
                    "trial {trial}, k {k}, x {x:?}, y {y:?}"
                );
            }
        }
    }

    #[test]
    fn shift_of_a_constant_is_recovered_exactly() {
        let x: Vec<f64> = (0..50).map(|i| i as f64).collect();
        let y: Vec<f64> = x.iter().map(|v| v + 3.0).collect();
        let s = hodges_lehmann(&x, &y, Z_95);
        assert_eq!(s.estimate, 3.0);
        assert!(s.low < 3.0 && s.high > 3.0);
    }

    #[test]
    fn one_sample_each_gives_the_single_difference() {
        let s = hodges_lehmann(&[2.0], &[5.0], Z_95);
        assert_eq!((s.estimate, s.low, s.high), (3.0, 3.0, 3.0));
    }
}
