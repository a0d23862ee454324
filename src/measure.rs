//! Measurement: warm-up, batching of short kernels, adaptive sample count with a stopping rule,
//! HdrHistogram recording and summary statistics.
//!
//! Owns what a sample is and when to stop taking them. It knows nothing about kernels: it
//! calls a closure that runs `iters` invocations and returns the elapsed nanoseconds.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::results::LatencyNs;

/// Settings of the stopping rule.
#[derive(Debug, Clone)]
pub struct MeasureConfig {
    /// Stop when (ci95 high - ci95 low) / median falls below this (default 0.02).
    pub target_rel_ci: f64,
    /// Stop after this much measuring time even if the interval is still wide.
    pub max_time: Duration,
    /// Warm-up time before the first recorded sample.
    pub warmup: Duration,
    /// Never stop on the CI rule before this many samples.
    pub min_samples: usize,
    /// Hard cap on samples.
    pub max_samples: usize,
    /// A sample batches invocations until it lasts at least this long, so that the timer's own
    /// cost stays well under 1% of a sample.
    pub min_sample_time: Duration,
}

impl Default for MeasureConfig {
    fn default() -> Self {
        MeasureConfig {
            target_rel_ci: 0.02,
            max_time: Duration::from_secs(3),
            warmup: Duration::from_millis(200),
            min_samples: 10,
            max_samples: 100_000,
            min_sample_time: Duration::from_micros(500),
        }
    }
}

/// Why sampling stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The confidence interval of the median reached the target width.
    Stable,
    /// The time cap was reached first.
    TimeCap,
    /// The sample cap was reached first.
    SampleCap,
}

/// Recorded samples of one workload.
#[derive(Debug, Clone)]
pub struct Samples {
    /// Nanoseconds per invocation, one entry per sample, in recording order.
    pub per_invocation_ns: Vec<f64>,
    pub iters_per_sample: u64,
    pub stop: StopReason,
}

/// Error returned when the run was interrupted (Ctrl-C) during sampling.
#[derive(Debug, thiserror::Error)]
#[error("interrupted")]
pub struct Interrupted;

/// Take samples of `run(iters) -> elapsed ns` until the median is known to `cfg.target_rel_ci`
/// or `cfg.max_time` is spent. `interrupted` is polled between samples.
pub fn until_stable(
    cfg: &MeasureConfig,
    interrupted: &AtomicBool,
    mut run: impl FnMut(u64) -> Result<u64>,
) -> Result<Samples> {
    // Warm-up, also used to size the batch.
    let warm_start = Instant::now();
    let mut iters: u64 = 1;
    let mut last_ns;
    loop {
        last_ns = run(iters)?.max(1);
        if interrupted.load(Ordering::Relaxed) {
            return Err(Interrupted.into());
        }
        let long_enough = last_ns as u128 >= cfg.min_sample_time.as_nanos();
        if long_enough && warm_start.elapsed() >= cfg.warmup {
            break;
        }
        if !long_enough {
            iters = grow_iters(iters, last_ns, cfg.min_sample_time);
        }
        if warm_start.elapsed() >= cfg.warmup.max(cfg.max_time / 4) && long_enough {
            break;
        }
        if warm_start.elapsed() >= cfg.max_time && iters > 1 {
            break;
        }
    }

    let mut per_invocation_ns = Vec::with_capacity(256);
    let start = Instant::now();
    let mut next_check = cfg.min_samples.max(2);
    let mut scratch = Vec::new();
    let stop = loop {
        let ns = run(iters)?;
        per_invocation_ns.push(ns as f64 / iters as f64);
        if interrupted.load(Ordering::Relaxed) {
            return Err(Interrupted.into());
        }
        let n = per_invocation_ns.len();
        if n >= cfg.max_samples {
            break StopReason::SampleCap;
        }
        if n >= next_check {
            // A check is O(n) (three selections); doing it at geometric intervals keeps the
            // cost per sample O(1) amortised.
            next_check = n + (n / 10).max(1);
            scratch.clear();
            scratch.extend_from_slice(&per_invocation_ns);
            if relative_ci_width_unsorted(&mut scratch) <= cfg.target_rel_ci {
                break StopReason::Stable;
            }
        }
        if start.elapsed() >= cfg.max_time && n >= 3.min(cfg.min_samples) {
            break StopReason::TimeCap;
        }
    };
    Ok(Samples {
        per_invocation_ns,
        iters_per_sample: iters,
        stop,
    })
}

