//! SVG plots through plotters' SVG backend: latency percentile distributions, rooflines and
//! the cost-per-token bar chart. Each function takes plain data and returns one `<svg>` element.
//!
//! Text is drawn as SVG `<text>` elements (plotters' built-in font estimate, no font files),
//! and plotters escapes every label, so names from results files cannot inject markup.
//!
//! Every plot has a header strip (title, then the legend wrapped into rows) above its plotting
//! area, so a legend never covers data however the data falls.

use std::ops::Range;

use anyhow::{Result, anyhow};
use hdrhistogram::Histogram;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Colour-blind-safe palette (Okabe-Ito), cycled; the pale yellow last, as it is the hardest
/// to see on white.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
    RGBColor(0, 0, 0),
    RGBColor(240, 228, 66),
];

/// Kernels in suite order: a kernel has the same colour on every roofline.
const KERNEL_ORDER: &[&str] = crate::workload::Workload::KERNEL_NAMES;

/// Colour of the `i`-th series.
fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

const FONT: &str = "sans-serif";
/// Font sizes as plotters takes them; its SVG backend writes them at 0.8x (11.3 and 14.5 px).
const LABEL_PT: f64 = 14.0;
const TITLE_PT: f64 = 18.0;

/// How a legend entry marks its series.
#[derive(Debug, Clone, Copy)]
enum Marker {
    Line,
    Dot,
    Swatch,
}

struct LegendEntry {
    label: String,
    colour: RGBColor,
    marker: Marker,
}

const TITLE_PX: u32 = 34;
const TITLE_LINE_PX: u32 = 19;
const LEGEND_ROW_PX: u32 = 20;
const LEGEND_LEFT_PX: i32 = 16;

/// Width of a legend entry: marker, gap, label (a generous estimate for 11 px sans-serif, so
/// entries never run into each other), spacing.
fn legend_entry_px(label: &str) -> i32 {
    22 + (label.chars().count() as f64 * 7.0).ceil() as i32 + 18
}

/// Entries (by index) wrapped into rows that fit `width` pixels.
fn legend_rows(entries: &[LegendEntry], width: u32) -> Vec<Vec<usize>> {
    let avail = width as i32 - 2 * LEGEND_LEFT_PX;
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut x = 0;
    for (i, e) in entries.iter().enumerate() {
        let w = legend_entry_px(&e.label);
        if !row.is_empty() && x + w > avail {
            rows.push(std::mem::take(&mut row));
            x = 0;
        }
        row.push(i);
        x += w;
    }
    if !row.is_empty() {
        rows.push(row);
    }
    rows
}

