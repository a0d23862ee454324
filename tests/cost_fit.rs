//! Integration tests: the published-measurement dataset, the fit, its validation, and the rule
//! that a local run never moves cloud rows.

use std::path::{Path, PathBuf};

use accelbench::cost::dataset::{self, Metric};
use accelbench::cost::fit::FittedTable;
use accelbench::cost::pricing::Pricing;
use accelbench::cost::validate;

use crate::common::accelbench_in;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn every_dataset_case_parses_and_names_its_source() {
    let pricing = Pricing::embedded().unwrap();
    let cases = dataset::load(None, &pricing).unwrap();
    assert!(cases.len() >= 24, "{} cases", cases.len());
    let families: std::collections::BTreeSet<&str> =
        cases.iter().map(|c| c.family.as_str()).collect();
    assert!(families.len() >= 7, "{families:?}");
    for c in &cases {
        assert!(c.source.len() > 10, "{}: source '{}'", c.id, c.source);
        assert!(c.date.starts_with("20"), "{}: date '{}'", c.id, c.date);
        assert!(c.value > 0.0 && c.value.is_finite(), "{}", c.id);
        // No case from the sources reserved for independent checks.
        let s = c.source.to_lowercase();
        assert!(!s.contains("inference_results_v5"), "{}", c.id);
        assert!(!s.contains("llama3.3"), "{}: {}", c.id, c.source);
        if c.metric == Metric::MsPerOutputToken {
            assert_eq!(
                c.batch,
                Some(1),
                "{}: a time per token is a batch-1 figure",
                c.id
            );
        }
    }
}

#[test]
fn the_shipped_fitted_table_is_what_calibrate_produces_from_the_shipped_dataset() {
    // Also shows the fit is deterministic: the table was written by an earlier run of it.
    let pricing = Pricing::embedded().unwrap();
    let cases = dataset::load(None, &pricing).unwrap();
    let (table, _) = validate::calibrate(&cases, &pricing).unwrap();
    let shipped = FittedTable::embedded().unwrap();
    assert_eq!(
        table, shipped,
        "src/cost/fitted.toml is stale: run `accelbench cost --calibrate > src/cost/fitted.toml`"
    );
    table.check().unwrap();
}

#[test]
fn leave_one_out_error_stays_within_the_promised_bounds() {
    let pricing = Pricing::embedded().unwrap();
    let cases = dataset::load(None, &pricing).unwrap();
    let v = validate::validate(&cases, &pricing).unwrap();
    println!(
        "in-sample GM error {:.3}x, leave-one-out GM error {:.3}x, worst {:.3}x",
        v.gm_error, v.loo_gm_error, v.loo_worst
    );
    assert!(v.loo_gm_error <= 1.3, "LOO GM error {:.3}x", v.loo_gm_error);
    for c in &v.cases {
        assert!(
            c.loo_ratio > 0.5 && c.loo_ratio < 2.0,
            "{}: leave-one-out ratio {:.2}",
            c.id,
            c.loo_ratio
        );
    }
    // In-sample can only be better than out-of-sample on the whole.
    assert!(v.gm_error <= v.loo_gm_error);
}

