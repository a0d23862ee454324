//! CSV through the `csv` crate (RFC 4180 quoting), with every cell guarded against spreadsheet formulas.

use std::borrow::Cow;

/// A cell as a spreadsheet will read it safely: one that starts with `=`, `+`, `-`, `@`, a tab
/// or a carriage return gets a `'` in front, so the spreadsheet shows it as text instead of
/// running it as a formula. Plain numbers (`-3.5`, `-1e-6`) and the placeholder `-` are kept as
/// they are.
pub fn guard(cell: &str) -> Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && cell != "-" && !is_plain_number(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// `-?digits[.digits][e[+-]digits]`: what `{}` prints for a finite f64 or an integer.
fn is_plain_number(s: &str) -> bool {
    let s = s.strip_prefix('-').unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some((a, b)) => digits(a) && digits(b),
        None => digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
    mantissa_ok && exponent_ok
}

/// A header line and one line per row, `\n`-terminated; fields are quoted only when they hold a
/// comma, a quote or a line break, and every field goes through [`guard`]. Rows may differ in
/// length from the header.
pub fn to_string<H, R, C>(headers: &[H], rows: impl IntoIterator<Item = R>) -> String
where
    H: AsRef<str>,
    R: IntoIterator<Item = C>,
    C: AsRef<str>,
{
    let mut w = ::csv::WriterBuilder::new()
        .flexible(true)
        .terminator(::csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    // Writing into a Vec cannot fail, and a flexible writer accepts any row length.
    w.write_record(headers.iter().map(|h| guard(h.as_ref()).into_owned()))
        .expect("CSV into memory");
    for row in rows {
        let cells: Vec<String> = row
            .into_iter()
            .map(|c| guard(c.as_ref()).into_owned())
            .collect();
        w.write_record(&cells).expect("CSV into memory");
    }
    let bytes = w.into_inner().expect("CSV into memory");
    String::from_utf8(bytes).expect("CSV of UTF-8 cells is UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_shown_as_text() {
        assert_eq!(guard("=1+1"), "'=1+1");
        assert_eq!(guard("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(guard("+cmd|' /C calc'!A0"), "'+cmd|' /C calc'!A0");
        assert_eq!(guard("-2+3"), "'-2+3");
        assert_eq!(guard("\tx"), "'\tx");
        assert_eq!(guard("\rx"), "'\rx");
        assert_eq!(guard("-inf"), "'-inf");
    }

    #[test]
    fn numbers_and_plain_text_stay() {
        for s in [
            "-3.5", "-1e-6", "-2E+10", "-0", "42", "0.5", "-", "plain", "a=b", "",
        ] {
            assert_eq!(guard(s), s);
        }
    }

    #[test]
    fn commas_quotes_and_line_breaks_are_quoted() {
        let s = to_string(
            &["name", "value"],
            [
                vec!["a|b,\"c\"", "-3.5"],
                vec!["two\nlines", "=HYPERLINK(\"x\")"],
                vec!["plain", ""],
            ],
        );
        assert_eq!(
            s,
            "name,value\n\"a|b,\"\"c\"\"\",-3.5\n\"two\nlines\",\"'=HYPERLINK(\"\"x\"\")\"\nplain,\n"
        );
    }

    #[test]
    fn a_guarded_cell_reads_back_as_its_text_with_the_quote() {
        let s = to_string(&["h"], [["=1+1"], ["-7"]]);
        let mut r = ::csv::Reader::from_reader(s.as_bytes());
        let cells: Vec<String> = r.records().map(|r| r.unwrap()[0].to_string()).collect();
        assert_eq!(cells, ["'=1+1", "-7"]);
    }
}