/// The title broken at spaces into lines that fit `width` pixels (a generous estimate of
/// 8 px per character); a word longer than a line is cut.
fn title_lines(title: &str, width: u32) -> Vec<String> {
    let max = ((width as usize).saturating_sub(24) / 8).max(10);
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in title.split_whitespace() {
        let mut word: String = word.to_string();
        while word.chars().count() > max {
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            let head: String = word.chars().take(max).collect();
            word = word.chars().skip(max).collect();
            lines.push(head);
        }
        if line.is_empty() {
            line = word;
        } else if line.chars().count() + 1 + word.chars().count() <= max {
            line.push(' ');
            line.push_str(&word);
        } else {
            lines.push(std::mem::replace(&mut line, word));
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Height of the header strip: `title_lines` lines of title and `legend_rows` rows of legend.
fn header_px(title_lines: usize, legend_rows: usize) -> u32 {
    TITLE_PX
        + title_lines.saturating_sub(1) as u32 * TITLE_LINE_PX
        + legend_rows as u32 * LEGEND_ROW_PX
        + if legend_rows > 0 { 6 } else { 0 }
}

/// Draw the title lines centred at the top of `area`, then the legend rows below them.
fn draw_header(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    title: &[String],
    entries: &[LegendEntry],
    rows: &[Vec<usize>],
    what: &str,
) -> Result<()> {
    let err = |e| plot_error(what, e);
    let (w, _) = area.dim_in_pixel();
    for (i, line) in title.iter().enumerate() {
        area.draw(&Text::new(
            line.clone(),
            (w as i32 / 2, 8 + (i as u32 * TITLE_LINE_PX) as i32),
            TextStyle::from((FONT, TITLE_PT).into_font()).pos(Pos::new(HPos::Center, VPos::Top)),
        ))
        .map_err(err)?;
    }
    let legend_top = TITLE_PX + title.len().saturating_sub(1) as u32 * TITLE_LINE_PX;
    for (r, row) in rows.iter().enumerate() {
        let y = (legend_top + r as u32 * LEGEND_ROW_PX + LEGEND_ROW_PX / 2) as i32;
        let mut x = LEGEND_LEFT_PX;
        for &i in row {
            let e = &entries[i];
            match e.marker {
                Marker::Line => area
                    .draw(&PathElement::new(
                        vec![(x, y), (x + 16, y)],
                        e.colour.stroke_width(2),
                    ))
                    .map_err(err)?,
                Marker::Dot => area
                    .draw(&Circle::new((x + 8, y), 4, e.colour.filled()))
                    .map_err(err)?,
                Marker::Swatch => area
                    .draw(&Rectangle::new(
                        [(x + 2, y - 5), (x + 14, y + 5)],
                        e.colour.filled(),
                    ))
                    .map_err(err)?,
            }
            area.draw(&Text::new(
                e.label.clone(),
                (x + 22, y),
                TextStyle::from((FONT, LABEL_PT).into_font())
                    .pos(Pos::new(HPos::Left, VPos::Center)),
            ))
            .map_err(err)?;
            x += legend_entry_px(&e.label);
        }
    }
    Ok(())
}

fn plot_error(what: &str, e: impl std::fmt::Display) -> anyhow::Error {
    anyhow!("could not draw the {what} plot: {e}")
}

/// One device's latency distribution for one workload.
#[derive(Debug, Clone, PartialEq)]
pub struct LatencySeries {
    pub label: String,
    /// `(percentile as a fraction in [0, 1), latency ns)`, ascending.
    pub points: Vec<(f64, f64)>,
}

/// Percentile points of a histogram: p = 1 - 10^-t for t from 0 in steps of 0.05 while
/// 1/(1-p) stays within the sample count (beyond that the histogram knows nothing new), then
/// the maximum. Empty for an empty histogram.
pub fn percentile_points(h: &Histogram<u64>) -> Vec<(f64, f64)> {
    let n = h.len();
    if n == 0 {
        return Vec::new();
    }
    let t_max = (n as f64).log10();
    let mut out = Vec::new();
    let mut step = 0;
    loop {
        let t = step as f64 * 0.05;
        if t > t_max {
            break;
        }
        let p = 1.0 - 10f64.powf(-t);
        out.push((p, h.value_at_quantile(p) as f64));
        step += 1;
    }
    // The largest sample, drawn at the tail's end.
    let p_last = 1.0 - 1.0 / (n as f64).max(2.0);
    if out.last().is_none_or(|&(p, _)| p < p_last) {
        out.push((p_last, h.max() as f64));
    }
    out
}

/// Divide nanoseconds into a readable unit: `(divisor, unit name)`.
fn time_unit(max_ns: f64) -> (f64, &'static str) {
    if max_ns >= 1e9 {
        (1e9, "s")
    } else if max_ns >= 1e6 {
        (1e6, "ms")
    } else if max_ns >= 1e3 {
        (1e3, "µs")
    } else {
        (1.0, "ns")
    }
}

/// `99.9%` for x = 1/(1-p) = 1000.
fn percentile_label(x: f64) -> String {
    let p = 100.0 * (1.0 - 1.0 / x);
    let s = format!("{p:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}%")
}

/// A compact tick label: `0.5`, `20`, `3000`, `2e5`.
fn tick(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if a >= 1e5 {
        let e = a.log10().floor();
        let m = v / 10f64.powf(e);
        if (m - m.round()).abs() < 1e-6 {
            format!("{}e{}", m.round(), e)
        } else {
            format!("{m:.1}e{e}")
        }
    } else if a >= 10.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        let s = format!("{v:.1}");
        s.trim_end_matches(".0").to_string()
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Latency percentile plot of one workload: x is the percentile on a log axis of 1/(1-p)
/// (so 90%, 99%, 99.9% are evenly spaced), y the latency of one invocation. The y axis turns
/// logarithmic when the series differ by more than 20x.
pub fn latency_percentiles(title: &str, series: &[LatencySeries]) -> Result<String> {
    let all: Vec<(f64, f64)> = series
        .iter()
        .flat_map(|s| s.points.iter().copied())
        .collect();
    let max_ns = all.iter().map(|p| p.1).fold(0.0, f64::max);
    let min_ns = all
        .iter()
        .map(|p| p.1)
        .filter(|v| *v > 0.0)
        .fold(f64::INFINITY, f64::min);
    let x_max = all
        .iter()
        .map(|p| 1.0 / (1.0 - p.0))
        .fold(10.0, f64::max)
        .min(1e7);
    let (div, unit) = time_unit(max_ns.max(1.0));
    let mut keys = vec![1.0, 2.0];
    let mut k = 10.0;
    while k <= x_max * 1.0001 {
        keys.push(k);
        k *= 10.0;
    }
    let x = (1f64..x_max).log_scale().with_key_points(keys);
    let width = 560;
    let entries: Vec<LegendEntry> = series
        .iter()
        .enumerate()
        .map(|(i, s)| LegendEntry {
            label: s.label.clone(),
            colour: colour(i),
            marker: Marker::Line,
        })
        .collect();
    let rows = legend_rows(&entries, width);
    let title_lines = title_lines(title, width);
    let header = header_px(title_lines.len(), rows.len());
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (width, header + 300)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| plot_error("latency", e))?;
        if all.is_empty() {
            draw_empty(&root, &title_lines, "no valid samples to plot")?;
        } else {
            let (top, body) = root.split_vertically(header);
            draw_header(&top, &title_lines, &entries, &rows, "latency")?;
            if min_ns.is_finite() && max_ns / min_ns > 20.0 {
                let y = (min_ns / div * 0.8..max_ns / div * 1.25).log_scale();
                latency_chart(&body, series, x, y, div, unit)?;
            } else {
                let y = 0f64..(max_ns / div * 1.08);
                latency_chart(&body, series, x, y, div, unit)?;
            }
        }
        root.present().map_err(|e| plot_error("latency", e))?;
    }
    Ok(buf)
}

fn latency_chart<X, Y>(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    series: &[LatencySeries],
    x: X,
    y: Y,
    div: f64,
    unit: &str,
) -> Result<()>
where
    X: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let err = |e| plot_error("latency", e);
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .margin_top(4)
        .x_label_area_size(42)
        .y_label_area_size(66)
        .build_cartesian_2d(x, y)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("percentile")
        .y_desc(format!("latency per invocation ({unit})"))
        .x_label_formatter(&|v| percentile_label(*v))
        .y_label_formatter(&|v| tick(*v))
        .light_line_style(TRANSPARENT)
        .label_style((FONT, LABEL_PT))
        .draw()
        .map_err(err)?;
    for (i, s) in series.iter().enumerate() {
        chart
            .draw_series(LineSeries::new(
                s.points.iter().map(|&(p, ns)| (1.0 / (1.0 - p), ns / div)),
                colour(i).stroke_width(2),
            ))
            .map_err(err)?;
    }
    Ok(())
}

/// A plot without data: its title and, in the middle, why there is nothing to draw.
fn draw_empty(
    root: &DrawingArea<SVGBackend<'_>, Shift>,
    title: &[String],
    why: &str,
) -> Result<()> {
    let (w, h) = root.dim_in_pixel();
    draw_header(root, title, &[], &[], "empty")?;
    root.draw(&Text::new(
        why.to_string(),
        (w as i32 / 2, h as i32 / 2),
        (FONT, LABEL_PT)
            .into_font()
            .color(&RGBColor(87, 96, 106))
            .pos(Pos::new(HPos::Center, VPos::Center)),
    ))
    .map_err(|e| plot_error("empty", e))?;
    Ok(())
}

/// One measured workload on a roofline.
#[derive(Debug, Clone, PartialEq)]
pub struct RooflinePoint {
    /// Series the point belongs to (the kernel name); one colour and legend entry per group.
    pub group: String,
    /// FLOP per byte of compulsory traffic.
    pub intensity_flop_per_byte: f64,
    pub gflops: f64,
}

/// Colour index of a roofline group: kernels of the suite by their place in [`KERNEL_ORDER`]
/// (the same colour on every device's plot), other groups after them in order of appearance.
fn group_colour_index(group: &str, others: &[&str]) -> usize {
    match KERNEL_ORDER.iter().position(|k| *k == group) {
        Some(i) => i,
        None => KERNEL_ORDER.len() + others.iter().position(|g| *g == group).unwrap_or(0),
    }
}

/// Roofline of one device: measured points against min(peak compute, peak bandwidth x
/// intensity), both axes logarithmic. A missing peak leaves its roof out and says so.
pub fn roofline(
    title: &str,
    peak_gflops: Option<f64>,
    peak_gbps: Option<f64>,
    points: &[RooflinePoint],
) -> Result<String> {
    let err = |e| plot_error("roofline", e);
    let pts: Vec<&RooflinePoint> = points
        .iter()
        .filter(|p| p.intensity_flop_per_byte > 0.0 && p.gflops > 0.0)
        .filter(|p| p.intensity_flop_per_byte.is_finite() && p.gflops.is_finite())
        .collect();
    let peak_gflops = peak_gflops.filter(|v| *v > 0.0 && v.is_finite());
    let peak_gbps = peak_gbps.filter(|v| *v > 0.0 && v.is_finite());
    let ridge = match (peak_gflops, peak_gbps) {
        (Some(f), Some(b)) => Some(f / b),
        _ => None,
    };
    let mut ai: Vec<f64> = pts.iter().map(|p| p.intensity_flop_per_byte).collect();
    ai.extend(ridge);
    let mut perf: Vec<f64> = pts.iter().map(|p| p.gflops).collect();
    perf.extend(peak_gflops);

    // Legend: the roof, then one entry per kernel in suite order.
    let grey = RGBColor(87, 96, 106);
    let mut entries = Vec::new();
    if peak_gflops.is_some() || peak_gbps.is_some() {
        let mut parts = Vec::new();
        if let Some(b) = peak_gbps {
            parts.push(format!("bandwidth {} GB/s", tick(b)));
        }
        if let Some(f) = peak_gflops {
            parts.push(format!("compute {} GFLOP/s", tick(f)));
        }
        entries.push(LegendEntry {
            label: format!("roof: {}", parts.join(", ")),
            colour: grey,
            marker: Marker::Line,
        });
    }
    let mut groups: Vec<&str> = Vec::new();
    for p in &pts {
        if !groups.contains(&p.group.as_str()) {
            groups.push(&p.group);
        }
    }
    let others: Vec<&str> = groups
        .iter()
        .copied()
        .filter(|g| !KERNEL_ORDER.contains(g))
        .collect();
    groups.sort_by_key(|g| group_colour_index(g, &others));
    for g in &groups {
        entries.push(LegendEntry {
            label: g.to_string(),
            colour: colour(group_colour_index(g, &others)),
            marker: Marker::Dot,
        });
    }
    let width = 640;
    let rows = legend_rows(&entries, width);
    let title_lines = title_lines(title, width);
    let header = header_px(title_lines.len(), rows.len());

    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (width, header + 360)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        if ai.is_empty() || perf.is_empty() {
            draw_empty(
                &root,
                &title_lines,
                "no valid results and no peak figures to plot",
            )?;
            root.present().map_err(err)?;
            drop(root);
            return Ok(buf);
        }
        let (top, body) = root.split_vertically(header);
        draw_header(&top, &title_lines, &entries, &rows, "roofline")?;
        let x_range = padded_log_range(&ai, 4.0);
        let mut y_vals = perf.clone();
        if let Some(b) = peak_gbps {
            y_vals.push((b * x_range.start).min(peak_gflops.unwrap_or(f64::INFINITY)));
        }
        let y_range = padded_log_range(&y_vals, 3.0);
        let mut chart = ChartBuilder::on(&body)
            .margin(12)
            .margin_top(4)
            .x_label_area_size(42)
            .y_label_area_size(70)
            .build_cartesian_2d(x_range.clone().log_scale(), y_range.clone().log_scale())
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("arithmetic intensity (FLOP/byte)")
            .y_desc("GFLOP/s")
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .light_line_style(TRANSPARENT)
            .label_style((FONT, LABEL_PT))
            .draw()
            .map_err(err)?;
        // The roof, sampled densely enough to look straight on a log axis.
        let roof = |x: f64| -> Option<f64> {
            match (peak_gflops, peak_gbps) {
                (Some(f), Some(b)) => Some(f.min(b * x)),
                (Some(f), None) => Some(f),
                (None, Some(b)) => Some(b * x),
                (None, None) => None,
            }
        };
        if peak_gflops.is_some() || peak_gbps.is_some() {
            let (lo, hi) = (x_range.start.ln(), x_range.end.ln());
            let line: Vec<(f64, f64)> = (0..=200)
                .map(|i| (lo + (hi - lo) * i as f64 / 200.0).exp())
                .filter_map(|x| roof(x).map(|y| (x, y)))
                .filter(|(_, y)| *y >= y_range.start && *y <= y_range.end)
                .collect();
            chart
                .draw_series(LineSeries::new(line, grey.stroke_width(2)))
                .map_err(err)?;
        }
        for g in &groups {
            let c = colour(group_colour_index(g, &others));
            chart
                .draw_series(
                    pts.iter()
                        .filter(|p| p.group == *g)
                        .map(|p| Circle::new((p.intensity_flop_per_byte, p.gflops), 4, c.filled())),
                )
                .map_err(err)?;
        }
        if peak_gflops.is_none() || peak_gbps.is_none() {
            let missing = match (peak_gflops, peak_gbps) {
                (None, None) => "no peak figures in the results file: no roof drawn",
                (None, Some(_)) => "peak compute unknown: only the bandwidth roof is drawn",
                _ => "peak bandwidth unknown: only the compute roof is drawn",
            };
            body.draw(&Text::new(
                missing,
                (80, 10),
                (FONT, LABEL_PT).into_font().color(&RGBColor(130, 7, 30)),
            ))
            .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(buf)
}

/// `[min / pad, max * pad]` of positive values (a decade either side when all are equal).
fn padded_log_range(values: &[f64], pad: f64) -> Range<f64> {
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(0.0, f64::max);
    if lo >= hi {
        return lo / 10.0..hi * 10.0;
    }
    lo / pad..hi * pad
}

/// One bar of the cost chart.
#[derive(Debug, Clone, PartialEq)]
pub struct CostBar {
    /// What was priced (instance, device, accelerator).
    pub label: String,
    /// US dollars per million output tokens.
    pub usd_per_m_output: f64,
    /// How the figure was obtained (`measured`, `projected`, ...); one colour per kind.
    pub kind: String,
}

/// Horizontal bar chart of $ per 1M output tokens, one bar per row in the given order (top to
/// bottom), each labelled with its value and coloured by its kind.
pub fn cost_per_token(title: &str, rows: &[CostBar]) -> Result<String> {
    let err = |e| plot_error("cost", e);
    let rows: Vec<&CostBar> = rows
        .iter()
        .filter(|r| r.usd_per_m_output.is_finite() && r.usd_per_m_output >= 0.0)
        .collect();
    let n = rows.len();
    let mut kinds: Vec<&str> = Vec::new();
    for r in &rows {
        if !kinds.contains(&r.kind.as_str()) {
            kinds.push(&r.kind);
        }
    }
    let entries: Vec<LegendEntry> = kinds
        .iter()
        .enumerate()
        .map(|(k, kind)| LegendEntry {
            label: kind.to_string(),
            colour: colour(k),
            marker: Marker::Swatch,
        })
        .collect();
    let width = 760;
    let legend = legend_rows(&entries, width);
    let title_lines = title_lines(title, width);
    let header = header_px(title_lines.len(), legend.len());
    // Long labels are cut so the bars keep at least half the width.
    let labels: Vec<String> = rows.iter().map(|r| shorten(&r.label, 54)).collect();
    let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let label_area = (longest as f64 * 7.2) as u32 + 20;
    let label_area = label_area.clamp(60, 400);
    let mut buf = String::new();
    {
        let height = header + 64 + 26 * n.max(1) as u32;
        let root = SVGBackend::with_string(&mut buf, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        if n == 0 {
            draw_empty(&root, &title_lines, "no priced rows to plot")?;
            root.present().map_err(err)?;
            drop(root);
            return Ok(buf);
        }
        let (top, body) = root.split_vertically(header);
        draw_header(&top, &title_lines, &entries, &legend, "cost")?;
        let max = rows.iter().map(|r| r.usd_per_m_output).fold(0.0, f64::max);
        let x_max = if max > 0.0 { max * 1.3 } else { 1.0 };
        let mut chart = ChartBuilder::on(&body)
            .margin(12)
            .margin_top(4)
            .x_label_area_size(40)
            .y_label_area_size(label_area)
            // An integer range includes its end: 0..n-1 is n segments.
            .build_cartesian_2d(0f64..x_max, (0..n - 1).into_segmented())
            .map_err(err)?;
        // Row i is drawn at n-1-i so the first row is on top.
        let label_of = |v: &SegmentValue<usize>| match v {
            SegmentValue::CenterOf(i) if *i < n => labels[n - 1 - *i].clone(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(TRANSPARENT)
            .x_desc("US$ per 1M output tokens")
            .x_label_formatter(&|v| format!("${}", tick(*v)))
            .y_label_formatter(&label_of)
            .y_labels(n)
            .label_style((FONT, LABEL_PT))
            .draw()
            .map_err(err)?;
        for (k, kind) in kinds.iter().enumerate() {
            let c = colour(k);
            chart
                .draw_series(
                    rows.iter()
                        .enumerate()
                        .filter(|(_, r)| r.kind == *kind)
                        .map(|(i, r)| {
                            let y = n - 1 - i;
                            let mut bar = Rectangle::new(
                                [
                                    (0.0, SegmentValue::Exact(y)),
                                    (r.usd_per_m_output, SegmentValue::Exact(y + 1)),
                                ],
                                c.filled(),
                            );
                            bar.set_margin(4, 4, 0, 0);
                            bar
                        }),
                )
                .map_err(err)?;
        }
        chart
            .draw_series(rows.iter().enumerate().map(|(i, r)| {
                Text::new(
                    format!(" ${}", money(r.usd_per_m_output)),
                    (r.usd_per_m_output, SegmentValue::CenterOf(n - 1 - i)),
                    TextStyle::from((FONT, LABEL_PT).into_font())
                        .pos(Pos::new(HPos::Left, VPos::Center)),
                )
            }))
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(buf)
}

/// `s` cut to at most `max` characters, ending in an ellipsis when cut.
fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// `$0.0123`, `$1.23`, `$1234`.
fn money(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.2}")
    } else if v > 0.0 {
        let digits = (-v.log10().floor()) as usize + 2;
        format!("{v:.digits$}")
    } else {
        "0".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_labels_read_as_percent() {
        assert_eq!(percentile_label(1.0), "0%");
        assert_eq!(percentile_label(2.0), "50%");
        assert_eq!(percentile_label(10.0), "90%");
        assert_eq!(percentile_label(1000.0), "99.9%");
    }

    #[test]
    fn percentile_points_end_at_the_maximum() {
        let mut h = Histogram::<u64>::new(3).unwrap();
        for v in 1..=1000u64 {
            h.record(v * 10).unwrap();
        }
        let pts = percentile_points(&h);
        assert_eq!(pts.first().unwrap().0, 0.0);
        assert!(pts.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1));
        let last = pts.last().unwrap();
        assert!((last.1 - 10_000.0).abs() / 10_000.0 < 1e-3, "{last:?}");
    }

    #[test]
    fn long_titles_wrap_at_spaces_and_cut_only_overlong_words() {
        assert_eq!(title_lines("short title", 560), ["short title"]);
        let long = "decode_step context=1024 ffn=8192 head_dim=64 hidden=2048 kv_heads=8 layers=16 model=llama-3.2-1b q_heads=32 f32";
        let lines = title_lines(long, 560);
        assert!(lines.len() >= 2, "{lines:?}");
        assert!(lines.iter().all(|l| l.chars().count() <= 67), "{lines:?}");
        assert_eq!(lines.join(" "), long);
        let word = "x".repeat(150);
        assert_eq!(title_lines(&word, 560).concat(), word);
    }

    #[test]
    fn ticks_are_compact() {
        assert_eq!(tick(0.5), "0.5");
        assert_eq!(tick(20.0), "20");
        assert_eq!(tick(200000.0), "2e5");
    }
}
