//! Rules on the raw text of a command line, before it is split: its length, control characters
//! and typographic quotes.

use super::codes;
use super::model::Finding;

/// The longest command line Windows runs: CreateProcess's `lpCommandLine` holds at most 32,767
/// characters (learn.microsoft.com, CreateProcessW, "The maximum length of this string is 32,767
/// characters"). A longer line cannot run, so nothing else about it is checked.
pub const MAX_COMMAND_LINE: usize = 32_767;

/// Whether `c` must never reach a script or a command line: C0 and C1 control characters, DEL,
/// and the Unicode line and paragraph separators (a CR or LF ends a line in a `.cmd` file and in
/// PowerShell, so a value holding one injects a command). Tab is a control character too: CCMSetup
/// values never need one.
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

/// Typographic quotes: PowerShell ends a single-quoted string at any of U+2018–U+201B (and a
/// double-quoted one at U+201C–U+201E), while CCMSetup and msiexec keep them as part of a value:
/// either way a value pasted from a word processor does not mean what it shows.
pub fn is_typographic_quote(c: char) -> bool {
    matches!(c, '\u{2018}'..='\u{201F}')
}

/// The text findings: [`codes::TOO_LONG`] alone when the line cannot run; otherwise one finding
/// per control character and per typographic quote.
pub(crate) fn check(text: &str) -> Vec<Finding> {
    let chars = text.chars().count();
    if chars > MAX_COMMAND_LINE {
        return vec![Finding::error(
            codes::TOO_LONG,
            format!(
                "the command line is {chars} characters long; Windows runs at most {MAX_COMMAND_LINE}"
            ),
        )
        .with_help("CreateProcess refuses longer command lines; nothing else was checked")
        .with_span(0..text.len().min(1))];
    }
    let mut out = Vec::new();
    for (i, c) in text.char_indices() {
        let span = i..i + c.len_utf8();
        if is_unsafe_char(c) {
            out.push(
                Finding::error(
                    codes::CONTROL_CHARACTER,
                    format!("control character U+{:04X} in the command line", c as u32),
                )
                .with_help("a line break or other control character ends or changes the command in a script; remove it")
                .with_span(span),
            );
        } else if is_typographic_quote(c) {
            out.push(
                Finding::error(
                    codes::TYPOGRAPHIC_QUOTE,
                    format!(
                        "typographic quote `{c}` (U+{:04X}): CCMSetup keeps it as part of the value",
                        c as u32
                    ),
                )
                .with_help("use straight double quotes (\") around values with spaces")
                .with_span(span),
            );
        }
    }
    out
}
