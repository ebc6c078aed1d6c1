//! Plain-text tables for operator commands: a header row, then one row per item, each
//! column padded to its widest cell.
//!
//! Cells are printed with control, line break and bidirectional formatting characters
//! escaped (`\u{1b}`): names stored by older versions may hold them, and printed raw they
//! would act on the operator's terminal (clear it, retitle it, reorder what follows)
//! instead of being shown.

use std::fmt::Write;

use crate::domain::text::escape_for_terminal;

pub fn render(headers: &[&str], rows: &[Vec<String>]) -> String {
    let header: Vec<String> = headers.iter().map(|h| escape_for_terminal(h)).collect();
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(|cell| escape_for_terminal(cell)).collect())
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, (cell, width)) in row.iter().zip(&widths).enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell); // no trailing spaces after the last column
            } else {
                let _ = write!(line, "{cell:<width$}  ");
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn columns_are_aligned() {
        let table = super::render(
            &["ID", "NAME"],
            &[
                vec!["a".into(), "first".into()],
                vec!["long-id".into(), "x".into()],
            ],
        );
        assert_eq!(table, "ID       NAME\na        first\nlong-id  x\n");
    }

    #[test]
    fn controls_and_bidi_characters_are_shown_escaped_and_measured_so() {
        let table = super::render(
            &["NAME", "ID"],
            &[
                vec!["a\u{1b}[2J\u{202e}b".into(), "1".into()],
                vec!["x".into(), "2\n".into()],
            ],
        );
        assert_eq!(
            table,
            "NAME                 ID\na\\u{1b}[2J\\u{202e}b  1\nx                    2\\n\n"
        );
    }
}
