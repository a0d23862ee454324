//! The one table renderer: aligned terminal text with wrapped long cells, and GitHub Markdown.

use super::escape;

/// A cell wider than this (in characters) wraps onto further lines of its row, unless the
/// column sets its own width with [`Table::max_width`]. The last column never wraps: nothing
/// follows it that it could push out of line.
pub const DEFAULT_MAX_WIDTH: usize = 60;

/// A table built once and printed as terminal text or Markdown.
///
/// ```
/// use accelbench::render::Table;
/// let t = Table::new(["kernel", "p50"])
///     .numeric([1])
///     .row(["gemm", "1.23 ms"])
///     .row(["softmax", "89 ns"]);
/// assert_eq!(t.to_text(), "kernel       p50\ngemm     1.23 ms\nsoftmax    89 ns\n");
/// assert_eq!(t.to_markdown(), "| kernel | p50 |\n|:---|---:|\n| gemm | 1.23 ms |\n| softmax | 89 ns |\n");
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    headers: Vec<String>,
    numeric: Vec<bool>,
    max_width: Vec<Option<usize>>,
    rows: Vec<Vec<String>>,
    markup: bool,
}

impl Table {
    /// A table with these column headings and no rows.
    pub fn new<I, S>(headers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let headers: Vec<String> = headers.into_iter().map(Into::into).collect();
        let n = headers.len();
        Table {
            headers,
            numeric: vec![false; n],
            max_width: vec![None; n],
            rows: Vec::new(),
            markup: false,
        }
    }

    /// These columns (0-based) hold numbers: right-aligned in text and in Markdown.
    pub fn numeric(mut self, cols: impl IntoIterator<Item = usize>) -> Self {
        for c in cols {
            if let Some(n) = self.numeric.get_mut(c) {
                *n = true;
            }
        }
        self
    }

    /// Wrap cells of column `col` wider than `width` characters (at least 8) in text output.
    pub fn max_width(mut self, col: usize, width: usize) -> Self {
        if let Some(w) = self.max_width.get_mut(col) {
            *w = Some(width.max(8));
        }
        self
    }

    /// The cells are already Markdown (escaped by the caller, perhaps with `**emphasis**`):
    /// [`Table::to_markdown`] writes them as they are instead of escaping them.
    pub fn markup(mut self) -> Self {
        self.markup = true;
        self
    }

    /// Append a row (builder style). Missing cells print empty; extra cells are dropped.
    pub fn row<I, S>(mut self, cells: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.push(cells);
        self
    }

    /// Append a row.
    pub fn push<I, S>(&mut self, cells: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut r: Vec<String> = cells.into_iter().map(Into::into).collect();
        r.resize(self.headers.len(), String::new());
        self.rows.push(r);
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn wrap_width(&self, col: usize) -> Option<usize> {
        if col + 1 == self.headers.len() {
            return None;
        }
        Some(self.max_width[col].unwrap_or(DEFAULT_MAX_WIDTH))
    }

    /// Terminal text: columns two spaces apart, numbers right-aligned, words left-aligned, no
    /// trailing spaces, one `\n` per line. A long cell wraps onto further lines of its row (at
    /// spaces and commas where it can), so the columns after it stay aligned.
    pub fn to_text(&self) -> String {
        let n = self.headers.len();
        let wrapped: Vec<Vec<Vec<String>>> = self
            .rows
            .iter()
            .map(|r| {
                r.iter()
                    .enumerate()
                    .map(|(c, cell)| wrap(cell, self.wrap_width(c)))
                    .collect()
            })
            .collect();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| width(h)).collect();
        for r in &wrapped {
            for (c, lines) in r.iter().enumerate() {
                for l in lines {
                    widths[c] = widths[c].max(width(l));
                }
            }
        }
        let mut out = String::new();
        let mut line = |cells: &[&str]| {
            let mut s = String::new();
            for (c, cell) in cells.iter().enumerate() {
                let pad = widths[c].saturating_sub(width(cell));
                if self.numeric[c] {
                    s.push_str(&" ".repeat(pad));
                    s.push_str(cell);
                } else {
                    s.push_str(cell);
                    s.push_str(&" ".repeat(pad));
                }
                if c + 1 < n {
                    s.push_str("  ");
                }
            }
            out.push_str(s.trim_end());
            out.push('\n');
        };
        let heads: Vec<&str> = self.headers.iter().map(String::as_str).collect();
        line(&heads);
        for r in &wrapped {
            let height = r.iter().map(Vec::len).max().unwrap_or(1);
            for i in 0..height {
                let cells: Vec<&str> = r
                    .iter()
                    .map(|lines| lines.get(i).map_or("", String::as_str))
                    .collect();
                line(&cells);
            }
        }
        out
    }