fn grow_iters(iters: u64, elapsed_ns: u64, target: Duration) -> u64 {
    let want = target.as_nanos() as f64 * 1.2 / elapsed_ns.max(1) as f64 * iters as f64;
    (want.ceil() as u64).clamp(iters + 1, iters.saturating_mul(100))
}

/// Sort floats ascending (NaN last).
pub fn sort_f64(v: &mut [f64]) {
    v.sort_by(|a, b| a.total_cmp(b));
}

/// Distribution-free 95% confidence interval of the median of sorted samples, from the order
/// statistics at ranks n/2 -/+ 1.96 sqrt(n)/2 (normal approximation to the binomial).
/// Requires at least one sample.
pub fn median_ci95(sorted: &[f64]) -> (f64, f64) {
    assert!(!sorted.is_empty(), "median_ci95 needs at least one sample");
    let (lo, hi) = median_ci95_ranks(sorted.len());
    (sorted[lo], sorted[hi])
}

/// Ranks of the lower and upper bounds of [`median_ci95`] for `n` samples.
fn median_ci95_ranks(n: usize) -> (usize, usize) {
    let half = 1.96 * (n as f64).sqrt() / 2.0;
    let mid = n as f64 / 2.0;
    let lo = ((mid - half).floor().max(0.0) as usize).min(n - 1);
    let hi = ((mid + half).ceil() as usize).min(n - 1);
    (lo, hi)
}

/// Like [`relative_ci_width`] but on unsorted samples, reordering them: three selections
/// (O(n)) instead of a sort. Uses the middle order statistic as the median.
pub fn relative_ci_width_unsorted(samples: &mut [f64]) -> f64 {
    let n = samples.len();
    if n < 2 {
        return f64::INFINITY;
    }
    let (lo, hi) = median_ci95_ranks(n);
    let mut select = |rank: usize| {
        *samples
            .select_nth_unstable_by(rank, |a, b| a.total_cmp(b))
            .1
    };
    let (lo_v, med, hi_v) = (select(lo), select(n / 2), select(hi));
    if med <= 0.0 {
        return f64::INFINITY;
    }
    (hi_v - lo_v) / med
}

/// (ci high - ci low) / median of sorted samples; infinite when fewer than 2 samples.
pub fn relative_ci_width(sorted: &[f64]) -> f64 {
    if sorted.len() < 2 {
        return f64::INFINITY;
    }
    let (lo, hi) = median_ci95(sorted);
    let med = percentile(sorted, 50.0);
    if med <= 0.0 {
        return f64::INFINITY;
    }
    (hi - lo) / med
}

/// Percentile of sorted samples by linear interpolation between closest ranks.
/// `p` in [0, 100]; at least one sample.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    assert!(n > 0, "percentile needs at least one sample");
    let rank = (p / 100.0).clamp(0.0, 1.0) * (n - 1) as f64;
    let lo = rank.floor() as usize;
    let hi = rank.ceil() as usize;
    let frac = rank - lo as f64;
    sorted[lo] + (sorted[hi] - sorted[lo]) * frac
}

/// Modified Z-score above which a sample is an outlier: hyperfine's threshold (its
/// `outlier_detection.rs`), far looser than Iglewicz and Hoaglin's 3.5, so that only samples
/// from a different state of the machine count, not the ordinary spread of timings.
pub const OUTLIER_Z: f64 = 14.0;

/// The spread (1.4826 x MAD, the normal-consistent scale) is taken as at least this fraction
/// of the median, so that on very steady samples (GPU timestamps, a fake backend's constant
/// times) a deviation under 14 x 0.5% = 7% of the median is never an outlier.
pub const OUTLIER_MIN_SCALE: f64 = 0.005;

