//! The report's layout, shared by Markdown and HTML: a list of blocks (headings, tables,
//! lists, figures) built once from a [`MergedReport`], and a [`Markup`] trait with default
//! methods that turn blocks into text. Every string that came from a results file travels as
//! [`Span::Text`] and is escaped by the markup; only the layout's own structure is not.

use crate::render::units::{format_bytes, format_ns, format_value};
use crate::report::merge::{self, Column, MergedReport, failure_reason, throughput};

/// A piece of inline text.
#[derive(Debug, Clone, PartialEq)]
pub enum Span {
    /// Text, escaped by the markup.
    Text(String),
    /// Emphasised text, escaped by the markup.
    Strong(String),
    /// A line break inside a table cell or paragraph.
    Break,
}

/// Shorthand for a text span.
pub fn text(s: impl Into<String>) -> Span {
    Span::Text(s.into())
}

/// Column alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A table: header cells, alignments, and rows of cells (each cell a list of spans).
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub header: Vec<Vec<Span>>,
    pub align: Vec<Align>,
    pub rows: Vec<Vec<Vec<Span>>>,
}

/// An SVG picture.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// Alternative text and the caption's first line.
    pub title: String,
    /// Further caption paragraphs (assumptions, what was left out), plain text; may be empty.
    pub caption: Vec<String>,
    /// A file name (without directory) for renderers that write figures next to the document.
    pub file_name: String,
    /// The complete `<svg>` element.
    pub svg: String,
}

/// A block of the document.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Heading(u8, Vec<Span>),
    Paragraph(Vec<Span>),
    Table(Table),
    List(Vec<Vec<Span>>),
    Figures(Vec<Figure>),
}

/// How a markup language writes the blocks. Only `escape` and a few primitives differ between
/// languages; the document walk is shared.
pub trait Markup {
    /// Escape text taken from a results file so it renders as that text.
    fn escape(&self, text: &str) -> String;
    /// Wrap already-escaped text in emphasis.
    fn strong(&self, escaped: &str) -> String;
    /// A line break that works inside a table cell.
    fn line_break(&self) -> &'static str;
    fn heading(&self, level: u8, inner: &str) -> String;
    fn paragraph(&self, inner: &str) -> String;
    fn list(&self, items: &[String]) -> String;
    /// Render a table from already-rendered cells.
    fn table(&self, header: &[String], align: &[Align], rows: &[Vec<String>]) -> String;
    fn figures(&self, figures: &[Figure]) -> String;

    fn spans(&self, spans: &[Span]) -> String {
        let mut s = String::new();
        for span in spans {
            match span {
                Span::Text(t) => s.push_str(&self.escape(t)),
                Span::Strong(t) => s.push_str(&self.strong(&self.escape(t))),
                Span::Break => s.push_str(self.line_break()),
            }
        }
        s
    }

    fn block(&self, block: &Block) -> String {
        match block {
            Block::Heading(level, spans) => self.heading(*level, &self.spans(spans)),
            Block::Paragraph(spans) => self.paragraph(&self.spans(spans)),
            Block::List(items) => {
                let items: Vec<String> = items.iter().map(|i| self.spans(i)).collect();
                self.list(&items)
            }
            Block::Table(t) => {
                let header: Vec<String> = t.header.iter().map(|c| self.spans(c)).collect();
                let rows: Vec<Vec<String>> = t
                    .rows
                    .iter()
                    .map(|r| r.iter().map(|c| self.spans(c)).collect())
                    .collect();
                self.table(&header, &t.align, &rows)
            }
            Block::Figures(f) => self.figures(f),
        }
    }

    fn document(&self, blocks: &[Block]) -> String {
        blocks.iter().map(|b| self.block(b)).collect()
    }
}

