//! compare: the CLI on fixture files, and bad input (one sentence naming the file, exit code 2).

use super::*;

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

#[test]
fn a_change_of_kernel_a_reduced_gpu_clock_or_outliers_are_noted_beside_the_verdicts() {
    let load = |name: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(fixture(name)).unwrap()).unwrap()
    };
    let (mut base, mut cand) = (load("baseline.json"), load("candidate_same.json"));
    let gpu_row = |v: &mut serde_json::Value| -> serde_json::Value {
        let rows = v["results"].as_array_mut().unwrap();
        let row = rows
            .iter_mut()
            .find(|r| r["device"].as_str().unwrap().starts_with("gpu"))
            .unwrap();
        row.take()
    };
    let (mut b, mut c) = (gpu_row(&mut base), gpu_row(&mut cand));
    b["kernel_variant"] = "gemm_f32_tile128".into();
    c["kernel_variant"] = "gemm_f32_tiled".into();
    c["device_state"] = serde_json::json!({
        "source": "nvidia-smi -i 0 every 100 ms while the workload was timed",
        "samples": 3,
        "sm_clock_mhz": {"min": 1410.0, "p50": 1410.0, "max": 1980.0},
        "max_sm_clock_mhz": 1980.0,
        "mem_clock_mhz": {"min": 2619.0, "p50": 2619.0, "max": 2619.0},
        "limit_reasons": ["hw_slowdown"]
    });
    b["outliers"] = serde_json::json!({
        "slow": 2, "fast": 0, "max_over_median": 2.75, "min_over_median": 0.99
    });
    let put = |v: &mut serde_json::Value, row: serde_json::Value| {
        let rows = v["results"].as_array_mut().unwrap();
        let slot = rows.iter_mut().find(|r| r.is_null()).unwrap();
        *slot = row;
    };
    put(&mut base, b);
    put(&mut cand, c);
    let dir = tempfile::tempdir().unwrap();
    let (bp, cp) = (dir.path().join("b.json"), dir.path().join("c.json"));
    std::fs::write(&bp, base.to_string()).unwrap();
    std::fs::write(&cp, cand.to_string()).unwrap();
    let out = accelbench()
        .args(["compare", bp.to_str().unwrap(), cp.to_str().unwrap()])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains(
            "ran different kernels: gemm_f32_tile128 in the baseline, gemm_f32_tiled in the candidate"
        ),
        "{text}"
    );
    assert!(
        text.contains("1 row(s) of the candidate were timed below the GPU's full clock")
            && text.contains("hw_slowdown"),
        "{text}"
    );
    assert!(!text.contains("of the baseline were timed"), "{text}");
    assert!(
        text.contains(&format!(
            "1 row(s) of the baseline ('{}') had statistical outliers",
            bp.display()
        )) && text.contains("the slowest 2.75x its median"),
        "{text}"
    );
    assert!(!text.contains("of the candidate had statistical"), "{text}");
}
