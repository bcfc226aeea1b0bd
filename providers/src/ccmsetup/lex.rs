//! Tokeniser with byte spans.
//!
//! Rules: tokens are separated by space, tab, CR or LF outside double quotes. A `"` toggles
//! quoting; inside quotes `""` is a literal `"` (the Windows Installer convention, which also
//! lets `CCMSETUPCMD="..."` nest a command line). Backslashes are literal. The input is a
//! list of `(char, original byte offset)` so nested command lines keep spans into the
//! original text.

use std::ops::Range;

/// One character of a token: the character, its byte offset in the original text, and
/// whether it was inside double quotes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ch {
    pub c: char,
    pub at: usize,
    pub quoted: bool,
}

/// A token: its characters (quotes removed) and its span in the original text.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub chars: Vec<Ch>,
    pub span: Range<usize>,
    pub unterminated: bool,
}

impl Token {
    /// The token text with quotes removed.
    pub fn text(&self) -> String {
        self.chars.iter().map(|c| c.c).collect()
    }

    /// Index of the first unquoted `sep` at or after `from`.
    pub fn find_unquoted(&self, sep: char, from: usize) -> Option<usize> {
        self.chars
            .iter()
            .skip(from)
            .position(|c| !c.quoted && c.c == sep)
            .map(|i| i + from)
    }
}

/// Whether `c` separates tokens.
pub(crate) fn is_sep(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// `(char, offset)` pairs of a top-level text.
pub(crate) fn chars_of(text: &str) -> Vec<(char, usize)> {
    text.char_indices().map(|(i, c)| (c, i)).collect()
}

/// Split `input` into tokens. `end` is the original offset just past the input.
pub(crate) fn lex(input: &[(char, usize)], end: usize) -> Vec<Token> {
    let n = input.len();
    let pos = |k: usize| if k < n { input[k].1 } else { end };
    let mut out = Vec::new();
    let mut k = 0;
    loop {
        while k < n && is_sep(input[k].0) {
            k += 1;
        }
        if k >= n {
            break;
        }
        let start = pos(k);
        let mut chars = Vec::new();
        let mut in_q = false;
        while k < n {
            let (c, at) = input[k];
            if !in_q && is_sep(c) {
                break;
            }
            if c == '"' {
                if in_q && k + 1 < n && input[k + 1].0 == '"' {
                    chars.push(Ch {
                        c: '"',
                        at,
                        quoted: true,
                    });
                    k += 2;
                    continue;
                }
                in_q = !in_q;
                k += 1;
                continue;
            }
            chars.push(Ch {
                c,
                at,
                quoted: in_q,
            });
            k += 1;
        }
        out.push(Token {
            chars,
            span: start..pos(k).max(start),
            unterminated: in_q,
        });
    }
    out
}
