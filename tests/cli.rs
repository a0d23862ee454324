//! Integration tests: `run` and `devices` through the real binary.

use std::path::Path;

use accelbench::results;
use assert_cmd::Command;
use predicates::prelude::*;

fn accelbench() -> Command {
    let mut c = Command::cargo_bin("accelbench").expect("binary is built");
    c.env("NO_COLOR", "1");
    c
}

/// A quick CPU run of a few small kernels, into `out`.
fn quick_cpu_run(out: &Path, extra: &[&str]) -> Command {
    let mut c = accelbench();
    c.args(["run", "--suite", "quick", "--device", "cpu"])
        .args([
            "--kernel", "gemm", "--kernel", "rmsnorm", "--kernel", "softmax",
        ])
        .args(["--max-time-per-workload", "0.2", "--out"])
        .arg(out)
        .args(extra);
    c
}

/// Assert a failed command exits 2 with a single-sentence error and no panic or backtrace.
fn assert_usage_error(c: &mut Command, needle: &str) {
    c.assert()
        .code(2)
        .stderr(predicate::str::contains(needle))
        .stderr(predicate::str::contains("panicked").not())
        .stderr(predicate::str::contains("RUST_BACKTRACE").not());
}

#[test]
fn devices_lists_the_cpu_with_its_simd_features() {
    accelbench()
        .arg("devices")
        .assert()
        .success()
        .stdout(predicate::str::contains("0  cpu"))
        .stdout(predicate::str::contains("SIMD:"));
}

#[test]
fn devices_json_is_machine_readable() {
    let out = accelbench().args(["devices", "--json"]).output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["cpu"]["threads"].as_u64().unwrap() >= 1);
    assert!(v["gpus"].is_array());
}

#[test]
fn run_rejects_unknown_kernel() {
    let dir = tempfile::tempdir().unwrap();
    assert_usage_error(
        accelbench()
            .args(["run", "--kernel", "fft", "--out"])
            .arg(dir.path().join("r.json")),
        "invalid value 'fft' for '--kernel <NAME>'",
    );
    assert!(!dir.path().join("r.json").exists());
}

#[test]
fn run_rejects_unknown_suite() {
    assert_usage_error(
        accelbench().args(["run", "--suite", "huge"]),
        "invalid value 'huge' for '--suite <SUITE>'\n  [possible values: quick, standard, full]",
    );
}

#[test]
fn run_rejects_zero_threads() {
    assert_usage_error(
        accelbench().args(["run", "--threads", "0"]),
        "--threads must be at least 1",
    );
}

#[test]
fn run_rejects_bad_device() {
    assert_usage_error(
        accelbench().args(["run", "--device", "tpu"]),
        "invalid value 'tpu' for '--device <cpu|gpu|all|N>': expected cpu, gpu, all or a device number",
    );
    assert_usage_error(
        accelbench().args(["run", "--device", "99"]),
        "--device 99: there is no such device",
    );
}

#[test]
fn run_refuses_a_shape_that_does_not_fit_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    assert_usage_error(
        accelbench()
            .args(["run", "--device", "cpu", "--kernel", "gemm"])
            .args(["--shape", "m=200000,n=200000,k=200000", "--out"])
            .arg(&out),
        "only",
    );
    assert!(!out.exists());
}

#[test]
fn run_rejects_a_malformed_shape() {
    assert_usage_error(
        accelbench().args(["run", "--kernel", "gemm", "--shape", "m=4,n=x,k=2"]),
        "'n' must be a positive integer",
    );
    assert_usage_error(
        accelbench().args(["run", "--kernel", "gemm", "--shape", "m=4,n=4"]),
        "missing 'k'",
    );
}

#[test]
fn run_refuses_to_overwrite_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    std::fs::write(&out, "precious").unwrap();
    assert_usage_error(&mut quick_cpu_run(&out, &[]), "already exists");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "precious");
}

#[test]
fn run_reports_an_unwritable_output_path() {
    let dir = tempfile::tempdir().unwrap();
    // A path below a regular file can never be created.
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "x").unwrap();
    assert_usage_error(
        &mut quick_cpu_run(&blocker.join("r.json"), &[]),
        "could not create directory",
    );
}

#[test]
fn run_writes_a_verified_results_file_that_loads_back() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sub/r.json");
    quick_cpu_run(&out, &["--threads", "2"])
        .assert()
        .success()
        .stdout(predicate::str::contains("gemm"))
        .stdout(predicate::str::contains("FAILED").not());
    let run = results::load(&out).unwrap();
    assert_eq!(run.schema_version, results::SCHEMA_VERSION);
    assert!(!run.partial);
    assert_eq!(run.devices.len(), 1);
    assert!(run.results.len() >= 3, "{}", run.results.len());
    for r in &run.results {
        assert!(r.is_valid(), "{} failed: {:?}", r.workload_label(), r.error);
        assert!(r.ns.min <= r.ns.p50 && r.ns.p50 <= r.ns.p99 && r.ns.p99 <= r.ns.max);
        assert!(r.ci95_ns[0] <= r.ns.p50 && r.ns.p50 <= r.ci95_ns[1]);
        assert!(r.gflops > 0.0);
        let h = r.decode_histogram().unwrap();
        assert_eq!(h.len(), r.samples);
    }
    assert_eq!(
        run.settings.as_ref().unwrap().tune,
        Some(true),
        "tuning by default"
    );
    // The same path again needs --force, and --force replaces it.
    quick_cpu_run(&out, &["--force", "--no-tune"])
        .assert()
        .success();
    let run = results::load(&out).unwrap();
    assert_eq!(
        run.settings.as_ref().unwrap().tune,
        Some(false),
        "--no-tune"
    );
}