fn cell_spans(w: &merge::WorkloadRow, col: usize) -> Vec<Span> {
    match &w.cells[col] {
        None => vec![text("-")],
        Some(row) => match throughput(row, w.metric) {
            None => vec![Span::Strong("FAILED".into())],
            Some(t) => {
                let mut spans = vec![
                    text(format!("{} {}", format_value(t.value), t.metric.unit())),
                    Span::Break,
                    text(format!(
                        "p50 {} · p99 {}",
                        format_ns(row.ns.p50),
                        format_ns(row.ns.p99)
                    )),
                ];
                // A GEMM has several kernels per dtype (cooperative matrices or the tiled
                // fallback): say which one made the number.
                if let Some(v) = row
                    .extra
                    .kernel_variant
                    .as_ref()
                    .filter(|_| row.kernel == "gemm")
                {
                    spans.extend([Span::Break, text(format!("kernel {v}"))]);
                }
                // Timed while the GPU held its clocks down: the figure is that state's.
                if let Some(n) = row.extra.device_state.as_ref().and_then(|s| s.cell_note()) {
                    spans.extend([Span::Break, text(format!("reduced clock: {n}"))]);
                }
                // Samples from a second state of the machine: the p50 stands, the p99 is theirs.
                if let Some(o) = row.extra.outliers {
                    spans.extend([
                        Span::Break,
                        text(format!(
                            "outliers: {} of {} samples, up to {:.2}x the p50",
                            o.count(),
                            row.samples,
                            o.max_over_median
                        )),
                    ]);
                }
                if row.extra.in_cache {
                    spans.extend([Span::Break, text("in cache: not a memory figure")]);
                }
                spans
            }
        },
    }
}

/// Column id and device name, so a reader need not look the id up in the devices table.
fn column_heading(c: &Column) -> Vec<Span> {
    let mut h = vec![text(&c.id), Span::Break, text(&c.device.name)];
    if c.software_adapter {
        h.extend([Span::Break, text("(software adapter)")]);
    }
    h
}

/// The results table: workloads down, devices across (or the reverse when `transpose`).
pub fn results_table(report: &MergedReport, transpose: bool) -> Table {
    if !transpose {
        let mut header = vec![vec![text("workload")]];
        header.extend(report.columns.iter().map(column_heading));
        let mut align = vec![Align::Left];
        align.extend(report.columns.iter().map(|_| Align::Right));
        let rows = report
            .workloads
            .iter()
            .map(|w| {
                let mut r = vec![vec![text(&w.label)]];
                r.extend((0..report.columns.len()).map(|c| cell_spans(w, c)));
                r
            })
            .collect();
        Table {
            header,
            align,
            rows,
        }
    } else {
        let mut header = vec![vec![text("device")]];
        header.extend(report.workloads.iter().map(|w| vec![text(&w.label)]));
        let mut align = vec![Align::Left];
        align.extend(report.workloads.iter().map(|_| Align::Right));
        let rows = report
            .columns
            .iter()
            .enumerate()
            .map(|(c, col)| {
                let mut r = vec![column_heading(col)];
                r.extend(report.workloads.iter().map(|w| cell_spans(w, c)));
                r
            })
            .collect();
        Table {
            header,
            align,
            rows,
        }
    }
}

fn opt_value(v: Option<f64>) -> String {
    v.map(format_value).unwrap_or_else(|| "-".into())
}

fn machines_table(report: &MergedReport) -> Table {
    let header = [
        "run",
        "file",
        "host",
        "CPU",
        "cores / threads",
        "memory",
        "OS",
        "kernel",
        "started",
        "accelbench",
        "suite",
    ]
    .iter()
    .map(|h| vec![text(*h)])
    .collect();
    let rows = report
        .sources
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut tool = s.tool_version.clone();
            if let Some(c) = &s.host.git_commit {
                tool.push_str(&format!(" ({c})"));
            }
            let mut started = vec![text(&s.started_at)];
            if s.partial {
                started.extend([Span::Break, Span::Strong("partial (interrupted)".into())]);
            }
            vec![
                vec![text((i + 1).to_string())],
                vec![text(&s.file)],
                vec![text(&s.host.hostname)],
                vec![text(&s.host.cpu_model)],
                vec![text(format!("{} / {}", s.host.cores, s.host.threads))],
                vec![text(format_bytes(s.host.memory_bytes))],
                vec![text(&s.host.os)],
                vec![text(&s.host.kernel)],
                started,
                vec![text(tool)],
                vec![text(
                    s.settings
                        .as_ref()
                        .map(|x| x.suite.clone())
                        .unwrap_or_else(|| "-".into()),
                )],
            ]
        })
        .collect();
    Table {
        header,
        align: vec![Align::Left; 11],
        rows,
    }
}