    /// A GitHub Markdown table (`:---` left, `---:` right). Cells are escaped with
    /// [`escape::markdown`] unless the table was built with [`Table::markup`].
    pub fn to_markdown(&self) -> String {
        let cell = |s: &str| {
            if self.markup {
                s.to_string()
            } else {
                escape::markdown(s)
            }
        };
        let line = |cells: &[String]| {
            let cells: Vec<String> = cells.iter().map(|c| cell(c)).collect();
            format!("| {} |\n", cells.join(" | "))
        };
        let mut s = line(&self.headers);
        let divider: Vec<&str> = self
            .numeric
            .iter()
            .map(|&n| if n { "---:" } else { ":---" })
            .collect();
        s.push_str(&format!("|{}|\n", divider.join("|")));
        for r in &self.rows {
            s.push_str(&line(r));
        }
        s
    }
}

fn width(s: &str) -> usize {
    s.chars().count()
}

/// The lines of one cell: its own line breaks kept, each line cut to at most `max` characters,
/// preferably after a space or a comma.
fn wrap(cell: &str, max: Option<usize>) -> Vec<String> {
    let mut out = Vec::new();
    for text in cell.lines() {
        let Some(max) = max.filter(|&m| width(text) > m) else {
            out.push(text.to_string());
            continue;
        };
        // Pieces end after a space or a comma; a piece wider than a line is cut by characters.
        let mut pieces: Vec<String> = Vec::new();
        let mut cur = String::new();
        for ch in text.chars() {
            cur.push(ch);
            if ch == ' ' || ch == ',' {
                pieces.push(std::mem::take(&mut cur));
            }
        }
        if !cur.is_empty() {
            pieces.push(cur);
        }
        let mut line = String::new();
        for p in pieces {
            if width(line.trim_end()) + width(p.trim_end()) <= max || line.is_empty() {
                line.push_str(&p);
            } else {
                out.push(line.trim_end().to_string());
                line = p;
            }
            while width(line.trim_end()) > max {
                let head: String = line.chars().take(max).collect();
                let tail: String = line.chars().skip(max).collect();
                out.push(head);
                line = tail;
            }
        }
        if !line.trim_end().is_empty() || out.is_empty() {
            out.push(line.trim_end().to_string());
        }
    }
    if out.is_empty() {
        out.push(String::new());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_right_words_left_and_no_trailing_spaces() {
        let t = Table::new(["a", "n", "b"])
            .numeric([1])
            .row(["x", "1", "yy"])
            .row(["longer", "100", ""]);
        assert_eq!(
            t.to_text(),
            "a         n  b\nx         1  yy\nlonger  100\n"
        );
    }

    #[test]
    fn a_long_label_wraps_and_every_column_stays_aligned() {
        let label = "decode_step context=1024 ffn=8192 head_dim=64 hidden=2048 kv_heads=8 \
                     layers=16 model=llama-3.2-1b q_heads=32 weights=f16 kv_cache=f16 batch=1 \
                     extra=abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz f32";
        assert!(label.len() > 150);
        let t = Table::new(["device", "workload", "p50", "verified"])
            .numeric([2])
            .max_width(1, 40)
            .row(["cpu", "gemm m=4", "1.23 ms", "ok"])
            .row(["cpu", label, "7.40 ms", "ok"]);
        let text = t.to_text();
        let lines: Vec<&str> = text.lines().collect();
        // The p50 column ends at the same character on every line that has a value.
        let ends: Vec<usize> = lines
            .iter()
            .filter_map(|l| l.find(" ms").map(|i| l[..i].chars().count()))
            .collect();
        assert_eq!(ends.len(), 2);
        assert_eq!(ends[0], ends[1]);
        // No line is wider than the columns allow, and the label is all there.
        for l in &lines {
            assert!(l.chars().count() <= 6 + 2 + 40 + 2 + 7 + 2 + 8, "{l}");
        }
        let joined: String = lines[2..]
            .iter()
            .map(|l| l.chars().skip(8).take(40).collect::<String>())
            .collect::<Vec<_>>()
            .join(" ");
        let squeeze = |s: &str| s.split_whitespace().collect::<String>();
        assert_eq!(squeeze(&joined), squeeze(label));
        assert!(lines.len() > 3);
    }

    #[test]
    fn a_word_longer_than_the_column_is_cut() {
        assert_eq!(
            wrap("abcdefghijkl", Some(8)),
            ["abcdefgh".to_string(), "ijkl".to_string()]
        );
        assert_eq!(wrap("m=1,n=2,k=3", Some(8)), ["m=1,n=2,", "k=3"]);
        assert_eq!(wrap("short", Some(8)), ["short"]);
        assert_eq!(wrap("", Some(8)), [""]);
    }

    #[test]
    fn markdown_escapes_cells_unless_they_are_markup() {
        let t = Table::new(["name|x", "v"])
            .numeric([1])
            .row(["a|b\nc", "1"]);
        assert_eq!(
            t.to_markdown(),
            "| name\\|x | v |\n|:---|---:|\n| a\\|b c | 1 |\n"
        );
        let t = Table::new(["v"]).markup().row(["**bold**"]);
        assert_eq!(t.to_markdown(), "| v |\n|:---|\n| **bold** |\n");
    }
}
