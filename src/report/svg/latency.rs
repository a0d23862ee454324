//! The latency percentile plot of one workload, one line per device.

use super::*;
use crate::render::units::time_unit;

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

/// `99.9%` for x = 1/(1-p) = 1000.
fn percentile_label(x: f64) -> String {
    let p = 100.0 * (1.0 - 1.0 / x);
    let s = format!("{p:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}%")
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
}
