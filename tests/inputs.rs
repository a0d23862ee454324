//! Integration tests: results files that parse as JSON but hold impossible figures are refused
//! by `report`, `cost` and `compare` with exit code 2, one sentence naming the file and the
//! field, and nothing written.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn accelbench() -> Command {
    let mut c = Command::cargo_bin("accelbench").expect("binary is built");
    c.env("NO_COLOR", "1");
    c
}

fn baseline() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/compare/baseline.json")
}

/// The baseline fixture with `edit` applied to its first row, written to `dir/name`.
fn damaged(dir: &Path, name: &str, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(baseline()).unwrap()).unwrap();
    edit(&mut v["results"][0]);
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    path
}

/// `report`, `cost` and `compare` each refuse `bad` naming it and `field`; `report --out`
/// writes nothing.
fn refused_everywhere(dir: &Path, bad: &Path, field: &str) {
    let name = bad.file_name().unwrap().to_str().unwrap().to_string();
    let out = dir.join("report.md");
    let runs: Vec<Vec<String>> = vec![
        vec![
            "report".into(),
            bad.display().to_string(),
            "--out".into(),
            out.display().to_string(),
        ],
        vec!["cost".into(), bad.display().to_string()],
        vec![
            "compare".into(),
            baseline().display().to_string(),
            bad.display().to_string(),
        ],
    ];
    for args in runs {
        accelbench()
            .args(&args)
            .assert()
            .code(2)
            .stdout(predicate::str::is_empty())
            .stderr(predicate::str::contains(name.as_str()))
            .stderr(predicate::str::contains(field))
            .stderr(predicate::str::contains("panicked").not());
    }
    assert!(!out.exists(), "report wrote {}", out.display());
}

#[test]
fn a_negative_median_is_refused_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let bad = damaged(dir.path(), "negative_p50.json", |r| {
        r["ns"]["p50"] = (-5.0).into()
    });
    refused_everywhere(dir.path(), &bad, "'results[0].ns.p50' is -5");
}

#[test]
fn an_absurd_median_is_refused_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let bad = damaged(dir.path(), "huge_p50.json", |r| {
        r["ns"]["p50"] = 1e308.into()
    });
    refused_everywhere(dir.path(), &bad, "'results[0].ns.p50' is 1");
}

#[test]
fn an_absurd_sample_count_is_refused_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let bad = damaged(dir.path(), "samples.json", |r| {
        r["samples"] = (1u64 << 63).into()
    });
    refused_everywhere(dir.path(), &bad, "'results[0].samples'");
}

#[test]
fn percentiles_out_of_order_are_refused_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let bad = damaged(dir.path(), "unordered.json", |r| {
        let p99 = r["ns"]["p99"].as_f64().unwrap();
        r["ns"]["p50"] = (p99 * 2.0).into();
    });
    refused_everywhere(dir.path(), &bad, "expected min <= p50 <= p90");
}

#[test]
fn samples_that_disagree_with_the_histogram_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let bad = damaged(dir.path(), "miscount.json", |r| {
        let n = r["samples"].as_u64().unwrap();
        r["samples"] = (n + 1).into();
    });
    refused_everywhere(dir.path(), &bad, "'results[0].histogram' holds");
}

#[test]
fn a_histogram_that_claims_a_huge_payload_is_refused_without_allocating_it() {
    use base64::Engine;
    let dir = tempfile::tempdir().unwrap();
    // An uncompressed V2 header announcing a 4 GiB payload, followed by nothing.
    let mut blob = Vec::new();
    blob.extend_from_slice(&0x1c84_9313u32.to_be_bytes());
    blob.extend_from_slice(&u32::MAX.to_be_bytes());
    blob.extend_from_slice(&0u32.to_be_bytes());
    blob.extend_from_slice(&3u32.to_be_bytes());
    blob.extend_from_slice(&1u64.to_be_bytes());
    blob.extend_from_slice(&2u64.to_be_bytes());
    blob.extend_from_slice(&1f64.to_be_bytes());
    let b64 = base64::engine::general_purpose::STANDARD.encode(blob);
    let bad = damaged(dir.path(), "huge_payload.json", |r| {
        r["histogram"] = b64.into()
    });
    refused_everywhere(dir.path(), &bad, "payload length exceeds its size");
}
