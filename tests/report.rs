//! Integration tests: report (merging, every format, escaping, plots, the CLI's exit codes).
//!
//! The fixtures under tests/fixtures/ are made by `regenerate_fixtures` below (run it with
//! `cargo test --release report::regenerate_fixtures -- --ignored`); their hosts are fake.

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
// Failed rows and software adapters.

#[test]
fn failed_results_show_failed_and_never_a_number() {
    let md = render(&["machine_a.json"], ReportFormat::Md, false);
    let gemv = md
        .lines()
        .find(|l| l.starts_with("| gemv k=4096 n=4096 f32 |"))
        .unwrap();
    let cells: Vec<&str> = gemv.split(" | ").collect();
    // workload, cpu, gpu0 (the failed one).
    assert!(cells[2].starts_with("**FAILED**"), "{gemv}");
    assert!(md.contains("## Failed workloads"));
    assert!(md.contains("verification failed: max abs error 1.000e-1"));

    let csv = render(&["machine_a.json"], ReportFormat::Csv, false);
    let records = parse_csv(&csv);
    let header = &records[0];
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let failed: Vec<&Vec<String>> = records
        .iter()
        .filter(|r| r[col("status")] == "FAILED")
        .collect();
    assert_eq!(failed.len(), 1);
    for field in ["throughput", "p50_ns", "p99_ns", "gflops", "gbps"] {
        assert_eq!(failed[0][col(field)], "", "{field} of a failed row");
    }

    let json: Value =
        serde_json::from_str(&render(&["machine_a.json"], ReportFormat::Json, false)).unwrap();
    let failed: Vec<&Value> = json["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|w| w["results"].as_array().unwrap())
        .filter(|r| r["status"] == "failed")
        .collect();
    assert_eq!(failed.len(), 1);
    assert!(failed[0]["throughput"].is_null());
    assert!(failed[0]["row"].get("gbps").is_none());

    let bmf: Value =
        serde_json::from_str(&render(&["machine_a.json"], ReportFormat::Bmf, false)).unwrap();
    assert!(
        bmf.get("gemv k=4096 n=4096 f32 @ fixture-host-a/gpu0")
            .is_none()
    );
    assert!(
        bmf.get("gemv k=4096 n=4096 f32 @ fixture-host-a/cpu")
            .is_some()
    );
    let gab: Value =
        serde_json::from_str(&render(&["machine_a.json"], ReportFormat::Gab, false)).unwrap();
    assert!(
        gab.as_array()
            .unwrap()
            .iter()
            .all(|e| e["name"] != "gemv k=4096 n=4096 f32 @ fixture-host-a/gpu0")
    );
}

#[test]
fn software_adapters_are_labelled_in_every_table() {
    let md = render(&["machine_a.json"], ReportFormat::Md, false);
    assert!(
        md.contains(
            "| workload | fixture-host-a/cpu<br>Fixture CPU 8-core @ 3.0 GHz | fixture-host-a/gpu0<br>llvmpipe (LLVM 19.1.7, 256 bits)<br>(software adapter) |"
        )
    );
    assert!(md.contains("gpu (cpu)<br>**software adapter**"));
    let csv = render(&["machine_a.json"], ReportFormat::Csv, false);
    assert!(
        csv.lines()
            .filter(|l| l.contains("fixture-host-a/gpu0"))
            .all(|l| l.contains(",true,"))
    );
}

#[test]
fn throughput_uses_the_meaningful_unit_per_kernel() {
    let md = render(&["machine_a.json"], ReportFormat::Md, false);
    let unit_of = |prefix: &str| -> String {
        let line = md.lines().find(|l| l.starts_with(prefix)).unwrap();
        line.split(" | ").nth(1).unwrap().to_string()
    };
    assert!(unit_of("| gemm ").contains("GFLOP/s"));
    assert!(unit_of("| gemv ").contains("GB/s"));
    assert!(unit_of("| stream_triad ").contains("GB/s"));
    assert!(unit_of("| decode_attention ").contains("GB/s"));
    assert!(unit_of("| decode_step ").contains("tokens/s"));
}

// ---------------------------------------------------------------------------------------------
// Escaping: strings from results files must render as text and keep tables intact.

#[test]
fn hostile_names_keep_the_markdown_table_intact() {
    let md = render(&["hostile.json"], ReportFormat::Md, false);
    assert!(!md.contains("<script>"), "raw script tag in:\n{md}");
    assert!(md.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(md.contains("a\\|b,\"c\""));
    // Every line of a table has as many unescaped pipes as its header.
    let mut expected = None;
    for line in md.lines() {
        if line.starts_with('|') {
            let n = unescaped_pipes(line);
            match expected {
                None => expected = Some(n),
                Some(e) => assert_eq!(n, e, "row breaks its table: {line}"),
            }
        } else {
            expected = None;
        }
    }
}

#[test]
fn hostile_names_keep_the_csv_columns_intact() {
    let csv = render(&["hostile.json"], ReportFormat::Csv, false);
    let records = parse_csv(&csv);
    assert!(records.len() >= 3);
    for r in &records {
        assert_eq!(r.len(), records[0].len(), "record {r:?}");
    }
    let names: Vec<&str> = records.iter().map(|r| r[5].as_str()).collect();
    assert!(names.contains(&"<script>alert(1)</script>"));
    assert!(names.contains(&"a|b,\"c\""));
    // A formula-looking driver string is shown as text by spreadsheets.
    assert!(records.iter().any(|r| r[10].starts_with("'=")));
}

#[test]
fn hostile_names_render_as_text_in_html() {
    let html = render(&["hostile.json"], ReportFormat::Html, false);
    assert!(
        !html.to_lowercase().contains("<script"),
        "script tag in HTML"
    );
    assert!(!html.contains("<img"), "img tag in HTML");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("a|b,&quot;c&quot;"));
    // The tables stay tables: as many opened rows as closed ones.
    assert_eq!(html.matches("<tr>").count(), html.matches("</tr>").count());
    assert_eq!(html.matches("<td").count(), html.matches("</td>").count());
}

#[test]
fn hostile_names_are_plain_strings_in_json_formats() {
    for format in [ReportFormat::Json, ReportFormat::Bmf, ReportFormat::Gab] {
        let text = render(&["hostile.json"], format, false);
        let v: Value = serde_json::from_str(&text).unwrap();
        assert!(text.contains("alert(1)"), "{format:?}");
        assert!(!v.is_null());
    }
}

// ---------------------------------------------------------------------------------------------
// HTML and plots.

#[test]
fn html_is_one_self_contained_page_with_plots() {
    let html = render(
        &["machine_a.json", "machine_b.json"],
        ReportFormat::Html,
        false,
    );
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.trim_end().ends_with("</html>"));
    assert!(!html.to_lowercase().contains("<script"));
    assert!(!html.contains("<link rel=\"stylesheet\""));
    // The only URL is the SVG namespace, which is a name, not a request.
    let without_ns = html.replace("http://www.w3.org/2000/svg", "");
    assert!(!without_ns.contains("http://") && !without_ns.contains("https://"));
    // The cost chart, one roofline per device column (4) and one latency plot per workload with
    // a valid result.
    let svgs = html.matches("<svg").count();
    let merged = load_and_merge(&[rel("machine_a.json"), rel("machine_b.json")]).unwrap();
    assert_eq!(svgs, 1 + merged.columns.len() + merged.workloads.len());
    assert!(html.contains("Cost per million output tokens: llama-3.1-8b, offline"));
    assert!(html.contains(
        "Roofline: fixture-host-a/gpu0: llvmpipe (LLVM 19.1.7, 256 bits) (software adapter)"
    ));
    assert!(html.contains("percentile"));
    assert!(html.contains("99.9%") || html.contains("99%"));
}

