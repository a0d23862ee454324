//! GitHub-flavoured Markdown: the report as tables, and figures as image links when the
//! figures are written as files next to the document.

use anyhow::Result;

use crate::report::Exporter;
use crate::report::document::{self, Align, Figure, Markup};
use crate::report::merge::MergedReport;

/// Markdown markup. `figure_dir` is the directory (relative to the document) holding the SVG
/// files of figures; figures are left out when it is `None`.
pub struct Markdown {
    pub figure_dir: Option<String>,
}

/// Escape text for a GitHub Markdown table cell, paragraph or list item: table pipes, Markdown
/// punctuation and backslashes are backslash-escaped, HTML's `<`, `>` and `&` become entities,
/// and line breaks become spaces so a row stays on one line. An underscore inside a word
/// (`decode_step`) is left alone, as GitHub never reads it as emphasis.
pub fn escape(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut s = String::with_capacity(text.len() + 8);
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '\\' | '|' | '`' | '*' | '[' | ']' | '~' => {
                s.push('\\');
                s.push(c);
            }
            '_' => {
                let word = |j: Option<usize>| {
                    j.and_then(|j| chars.get(j))
                        .is_some_and(|c| c.is_alphanumeric())
                };
                if !(word(i.checked_sub(1)) && word(Some(i + 1))) {
                    s.push('\\');
                }
                s.push('_');
            }
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '&' => s.push_str("&amp;"),
            '\r' | '\n' => s.push(' '),
            _ => s.push(c),
        }
    }
    s
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
        let mut s = String::new();
        let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
        s.push_str(&line(header));
        let divider: Vec<String> = align
            .iter()
            .map(|a| match a {
                Align::Left => ":---".to_string(),
                Align::Right => "---:".to_string(),
            })
            .collect();
        s.push_str(&format!("|{}|\n", divider.join("|")));
        for r in rows {
            s.push_str(&line(r));
        }
        s.push('\n');
        s
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

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn pipes_backslashes_and_newlines_cannot_break_a_table_row() {
        assert_eq!(escape("a|b\\c\nd"), "a\\|b\\\\c d");
    }

    #[test]
    fn html_in_names_becomes_entities() {
        assert_eq!(
            escape("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
    }

    #[test]
    fn underscores_inside_words_stay_readable() {
        assert_eq!(escape("decode_step"), "decode_step");
        assert_eq!(escape("_x_"), "\\_x\\_");
    }
}
