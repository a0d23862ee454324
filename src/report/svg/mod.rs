//! SVG plots through plotters' SVG backend: latency percentile distributions, rooflines and
//! the cost-per-token bar chart. Each function takes plain data and returns one `<svg>` element.
//!
//! Text is drawn as SVG `<text>` elements (plotters' built-in font estimate, no font files),
//! and plotters escapes every label, so names from results files cannot inject markup.
//!
//! Every plot has a header strip (title, then the legend wrapped into rows) above its plotting
//! area, so a legend never covers data however the data falls. This file holds that frame
//! (palette, fonts, header, legend, ticks); one file per kind of plot holds the plot.

use anyhow::{Result, anyhow};
use hdrhistogram::Histogram;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

mod cost;
mod latency;
mod roofline;

pub use cost::{CostBar, cost_per_token};
pub use latency::{LatencySeries, latency_percentiles, percentile_points};
pub use roofline::{RooflinePoint, roofline};

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

#[cfg(test)]
mod tests {
    use super::*;

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
