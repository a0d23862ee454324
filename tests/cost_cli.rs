//! Integration tests: the `cost` command line (defaults, listing, bad input, output formats).

use std::path::Path;

use accelbench::cost;

use crate::common::{
    accelbench_in, cost_fixture as fixture_path, cost_options as options, json_rows,
};

// ----------------------------------------------------------------- CLI

#[test]
fn cost_with_no_arguments_works_on_embedded_defaults_and_says_what_it_assumed() {
    let dir = tempfile::tempdir().unwrap();
    let out = accelbench_in(dir.path()).arg("cost").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(
        "llama-3.1-8b offline at batch auto (largest that fits, per instance), 512 prompt + 256 output tokens, bf16"
    ));
    assert!(stderr.contains("no results file"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("p5.4xlarge") && stdout.contains("v6e-1"));
    assert!(stdout.contains("Best custom silicon"));
}

#[test]
fn cost_with_no_arguments_uses_the_newest_results_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("results")).unwrap();
    std::fs::copy(fixture_path(), dir.path().join("results/run.json")).unwrap();
    let out = accelbench_in(dir.path())
        .args(["cost", "--format", "csv"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("newest in results/"), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("fixture-host:cpu"));
}

#[test]
fn cost_list_shows_prices_with_dates_and_sources() {
    let dir = tempfile::tempdir().unwrap();
    let out = accelbench_in(dir.path())
        .args(["cost", "--list"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let s = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "p5.48xlarge",
        "$55.0",
        "2026-07-28",
        "trn2.48xlarge",
        "v5litepod-8",
        "$1.2",
        "STAS_NET",
    ] {
        assert!(s.contains(needle), "missing {needle}");
    }
}

fn fails_with(dir: &Path, args: &[&str], needles: &[&str]) {
    let out = accelbench_in(dir).args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "one sentence: {stderr}"
    );
    assert!(stderr.starts_with("error: "), "{stderr}");
    for n in needles {
        assert!(stderr.contains(n), "expected '{n}' in: {stderr}");
    }
}

fn pricing_file(dir: &Path, body: &str) -> String {
    let path = dir.join("prices.toml");
    std::fs::write(&path, body).unwrap();
    "prices.toml".to_string()
}

#[test]
fn a_pricing_file_with_a_negative_price_is_refused_naming_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let f = pricing_file(
        dir.path(),
        "[[instance]]\nname = \"p5.48xlarge\"\nusd_per_hour = -3.0\nprice_source = \"q\"\n",
    );
    fails_with(
        dir.path(),
        &["cost", "--pricing", &f],
        &["prices.toml", "instance[0].usd_per_hour", "-3", "positive"],
    );
}

#[test]
fn a_pricing_file_with_a_zero_price_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let f = pricing_file(
        dir.path(),
        "[[instance]]\nname = \"v6e-8\"\nusd_per_chip_hour = 0.0\n",
    );
    fails_with(
        dir.path(),
        &["cost", "--pricing", &f],
        &["prices.toml", "instance[0].usd_per_chip_hour"],
    );
}

#[test]
fn a_pricing_file_with_a_nan_price_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let f = pricing_file(
        dir.path(),
        "[[local]]\ndevice = \"cpu\"\nusd_per_hour = nan\n",
    );
    fails_with(
        dir.path(),
        &["cost", "--pricing", &f],
        &["prices.toml", "local[0].usd_per_hour", "NaN"],
    );
}

#[test]
fn a_pricing_file_with_a_missing_field_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let f = pricing_file(
        dir.path(),
        "[[instance]]\nname = \"my-box\"\naccelerator = \"h100-sxm\"\nusd_per_hour = 10.0\n",
    );
    fails_with(
        dir.path(),
        &["cost", "--pricing", &f],
        &["prices.toml", "missing field 'instance[0].chips'"],
    );
}

#[test]
fn a_pricing_file_naming_an_unknown_accelerator_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let f = pricing_file(
        dir.path(),
        "[[instance]]\nname = \"my-box\"\naccelerator = \"h900\"\nchips = 2\nusd_per_hour = 10.0\n",
    );
    fails_with(
        dir.path(),
        &["cost", "--pricing", &f],
        &["prices.toml", "instance[0].accelerator", "h900"],
    );
}

