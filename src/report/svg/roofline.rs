//! The roofline of one device: measured points under its compute and bandwidth roofs.

use std::ops::Range;

use super::*;

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
