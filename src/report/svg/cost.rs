//! The cost-per-token bar chart.

use super::*;

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