#[test]
fn a_pricing_file_with_a_misspelt_field_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let f = pricing_file(
        dir.path(),
        "[[instance]]\nname = \"p5.48xlarge\"\nusd_per_hr = 3.0\n",
    );
    fails_with(
        dir.path(),
        &["cost", "--pricing", &f],
        &["prices.toml", "usd_per_hr"],
    );
}

#[test]
fn an_unknown_model_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    fails_with(
        dir.path(),
        &["cost", "--model", "llama-9"],
        &["--model", "llama-9", "llama-3.1-8b"],
    );
}

#[test]
fn an_unknown_instance_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    fails_with(
        dir.path(),
        &["cost", "--instance", "p9.huge"],
        &["--instance", "p9.huge", "p5.48xlarge"],
    );
}

#[test]
fn a_results_file_of_another_schema_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let f =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cost-results-schema-v99.json");
    fails_with(
        dir.path(),
        &["cost", f.to_str().unwrap()],
        &["cost-results-schema-v99.json", "schema_version"],
    );
}

#[test]
fn a_non_positive_price_per_hour_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    fails_with(
        dir.path(),
        &["cost", "--price-per-hour", "0"],
        &["--price-per-hour"],
    );
}

// ----------------------------------------------------------------- snapshots

fn snapshot_output(format: &str) -> String {
    // Run from the crate root with a relative path, so the file name in the notes is stable.
    let out = accelbench_in(Path::new(env!("CARGO_MANIFEST_DIR")))
        .args([
            "cost",
            "tests/fixtures/cost-results.json",
            "--model",
            "llama-3.1-8b",
            "--batch",
            "8",
            "--prompt-tokens",
            "512",
            "--output-tokens",
            "128",
            "--price-per-hour",
            "0.5",
            "--format",
            format,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn cost_table_output_is_stable() {
    insta::assert_snapshot!("cost_table", snapshot_output("table"));
}

#[test]
fn cost_markdown_output_is_stable() {
    insta::assert_snapshot!("cost_md", snapshot_output("md"));
}

#[test]
fn cost_csv_output_is_stable() {
    insta::assert_snapshot!("cost_csv", snapshot_output("csv"));
}

#[test]
fn cost_json_output_is_stable_and_carries_the_required_fields() {
    let s = snapshot_output("json");
    for row in json_rows(s.as_bytes()) {
        for field in [
            "instance",
            "accelerator",
            "kind",
            "basis",
            "scenario",
            "layout",
            "batch",
            "output_tokens_per_s",
            "output_tokens_per_s_low",
            "output_tokens_per_s_high",
            "ms_per_output_token",
            "prefill_tokens_per_s",
            "usd_per_m_input",
            "usd_per_m_output",
            "fit",
            "fit_cases",
            "price_source",
            "price_date",
        ] {
            assert!(row.get(field).is_some(), "row lacks {field}: {row}");
        }
    }
    insta::assert_snapshot!("cost_json", s);
}

#[test]
fn a_shape_too_large_to_count_exactly_is_refused_instead_of_overflowing() {
    let dir = tempfile::tempdir().unwrap();
    fails_with(
        dir.path(),
        &[
            "cost",
            "--model",
            "llama-2-70b",
            "--batch",
            "1000000",
            "--prompt-tokens",
            "1000000",
        ],
        &["--batch 1000000", "smaller batch"],
    );
}

#[test]
fn a_results_file_with_a_workload_that_never_ran_still_loads() {
    // The runner writes max_abs_err = NaN for workloads that could not run; JSON holds null.
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture_path()).unwrap()).unwrap();
    let row = &mut v["results"][0];
    row["verified"]["ok"] = false.into();
    row["verified"]["max_abs_err"] = serde_json::Value::Null;
    row["error"] = "could not prepare".into();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("failed-row.json");
    std::fs::write(&path, serde_json::to_string(&v).unwrap()).unwrap();
    let mut o = options("llama-3.1-8b");
    o.files = vec![path];
    let r = cost::compute(&o).unwrap();
    let cpu = r.rows.iter().find(|r| r.kind == "local").unwrap();
    // The failed 512x14336x4096 GEMM is skipped; prefill comes from the 2048^3 one.
    assert!(
        cpu.notes.iter().any(|n| n.contains("m=2048")),
        "{:?}",
        cpu.notes
    );
}