/// Samples far from the rest, by the modified Z-score `|x - median| / (1.4826 MAD)` (with the
/// scale at least [`OUTLIER_MIN_SCALE`] of the median).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Outliers {
    /// Outliers above the median (slower than the rest).
    pub slow: usize,
    /// Outliers below the median (faster than the rest).
    pub fast: usize,
    /// The slowest sample over the median.
    pub max_over_median: f64,
    /// The fastest sample over the median.
    pub min_over_median: f64,
}

/// The outliers of `samples` (any order), or `None` when there are none (or fewer than three
/// samples, or a median that is not positive). At most half the samples can be outliers: half
/// lie within one MAD of the median, where the Z-score is under 1.
pub fn outliers(samples: &[f64]) -> Option<Outliers> {
    if samples.len() < 3 {
        return None;
    }
    let mut s = samples.to_vec();
    sort_f64(&mut s);
    let med = percentile(&s, 50.0);
    if med.is_nan() || med <= 0.0 {
        return None;
    }
    let mut dev: Vec<f64> = s.iter().map(|x| (x - med).abs()).collect();
    sort_f64(&mut dev);
    let mad = percentile(&dev, 50.0);
    let scale = (1.4826 * mad).max(OUTLIER_MIN_SCALE * med);
    let limit = OUTLIER_Z * scale;
    let slow = s.iter().filter(|&&x| x - med > limit).count();
    let fast = s.iter().filter(|&&x| med - x > limit).count();
    (slow + fast > 0).then(|| Outliers {
        slow,
        fast,
        max_over_median: s[s.len() - 1] / med,
        min_over_median: s[0] / med,
    })
}

impl Outliers {
    /// Outliers on either side of the median.
    pub fn count(&self) -> usize {
        self.slow + self.fast
    }

    /// The row note: how many, how far, and what it means for the figures.
    pub fn note(&self, samples: usize) -> String {
        let mut parts = Vec::new();
        if self.slow > 0 {
            parts.push(format!(
                "{} slower (the slowest {:.2}x the median)",
                self.slow, self.max_over_median
            ));
        }
        if self.fast > 0 {
            parts.push(format!(
                "{} faster (the fastest {:.2}x the median)",
                self.fast, self.min_over_median
            ));
        }
        format!(
            "{} of {samples} samples are outliers, {} (modified Z-score over {OUTLIER_Z}): the median stands, the mean and tail are the machine's state",
            self.count(),
            parts.join(", ")
        )
    }
}

