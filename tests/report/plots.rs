//! report: the HTML page and its plots (latency, roofline, cost chart).

use super::*;

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