#[test]
fn cost_chart_draws_a_labelled_bar_per_row() {
    let rows = vec![
        CostBar {
            label: "this machine (CPU)".into(),
            usd_per_m_output: 12.5,
            kind: "measured".into(),
        },
        CostBar {
            label: "p5.48xlarge (8x H100)".into(),
            usd_per_m_output: 0.42,
            kind: "projected".into(),
        },
        CostBar {
            label: "<script>x</script>".into(),
            usd_per_m_output: 0.0123,
            kind: "projected".into(),
        },
    ];
    let s = svg::cost_per_token("$ per 1M output tokens", &rows).unwrap();
    assert!(s.starts_with("<svg"));
    for text in [
        "this machine (CPU)",
        "p5.48xlarge (8x H100)",
        "$12.50",
        "$0.42",
        "$0.0123",
        "measured",
        "projected",
    ] {
        assert!(s.contains(text), "missing {text}");
    }
    assert!(!s.contains("<script>"));
    assert!(s.contains("&lt;script&gt;x&lt;/script&gt;"));
    // Three bars plus two legend swatches, on top of the background and frame rectangles.
    let filled_bars = s.matches("<rect").count();
    assert!(filled_bars >= 5, "{filled_bars} rects");
}

fn priced_report(
    files: &[&str],
    price_per_hour: Option<f64>,
) -> (report::MergedReport, cost::CostReport) {
    let files: Vec<PathBuf> = files.iter().map(|f| rel(f)).collect();
    let merged = load_and_merge(&files).unwrap();
    let mut opts = report::cost_options(files);
    opts.price_per_hour = price_per_hour;
    (merged, cost::compute(&opts).unwrap())
}

