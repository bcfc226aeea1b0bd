//! Argument values: quoted strings, `$true`/`$false`/`$null`, `@( )` and
//! comma lists, and bare words (numbers or strings).

use serde_json::Value;

use super::chars::{
    is_delimiter, is_double_quote, is_name_char, is_newline, is_single_quote, starts_variable,
};
use super::number::parse_number;
use super::parser::Parser;
use super::StatementError;

/// A parsed value and whether it came from an array form (for nesting checks).
struct Parsed {
    value: Value,
    is_array: bool,
}

impl Parser<'_> {
    /// A value, or a comma-separated list of values (an array).
    pub(super) fn parse_value(&mut self) -> Result<Value, StatementError> {
        let first = self.parse_primary()?;
        self.skip_inline_ws();
        if self.peek() != Some(',') {
            return Ok(first.value);
        }
        let mut items = vec![self.element(first)?];
        while self.peek() == Some(',') {
            self.pos += 1;
            self.skip_inline_ws();
            if self.at_end()
                || self
                    .peek()
                    .is_some_and(|c| matches!(c, '|' | ';' | ',' | '#'))
            {
                return Err(self.error("expected a value after `,`"));
            }
            let item = self.parse_primary()?;
            items.push(self.element(item)?);
            self.skip_inline_ws();
        }
        Ok(Value::Array(items))
    }

    fn skip_inline_ws(&mut self) {
        while self
            .peek()
            .is_some_and(|c| c.is_whitespace() && !is_newline(c))
        {
            self.pos += 1;
        }
    }

    fn element(&self, parsed: Parsed) -> Result<Value, StatementError> {
        if parsed.is_array {
            return Err(self.error("nested arrays are not supported: write one flat list 'a','b'"));
        }
        Ok(parsed.value)
    }

    /// After a complete value, the next character must end it.
    fn expect_value_end(&self, what: &str) -> Result<(), StatementError> {
        match self.peek() {
            None => Ok(()),
            Some(c) if is_delimiter(c) && !matches!(c, '(' | '{' | '&' | '<' | '>') => Ok(()),
            Some(c) => Err(self.error(format!(
                "unexpected `{c}` right after {what}: separate values with spaces or commas"
            ))),
        }
    }

    fn parse_primary(&mut self) -> Result<Parsed, StatementError> {
        let Some(c) = self.peek() else {
            return Err(self.error("expected a value"));
        };
        let scalar = |value| Parsed {
            value,
            is_array: false,
        };
        if is_single_quote(c) {
            let s = self.parse_single_quoted()?;
            self.expect_value_end("a quoted string")?;
            return Ok(scalar(Value::String(s)));
        }
        if is_double_quote(c) {
            let s = self.parse_double_quoted()?;
            self.expect_value_end("a quoted string")?;
            return Ok(scalar(Value::String(s)));
        }
        match c {
            '$' => {
                let v = self.parse_dollar()?;
                self.expect_value_end("a $ constant")?;
                Ok(scalar(v))
            }
            '@' => {
                let v = self.parse_at()?;
                self.expect_value_end("`)`")?;
                Ok(Parsed {
                    value: v,
                    is_array: true,
                })
            }
            '(' => Err(self.error(
                "parenthesised expressions are not evaluated: pass a literal value (quote it if needed)",
            )),
            '{' | '}' => Err(self.error(
                "script blocks `{ }` are not supported: the console does not evaluate code",
            )),
            '[' => Err(self.error(
                "type literals and casts ([int], [string[]]) are not supported: pass a literal value",
            )),
            ';' => Err(self.error("only one statement is allowed: remove `;` and what follows")),
            '|' | ',' | ')' | '&' | '<' | '>' => Err(self.error(format!("expected a value, found `{c}`"))),
            _ => self.parse_bare_word().map(scalar),
        }
    }

    fn parse_single_quoted(&mut self) -> Result<String, StatementError> {
        let open = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.error_at(open, "unterminated single-quoted string"));
            };
            self.pos += 1;
            if is_single_quote(c) {
                match self.peek() {
                    Some(next) if is_single_quote(next) => {
                        // A quote doubled with a quote is one literal quote
                        // (PowerShell keeps the second character).
                        out.push(next);
                        self.pos += 1;
                    }
                    _ => return Ok(out),
                }
            } else {
                out.push(c);
            }
        }
    }

    fn parse_double_quoted(&mut self) -> Result<String, StatementError> {
        let open = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.error_at(open, "unterminated double-quoted string"));
            };
            if is_double_quote(c) {
                self.pos += 1;
                match self.peek() {
                    Some(next) if is_double_quote(next) => {
                        out.push(next);
                        self.pos += 1;
                    }
                    _ => return Ok(out),
                }
            } else if c == '`' {
                let escape_at = self.pos;
                self.pos += 1;
                let Some(e) = self.peek() else {
                    return Err(self.error_at(open, "unterminated double-quoted string"));
                };
                self.pos += 1;
                match e {
                    '0' => out.push('\0'),
                    'a' => out.push('\u{7}'),
                    'b' => out.push('\u{8}'),
                    'e' => out.push('\u{1b}'),
                    'f' => out.push('\u{c}'),
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    't' => out.push('\t'),
                    'v' => out.push('\u{b}'),
                    'u' if self.peek() == Some('{') => {
                        out.push(self.parse_unicode_escape(escape_at)?);
                    }
                    other => out.push(other),
                }
            } else if c == '$' && self.peek_at(1).is_some_and(starts_variable) {
                let what = match self.peek_at(1) {
                    Some('(') => "a `$(...)` sub-expression",
                    _ => "a variable",
                };
                return Err(self.error(format!(
                    "this double-quoted string expands {what}, and the console does not evaluate \
                     variables: use single quotes, or escape it as `$"
                )));
            } else {
                out.push(c);
                self.pos += 1;
            }
        }
    }

    /// `` `u{hex} `` (a code point in hex) with the position just after `u`.
    fn parse_unicode_escape(&mut self, escape_at: usize) -> Result<char, StatementError> {
        self.pos += 1; // '{'
        let mut hex = String::new();
        while let Some(c) = self.peek().filter(char::is_ascii_hexdigit) {
            hex.push(c);
            self.pos += 1;
        }
        if self.peek() != Some('}') || hex.is_empty() || hex.len() > 6 {
            return Err(self.error_at(
                escape_at,
                "invalid `u{...} escape: expected 1-6 hex digits and `}`",
            ));
        }
        self.pos += 1;
        u32::from_str_radix(&hex, 16)
            .ok()
            .and_then(char::from_u32)
            .ok_or_else(|| {
                self.error_at(escape_at, format!("`u{{{hex}}} is not a Unicode character"))
            })
    }

    fn parse_dollar(&mut self) -> Result<Value, StatementError> {
        let start = self.pos;
        match self.peek_at(1) {
            Some('(') => {
                return Err(
                    self.error("`$(...)` sub-expressions are not evaluated: pass a literal value")
                )
            }
            Some('{') => {
                return Err(self.error("variables are not evaluated: pass a literal value"))
            }
            _ => {}
        }
        self.pos += 1;
        let mut name = String::new();
        while let Some(c) = self.peek().filter(|&c| is_name_char(c) || c == ':') {
            name.push(c);
            self.pos += 1;
        }
        let value = match name.to_ascii_lowercase().as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            "null" => Value::Null,
            "" => {
                return Err(self.error_at(
                    start,
                    "a lone `$` is not a value: quote it ('$') or use $true, $false or $null",
                ))
            }
            _ => {
                return Err(self.error_at(
                    start,
                    format!(
                        "variables are not evaluated: ${name} has no value here; pass a literal \
                         value (only $true, $false and $null are understood)"
                    ),
                ))
            }
        };
        if self.peek() == Some('.') || self.peek() == Some('[') {
            return Err(self.error("member access and indexing are not evaluated"));
        }
        Ok(value)
    }

    /// `@( value, value, ... )`; other `@` forms are rejected.
    fn parse_at(&mut self) -> Result<Value, StatementError> {
        match self.peek_at(1) {
            Some('(') => {}
            Some('{') => {
                return Err(self.error(
                    "hashtables `@{ }` are not supported: pass each setting as its own parameter",
                ))
            }
            Some(c) if is_single_quote(c) || is_double_quote(c) => {
                return Err(self.error("here-strings are not supported on a one-line console"))
            }
            _ => {
                return Err(self.error(
                    "splatting (@name) is not supported: the console does not evaluate variables",
                ))
            }
        }
        let open = self.pos;
        self.pos += 2;
        self.skip_inline_ws();
        let mut items = Vec::new();
        if self.peek() == Some(')') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            if self.at_end() {
                return Err(self.error_at(open, "`@(` is never closed with `)`"));
            }
            let item = self.parse_primary()?;
            items.push(self.element(item)?);
            self.skip_inline_ws();
            match self.peek() {
                Some(',') => {
                    self.pos += 1;
                    self.skip_inline_ws();
                    if self.peek() == Some(')') {
                        return Err(self.error("expected a value after `,`"));
                    }
                }
                Some(')') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                None => return Err(self.error_at(open, "`@(` is never closed with `)`")),
                Some(';') => {
                    return Err(self.error("separate array items with `,`, not `;`"));
                }
                Some(c) => {
                    return Err(self.error(format!("expected `,` or `)` in @( ), found `{c}`")))
                }
            }
        }
    }

    /// An unquoted word: a number if it reads as one, else a string.
    fn parse_bare_word(&mut self) -> Result<Value, StatementError> {
        let start = self.pos;
        let mut word = String::new();
        let mut escaped = false;
        while let Some(c) = self.peek() {
            if is_delimiter(c) {
                break;
            }
            if is_single_quote(c) || is_double_quote(c) {
                return Err(self.error(
                    "a quote inside an unquoted word: quote the whole value instead ('...')",
                ));
            }
            if c == '$' && self.peek_at(1).is_some_and(starts_variable) {
                return Err(self.error(
                    "this word expands a variable, and the console does not evaluate variables: \
                     quote it with single quotes",
                ));
            }
            if c == '`' {
                match self.peek_at(1) {
                    Some(next) if !is_newline(next) => {
                        word.push(next);
                        escaped = true;
                        self.pos += 2;
                        continue;
                    }
                    _ => return Err(self.error("a backtick must escape a character")),
                }
            }
            word.push(c);
            self.pos += 1;
        }
        if word.is_empty() {
            return Err(self.error_at(start, "expected a value"));
        }
        if matches!(self.peek(), Some('>') | Some('<')) {
            return Err(self.error("redirection is not supported"));
        }
        if matches!(self.peek(), Some('(') | Some('{')) {
            return Err(self
                .error("parentheses and braces are not evaluated: quote the whole value ('...')"));
        }
        if !escaped {
            if let Some(n) = parse_number(&word) {
                return Ok(Value::Number(n));
            }
        }
        Ok(Value::String(word))
    }
}
