//! What text may be stored. Three rules, one per kind of text:
//!
//! - **Every stored string**: no NUL (U+0000). PostgreSQL cannot store it in a text column,
//!   so a NUL accepted on SQLite would later stop `consoled migrate`, and C programs (and
//!   environment variables) end a string there.
//! - **Names** (clusters, clients, organizations, members): nothing a terminal or a text
//!   renderer acts on instead of showing — no control characters (C0, DEL, C1, so also no
//!   tab or line break) and no bidirectional formatting characters, which make a name read
//!   differently from what it is (the "Trojan Source" trick). Names are shown in tables and
//!   logs, one per line.
//! - **Free text** (descriptions): no controls but tab, line feed and carriage return,
//!   which multi-line descriptions plausibly hold. Bidirectional formatting stays allowed:
//!   right-to-left text uses it, and free text is never printed in operator tables.

use std::fmt::Write;

use super::DomainError;

/// The characters that change how the text around them is ordered on screen: the
/// embeddings and overrides U+202A–U+202E, the isolates U+2066–U+2069, and the marks
/// U+200E, U+200F and U+061C.
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// Line and paragraph separators: line breaks that are not control characters.
fn is_unicode_line_break(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}')
}

/// Whether a character acts on a terminal or on the order of the text around it rather
/// than being shown: what names refuse and what tables escape.
pub fn is_invisible_effect(c: char) -> bool {
    c.is_control() || is_bidi_control(c) || is_unicode_line_break(c)
}

/// `U+001B` for error messages: naming the character without sending it.
fn code_point(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

/// Refuses a NUL anywhere in `value`; `field` names it in the error.
pub fn check_stored(field: &str, value: &str) -> Result<(), DomainError> {
    match value.find('\0') {
        Some(_) => Err(DomainError::Invalid(format!(
            "{field} must not contain the NUL character (U+0000)"
        ))),
        None => Ok(()),
    }
}

/// The rule for names: see the module documentation.
pub fn check_name(field: &str, value: &str) -> Result<(), DomainError> {
    check_stored(field, value)?;
    match value.chars().find(|c| is_invisible_effect(*c)) {
        Some(c) => Err(DomainError::Invalid(format!(
            "{field} must not contain control, line break or bidirectional formatting \
             characters (found {})",
            code_point(c)
        ))),
        None => Ok(()),
    }
}

/// The rule for free text: see the module documentation.
pub fn check_free_text(field: &str, value: &str) -> Result<(), DomainError> {
    check_stored(field, value)?;
    match value
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        Some(c) => Err(DomainError::Invalid(format!(
            "{field} must not contain control characters other than tab and line breaks \
             (found {})",
            code_point(c)
        ))),
        None => Ok(()),
    }
}

/// `text` with every character of [`is_invisible_effect`] written as a Rust escape
/// (`\u{1b}`, `\n`, …), for printing text that may predate these rules to a terminal.
pub fn escape_for_terminal(text: &str) -> String {
    if !text.chars().any(is_invisible_effect) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if is_invisible_effect(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const REFUSED_IN_NAMES: &[char] = &[
        '\0', '\u{1}', '\t', '\n', '\r', '\u{1b}', '\u{7f}', '\u{80}', '\u{85}', '\u{9b}',
        '\u{9f}', '\u{61c}', '\u{200e}', '\u{200f}', '\u{202a}', '\u{202e}', '\u{2066}',
        '\u{2069}', '\u{2028}', '\u{2029}',
    ];

    #[test]
    fn names_refuse_controls_and_bidi_formatting_and_name_the_field() {
        for c in REFUSED_IN_NAMES {
            let err = check_name("clientName", &format!("a{c}b")).unwrap_err();
            let message = err.to_string();
            assert!(message.starts_with("clientName must not"), "{message}");
            assert!(!message.contains(*c), "the message shows {c:?} raw");
        }
        for ok in [
            "plain",
            "Ünïcödé",
            "שלום",
            "👩‍💻 team",
            "a-b_c.d (x)",
            "\u{a0}nbsp",
        ] {
            assert_eq!(check_name("name", ok), Ok(()), "{ok:?}");
        }
    }

    #[test]
    fn free_text_keeps_tabs_line_breaks_and_bidi_but_no_other_control() {
        let text = "line\r\nnext\tcol \u{2028} \u{202b}rtl\u{202c}";
        assert_eq!(check_free_text("description", text), Ok(()));
        for c in ['\0', '\u{1b}', '\u{7}', '\u{7f}', '\u{9b}'] {
            let err = check_free_text("description", &format!("a{c}b")).unwrap_err();
            assert!(err.to_string().starts_with("description must not"), "{err}");
        }
    }

    #[test]
    fn only_nul_is_refused_everywhere() {
        assert_eq!(check_stored("secretValue", "\u{1b}\t\n any"), Ok(()));
        let err = check_stored("secretValue", "a\0").unwrap_err();
        assert_eq!(
            err.to_string(),
            "secretValue must not contain the NUL character (U+0000)"
        );
    }

    #[test]
    fn escaping_leaves_nothing_a_terminal_acts_on() {
        assert_eq!(
            escape_for_terminal("a\u{1b}[2J\tb\r\n\u{202e}c\u{9b}"),
            r"a\u{1b}[2J\tb\r\n\u{202e}c\u{9b}"
        );
        assert_eq!(escape_for_terminal("Ünïcödé 👩‍💻"), "Ünïcödé 👩‍💻");
        let all: String = REFUSED_IN_NAMES.iter().collect();
        assert!(!escape_for_terminal(&all).chars().any(is_invisible_effect));
    }
}