/// The value labels drawn at the end of the bars (` $1.23`; axis ticks have no leading space).
fn bar_values(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let inner = t.split_once('>')?.1.split_once("</text>")?.0;
            let inner = inner.trim_matches(['\n', '\r']);
            inner.starts_with(" $").then(|| inner.trim().to_string())
        })
        .collect()
}

#[test]
fn report_cost_chart_uses_the_cost_commands_defaults() {
    use clap::Parser;
    let cli = accelbench::cli::Cli::try_parse_from(["accelbench", "cost"]).unwrap();
    let accelbench::cli::Command::Cost(a) = cli.command else {
        panic!("not the cost command")
    };
    let o = report::cost_options(Vec::new());
    assert_eq!(
        (
            &o.model,
            o.batch,
            o.prompt_tokens,
            o.output_tokens,
            o.precision
        ),
        (
            &a.model,
            a.batch,
            a.prompt_tokens,
            a.output_tokens,
            a.precision
        )
    );
    assert_eq!(
        (o.pricing, o.price_per_hour, o.instance),
        (None, None, None)
    );
}

#[test]
fn cost_chart_leaves_out_unpriced_rows_and_says_why() {
    let (merged, priced) = priced_report(&["machine_a.json", "machine_b.json"], None);
    let fig = report::cost_figure(&priced, &merged).unwrap();
    assert_eq!(fig.file_name, "cost-per-token.svg");
    assert_eq!(
        fig.title,
        "Cost per million output tokens: llama-3.1-8b, offline"
    );
    let drawn: Vec<&cost::CostRow> = priced
        .rows
        .iter()
        .filter(|r| r.fits && r.usd_per_m_output.is_some())
        .collect();
    assert!(drawn.iter().all(|r| r.basis == "projected"));
    assert!(drawn.iter().any(|r| r.kind == "gpu") && drawn.iter().any(|r| r.kind == "custom"));
    // One value label per drawn row, and no bar for a row without a price.
    assert_eq!(
        bar_values(&fig.svg).len(),
        drawn.len(),
        "{:?}",
        bar_values(&fig.svg)
    );
    for r in &priced.rows {
        let shown = fig.svg.contains(&format!("{} (", r.instance));
        assert_eq!(shown, drawn.contains(&r), "{}", r.instance);
    }
    for legend in ["projected: cloud GPU", "projected: custom silicon"] {
        assert!(fig.svg.contains(legend), "{legend}");
    }
    assert!(!fig.svg.contains("measured (local device)"));
    insta::assert_snapshot!("cost_figure_caption", fig.caption.join("\n\n"));
}

#[test]
fn a_given_local_price_draws_a_measured_bar() {
    let (merged, priced) = priced_report(&["machine_a.json"], Some(2.0));
    let fig = report::cost_figure(&priced, &merged).unwrap();
    let cpu = priced
        .rows
        .iter()
        .find(|r| r.instance == "fixture-host-a:cpu")
        .unwrap();
    let usd = cpu.usd_per_m_output.unwrap();
    // Whole requests at batch 1: the prompt's prefill and the decode steps, as measured.
    let tps = cpu.output_tokens_per_s.unwrap();
    assert!((usd - 2.0 / (tps * 3600.0) * 1e6).abs() < 1e-9 * usd);
    assert!(
        fig.svg
            .contains("fixture-host-a:cpu (Fixture CPU 8-core @ 3.0 GHz)")
    );
    assert!(fig.svg.contains("measured (local device)"));
    assert!(fig.caption.iter().any(|c| c.starts_with("Measured bars:")));
    assert!(!fig.caption.iter().any(|c| c.contains("--price-per-hour")));
}

