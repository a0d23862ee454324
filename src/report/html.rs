//! One self-contained HTML file: the report's tables plus inline SVG plots. No scripts, no
//! network: styles are inline and a Content-Security-Policy forbids everything else.

use anyhow::Result;

use crate::render::escape::html as escape;
use crate::report::Exporter;
use crate::report::document::{self, Align, Figure, Markup};
use crate::report::merge::MergedReport;

/// HTML markup.
pub struct Html;

impl Markup for Html {
    fn escape(&self, text: &str) -> String {
        escape(text)
    }
    fn strong(&self, escaped: &str) -> String {
        format!("<strong>{escaped}</strong>")
    }
    fn line_break(&self) -> &'static str {
        "<br>"
    }
    fn heading(&self, level: u8, inner: &str) -> String {
        format!("<h{level}>{inner}</h{level}>\n")
    }
    fn paragraph(&self, inner: &str) -> String {
        format!("<p>{inner}</p>\n")
    }
    fn list(&self, items: &[String]) -> String {
        let mut s = String::from("<ul>\n");
        for i in items {
            s.push_str(&format!("<li>{i}</li>\n"));
        }
        s.push_str("</ul>\n");
        s
    }
    fn table(&self, header: &[String], align: &[Align], rows: &[Vec<String>]) -> String {
        let class = |i: usize| match align.get(i) {
            Some(Align::Right) => " class=\"num\"",
            _ => "",
        };
        let mut s = String::from("<div class=\"scroll\"><table>\n<thead><tr>");
        for (i, h) in header.iter().enumerate() {
            s.push_str(&format!("<th{}>{h}</th>", class(i)));
        }
        s.push_str("</tr></thead>\n<tbody>\n");
        for r in rows {
            s.push_str("<tr>");
            for (i, c) in r.iter().enumerate() {
                let failed = if c.contains("<strong>FAILED</strong>") {
                    " failed"
                } else {
                    ""
                };
                let cls = match align.get(i) {
                    Some(Align::Right) => format!(" class=\"num{failed}\""),
                    _ => String::new(),
                };
                s.push_str(&format!("<td{cls}>{c}</td>"));
            }
            s.push_str("</tr>\n");
        }
        s.push_str("</tbody>\n</table></div>\n");
        s
    }
    fn figures(&self, figures: &[Figure]) -> String {
        let mut s = String::from("<div class=\"figures\">\n");
        for f in figures {
            // The SVG comes from our plotting code, which escapes every label it draws.
            let mut caption = format!("<strong>{}</strong>", escape(&f.title));
            for c in &f.caption {
                caption.push_str(&format!("<p>{}</p>", escape(c)));
            }
            s.push_str(&format!(
                "<figure>\n{}\n<figcaption>{caption}</figcaption>\n</figure>\n",
                f.svg.trim(),
            ));
        }
        s.push_str("</div>\n");
        s
    }
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem;color:#1b1f23;max-width:1400px}\
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem}\
.scroll{overflow-x:auto}table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}\
th,td{border:1px solid #d0d7de;padding:.3rem .5rem;vertical-align:top;text-align:left}\
th{background:#f6f8fa}td.num,th.num{text-align:right;white-space:nowrap}td.failed{background:#ffebe9;color:#82071e}\
.figures{display:flex;flex-wrap:wrap;gap:1rem;align-items:flex-start}figure{margin:0;border:1px solid #d0d7de;padding:.5rem;display:table}\
figcaption{display:table-caption;caption-side:bottom;font-size:.8rem;color:#57606a;padding:.4rem .5rem;border:1px solid #d0d7de;border-top:0}\
figcaption p{margin:.3rem 0 0}svg{display:block;max-width:100%;height:auto}";

/// The report as one self-contained HTML page with inline SVG figures.
pub struct HtmlExporter {
    pub transpose: bool,
    pub figures: Vec<Figure>,
}

impl Exporter for HtmlExporter {
    fn render(&self, report: &MergedReport) -> Result<Vec<u8>> {
        let body = Html.document(&document::blocks(
            report,
            self.transpose,
            self.figures.clone(),
        ));
        let page = format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<link rel=\"icon\" href=\"data:,\">\n<title>accelbench report</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n"
        );
        Ok(page.into_bytes())
    }
}
