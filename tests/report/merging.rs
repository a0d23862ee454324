//! report: merging files into columns, refused inputs, and the CLI writing files.

use super::*;

#[test]
fn two_machines_become_columns_with_host_prefixed_ids() {
    let m = load_and_merge(&[rel("machine_a.json"), rel("machine_b.json")]).unwrap();
    let ids: Vec<&str> = m.columns.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "fixture-host-a/cpu",
            "fixture-host-a/gpu0",
            "fixture-host-b/cpu",
            "fixture-host-b/gpu0"
        ]
    );
    assert!(m.notes.is_empty(), "{:?}", m.notes);
    // gemm 1024 ran only on machine b's GPU: the other cells are empty, not zero.
    let g = m
        .workloads
        .iter()
        .find(|w| w.label == "gemm k=1024 m=1024 n=1024 f32")
        .unwrap();
    assert_eq!(g.cells.iter().filter(|c| c.is_some()).count(), 1);
    let md = render(
        &["machine_a.json", "machine_b.json"],
        ReportFormat::Md,
        false,
    );
    let line = md.lines().find(|l| l.starts_with("| gemm k=1024")).unwrap();
    assert_eq!(line.matches("| - ").count(), 3, "{line}");
}

#[test]
fn the_same_device_twice_keeps_both_runs_labelled_with_their_start_time() {
    let m = load_and_merge(&[rel("machine_a.json"), rel("machine_a_rerun.json")]).unwrap();
    let ids: Vec<&str> = m.columns.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "fixture-host-a/cpu@2026-11-20T10:00:00Z",
            "fixture-host-a/gpu0",
            "fixture-host-a/cpu@2026-11-22T08:00:00Z"
        ]
    );
    assert_eq!(m.notes.len(), 1);
    assert!(m.notes[0].contains("appears in 2 runs"), "{}", m.notes[0]);
    let md = render(
        &["machine_a.json", "machine_a_rerun.json"],
        ReportFormat::Md,
        false,
    );
    assert!(md.contains("## Notes"));
}

#[test]
fn the_same_file_twice_is_refused_with_a_clear_message() {
    let err = load_and_merge(&[rel("machine_a.json"), rel("machine_a.json")]).unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.contains("holds the same run as"), "{msg}");
    assert!(msg.contains("pass each results file once"), "{msg}");
}

#[test]
fn a_file_of_another_schema_version_exits_2_naming_it() {
    accelbench()
        .args([
            "report",
            "tests/fixtures/machine_a.json",
            "tests/fixtures/schema_v99.json",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("schema_v99.json"))
        .stderr(predicates::str::contains("schema_version"))
        .stdout("");
}

#[test]
fn a_truncated_file_exits_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture("machine_a.json")).unwrap();
    let bad = dir.path().join("cut.json");
    std::fs::write(&bad, &text[..text.len() / 2]).unwrap();
    accelbench()
        .arg("report")
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("cut.json"))
        .stderr(predicates::str::contains("not a valid JSON results file"));
}

#[test]
fn the_same_file_twice_exits_2_through_the_binary() {
    accelbench()
        .args([
            "report",
            "tests/fixtures/machine_a.json",
            "tests/fixtures/machine_a.json",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("pass each results file once"));
}

#[test]
fn report_prints_markdown_by_default() {
    accelbench()
        .args(["report", "tests/fixtures/machine_a.json"])
        .assert()
        .success()
        .stdout(predicates::str::starts_with("# accelbench report"));
}

#[test]
fn markdown_written_to_a_file_links_its_plots() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("README.md");
    accelbench()
        .args([
            "report",
            "tests/fixtures/machine_a.json",
            "tests/fixtures/machine_b.json",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let md = std::fs::read_to_string(&out).unwrap();
    let plots = dir.path().join("README-plots");
    let files: Vec<String> = std::fs::read_dir(&plots)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(files.iter().any(|f| f == "cost-per-token.svg"));
    assert!(md.contains("No bar for local devices without a price per hour"));
    assert!(files.iter().any(|f| f.starts_with("roofline-")));
    assert!(files.iter().any(|f| f.starts_with("latency-")));
    for f in &files {
        assert!(
            md.contains(&format!("(README-plots/{f})")),
            "{f} not linked"
        );
        let svg = std::fs::read_to_string(plots.join(f)).unwrap();
        assert!(svg.starts_with("<svg"));
    }
    // A second run refuses to overwrite without --force, and succeeds with it.
    accelbench()
        .args(["report", "tests/fixtures/machine_a.json", "--out"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--force"));
    accelbench()
        .args([
            "report",
            "tests/fixtures/machine_a.json",
            "--force",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
}

#[test]
fn html_written_to_a_file_is_complete() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.html");
    accelbench()
        .args([
            "report",
            "tests/fixtures/machine_a.json",
            "--format",
            "html",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.contains("<svg") && html.ends_with("</html>\n"));
}

#[test]
fn bmf_says_on_stderr_how_many_failures_it_left_out() {
    accelbench()
        .args(["report", "tests/fixtures/machine_a.json", "--format", "bmf"])
        .assert()
        .success()
        .stderr(predicates::str::contains("1 failed result(s) are left out"));
}