/// The value of attribute `name` in the opening tag `tag`.
fn attr(tag: &str, name: &str) -> Option<f64> {
    let key = format!(" {name}=\"");
    let i = tag.find(&key)? + key.len();
    tag[i..].split('"').next()?.parse().ok()
}

/// Opening tags of the SVG elements named `element`.
fn tags<'a>(svg: &'a str, element: &str) -> Vec<&'a str> {
    svg.split(&format!("<{element} "))
        .skip(1)
        .filter_map(|t| t.split_once('>').map(|(tag, _)| tag))
        .collect()
}

/// The y coordinate of the `<text>` element whose content is `label`.
fn text_y(svg: &str, label: &str) -> f64 {
    svg.split("<text ")
        .skip(1)
        .find_map(|t| {
            let (tag, rest) = t.split_once('>')?;
            let content = rest.split_once("</text>")?.0.trim();
            (content == label).then(|| attr(tag, "y")).flatten()
        })
        .unwrap_or_else(|| panic!("no text {label}"))
}

#[test]
fn legends_sit_above_the_data_and_never_cover_it() {
    // Roofline: points everywhere, also where a corner legend used to be.
    let pts: Vec<svg::RooflinePoint> = [
        ("gemm", 100.0, 20_000.0),
        ("gemm", 0.2, 1.0),
        ("gemv", 0.5, 900.0),
        ("stream_triad", 0.08, 200.0),
        ("decode_step", 500.0, 2.0),
    ]
    .iter()
    .map(|&(g, ai, gf)| svg::RooflinePoint {
        group: g.into(),
        intensity_flop_per_byte: ai,
        gflops: gf,
    })
    .collect();
    let s = svg::roofline("r", Some(60_000.0), Some(2_000.0), &pts).unwrap();
    let legend_bottom = ["gemm", "gemv", "stream_triad", "decode_step"]
        .iter()
        .map(|l| text_y(&s, l))
        .fold(0.0, f64::max);
    let below: Vec<&str> = tags(&s, "circle")
        .into_iter()
        .filter(|t| attr(t, "cy").unwrap() > legend_bottom + 6.0)
        .collect();
    assert_eq!(below.len(), pts.len(), "{below:?}");

    // Latency: every data line lies below the legend.
    let series: Vec<svg::LatencySeries> = ["first device", "second device"]
        .iter()
        .enumerate()
        .map(|(i, l)| svg::LatencySeries {
            label: l.to_string(),
            points: vec![(0.0, 1e6 * (i + 1) as f64), (0.9, 2e6 * (i + 1) as f64)],
        })
        .collect();
    let s = svg::latency_percentiles("l", &series).unwrap();
    let legend_bottom = text_y(&s, "second device");
    let data_lines = tags(&s, "polyline")
        .into_iter()
        .filter(|t| t.contains("stroke-width=\"2\""))
        .filter(|t| {
            let pts = t
                .split("points=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            pts.split_whitespace()
                .all(|p| p.split(',').nth(1).unwrap().parse::<f64>().unwrap() > legend_bottom + 6.0)
        })
        .count();
    assert_eq!(data_lines, series.len());

    // Cost: one bar per row, all below the legend.
    let rows: Vec<CostBar> = (0..4)
        .map(|i| CostBar {
            label: format!("row {i}"),
            usd_per_m_output: 10.0 - i as f64,
            kind: if i % 2 == 0 { "measured" } else { "projected" }.into(),
        })
        .collect();
    let s = svg::cost_per_token("c", &rows).unwrap();
    let legend_bottom = text_y(&s, "projected").max(text_y(&s, "measured"));
    let bars = tags(&s, "rect")
        .into_iter()
        .filter(|t| !t.contains("#FFFFFF") && attr(t, "y").unwrap() > legend_bottom + 6.0)
        .count();
    assert_eq!(bars, rows.len());
}

#[test]
fn plots_without_data_say_so_instead_of_failing() {
    let s = svg::cost_per_token("empty", &[]).unwrap();
    assert!(s.contains("no priced rows"));
    let s = svg::roofline("empty", None, None, &[]).unwrap();
    assert!(s.contains("no valid results"));
    let s = svg::latency_percentiles("empty", &[]).unwrap();
    assert!(s.contains("no valid samples"));
}

#[test]
fn roofline_without_peaks_says_which_roof_is_missing() {
    let pts = [svg::RooflinePoint {
        group: "gemm".into(),
        intensity_flop_per_byte: 85.0,
        gflops: 120.0,
    }];
    let s = svg::roofline("r", None, Some(40.0), &pts).unwrap();
    assert!(s.contains("peak compute unknown"));
    assert!(s.contains("bandwidth 40 GB/s"));
}

// ---------------------------------------------------------------------------------------------
// Merging.

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

// ---------------------------------------------------------------------------------------------
// Fixture generator.

fn shape(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// Deterministic samples around `p50_ns`: a narrow body and a 2% tail up to 1.6x.
fn samples(p50_ns: f64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| {
            let u = (i * 7919 % n) as f64 / n as f64;
            if u > 0.98 {
                p50_ns * (1.1 + 25.0 * (u - 0.98))
            } else {
                p50_ns * (0.97 + 0.06 * u)
            }
        })
        .collect()
}

struct RowSpec<'a> {
    device: &'a str,
    kernel: &'a str,
    shape: BTreeMap<String, Value>,
    dtype: &'a str,
    flops: u64,
    bytes: u64,
    p50_ns: f64,
    layers: Option<u64>,
}

