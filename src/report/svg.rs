//! SVG plots through plotters' SVG backend: latency percentile distributions, rooflines and
//! the cost-per-token bar chart. Each function takes plain data and returns one `<svg>` element.
//!
//! Text is drawn as SVG `<text>` elements (plotters' built-in font estimate, no font files),
//! and plotters escapes every label, so names from results files cannot inject markup.

use std::ops::Range;

use anyhow::{Result, anyhow};
use hdrhistogram::Histogram;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Colour-blind-safe palette (Okabe-Ito), cycled.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
    RGBColor(240, 228, 66),
    RGBColor(0, 0, 0),
];

/// Colour of the `i`-th series.
fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

const FONT: &str = "sans-serif";

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
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (560, 340)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| plot_error("latency", e))?;
        if all.is_empty() {
            draw_empty(&root, title, "no valid samples to plot")?;
        } else if min_ns.is_finite() && max_ns / min_ns > 20.0 {
            let y = (min_ns / div * 0.8..max_ns / div * 1.25).log_scale();
            latency_chart(&root, title, series, x, y, div, unit)?;
        } else {
            let y = 0f64..(max_ns / div * 1.08);
            latency_chart(&root, title, series, x, y, div, unit)?;
        }
        root.present().map_err(|e| plot_error("latency", e))?;
    }
    Ok(buf)
}

fn latency_chart<X, Y>(
    root: &DrawingArea<SVGBackend<'_>, Shift>,
    title: &str,
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
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 15))
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(58)
        .build_cartesian_2d(x, y)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("percentile")
        .y_desc(format!("latency per invocation ({unit})"))
        .x_label_formatter(&|v| percentile_label(*v))
        .y_label_formatter(&|v| tick(*v))
        .light_line_style(TRANSPARENT)
        .label_style((FONT, 12))
        .draw()
        .map_err(err)?;
    for (i, s) in series.iter().enumerate() {
        let c = colour(i);
        chart
            .draw_series(LineSeries::new(
                s.points.iter().map(|&(p, ns)| (1.0 / (1.0 - p), ns / div)),
                c.stroke_width(2),
            ))
            .map_err(err)?
            .label(s.label.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], c.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font((FONT, 12))
        .draw()
        .map_err(err)?;
    Ok(())
}

fn draw_empty(root: &DrawingArea<SVGBackend<'_>, Shift>, title: &str, why: &str) -> Result<()> {
    let (w, h) = root.dim_in_pixel();
    root.draw(&Text::new(
        title.to_string(),
        (12, 12),
        (FONT, 15).into_font(),
    ))
    .map_err(|e| plot_error("empty", e))?;
    root.draw(&Text::new(
        why.to_string(),
        (w as i32 / 4, h as i32 / 2),
        (FONT, 13).into_font().color(&RGBColor(87, 96, 106)),
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
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (640, 420)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        if ai.is_empty() || perf.is_empty() {
            draw_empty(&root, title, "no valid results and no peak figures to plot")?;
            root.present().map_err(err)?;
            drop(root);
            return Ok(buf);
        }
        let x_range = padded_log_range(&ai, 4.0);
        let mut y_vals = perf.clone();
        if let Some(b) = peak_gbps {
            y_vals.push((b * x_range.start).min(peak_gflops.unwrap_or(f64::INFINITY)));
        }
        let y_range = padded_log_range(&y_vals, 3.0);
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, 15))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(62)
            .build_cartesian_2d(x_range.clone().log_scale(), y_range.clone().log_scale())
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("arithmetic intensity (FLOP/byte)")
            .y_desc("GFLOP/s")
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .light_line_style(TRANSPARENT)
            .label_style((FONT, 12))
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
            let mut parts = Vec::new();
            if let Some(b) = peak_gbps {
                parts.push(format!("bandwidth {} GB/s", tick(b)));
            }
            if let Some(f) = peak_gflops {
                parts.push(format!("compute {} GFLOP/s", tick(f)));
            }
            let grey = RGBColor(87, 96, 106);
            chart
                .draw_series(LineSeries::new(line, grey.stroke_width(2)))
                .map_err(err)?
                .label(format!("roof: {}", parts.join(", ")))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], grey.stroke_width(2))
                });
        }
        let mut groups: Vec<&str> = Vec::new();
        for p in &pts {
            if !groups.contains(&p.group.as_str()) {
                groups.push(&p.group);
            }
        }
        for (i, g) in groups.iter().enumerate() {
            let c = colour(i);
            chart
                .draw_series(
                    pts.iter()
                        .filter(|p| p.group == *g)
                        .map(|p| Circle::new((p.intensity_flop_per_byte, p.gflops), 4, c.filled())),
                )
                .map_err(err)?
                .label(*g)
                .legend(move |(x, y)| Circle::new((x + 8, y), 4, c.filled()));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .label_font((FONT, 12))
            .draw()
            .map_err(err)?;
        if peak_gflops.is_none() || peak_gbps.is_none() {
            let missing = match (peak_gflops, peak_gbps) {
                (None, None) => "no peak figures in the results file: no roof drawn",
                (None, Some(_)) => "peak compute unknown: only the bandwidth roof is drawn",
                _ => "peak bandwidth unknown: only the compute roof is drawn",
            };
            root.draw(&Text::new(
                missing,
                (75, 40),
                (FONT, 12).into_font().color(&RGBColor(130, 7, 30)),
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
    let height = 90 + 26 * n.max(1) as u32;
    let longest = rows
        .iter()
        .map(|r| r.label.chars().count())
        .max()
        .unwrap_or(0);
    let label_area = (longest as u32 * 7 + 16).clamp(60, 300);
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (760, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        if n == 0 {
            draw_empty(&root, title, "no priced rows to plot")?;
            root.present().map_err(err)?;
            drop(root);
            return Ok(buf);
        }
        let max = rows.iter().map(|r| r.usd_per_m_output).fold(0.0, f64::max);
        let x_max = if max > 0.0 { max * 1.3 } else { 1.0 };
        let labels: Vec<String> = rows.iter().map(|r| r.label.clone()).collect();
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, 15))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(label_area)
            .build_cartesian_2d(0f64..x_max, (0..n).into_segmented())
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
            .label_style((FONT, 12))
            .draw()
            .map_err(err)?;
        let mut kinds: Vec<&str> = Vec::new();
        for r in &rows {
            if !kinds.contains(&r.kind.as_str()) {
                kinds.push(&r.kind);
            }
        }
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
                .map_err(err)?
                .label(*kind)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], c.filled()));
        }
        chart
            .draw_series(rows.iter().enumerate().map(|(i, r)| {
                Text::new(
                    format!(" ${}", money(r.usd_per_m_output)),
                    (r.usd_per_m_output, SegmentValue::CenterOf(n - 1 - i)),
                    TextStyle::from((FONT, 12).into_font()).pos(Pos::new(HPos::Left, VPos::Center)),
                )
            }))
            .map_err(err)?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .label_font((FONT, 12))
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(buf)
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
    fn ticks_are_compact() {
        assert_eq!(tick(0.5), "0.5");
        assert_eq!(tick(20.0), "20");
        assert_eq!(tick(200000.0), "2e5");
    }
}
