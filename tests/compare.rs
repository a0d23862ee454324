//! Integration tests: compare. Statistics on synthetic samples (seeded, deterministic), the CLI
//! on fixture results files, and bad input.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use accelbench::compare::{self, Verdict};
use accelbench::measure::{self, MeasureConfig};
use accelbench::results::{
    DeviceKind, DeviceRecord, Host, ResultRow, RunResults, RunSettings, SCHEMA_VERSION, TimerKind,
    Verified,
};
use accelbench::stats;
use accelbench::workload::{Dtype, Kernel, Workload};
use assert_cmd::Command;
use predicates::prelude::*;
use proptest::prelude::*;

const THRESHOLD: f64 = 0.05;

/// Seeded generator for the simulations: uniform and normal draws on top of the crate's
/// SplitMix64.
struct Rng(accelbench::reference::SplitMix64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(accelbench::reference::SplitMix64::new(seed))
    }

    /// Uniform in (0, 1).
    fn next_f64(&mut self) -> f64 {
        ((self.0.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal (Box-Muller).
    fn next_normal(&mut self) -> f64 {
        let u1 = self.next_f64();
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// A synthetic kernel: lognormal per-invocation noise of `sigma` around `median_ns`, plus a
/// fraction `outliers` of samples 20% to 100% slower (a neighbour stealing the core).
#[derive(Clone, Copy)]
struct Noise {
    median_ns: f64,
    sigma: f64,
    outliers: f64,
}

impl Noise {
    fn draw(&self, rng: &mut Rng) -> f64 {
        let mut t = self.median_ns * (self.sigma * rng.next_normal()).exp();
        if rng.next_f64() < self.outliers {
            t *= 1.2 + 0.8 * rng.next_f64();
        }
        t
    }
}

/// Samples as a real run records them: measure's own stopping rule at its default target
/// (95% CI of the median within 2%), then stored in and read back from the HdrHistogram.
fn measured_samples(noise: Noise, rng: &mut Rng) -> Vec<f64> {
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

fn fixed_samples(noise: Noise, n: usize, rng: &mut Rng) -> Vec<f64> {
    (0..n).map(|_| noise.draw(rng)).collect()
}

fn verdict(baseline: &[f64], candidate: &[f64], threshold: f64) -> Verdict {
    let s = compare::change_of_samples(baseline, candidate);
    compare::verdict_from_interval(s.low, s.high, threshold)
}

const NOISES: [Noise; 3] = [
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
fn a_ten_percent_slowdown_at_the_default_sample_counts_is_flagged_in_at_least_95_percent_of_trials()
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
fn a_ten_percent_slowdown_is_flagged_even_at_the_minimum_of_ten_samples() {
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
fn a_ten_percent_speedup_is_reported_as_an_improvement() {
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
fn identical_distributions_give_false_alarms_in_at_most_5_percent_of_trials() {
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
fn with_a_zero_threshold_the_interval_alone_is_a_test_at_about_the_5_percent_level() {
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
fn a_systematic_drift_of_three_percent_is_not_flagged_at_the_default_threshold() {
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

// ---------------------------------------------------------------------------------------------
// CLI on fixture files.

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/compare")
}

fn fixture(name: &str) -> String {
    fixtures().join(name).display().to_string()
}

fn accelbench() -> Command {
    Command::cargo_bin("accelbench").expect("binary builds")
}

#[test]
fn an_a_a_pair_of_fixture_runs_reports_no_regression_and_exits_0() {
    accelbench()
        .args([
            "compare",
            &fixture("baseline.json"),
            &fixture("candidate_same.json"),
        ])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("no change"))
        .stdout(predicate::str::contains("REGRESSION").not())
        .stdout(predicate::str::contains("0 regressions"));
}

#[test]
fn a_slower_gemm_is_a_regression_and_exits_1() {
    accelbench()
        .args([
            "compare",
            &fixture("baseline.json"),
            &fixture("candidate_slower.json"),
        ])
        .assert()
        .code(1)
        .stdout(predicate::str::is_match(r"cpu Fixture CPU 9000 +gemm [^\n]*REGRESSION").unwrap())
        .stdout(predicate::str::is_match(r"softmax [^\n]*improvement").unwrap());
}

#[test]
fn workloads_are_matched_on_device_name_not_on_the_per_file_device_id() {
    // candidate_same.json numbers its GPU `gpu1`, the baseline `gpu0`.
    let out = accelbench()
        .args([
            "compare",
            &fixture("baseline.json"),
            &fixture("candidate_same.json"),
            "--format",
            "json",
        ])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let gpu_rows: Vec<&serde_json::Value> = v["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["device_kind"] == "gpu")
        .collect();
    assert_eq!(gpu_rows.len(), 1);
    assert_eq!(gpu_rows[0]["verdict"], "no-change");
    assert_eq!(v["regressed"], false);
}

#[test]
fn a_workload_that_fails_in_the_candidate_is_a_regression_and_missing_ones_are_listed() {
    let out = accelbench()
        .args([
            "compare",
            &fixture("baseline.json"),
            &fixture("candidate_failed.json"),
            "--format",
            "json",
        ])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let verdict_of = |needle: &str| -> String {
        v["workloads"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["workload"].as_str().unwrap().starts_with(needle))
            .map(|w| w["verdict"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("no row for {needle}"))
    };
    assert_eq!(verdict_of("gemv"), "new-failure");
    assert_eq!(verdict_of("stream_triad"), "only-in-baseline");
    assert_eq!(verdict_of("rmsnorm"), "only-in-candidate");
    // A failed row carries no numbers to compare.
    let gemv = v["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["workload"].as_str().unwrap().starts_with("gemv"))
        .unwrap();
    assert!(gemv.get("change").is_none());
    assert_eq!(gemv["candidate"]["ok"], false);
    assert_eq!(v["summary"]["new_failures"], 1);
}

#[test]
fn markdown_output_is_a_table_ready_for_a_pull_request_comment() {
    accelbench()
        .args([
            "compare",
            &fixture("baseline.json"),
            &fixture("candidate_slower.json"),
            "--format",
            "md",
        ])
        .assert()
        .code(1)
        .stdout(predicate::str::starts_with(
            "### accelbench: 1 regression beyond 5%",
        ))
        .stdout(predicate::str::contains(
            "| device | workload | baseline p50 | candidate p50 | change in median [95% CI] | p99 change | verdict |",
        ))
        .stdout(predicate::str::contains("**REGRESSION**"));
}

#[test]
fn a_larger_threshold_lets_the_same_slowdown_pass() {
    // The gemm fixture is 20% slower; at 30% it is within the noise allowance.
    accelbench()
        .args([
            "compare",
            &fixture("baseline.json"),
            &fixture("candidate_slower.json"),
            "--threshold",
            "30",
        ])
        .assert()
        .code(0);
}

// ---------------------------------------------------------------------------------------------
// Bad input: one sentence naming the file, exit code 2.

fn fails_with(args: &[&str], needles: &[&str]) {
    let mut a = accelbench().arg("compare").args(args).assert().code(2);
    for n in needles {
        a = a.stderr(predicate::str::contains(*n));
    }
    a.stderr(predicate::str::contains("panicked").not());
}

#[test]
fn a_truncated_file_is_rejected_with_exit_code_2() {
    fails_with(
        &[&fixture("baseline.json"), &fixture("truncated.json")],
        &["truncated.json", "truncated"],
    );
}

#[test]
fn a_file_that_is_not_json_is_rejected_with_exit_code_2() {
    fails_with(
        &[&fixture("not_json.json"), &fixture("baseline.json")],
        &["not_json.json", "not a valid JSON results file"],
    );
}

#[test]
fn a_file_of_another_schema_version_is_rejected_with_exit_code_2() {
    fails_with(
        &[&fixture("baseline.json"), &fixture("schema_v99.json")],
        &[
            "schema_v99.json",
            "schema_version",
            "schema versions 1 and 2",
        ],
    );
}

#[test]
fn two_files_with_no_workload_in_common_are_rejected_with_exit_code_2() {
    fails_with(
        &[&fixture("baseline.json"), &fixture("other_device.json")],
        &[
            "baseline.json",
            "other_device.json",
            "no workload in common",
        ],
    );
}

#[test]
fn a_missing_file_is_rejected_with_exit_code_2() {
    fails_with(
        &[&fixture("baseline.json"), &fixture("does_not_exist.json")],
        &["does_not_exist.json"],
    );
}

#[test]
fn a_corrupt_histogram_is_rejected_naming_the_field() {
    fails_with(
        &[&fixture("baseline.json"), &fixture("bad_histogram.json")],
        &["bad_histogram.json", "results[0].histogram"],
    );
}

#[test]
fn a_negative_threshold_is_rejected_with_exit_code_2() {
    fails_with(
        &[
            &fixture("baseline.json"),
            &fixture("candidate_same.json"),
            "--threshold=-1",
        ],
        &["--threshold"],
    );
}

// ---------------------------------------------------------------------------------------------
// Replicate runs (directories): the runs are the units.

/// `n` runs of the fixture workloads; each run scales each workload by its own run-to-run
/// factor: lognormal with `sigma`, and with probability `burst` twice as slow (a neighbour
/// taking a core for a whole run), times `slowdown`.
fn replicate_runs(
    rng: &mut Rng,
    n: usize,
    sigma: f64,
    burst: f64,
    slowdown: f64,
) -> Vec<(PathBuf, RunResults)> {
    (0..n)
        .map(|i| {
            let mut scale = [1.0; 5];
            for s in &mut scale {
                *s = slowdown * (sigma * rng.next_normal()).exp();
                if rng.next_f64() < burst {
                    *s *= 2.0;
                }
            }
            let seed = rng.0.next_u64();
            let run = fixture_run(
                "gpu0",
                "Fixture CPU 9000",
                fixture_rows(seed, "gpu0", scale, [true; 5]),
            );
            (PathBuf::from(format!("run-{i}.json")), run)
        })
        .collect()
}

#[test]
fn replicate_a_a_runs_with_large_run_to_run_noise_rarely_raise_any_alarm() {
    // 15% run-to-run noise plus 10% of runs twice as slow: a single pair of runs would be
    // flagged most of the time (the within-run interval cannot see this noise). Over 5 + 5
    // runs, with the family-wise correction, at most 5% of trials may raise any alarm.
    let mut rng = Rng::new(41);
    let trials = 60;
    let mut alarms = 0;
    for _ in 0..trials {
        let b = replicate_runs(&mut rng, 5, 0.15, 0.10, 1.0);
        let c = replicate_runs(&mut rng, 5, 0.15, 0.10, 1.0);
        let cmp = compare::compare_sides(&b, &c, 5.0).unwrap();
        assert!(cmp.replicates.is_some());
        if cmp.regressed {
            alarms += 1;
        }
    }
    eprintln!("replicate A/A: {alarms}/{trials} trials raised an alarm");
    assert!(alarms * 20 <= trials, "{alarms}/{trials} false alarms");
}

#[test]
fn replicate_runs_flag_a_doubling_every_time_and_ignore_the_unchanged_workloads() {
    let mut rng = Rng::new(42);
    for _ in 0..20 {
        let b = replicate_runs(&mut rng, 5, 0.10, 0.0, 1.0);
        let c = replicate_runs(&mut rng, 5, 0.10, 0.0, 2.0);
        let cmp = compare::compare_sides(&b, &c, 5.0).unwrap();
        let cpu_rows = cmp
            .workloads
            .iter()
            .filter(|w| w.device_kind == DeviceKind::Cpu);
        for w in cpu_rows {
            assert_eq!(
                w.verdict,
                Verdict::Regression,
                "{}: {:?}",
                w.workload,
                w.change
            );
        }
        let gpu = cmp
            .workloads
            .iter()
            .find(|w| w.device_kind == DeviceKind::Gpu)
            .unwrap();
        assert_eq!(gpu.verdict, Verdict::NoChange, "{:?}", gpu.change);
    }
}

#[test]
fn replicate_comparisons_use_run_medians_and_do_not_read_the_histograms() {
    // Runs are the units: the stored samples are not needed, so a run whose histogram cannot
    // be decoded (here the first on each side, which the workload list is built from) gives
    // the same verdicts and changes as intact runs.
    let mut rng = Rng::new(44);
    let b = replicate_runs(&mut rng, 5, 0.05, 0.0, 1.0);
    let c = replicate_runs(&mut rng, 5, 0.05, 0.0, 1.5);
    let intact = compare::compare_sides(&b, &c, 5.0).unwrap();
    let (mut b2, mut c2) = (b.clone(), c.clone());
    for runs in [&mut b2, &mut c2] {
        for row in &mut runs[0].1.results {
            row.histogram = "bm90IGEgaGlzdG9ncmFt".into();
        }
    }
    let damaged = compare::compare_sides(&b2, &c2, 5.0).unwrap();
    assert_eq!(intact.workloads, damaged.workloads);
    assert!(intact.regressed);
    // A single pair of files compares samples, so there the damage is an error.
    let single = compare::compare_sides(&b2[..1], &c2[..1], 5.0).unwrap_err();
    assert!(
        format!("{single:#}").contains("results[0].histogram"),
        "{single:#}"
    );
}

#[test]
fn directories_of_runs_are_compared_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(43);
    for (side, slowdown) in [("base", 1.0), ("head", 1.0), ("slow", 3.0)] {
        let d = dir.path().join(side);
        std::fs::create_dir(&d).unwrap();
        for (i, (_, run)) in replicate_runs(&mut rng, 4, 0.02, 0.0, slowdown)
            .iter()
            .enumerate()
        {
            accelbench::results::save(run, &d.join(format!("run-{i}.json")), false).unwrap();
        }
    }
    let path = |s: &str| dir.path().join(s).display().to_string();
    accelbench()
        .args(["compare", &path("base"), &path("head")])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("(4 runs)"))
        .stdout(predicate::str::contains("runs are the units"));
    accelbench()
        .args(["compare", &path("base"), &path("slow"), "--format", "json"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("\"baseline_runs\": 4"));
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    accelbench()
        .args(["compare", &path("base"), &empty.display().to_string()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no results files"));
}

// ---------------------------------------------------------------------------------------------
// Fixture generator. Run with
// `ACCELBENCH_REGENERATE_FIXTURES=1 cargo test --release compare::regenerate -- --ignored`.

fn fixture_row(
    device: &str,
    workload: Workload,
    noise: Noise,
    n: usize,
    rng: &mut Rng,
) -> ResultRow {
    let samples = fixed_samples(noise, n, rng);
    let (ns, ci) = measure::summarize(&samples);
    ResultRow {
        device: device.to_string(),
        kernel: workload.kernel_name().to_string(),
        shape: workload.shape_map(),
        dtype: workload.dtype.name().to_string(),
        flops: workload.flops(),
        bytes: workload.bytes(),
        samples: n as u64,
        iters_per_sample: 1,
        timer: TimerKind::Wall,
        ns,
        ci95_ns: ci,
        gflops: workload.flops() as f64 / ns.p50,
        gbps: workload.bytes() as f64 / ns.p50,
        pct_peak_flops: None,
        pct_peak_bw: None,
        tokens_per_s: None,
        verified: Verified {
            ok: true,
            max_abs_err: 1e-6,
            tolerance: 1e-3,
        },
        histogram: accelbench::results::histogram::encode(&samples).unwrap(),
        error: None,
        extra: Default::default(),
    }
}

fn failed(mut row: ResultRow) -> ResultRow {
    row.verified.ok = false;
    row.verified.max_abs_err = 0.5;
    row.error =
        Some("verification failed: max abs error 5.000e-1 exceeds tolerance 1.000e-3".into());
    row.gflops = 0.0;
    row.gbps = 0.0;
    row.samples = 0;
    row.histogram = String::new();
    row
}

fn fixture_run(gpu_id: &str, cpu_name: &str, rows: Vec<ResultRow>) -> RunResults {
    RunResults {
        schema_version: SCHEMA_VERSION,
        tool_version: "0.1.0".into(),
        started_at: "2026-11-23T12:00:00Z".into(),
        host: Host {
            hostname: "fixture-host".into(),
            os: "Fixture OS".into(),
            kernel: "6.0".into(),
            cpu_model: cpu_name.into(),
            cores: 2,
            threads: 2,
            memory_bytes: 8 << 30,
            git_commit: None,
            rustc: None,
        },
        devices: vec![
            DeviceRecord {
                id: "cpu".into(),
                kind: DeviceKind::Cpu,
                name: cpu_name.into(),
                backend: "native".into(),
                driver: "".into(),
                device_type: None,
                peak_gflops: None,
                peak_gbps: None,
                peak_source: "fixture".into(),
                peaks: None,
            },
            DeviceRecord {
                id: gpu_id.into(),
                kind: DeviceKind::Gpu,
                name: "Fixture GPU".into(),
                backend: "vulkan".into(),
                driver: "fixture".into(),
                device_type: Some("discrete".into()),
                peak_gflops: None,
                peak_gbps: None,
                peak_source: "fixture".into(),
                peaks: None,
            },
        ],
        results: rows,
        partial: false,
        settings: Some(RunSettings {
            suite: "quick".into(),
            threads: 2,
            max_time_per_workload_s: 0.5,
            target_rel_ci: 0.02,
        }),
    }
}

fn fixture_workloads() -> [Workload; 5] {
    [
        Workload::new(
            Kernel::Gemm {
                m: 512,
                n: 512,
                k: 512,
            },
            Dtype::F32,
        ),
        Workload::new(Kernel::Gemv { n: 4096, k: 4096 }, Dtype::F32),
        Workload::new(
            Kernel::Softmax {
                rows: 32,
                cols: 4096,
            },
            Dtype::F32,
        ),
        Workload::new(Kernel::StreamTriad { n: 8 << 20 }, Dtype::F32),
        Workload::new(
            Kernel::RmsNorm {
                rows: 64,
                cols: 4096,
            },
            Dtype::F32,
        ),
    ]
}

/// Median latencies of the fixture workloads, ns.
const FIXTURE_MEDIANS_NS: [f64; 5] = [3.0e6, 9.0e6, 60.0e3, 12.0e6, 80.0e3];

fn fixture_rows(seed: u64, gpu_id: &str, scale: [f64; 5], include: [bool; 5]) -> Vec<ResultRow> {
    let mut rng = Rng::new(seed);
    let mut rows = Vec::new();
    for (i, w) in fixture_workloads().into_iter().enumerate() {
        if !include[i] {
            continue;
        }
        let noise = Noise {
            median_ns: FIXTURE_MEDIANS_NS[i] * scale[i],
            sigma: 0.02,
            outliers: 0.03,
        };
        rows.push(fixture_row("cpu", w, noise, 60, &mut rng));
    }
    let gemm = fixture_workloads()[0].clone();
    let gpu_noise = Noise {
        median_ns: 400.0e3,
        sigma: 0.03,
        outliers: 0.0,
    };
    rows.push(fixture_row(gpu_id, gemm, gpu_noise, 40, &mut rng));
    rows
}

#[test]
#[ignore = "writes tests/fixtures/compare; run by hand when the schema changes"]
fn regenerate_fixtures() {
    if std::env::var_os("ACCELBENCH_REGENERATE_FIXTURES").is_none() {
        return;
    }
    let dir = fixtures();
    std::fs::create_dir_all(&dir).unwrap();
    let cpu = "Fixture CPU 9000";
    let same = [1.0; 5];
    let four = [true, true, true, true, false];
    let save = |name: &str, run: &RunResults| {
        accelbench::results::save(run, &dir.join(name), true).unwrap();
    };
    let baseline = fixture_run("gpu0", cpu, fixture_rows(1, "gpu0", same, four));
    save("baseline.json", &baseline);
    save(
        "candidate_same.json",
        &fixture_run("gpu1", cpu, fixture_rows(2, "gpu1", same, four)),
    );
    save(
        "candidate_slower.json",
        &fixture_run(
            "gpu0",
            cpu,
            fixture_rows(3, "gpu0", [1.2, 1.0, 0.8, 1.0, 1.0], four),
        ),
    );
    let mut rows = fixture_rows(4, "gpu0", same, [true, true, true, false, true]);
    rows[1] = failed(rows[1].clone());
    save("candidate_failed.json", &fixture_run("gpu0", cpu, rows));
    let mut other = fixture_run("gpu0", "Another CPU", fixture_rows(5, "gpu0", same, four));
    other.devices[1].name = "Another GPU".into();
    save("other_device.json", &other);
    let mut bad = baseline.clone();
    bad.results[0].histogram = "bm90IGEgaGlzdG9ncmFt".into();
    save("bad_histogram.json", &bad);

    let text = accelbench::results::to_json(&baseline).unwrap();
    std::fs::write(dir.join("truncated.json"), &text[..text.len() / 2]).unwrap();
    std::fs::write(
        dir.join("not_json.json"),
        "accelbench results\nthis is a text file, not JSON\n",
    )
    .unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["schema_version"] = 99.into();
    std::fs::write(
        dir.join("schema_v99.json"),
        serde_json::to_string_pretty(&v).unwrap(),
    )
    .unwrap();
}