fn ok_row(s: RowSpec<'_>) -> ResultRow {
    let xs = samples(s.p50_ns, 400);
    let (ns, ci) = measure::summarize(&xs);
    ResultRow {
        device: s.device.into(),
        kernel: s.kernel.into(),
        shape: s.shape,
        dtype: s.dtype.into(),
        flops: s.flops,
        bytes: s.bytes,
        samples: xs.len() as u64,
        iters_per_sample: 1,
        timer: if s.device == "cpu" {
            TimerKind::Wall
        } else {
            TimerKind::GpuTimestamp
        },
        ns,
        ci95_ns: ci,
        gflops: s.flops as f64 / ns.p50,
        gbps: s.bytes as f64 / ns.p50,
        pct_peak_flops: None,
        pct_peak_bw: None,
        tokens_per_s: s.layers.map(|l| 1e9 / (ns.p50 * l as f64)),
        verified: Verified {
            ok: true,
            max_abs_err: 1.5e-6,
            tolerance: 1e-4,
        },
        histogram: accelbench::results::histogram::encode(&xs).unwrap(),
        error: None,
        extra: Default::default(),
    }
}

fn failed_row(s: RowSpec<'_>, error: &str) -> ResultRow {
    ResultRow {
        device: s.device.into(),
        kernel: s.kernel.into(),
        shape: s.shape,
        dtype: s.dtype.into(),
        flops: s.flops,
        bytes: s.bytes,
        samples: 0,
        iters_per_sample: 1,
        timer: TimerKind::GpuTimestamp,
        ns: Default::default(),
        ci95_ns: [0.0, 0.0],
        gflops: 0.0,
        gbps: 0.0,
        pct_peak_flops: None,
        pct_peak_bw: None,
        tokens_per_s: None,
        verified: Verified {
            ok: false,
            max_abs_err: 0.1,
            tolerance: 1e-3,
        },
        histogram: String::new(),
        error: Some(error.into()),
        extra: Default::default(),
    }
}

fn gemm(device: &str, m: u64, p50_ns: f64) -> ResultRow {
    ok_row(RowSpec {
        device,
        kernel: "gemm",
        shape: shape(&[("k", json!(m)), ("m", json!(m)), ("n", json!(m))]),
        dtype: "f32",
        flops: 2 * m * m * m,
        bytes: 4 * 3 * m * m,
        p50_ns,
        layers: None,
    })
}