#[test]
fn run_json_prints_the_results_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    let output = quick_cpu_run(&out, &["--json"]).output().unwrap();
    assert!(output.status.success());
    let printed = results::parse(
        std::str::from_utf8(&output.stdout).unwrap(),
        Path::new("<stdout>"),
    )
    .unwrap();
    assert_eq!(printed, results::load(&out).unwrap());
}

#[test]
fn run_refuses_an_unknown_shape_key_and_lists_the_valid_ones() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    assert_usage_error(
        accelbench()
            .args(["run", "--device", "cpu", "--kernel", "gemm"])
            .args(["--shape", "m=4,n=4,k=4,z=3", "--out"])
            .arg(&out),
        "unknown key 'z' for kernel 'gemm'; valid keys: m, n, k",
    );
    assert!(!out.exists());
}

#[test]
fn run_refuses_more_than_four_threads_per_hardware_thread() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    assert_usage_error(
        accelbench()
            .args(["run", "--device", "cpu", "--threads", "100000", "--out"])
            .arg(&out),
        "--threads 100000 is more than 4 x the",
    );
    assert!(!out.exists());
}

#[test]
fn run_refuses_a_shape_whose_flop_count_overflows() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    // 2 x 2^31 x 2^31 x 2 = 2^64: the FLOP count used to wrap to 0.
    assert_usage_error(
        accelbench()
            .args(["run", "--device", "cpu", "--kernel", "gemm"])
            .args(["--shape", "m=2147483648,n=2147483648,k=2", "--out"])
            .arg(&out),
        "its FLOP count does not fit in 64 bits",
    );
    assert_usage_error(
        accelbench()
            .args(["run", "--device", "cpu", "--kernel", "stream_triad"])
            .args(["--shape", "n=9223372036854775807", "--out"])
            .arg(&out),
        "does not fit in 64 bits",
    );
    assert!(!out.exists());
}

#[test]
fn run_measures_exactly_one_decode_token_row_chosen_by_model_shape_and_dtype() {
    // What a peer script (llama.cpp side by side) runs, at the tiny model so it is quick.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("token.json");
    accelbench()
        .args([
            "run",
            "--device",
            "cpu",
            "--kernel",
            "decode_token",
            "--model",
            "tiny",
        ])
        .args(["--shape", "context=33", "--dtype", "f16", "--threads", "2"])
        .args(["--max-time-per-workload", "0.2", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("tok/s, whole model, measured"));
    let run = results::load(&out).unwrap();
    assert_eq!(run.results.len(), 1, "{:?}", run.results);
    let r = &run.results[0];
    assert_eq!(r.kernel, "decode_token");
    assert_eq!(r.dtype, "f16");
    assert_eq!(r.shape["model"], "tiny");
    assert_eq!(r.shape["context"], 33);
    assert!(r.is_valid(), "{r:?}");
    let tps = r.tokens_per_s.unwrap();
    assert!(
        (tps - 1e9 / r.ns.p50).abs() <= 1e-9 * tps,
        "{tps} vs p50 {}",
        r.ns.p50
    );
}

#[test]
fn run_decode_step_rows_no_longer_claim_a_whole_model_rate() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("step.json");
    accelbench()
        .args([
            "run",
            "--device",
            "cpu",
            "--kernel",
            "decode_step",
            "--model",
            "tiny",
        ])
        .args(["--dtype", "f32", "--max-time-per-workload", "0.2", "--out"])
        .arg(&out)
        .assert()
        .success();
    let run = results::load(&out).unwrap();
    assert!(!run.results.is_empty());
    assert!(run.results.iter().all(|r| r.tokens_per_s.is_none()));
}

#[test]
fn a_schema_1_file_still_loads_with_its_old_fields() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/machine_a.json");
    let run = results::load(&path).unwrap();
    assert_eq!(run.schema_version, 1);
    assert!(run.devices.iter().all(|d| d.peaks.is_none()));
    assert!(run.results.iter().all(|r| !r.extra.in_cache));
    assert_eq!(results::SCHEMA_VERSION, 2);
}

#[test]
fn a_whole_model_too_large_for_memory_is_skipped_with_a_note_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = accelbench();
    c.args(["run", "--device", "cpu", "--kernel", "decode_token"])
        .args(["--model", "llama-3.1-405b", "--dtype", "f16", "--out"])
        .arg(dir.path().join("big.json"));
    assert_usage_error(&mut c, "the whole model needs about");
}