/// Summary statistics of samples (any order), plus the 95% CI of the median.
pub fn summarize(samples: &[f64]) -> (LatencyNs, [f64; 2]) {
    if samples.is_empty() {
        return (LatencyNs::default(), [0.0, 0.0]);
    }
    let mut s = samples.to_vec();
    sort_f64(&mut s);
    let n = s.len() as f64;
    let mean = s.iter().sum::<f64>() / n;
    let var = if s.len() > 1 {
        s.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    let (lo, hi) = median_ci95(&s);
    (
        LatencyNs {
            min: s[0],
            p50: percentile(&s, 50.0),
            p90: percentile(&s, 90.0),
            p99: percentile(&s, 99.0),
            p999: percentile(&s, 99.9),
            max: s[s.len() - 1],
            mean,
            stddev: var.sqrt(),
        },
        [lo, hi],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsorted_width_matches_sorted_width_for_odd_counts() {
        let mut rng = crate::reference::SplitMix64::new(7);
        for n in [3usize, 11, 101, 1001] {
            let mut v: Vec<f64> = (0..n)
                .map(|_| 1000.0 + rng.uniform() as f64 * 50.0)
                .collect();
            let mut sorted = v.clone();
            sort_f64(&mut sorted);
            let a = relative_ci_width(&sorted);
            let b = relative_ci_width_unsorted(&mut v);
            assert!((a - b).abs() < 1e-12, "n={n}: {a} vs {b}");
        }
    }

    #[test]
    fn stops_when_stable() {
        let flag = AtomicBool::new(false);
        let cfg = MeasureConfig {
            warmup: Duration::from_millis(1),
            min_sample_time: Duration::from_micros(1),
            ..Default::default()
        };
        // A fake kernel with constant time stops as soon as the check runs.
        let s = until_stable(&cfg, &flag, |iters| Ok(1000 * iters)).unwrap();
        assert_eq!(s.stop, StopReason::Stable);
        assert!(s.per_invocation_ns.iter().all(|&x| x == 1000.0));
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        fn samples() -> impl Strategy<Value = Vec<f64>> {
            prop::collection::vec(1.0f64..1e9, 1..400)
        }

        proptest! {
            #[test]
            fn summary_percentiles_are_ordered(v in samples()) {
                let (ns, ci) = summarize(&v);
                prop_assert!(ns.min <= ns.p50 && ns.p50 <= ns.p90 && ns.p90 <= ns.p99);
                prop_assert!(ns.p99 <= ns.p999 && ns.p999 <= ns.max);
                prop_assert!(ns.min <= ns.mean * (1.0 + 1e-12) && ns.mean <= ns.max * (1.0 + 1e-12));
                prop_assert!(ns.stddev >= 0.0);
                prop_assert!(ci[0] <= ns.p50 && ns.p50 <= ci[1]);
            }

            #[test]
            fn summary_scales_with_the_samples(v in samples(), c in 0.5f64..4.0) {
                let (a, _) = summarize(&v);
                let scaled: Vec<f64> = v.iter().map(|x| x * c).collect();
                let (b, _) = summarize(&scaled);
                for (x, y) in [(a.p50, b.p50), (a.p99, b.p99), (a.mean, b.mean), (a.stddev, b.stddev)] {
                    prop_assert!((x * c - y).abs() <= 1e-9 * y.abs().max(1.0));
                }
            }

            #[test]
            fn at_most_half_the_samples_are_outliers_and_scaling_changes_none(
                v in samples(), c in 0.5f64..4.0,
            ) {
                let o = outliers(&v);
                if let Some(o) = o {
                    prop_assert!(o.slow + o.fast <= v.len() / 2, "{o:?} of {}", v.len());
                    prop_assert!(o.max_over_median >= 1.0 && o.min_over_median <= 1.0);
                    prop_assert!(o.slow == 0 || o.max_over_median > 1.0 + OUTLIER_Z * OUTLIER_MIN_SCALE);
                }
                let scaled: Vec<f64> = v.iter().map(|x| x * c).collect();
                let p = outliers(&scaled);
                prop_assert_eq!(o.map(|o| (o.slow, o.fast)), p.map(|p| (p.slow, p.fast)));
            }

            #[test]
            fn steady_samples_have_no_outliers_and_one_far_sample_is_found(
                n in 10usize..300, jitter in 0.0f64..0.02, seed in any::<u64>(), far in 1.5f64..10.0,
            ) {
                let mut rng = crate::reference::SplitMix64::new(seed);
                // Within +-2% of 1000: no sample is 7% away from the median.
                let mut v: Vec<f64> = (0..n)
                    .map(|_| 1000.0 * (1.0 + jitter * rng.uniform() as f64))
                    .collect();
                prop_assert_eq!(outliers(&v), None);
                // One sample far slower is an outlier, and the only one.
                v.push(1000.0 * (1.0 + jitter) * far);
                let o = outliers(&v).expect("the far sample");
                prop_assert_eq!((o.slow, o.fast), (1, 0));
                prop_assert!(o.max_over_median > far * 0.95);
            }

            #[test]
            fn median_ci_narrows_with_more_samples(seed in any::<u64>()) {
                let mut rng = crate::reference::SplitMix64::new(seed);
                let mut draw = |n: usize| -> f64 {
                    let mut v: Vec<f64> = (0..n).map(|_| 1000.0 + rng.uniform() as f64 * 100.0).collect();
                    sort_f64(&mut v);
                    relative_ci_width(&v)
                };
                let (small, large) = (draw(20), draw(2000));
                prop_assert!(large < small);
            }

        }
    }
}
