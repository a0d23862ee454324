//! compare: the statistics on synthetic samples (seeded, deterministic).

use super::*;
use proptest::prelude::*;

pub(super) const THRESHOLD: f64 = 0.05;

/// Seeded generator for the simulations: uniform and normal draws on top of the crate's
/// SplitMix64.
pub(super) struct Rng(pub(super) accelbench::reference::SplitMix64);

impl Rng {
    pub(super) fn new(seed: u64) -> Rng {
        Rng(accelbench::reference::SplitMix64::new(seed))
    }

    /// Uniform in (0, 1).
    pub(super) fn next_f64(&mut self) -> f64 {
        ((self.0.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal (Box-Muller).
    pub(super) fn next_normal(&mut self) -> f64 {
        let u1 = self.next_f64();
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// A synthetic kernel: lognormal per-invocation noise of `sigma` around `median_ns`, plus a
/// fraction `outliers` of samples 20% to 100% slower (a neighbour stealing the core).
#[derive(Clone, Copy)]
pub(super) struct Noise {
    pub(super) median_ns: f64,
    pub(super) sigma: f64,
    pub(super) outliers: f64,
}

impl Noise {
    pub(super) fn draw(&self, rng: &mut Rng) -> f64 {
        let mut t = self.median_ns * (self.sigma * rng.next_normal()).exp();
        if rng.next_f64() < self.outliers {
            t *= 1.2 + 0.8 * rng.next_f64();
        }
        t
    }
}

/// Samples as a real run records them: measure's own stopping rule at its default target
/// (95% CI of the median within 2%), then stored in and read back from the HdrHistogram.
pub(super) fn measured_samples(noise: Noise, rng: &mut Rng) -> Vec<f64> {
    let cfg = MeasureConfig {
        warmup: Duration::from_micros(1),
        min_sample_time: Duration::from_nanos(1),
        max_samples: 5000,
        ..MeasureConfig::default()
    };
    let flag = AtomicBool::new(false);
    let s = measure::until_stable(&cfg, &flag, |iters| {
        Ok((0..iters).map(|_| noise.draw(rng)).sum::<f64>() as u64)
    })
    .expect("synthetic kernel never fails");
    let h = accelbench::results::histogram::decode(
        &accelbench::results::histogram::encode(&s.per_invocation_ns).unwrap(),
    )
    .unwrap();
    accelbench::results::histogram::samples(&h)
}

pub(super) fn fixed_samples(noise: Noise, n: usize, rng: &mut Rng) -> Vec<f64> {
    (0..n).map(|_| noise.draw(rng)).collect()
}

pub(super) fn verdict(baseline: &[f64], candidate: &[f64], threshold: f64) -> Verdict {
    let s = compare::change_of_samples(baseline, candidate);
    compare::verdict_from_interval(s.low, s.high, threshold)
}

pub(super) const NOISES: [Noise; 3] = [
    Noise {
        median_ns: 1.0e6,
        sigma: 0.01,
        outliers: 0.0,
    },
    Noise {
        median_ns: 50.0e3,
        sigma: 0.05,
        outliers: 0.05,
    },
    Noise {
        median_ns: 3.0e6,
        sigma: 0.10,
        outliers: 0.10,
    },
];

#[test]
pub(super) fn a_ten_percent_slowdown_at_the_default_sample_counts_is_flagged_in_at_least_95_percent_of_trials()
 {
    for (i, noise) in NOISES.iter().enumerate() {
        let mut rng = Rng::new(1000 + i as u64);
        let slower = Noise {
            median_ns: noise.median_ns * 1.10,
            ..*noise
        };
        let trials = 200;
        let flagged = (0..trials)
            .filter(|_| {
                let b = measured_samples(*noise, &mut rng);
                let c = measured_samples(slower, &mut rng);
                verdict(&b, &c, THRESHOLD) == Verdict::Regression
            })
            .count();
        eprintln!("10% slowdown, noise {i}: flagged {flagged}/{trials}");
        assert!(
            flagged * 100 >= 95 * trials,
            "noise {i}: flagged {flagged}/{trials}"
        );
    }
}

#[test]
pub(super) fn a_ten_percent_slowdown_is_flagged_even_at_the_minimum_of_ten_samples() {
    let mut rng = Rng::new(42);
    let noise = Noise {
        median_ns: 2.0e6,
        sigma: 0.02,
        outliers: 0.0,
    };
    let slower = Noise {
        median_ns: 2.2e6,
        ..noise
    };
    let trials = 500;
    let flagged = (0..trials)
        .filter(|_| {
            let b = fixed_samples(noise, 10, &mut rng);
            let c = fixed_samples(slower, 10, &mut rng);
            verdict(&b, &c, THRESHOLD) == Verdict::Regression
        })
        .count();
    eprintln!("10% slowdown, 10 samples each: flagged {flagged}/{trials}");
    assert!(flagged * 100 >= 95 * trials, "flagged {flagged}/{trials}");
}

#[test]
pub(super) fn a_ten_percent_speedup_is_reported_as_an_improvement() {
    let mut rng = Rng::new(43);
    for noise in NOISES {
        let faster = Noise {
            median_ns: noise.median_ns / 1.10,
            ..noise
        };
        let b = measured_samples(noise, &mut rng);
        let c = measured_samples(faster, &mut rng);
        assert_eq!(verdict(&b, &c, THRESHOLD), Verdict::Improvement);
    }
}

#[test]
pub(super) fn identical_distributions_give_false_alarms_in_at_most_5_percent_of_trials() {
    for (i, noise) in NOISES.iter().enumerate() {
        let mut rng = Rng::new(2000 + i as u64);
        let trials = 200;
        let alarms = (0..trials)
            .filter(|_| {
                let b = measured_samples(*noise, &mut rng);
                let c = measured_samples(*noise, &mut rng);
                verdict(&b, &c, THRESHOLD) != Verdict::NoChange
            })
            .count();
        eprintln!("identical, noise {i}: {alarms}/{trials} alarms");
        assert!(
            alarms * 100 <= 5 * trials,
            "noise {i}: {alarms}/{trials} alarms"
        );
    }
}

#[test]
pub(super) fn with_a_zero_threshold_the_interval_alone_is_a_test_at_about_the_5_percent_level() {
    // The threshold aside, the interval must have its stated coverage on iid samples, or the
    // rule is not the test it claims to be.
    let mut rng = Rng::new(3000);
    let noise = Noise {
        median_ns: 1.0e5,
        sigma: 0.05,
        outliers: 0.05,
    };
    let trials = 1000;
    let alarms = (0..trials)
        .filter(|_| {
            let b = fixed_samples(noise, 40, &mut rng);
            let c = fixed_samples(noise, 60, &mut rng);
            verdict(&b, &c, 0.0) != Verdict::NoChange
        })
        .count();
    eprintln!("identical, threshold 0: {alarms}/{trials} alarms");
    assert!(alarms * 1000 <= 65 * trials, "{alarms}/{trials} alarms");
    assert!(alarms * 1000 >= 25 * trials, "{alarms}/{trials} alarms");
}

#[test]
pub(super) fn a_systematic_drift_of_three_percent_is_not_flagged_at_the_default_threshold() {
    let mut rng = Rng::new(4000);
    let trials = 200;
    for noise in NOISES {
        let drifted = Noise {
            median_ns: noise.median_ns * 1.03,
            ..noise
        };
        let alarms = (0..trials)
            .filter(|_| {
                let b = measured_samples(noise, &mut rng);
                let c = measured_samples(drifted, &mut rng);
                verdict(&b, &c, THRESHOLD) != Verdict::NoChange
            })
            .count();
        eprintln!("3% drift: {alarms}/{trials} alarms");
        assert!(alarms * 100 <= 5 * trials, "{alarms}/{trials} alarms");
    }
}

proptest! {
    #[test]
    fn scaling_every_sample_is_recovered_as_the_change(
        xs in prop::collection::vec(1.0e3f64..1.0e7, 1..60),
        factor in 0.5f64..2.0,
    ) {
        let ys: Vec<f64> = xs.iter().map(|x| x * factor).collect();
        let s = compare::change_of_samples(&xs, &ys);
        prop_assert!((s.estimate - (factor - 1.0)).abs() < 1e-9);
        prop_assert!(s.low <= s.estimate && s.estimate <= s.high);
    }

    #[test]
    fn swapping_baseline_and_candidate_inverts_the_change(
        xs in prop::collection::vec(1.0e3f64..1.0e7, 1..40),
        ys in prop::collection::vec(1.0e3f64..1.0e7, 1..40),
    ) {
        let ab = compare::change_of_samples(&xs, &ys);
        let ba = compare::change_of_samples(&ys, &xs);
        // (1 + change) of one direction is the reciprocal of the other.
        prop_assert!(((1.0 + ab.estimate) * (1.0 + ba.estimate) - 1.0).abs() < 1e-9);
        prop_assert!(((1.0 + ab.low) * (1.0 + ba.high) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn the_interval_always_contains_the_estimate(
        xs in prop::collection::vec(1.0f64..1.0e9, 1..80),
        ys in prop::collection::vec(1.0f64..1.0e9, 1..80),
    ) {
        let s = stats::relative_change(&xs, &ys, stats::Z_95);
        prop_assert!(s.low <= s.estimate && s.estimate <= s.high);
    }
}