fn devices_table(report: &MergedReport) -> Table {
    let header = [
        "column",
        "run",
        "device",
        "kind",
        "backend",
        "driver",
        "peak GFLOP/s",
        "peak GB/s",
        "peak source",
    ]
    .iter()
    .map(|h| vec![text(*h)])
    .collect();
    let rows = report
        .columns
        .iter()
        .map(|c| {
            let d = &c.device;
            let mut kind = format!("{:?}", d.kind).to_lowercase();
            if let Some(t) = &d.device_type {
                kind.push_str(&format!(" ({t})"));
            }
            let mut kind_cell = vec![text(kind)];
            if c.software_adapter {
                kind_cell.extend([Span::Break, Span::Strong("software adapter".into())]);
            }
            vec![
                vec![text(&c.id)],
                vec![text((c.source + 1).to_string())],
                vec![text(&d.name)],
                kind_cell,
                vec![text(&d.backend)],
                vec![text(&d.driver)],
                vec![text(opt_value(d.peak_gflops))],
                vec![text(opt_value(d.peak_gbps))],
                vec![text(&d.peak_source)],
            ]
        })
        .collect();
    let mut align = vec![Align::Left; 9];
    align[6] = Align::Right;
    align[7] = Align::Right;
    Table {
        header,
        align,
        rows,
    }
}

/// The whole report as blocks. `figures` are appended under their own heading.
pub fn blocks(report: &MergedReport, transpose: bool, figures: Vec<Figure>) -> Vec<Block> {
    let mut b = vec![
        Block::Heading(1, vec![text("accelbench report")]),
        Block::Paragraph(vec![text(format!(
            "{} results file(s), {} device(s), {} workload(s). Each cell shows throughput at the median latency (GFLOP/s for GEMM, GB/s for memory-bound kernels, tokens/s of the whole model for decode_token, measured; a decode_step row from an older file shows its whole-model figure multiplied from one layer) and the p50 and p99 latency of one kernel invocation. FAILED: the kernel's output did not match the reference or it could not run, so it has no timing. Software adapters (such as lavapipe) emulate a GPU on the CPU: their figures are not GPU speed.",
            report.sources.len(),
            report.columns.len(),
            report.workloads.len()
        ))]),
        Block::Heading(2, vec![text("Machines")]),
        Block::Table(machines_table(report)),
        Block::Heading(2, vec![text("Devices")]),
        Block::Table(devices_table(report)),
        Block::Heading(2, vec![text("Results")]),
        Block::Table(results_table(report, transpose)),
    ];
    let failures: Vec<Vec<Span>> = report
        .workloads
        .iter()
        .flat_map(|w| {
            w.cells.iter().enumerate().filter_map(move |(c, cell)| {
                let row = cell.as_ref()?;
                if throughput(row, w.metric).is_some() {
                    return None;
                }
                Some(vec![
                    Span::Strong(report.columns[c].id.clone()),
                    text(format!(", {}: {}", w.label, failure_reason(row))),
                ])
            })
        })
        .collect();
    if !failures.is_empty() {
        b.push(Block::Heading(2, vec![text("Failed workloads")]));
        b.push(Block::List(failures));
    }
    if !report.notes.is_empty() {
        b.push(Block::Heading(2, vec![text("Notes")]));
        b.push(Block::List(
            report.notes.iter().map(|n| vec![text(n)]).collect(),
        ));
    }
    if !figures.is_empty() {
        b.push(Block::Heading(2, vec![text("Plots")]));
        let mut intro = String::new();
        if figures.iter().any(|f| f.file_name.starts_with("cost-")) {
            intro.push_str("Cost per million output tokens: measured local devices (where a price per hour is given) and projected cloud instances, with the assumptions under the chart. ");
        }
        intro.push_str("Rooflines: each measured workload at its arithmetic intensity (FLOP per byte of compulsory traffic) against the device's peak compute and bandwidth. Latency distributions: latency of one invocation at each percentile, read from the stored HdrHistograms; the horizontal axis stretches the tail (1/(1-p), log scale).");
        b.push(Block::Paragraph(vec![text(intro)]));
        b.push(Block::Figures(figures));
    }
    b
}
