//! Integration tests: report (merging, every format, escaping, plots, the CLI's exit codes).
//!
//! The fixtures under tests/fixtures/ are made by `regenerate_fixtures` below (run it with
//! `cargo test --release report::fixtures::regenerate_fixtures -- --ignored`); their hosts are fake.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use accelbench::cost;
use accelbench::measure;
use accelbench::report::svg::{self, CostBar};
use accelbench::report::{self, ReportFormat, load_and_merge};
use accelbench::results::{
    self, DeviceKind, DeviceRecord, Host, ResultRow, RunResults, RunSettings, TimerKind, Verified,
};
use assert_cmd::Command;
use serde_json::{Value, json};

mod fixtures;
mod merging;
mod plots;
mod rows;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Relative paths keep the file names in rendered output independent of the checkout.
fn rel(name: &str) -> PathBuf {
    PathBuf::from("tests/fixtures").join(name)
}

fn render(files: &[&str], format: ReportFormat, transpose: bool) -> String {
    let files: Vec<PathBuf> = files.iter().map(|f| rel(f)).collect();
    let prev = std::env::current_dir().unwrap();
    assert_eq!(
        prev.canonicalize().unwrap(),
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .canonicalize()
            .unwrap(),
        "tests run from the package root"
    );
    let merged = load_and_merge(&files).unwrap();
    let figures = if format == ReportFormat::Html {
        let priced = cost::compute(&report::cost_options(files.clone())).unwrap();
        report::figures(&merged, Some(&priced)).unwrap()
    } else {
        Vec::new()
    };
    String::from_utf8(report::render(&merged, format, transpose, figures, None).unwrap()).unwrap()
}

fn accelbench() -> Command {
    let mut c = Command::cargo_bin("accelbench").unwrap();
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

// ---------------------------------------------------------------------------------------------
// Snapshots of every text format.

#[test]
fn markdown_of_two_machines_matches_snapshot() {
    insta::assert_snapshot!(
        "two_machines_md",
        render(
            &["machine_a.json", "machine_b.json"],
            ReportFormat::Md,
            false
        )
    );
}

#[test]
fn transposed_markdown_puts_devices_in_rows() {
    let md = render(
        &["machine_a.json", "machine_b.json"],
        ReportFormat::Md,
        true,
    );
    insta::assert_snapshot!("two_machines_md_transposed", md);
    assert!(md.contains("| device | gemm k=512 m=512 n=512 f32 |"));
}

#[test]
fn csv_of_two_machines_matches_snapshot() {
    insta::assert_snapshot!(
        "two_machines_csv",
        render(
            &["machine_a.json", "machine_b.json"],
            ReportFormat::Csv,
            false
        )
    );
}

#[test]
fn json_of_two_machines_matches_snapshot() {
    insta::assert_snapshot!(
        "two_machines_json",
        render(
            &["machine_a.json", "machine_b.json"],
            ReportFormat::Json,
            false
        )
    );
}

#[test]
fn bmf_of_two_machines_matches_snapshot() {
    insta::assert_snapshot!(
        "two_machines_bmf",
        render(
            &["machine_a.json", "machine_b.json"],
            ReportFormat::Bmf,
            false
        )
    );
}

#[test]
fn gab_of_two_machines_matches_snapshot() {
    insta::assert_snapshot!(
        "two_machines_gab",
        render(
            &["machine_a.json", "machine_b.json"],
            ReportFormat::Gab,
            false
        )
    );
}

// ---------------------------------------------------------------------------------------------
// Helpers.

fn unescaped_pipes(line: &str) -> usize {
    let mut n = 0;
    let mut escaped = false;
    for c in line.chars() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '|' {
            n += 1;
        }
    }
    n
}

/// RFC 4180 reader: quoted fields may hold commas, quotes (doubled) and line breaks.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                _ => field.push(c),
            }
        } else {
            match c {
                '"' => quoted = true,
                ',' => record.push(std::mem::take(&mut field)),
                '\n' => {
                    record.push(std::mem::take(&mut field));
                    records.push(std::mem::take(&mut record));
                }
                _ => field.push(c),
            }
        }
    }
    assert!(!quoted, "unterminated quote");
    assert!(
        field.is_empty() && record.is_empty(),
        "missing final newline"
    );
    records
}
