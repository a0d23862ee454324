//! compare: replicate runs (directories), where the runs are the units.

use super::fixtures::*;
use super::statistics::*;
use super::*;

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
