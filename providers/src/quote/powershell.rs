//! PowerShell single-quoted string literals.
//!
//! Inside `'...'` PowerShell treats any of `'` (U+0027) and the typographic single quotes
//! U+2018, U+2019, U+201A, U+201B as a quote: one of them ends the string, two in a row stand for
//! the second (PowerShell's tokenizer, `CharExtensions.IsSingleQuote` and
//! `Tokenizer.ScanStringLiteral`: "if (c.IsSingleQuote()) { if (!PeekChar().IsSingleQuote())
//! break; c = GetChar(); }"). Doubling only the ASCII quote lets `’; Remove-Item C:\ -Recurse #`
//! end the string and run. Every quote character is therefore doubled by itself, which keeps
//! it, and control characters are refused.

use super::{no_control, Unsafe};

/// The single-quote characters of PowerShell's tokenizer.
pub const SINGLE_QUOTES: [char; 5] = ['\'', '\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}'];

/// `value` as a PowerShell single-quoted string literal, quotes included.
///
/// # Errors
/// [`Unsafe`] for a control character.
pub fn single_quoted(value: &str) -> Result<String, Unsafe> {
    no_control(value)?;
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if SINGLE_QUOTES.contains(&c) {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    Ok(out)
}

/// Reads back the content of a single-quoted literal (without its outer quotes) as PowerShell
/// does; `None` when a lone quote would end it early. The inverse of [`single_quoted`], for tests
/// and checks.
pub fn unquote(content: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = content.chars().peekable();
    while let Some(c) = chars.next() {
        if SINGLE_QUOTES.contains(&c) {
            match chars.next() {
                Some(second) if SINGLE_QUOTES.contains(&second) => out.push(second),
                _ => return None,
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_quote_is_doubled_by_itself() {
        let v = "C:\\x\u{2019}; Remove-Item C:\\ -Recurse #";
        let q = single_quoted(v).unwrap();
        assert_eq!(q, "'C:\\x\u{2019}\u{2019}; Remove-Item C:\\ -Recurse #'");
        assert_eq!(unquote(&q[1..q.len() - 1]).as_deref(), Some(v));
        assert_eq!(unquote("a\u{2018}b"), None, "a lone quote ends the literal");
    }

    #[test]
    fn control_characters_are_refused() {
        assert!(single_quoted("a\r\nb").is_err());
        assert!(single_quoted("a\u{85}b").is_err());
        assert!(single_quoted("a\u{2028}b").is_err());
    }
}
