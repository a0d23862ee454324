//! Escaping text from results files for Markdown and HTML, so no name can break a table or inject markup.

/// Escape text for a GitHub Markdown table cell, paragraph or list item: table pipes, Markdown
/// punctuation and backslashes are backslash-escaped, HTML's `<`, `>` and `&` become entities,
/// and line breaks become spaces so a row stays on one line. An underscore inside a word
/// (`decode_step`) is left alone, as GitHub never reads it as emphasis.
pub fn markdown(text: &str) -> String {
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

/// Text as an inline Markdown code span (`` `path` ``). Backslash escapes do not work inside
/// code spans, so the fence is one backtick longer than the longest run of backticks in the
/// text, and line breaks become spaces. A pipe cannot be written inside a code span in a
/// table cell; use this outside tables.
pub fn markdown_code(text: &str) -> String {
    let text = text.replace(['\r', '\n'], " ");
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    // A space on each side when the text starts or ends with a backtick (CommonMark strips one).
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// Escape text for HTML element content and quoted attribute values.
pub fn html(text: &str) -> String {
    let mut s = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => s.push_str("&amp;"),
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '"' => s.push_str("&quot;"),
            '\'' => s.push_str("&#39;"),
            _ => s.push(c),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipes_backslashes_and_newlines_cannot_break_a_table_row() {
        assert_eq!(markdown("a|b\\c\nd"), "a\\|b\\\\c d");
        assert_eq!(markdown("x\r\n|y"), "x  \\|y");
    }

    #[test]
    fn html_in_markdown_becomes_entities() {
        assert_eq!(
            markdown("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
    }

    #[test]
    fn links_emphasis_and_code_are_escaped() {
        assert_eq!(markdown("[x](http://e)"), "\\[x\\](http://e)");
        assert_eq!(markdown("*a* `b` ~c~"), "\\*a\\* \\`b\\` \\~c\\~");
    }

    #[test]
    fn underscores_inside_words_stay_readable() {
        assert_eq!(markdown("decode_step"), "decode_step");
        assert_eq!(markdown("_x_"), "\\_x\\_");
    }

    #[test]
    fn code_spans_get_a_fence_longer_than_any_backtick_run() {
        assert_eq!(markdown_code("results/a.json"), "`results/a.json`");
        assert_eq!(markdown_code("a`b"), "``a`b``");
        assert_eq!(markdown_code("`x"), "`` `x ``");
        assert_eq!(markdown_code("two\nlines"), "`two lines`");
    }

    #[test]
    fn script_tags_become_text() {
        assert_eq!(
            html("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(
            html("a|b,\"c\" & 'd'"),
            "a|b,&quot;c&quot; &amp; &#39;d&#39;"
        );
    }
}