#[test]
fn cloud_rows_are_identical_with_and_without_a_local_results_file() {
    let dir = tempfile::tempdir().unwrap();
    let run = |dir: &Path| {
        let out = accelbench_in(dir)
            .args(["cost", "--format", "json"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let rows = v["rows"].as_array().unwrap().clone();
        let local = rows.iter().filter(|r| r["kind"] == "local").count();
        let cloud: Vec<serde_json::Value> =
            rows.into_iter().filter(|r| r["kind"] != "local").collect();
        (local, cloud)
    };
    let (local_before, before) = run(dir.path());
    assert_eq!(local_before, 0);
    std::fs::create_dir(dir.path().join("results")).unwrap();
    std::fs::copy(
        fixture("cost-results.json"),
        dir.path().join("results/run.json"),
    )
    .unwrap();
    let (local_after, after) = run(dir.path());
    assert_eq!(local_after, 1, "the results file gives a measured row");
    assert_eq!(before, after);
}

#[test]
fn a_measured_efficiency_moves_a_cloud_family_only_when_asked_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let rows = |args: &[&str]| {
        let out = accelbench_in(dir.path())
            .args(["cost", "--format", "json"])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["rows"].as_array().unwrap().clone()
    };
    let plain = rows(&[]);
    let file = fixture("cost-results.json");
    let opted = rows(&[
        "--efficiency-from",
        file.to_str().unwrap(),
        "--family",
        "h100-sxm",
    ]);
    assert_eq!(plain.len(), opted.len());
    for b in &opted {
        let a = plain
            .iter()
            .find(|a| a["instance"] == b["instance"])
            .expect("the same instances");
        if b["accelerator"].as_str().unwrap().contains("H100") {
            assert!(
                b["fit"].as_str().unwrap().contains("(opt-in)"),
                "{}",
                b["fit"]
            );
            assert!(
                b["fit"].as_str().unwrap().contains("GEMM 50%"),
                "{}",
                b["fit"]
            );
        } else {
            assert_eq!(a, b, "only the named family moves");
        }
    }
}

#[test]
fn an_efficiency_above_its_peak_is_refused_naming_the_row_and_the_peak() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture("cost-results.json")).unwrap();
    let hot = text.replacen("\"pct_peak_bw\": 60.0", "\"pct_peak_bw\": 150.7", 1);
    assert_ne!(hot, text);
    let path = dir.path().join("hot.json");
    std::fs::write(&path, hot).unwrap();
    let out = accelbench_in(dir.path())
        .args([
            "cost",
            "--efficiency-from",
            "hot.json",
            "--family",
            "h100-sxm",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("hot.json") && err.contains("gemv"), "{err}");
    assert!(
        err.contains("150.7%") && err.contains("100.0 GB/s"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn validate_prints_every_case_and_the_leave_one_out_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = accelbench_in(dir.path())
        .args(["cost", "--validate"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let pricing = Pricing::embedded().unwrap();
    for c in dataset::load(None, &pricing).unwrap() {
        assert!(text.contains(&c.id), "{} missing", c.id);
    }
    assert!(text.contains("leave-one-out"), "{text}");
    assert!(text.contains("LOO ratio"), "{text}");
}

fn dataset_error(body: &str, needles: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("extra.toml"), body).unwrap();
    let out = accelbench_in(dir.path())
        .args(["cost", "--dataset", "extra.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for n in needles {
        assert!(err.contains(n), "missing '{n}' in: {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
}

const GOOD_CASE: &str = r#"[[case]]
id = "user-h100-llama31-8b-latency"
family = "h100-sxm"
chips = 1
instance = "my box"
stack = "vLLM 0.9"
engine = "vllm"
model = "llama-3.1-8b"
model_published = "Llama-3.1-8B-Instruct"
precision = "bf16"
scenario = "latency"
batch = 1
prompt_tokens = 512
output_tokens = 256
metric = "ms_per_output_token"
value = 7.5
source = "https://example.org/my-measurement"
date = "2026-11-01"
"#;

#[test]
fn a_dataset_case_without_a_source_is_refused_naming_file_and_field() {
    let body = GOOD_CASE.replace("source = \"https://example.org/my-measurement\"\n", "");
    dataset_error(&body, &["extra.toml", "case[0].source"]);
}

#[test]
fn a_dataset_case_with_a_negative_figure_is_refused() {
    let body = GOOD_CASE.replace("value = 7.5", "value = -7.5");
    dataset_error(&body, &["extra.toml", "case[0].value", "-7.5"]);
}

#[test]
fn a_dataset_case_naming_an_unknown_family_or_model_is_refused() {
    dataset_error(
        &GOOD_CASE.replace("family = \"h100-sxm\"", "family = \"h900\""),
        &["extra.toml", "case[0].family", "h900"],
    );
    dataset_error(
        &GOOD_CASE.replace("model = \"llama-3.1-8b\"", "model = \"gpt-5\""),
        &["extra.toml", "case[0].model", "gpt-5"],
    );
}

#[test]
fn a_pricing_entry_without_a_source_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.toml"),
        "[[instance]]\nname = \"p5.48xlarge\"\nusd_per_hour = 30.0\n",
    )
    .unwrap();
    let out = accelbench_in(dir.path())
        .args(["cost", "--pricing", "p.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("p.toml") && err.contains("instance[0].price_source"),
        "{err}"
    );
}

#[test]
fn a_users_case_is_fitted_with_the_rest_and_shows_in_validate() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("extra.toml"), GOOD_CASE).unwrap();
    let out = accelbench_in(dir.path())
        .args([
            "cost",
            "--validate",
            "--dataset",
            "extra.toml",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cases = v["cases"].as_array().unwrap();
    assert!(
        cases
            .iter()
            .any(|c| c["id"] == "user-h100-llama31-8b-latency")
    );
}

#[test]
fn the_latency_scenario_reports_time_per_token_and_costs_more_per_token_than_offline() {
    let dir = tempfile::tempdir().unwrap();
    let row = |scenario: &str| {
        let out = accelbench_in(dir.path())
            .args(["cost", "--format", "json", "--instance", "p5.48xlarge"])
            .args(["--scenario", scenario])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["rows"][0].clone()
    };
    let offline = row("offline");
    let latency = row("latency");
    assert_eq!(latency["scenario"], "latency");
    assert_eq!(latency["batch"], 1);
    assert!(latency["ms_per_output_token"].as_f64().unwrap() > 0.0);
    assert!(
        latency["usd_per_m_output"].as_f64().unwrap()
            > offline["usd_per_m_output"].as_f64().unwrap()
    );
    // Every projected row names its fit and the cases it rests on.
    assert!(offline["fit"].as_str().unwrap().starts_with("h100-sxm fit"));
    assert!(offline["fit_cases"].as_u64().unwrap() >= 3);
}