fn gemv_spec(device: &str, p50_ns: f64) -> RowSpec<'_> {
    RowSpec {
        device,
        kernel: "gemv",
        shape: shape(&[("k", json!(4096)), ("n", json!(4096))]),
        dtype: "f32",
        flops: 2 * 4096 * 4096,
        bytes: 4 * (4096 * 4096 + 2 * 4096),
        p50_ns,
        layers: None,
    }
}

fn triad(device: &str, p50_ns: f64) -> ResultRow {
    let n: u64 = 8 << 20;
    ok_row(RowSpec {
        device,
        kernel: "stream_triad",
        shape: shape(&[("n", json!(n))]),
        dtype: "f32",
        flops: 2 * n,
        bytes: 12 * n,
        p50_ns,
        layers: None,
    })
}

fn cpu_device(name: &str, peak_gflops: f64, peak_gbps: f64) -> DeviceRecord {
    DeviceRecord {
        id: "cpu".into(),
        kind: DeviceKind::Cpu,
        name: name.into(),
        backend: "native".into(),
        driver: "-".into(),
        device_type: None,
        peak_gflops: Some(peak_gflops),
        peak_gbps: Some(peak_gbps),
        peak_source: "fixture: stated, not measured".into(),
        peaks: None,
    }
}

fn host(name: &str, cpu: &str, cores: usize) -> Host {
    Host {
        hostname: name.into(),
        os: "Debian GNU/Linux 13 (trixie)".into(),
        kernel: "6.12.0-fixture".into(),
        cpu_model: cpu.into(),
        cores,
        threads: 2 * cores,
        memory_bytes: 64 << 30,
        git_commit: Some("0123abc".into()),
        rustc: Some("rustc 1.95.0".into()),
    }
}

fn run(
    host: Host,
    started_at: &str,
    devices: Vec<DeviceRecord>,
    results: Vec<ResultRow>,
) -> RunResults {
    RunResults {
        schema_version: results::SCHEMA_VERSION,
        tool_version: "0.1.0".into(),
        started_at: started_at.into(),
        host,
        devices,
        results,
        partial: false,
        settings: Some(RunSettings {
            suite: "quick".into(),
            threads: 16,
            max_time_per_workload_s: 0.5,
            target_rel_ci: 0.02,
        }),
    }
}

