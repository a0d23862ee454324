//! GitHub-flavoured Markdown: the report as tables, and figures as image links when the
//! figures are written as files next to the document.

use anyhow::Result;

use crate::render::Table;
use crate::render::escape::markdown as escape;
use crate::report::Exporter;
use crate::report::document::{self, Align, Figure, Markup};
use crate::report::merge::MergedReport;

/// Markdown markup. `figure_dir` is the directory (relative to the document) holding the SVG
/// files of figures; figures are left out when it is `None`.
pub struct Markdown {
    pub figure_dir: Option<String>,
}

impl Markup for Markdown {
    fn escape(&self, text: &str) -> String {
        escape(text)
    }
    fn strong(&self, escaped: &str) -> String {
        format!("**{escaped}**")
    }
    fn line_break(&self) -> &'static str {
        "<br>"
    }
    fn heading(&self, level: u8, inner: &str) -> String {
        format!("{} {inner}\n\n", "#".repeat(level as usize))
    }
    fn paragraph(&self, inner: &str) -> String {
        format!("{inner}\n\n")
    }
    fn list(&self, items: &[String]) -> String {
        let mut s: String = items.iter().map(|i| format!("- {i}\n")).collect();
        s.push('\n');
        s
    }
    fn table(&self, header: &[String], align: &[Align], rows: &[Vec<String>]) -> String {
        let right = align
            .iter()
            .enumerate()
            .filter(|(_, a)| **a == Align::Right)
            .map(|(i, _)| i);
        let mut t = Table::new(header.iter().cloned()).numeric(right).markup();
        for r in rows {
            t.push(r.iter().cloned());
        }
        t.to_markdown() + "\n"
    }
    fn figures(&self, figures: &[Figure]) -> String {
        let Some(dir) = &self.figure_dir else {
            return String::new();
        };
        let mut s = String::new();
        for f in figures {
            s.push_str(&format!(
                "![{}]({dir}/{})\n\n",
                escape(&f.title),
                f.file_name
            ));
            for c in &f.caption {
                s.push_str(&format!("{}\n\n", escape(c)));
            }
        }
        s
    }
}

/// The report as Markdown; `figures` are linked from `figure_dir` (left out without one).
pub struct MarkdownExporter {
    pub transpose: bool,
    pub figures: Vec<Figure>,
    pub figure_dir: Option<String>,
}

impl Exporter for MarkdownExporter {
    fn render(&self, report: &MergedReport) -> Result<Vec<u8>> {
        let md = Markdown {
            figure_dir: self.figure_dir.clone(),
        };
        let figures = if self.figure_dir.is_some() {
            self.figures.clone()
        } else {
            Vec::new()
        };
        Ok(md
            .document(&document::blocks(report, self.transpose, figures))
            .into_bytes())
    }
}