#[test]
#[ignore = "writes tests/fixtures; run by hand when the schema changes"]
fn regenerate_fixtures() {
    let lavapipe = DeviceRecord {
        id: "gpu0".into(),
        kind: DeviceKind::Gpu,
        name: "llvmpipe (LLVM 19.1.7, 256 bits)".into(),
        backend: "vulkan".into(),
        driver: "Mesa 25.0.7".into(),
        device_type: Some("cpu".into()),
        peak_gflops: None,
        peak_gbps: Some(18.0),
        peak_source: "bandwidth: measured STREAM triad in this run".into(),
        peaks: None,
    };
    let attention = ok_row(RowSpec {
        device: "cpu",
        kernel: "decode_attention",
        shape: shape(&[
            ("context", json!(1024)),
            ("head_dim", json!(128)),
            ("kv_heads", json!(8)),
            ("q_heads", json!(32)),
        ]),
        dtype: "f32",
        flops: 32 * 1024 * (4 * 128 + 5),
        bytes: 4 * (2 * 8 * 1024 * 128 + 2 * 32 * 128),
        p50_ns: 310_000.0,
        layers: None,
    });
    let decode_step = ok_row(RowSpec {
        device: "cpu",
        kernel: "decode_step",
        shape: shape(&[
            ("context", json!(1024)),
            ("ffn", json!(8192)),
            ("head_dim", json!(64)),
            ("hidden", json!(2048)),
            ("kv_heads", json!(8)),
            ("layers", json!(16)),
            ("model", json!("llama-3.2-1b")),
            ("q_heads", json!(32)),
        ]),
        dtype: "f32",
        flops: 121_634_816,
        bytes: 243_286_016,
        p50_ns: 7_400_000.0,
        layers: Some(16),
    });
    let a = run(
        host("fixture-host-a", "Fixture CPU 8-core @ 3.0 GHz", 8),
        "2026-11-20T10:00:00Z",
        vec![
            cpu_device("Fixture CPU 8-core @ 3.0 GHz", 768.0, 40.0),
            lavapipe.clone(),
        ],
        vec![
            gemm("cpu", 512, 1_900_000.0),
            ok_row(gemv_spec("cpu", 2_100_000.0)),
            attention,
            triad("cpu", 2_600_000.0),
            decode_step,
            gemm("gpu0", 512, 95_000_000.0),
            failed_row(
                gemv_spec("gpu0", 0.0),
                "verification failed: max abs error 1.000e-1 exceeds tolerance 1.000e-3",
            ),
            triad("gpu0", 5_600_000.0),
        ],
    );
    let b = run(
        host("fixture-host-b", "Fixture CPU 16-core @ 3.5 GHz", 16),
        "2026-11-21T09:30:00Z",
        vec![
            cpu_device("Fixture CPU 16-core @ 3.5 GHz", 1792.0, 80.0),
            DeviceRecord {
                id: "gpu0".into(),
                kind: DeviceKind::Gpu,
                name: "Fixture GPU 9000".into(),
                backend: "vulkan".into(),
                driver: "fixture 1.2.3".into(),
                device_type: Some("discrete".into()),
                peak_gflops: Some(20_000.0),
                peak_gbps: Some(900.0),
                peak_source: "fixture: stated, not measured".into(),
                peaks: None,
            },
        ],
        vec![
            gemm("cpu", 512, 900_000.0),
            ok_row(gemv_spec("cpu", 1_000_000.0)),
            triad("cpu", 1_300_000.0),
            gemm("gpu0", 512, 40_000.0),
            gemm("gpu0", 1024, 190_000.0),
            ok_row(gemv_spec("gpu0", 95_000.0)),
            triad("gpu0", 120_000.0),
        ],
    );
    let a_rerun = run(
        host("fixture-host-a", "Fixture CPU 8-core @ 3.0 GHz", 8),
        "2026-11-22T08:00:00Z",
        vec![cpu_device("Fixture CPU 8-core @ 3.0 GHz", 768.0, 40.0)],
        vec![gemm("cpu", 512, 1_850_000.0)],
    );
    let mut evil_host = host("evil|host,\"x\"\nnext line", "<b>CPU</b> | x", 4);
    evil_host.os = "=cmd|' /C calc'!A0".into();
    let mut evil_kernel = gemm("cpu", 64, 20_000.0);
    evil_kernel.kernel = "<img src=x onerror=alert(1)>|k".into();
    let mut evil_fail = failed_row(
        gemv_spec("gpu0", 0.0),
        "bad\n| broken | row\n<b>bold</b>, \"quoted\"",
    );
    evil_fail.device = "gpu0".into();
    let hostile = run(
        evil_host,
        "2026-11-23T00:00:00Z",
        vec![
            DeviceRecord {
                name: "<script>alert(1)</script>".into(),
                driver: "=HYPERLINK(\"http://example.invalid\")".into(),
                ..cpu_device("x", 100.0, 10.0)
            },
            DeviceRecord {
                id: "gpu0".into(),
                kind: DeviceKind::Gpu,
                name: "a|b,\"c\"".into(),
                backend: "vulkan\\".into(),
                driver: "line\nbreak".into(),
                device_type: Some("cpu".into()),
                peak_gflops: None,
                peak_gbps: None,
                peak_source: "*none*".into(),
                peaks: None,
            },
        ],
        vec![
            gemm("cpu", 64, 20_000.0),
            evil_kernel,
            triad("gpu0", 9_000_000.0),
            evil_fail,
        ],
    );
    let dir = fixture("");
    std::fs::create_dir_all(&dir).unwrap();
    results::save(&a, &dir.join("machine_a.json"), true).unwrap();
    results::save(&b, &dir.join("machine_b.json"), true).unwrap();
    results::save(&a_rerun, &dir.join("machine_a_rerun.json"), true).unwrap();
    results::save(&hostile, &dir.join("hostile.json"), true).unwrap();
    let mut v2: Value = serde_json::to_value(&a_rerun).unwrap();
    v2["schema_version"] = json!(99);
    std::fs::write(
        dir.join("schema_v99.json"),
        serde_json::to_string_pretty(&v2).unwrap() + "\n",
    )
    .unwrap();
}
