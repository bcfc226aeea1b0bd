//! Parse one console line of PowerShell into a cmdlet call, without
//! evaluating anything.
//!
//! Used by `cmdeploy lab console "<statement>"` and by the WS-Management test
//! endpoint: an administrator types a single cmdlet invocation the way they
//! would at a PowerShell prompt, and [`parse_statement`] turns it into the
//! `{cmdlet, args}` shape providers emit, so the lab can execute it.
//!
//! # What is accepted
//!
//! ```text
//! Cmdlet-Name [-Param value | -Param:value | -Switch]... [| ConvertTo-Json [-Depth n] [-Compress]]
//! ```
//!
//! Values, and the JSON they become:
//!
//! | written                                   | JSON                          |
//! |-------------------------------------------|-------------------------------|
//! | `-Switch` (no value follows)              | `true`                        |
//! | `$true` / `$false` / `$null`              | `true` / `false` / `null`     |
//! | `10000`, `-5`, `1.5`, `0x10`, `10MB`      | number                        |
//! | `'it''s'` (verbatim)                      | string `it's`                 |
//! | ``"say `"hi`" `$5`n"`` (backtick escapes) | string                        |
//! | bare words: `IPSubnet`, `d\u`, `10.1.0.0/16` | string                     |
//! | `'a','b'`, `@('a','b')`, `@()`            | array                         |
//!
//! Like PowerShell, the curly quotes U+2018–U+201B are single quotes,
//! U+201C–U+201E are double quotes, and the dashes U+2013–U+2015 start a
//! parameter just like `-` (text pasted from Word or a web page works).
//!
//! # What is rejected (with a [`StatementError`] giving the column)
//!
//! Variables (`$x`, `$env:X`) and their expansion inside double-quoted
//! strings (`"$x"`, `"$(...)"`), sub-expressions and parentheses, script
//! blocks `{}`, hashtables `@{}`, splatting, type literals `[int]`, more than
//! one statement (`;`, newlines, `&&`, `||`), redirection, pipelines to
//! anything but `ConvertTo-Json`, positional arguments, and a parameter given
//! twice. Nothing here panics, whatever the input (checked by a proptest).
//!
//! # Known limits
//!
//! The parser does not know parameter types: `-Force 'x'` binds `'x'` to
//! `-Force` (PowerShell would bind `'x'` positionally), and a Boolean
//! parameter written without a value reads as `true`. Values keep the type
//! PowerShell's parser gives them (`-Name 123` is the number 123); checking or
//! coercing them against the cmdlet's parameter types is the caller's job
//! (see [`crate::powershell::oracle`]).

use serde_json::{Map, Number, Value};

/// One parsed console statement: a cmdlet call plus whether its output is
/// piped to `ConvertTo-Json`.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// The cmdlet name as typed (an en/em dash in it is read as `-`).
    pub cmdlet: String,
    /// Named arguments. Keys keep the user's spelling without the dash
    /// (`-sitecode` gives `sitecode`); matching against the cmdlet's
    /// parameters is case-insensitive and happens later. Values are JSON:
    /// `true` for a switch, booleans, strings, numbers, arrays, or `null`.
    pub args: Map<String, Value>,
    /// `true` when the statement ends in `| ConvertTo-Json` (its `-Depth`,
    /// `-Compress`, `-EnumsAsStrings` and `-AsArray` are accepted and ignored).
    pub to_json: bool,
}

/// Why a console line could not be turned into a [`Statement`].
///
/// Displays as `column N: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct StatementError {
    /// What is wrong and, where possible, how to write it instead.
    pub message: String,
    /// Byte offset into the input line of the offending character (the
    /// line's length when the problem is at its end).
    pub offset: usize,
    /// 1-based column in characters (not bytes) of the same position.
    pub column: usize,
}

/// Tells the parser which parameter a positional argument would have bound
/// to, so the error can say which parameter to name.
///
/// [`crate::powershell::oracle::Oracle`] implements this from the documented
/// `Position` of each parameter.
pub trait PositionalHints {
    /// The names of the parameters of `cmdlet` at positional index
    /// `position` (0-based), one per parameter set that has one, default set
    /// first; empty if the cmdlet is unknown or has none.
    fn positional_parameters(&self, cmdlet: &str, position: usize) -> Vec<String>;
}

/// Parse one line of PowerShell typed at a console into a [`Statement`].
///
/// See the [module documentation](self) for the accepted syntax. Errors carry
/// the byte offset and column of the problem. Never panics.
pub fn parse_statement(line: &str) -> Result<Statement, StatementError> {
    Parser::new(line, None).parse()
}

/// Like [`parse_statement`], but a positional argument's error names the
/// parameter `hints` says it would bind to (e.g. "name it: -Name HQ").
pub fn parse_statement_with_hints(
    line: &str,
    hints: &dyn PositionalHints,
) -> Result<Statement, StatementError> {
    Parser::new(line, Some(hints)).parse()
}

/// PowerShell's single quotes: `'` and U+2018–U+201B (CharTraits.IsSingleQuote).
fn is_single_quote(c: char) -> bool {
    matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}')
}

/// PowerShell's double quotes: `"` and U+201C–U+201E (CharTraits.IsDoubleQuote).
fn is_double_quote(c: char) -> bool {
    matches!(c, '"' | '\u{201C}' | '\u{201D}' | '\u{201E}')
}

/// PowerShell's dashes: `-` and U+2013–U+2015 (CharTraits.IsDash).
fn is_dash(c: char) -> bool {
    matches!(c, '-' | '\u{2013}' | '\u{2014}' | '\u{2015}')
}

fn is_newline(c: char) -> bool {
    matches!(c, '\n' | '\r')
}

/// Characters that end an unquoted word or a value.
fn is_delimiter(c: char) -> bool {
    c.is_whitespace() || matches!(c, ',' | ';' | '|' | '(' | ')' | '{' | '}' | '&' | '<' | '>')
}

/// Characters that make `$` start a variable or expression.
fn starts_variable(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '?' | '^' | '$' | ':' | '{' | '(')
}

fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Allowed parameters of the trailing `ConvertTo-Json`.
const CONVERT_TO_JSON_PARAMS: &[&str] = &["Depth", "Compress", "EnumsAsStrings", "AsArray"];

/// A parsed value and whether it came from an array form (for nesting checks).
struct Parsed {
    value: Value,
    is_array: bool,
}

struct Parser<'a> {
    src: &'a str,
    chars: Vec<(usize, char)>,
    pos: usize,
    hints: Option<&'a dyn PositionalHints>,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str, hints: Option<&'a dyn PositionalHints>) -> Self {
        Parser {
            src,
            chars: src.char_indices().collect(),
            pos: 0,
            hints,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).map(|&(_, c)| c)
    }

    fn peek_at(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).map(|&(_, c)| c)
    }

    fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    fn error_at(&self, index: usize, message: impl Into<String>) -> StatementError {
        let offset = self
            .chars
            .get(index)
            .map(|&(o, _)| o)
            .unwrap_or(self.src.len());
        StatementError {
            message: message.into(),
            offset,
            column: index.min(self.chars.len()) + 1,
        }
    }

    fn error(&self, message: impl Into<String>) -> StatementError {
        self.error_at(self.pos, message)
    }

    /// Skip whitespace. A newline (or `` ` ``-newline continuation) is fine
    /// only if nothing but whitespace follows it; otherwise it separates a
    /// second statement.
    fn skip_ws(&mut self) -> Result<(), StatementError> {
        let mut newline_at = None;
        loop {
            match self.peek() {
                Some('`') if self.peek_at(1).is_some_and(is_newline) => {
                    // Line continuation: backtick, then \n or \r\n.
                    self.pos += 2;
                    if self.peek_at(0) == Some('\n') && self.chars[self.pos - 1].1 == '\r' {
                        self.pos += 1;
                    }
                }
                Some(c) if is_newline(c) => {
                    newline_at.get_or_insert(self.pos);
                    self.pos += 1;
                }
                Some(c) if c.is_whitespace() => self.pos += 1,
                _ => break,
            }
        }
        if let Some(at) = newline_at {
            if !self.at_end() && self.peek() != Some('#') {
                return Err(self.error_at(
                    at,
                    "the console takes one statement on one line; this newline starts a second one",
                ));
            }
        }
        Ok(())
    }

    fn parse(mut self) -> Result<Statement, StatementError> {
        self.skip_ws()?;
        if self.at_end() || self.peek() == Some('#') {
            return Err(
                self.error("empty statement: type one cmdlet call, e.g. Get-CMBoundaryGroup")
            );
        }
        let cmdlet = self.parse_command_name()?;
        let mut args = Map::new();
        let mut to_json = false;
        loop {
            self.skip_ws()?;
            let Some(c) = self.peek() else { break };
            match c {
                '#' => break,
                '|' => {
                    self.parse_pipeline_tail()?;
                    to_json = true;
                    break;
                }
                _ if is_dash(c) && self.peek_at(1).is_some_and(is_name_start) => {
                    self.parse_parameter(&mut args)?;
                }
                _ if is_dash(c) && self.peek_at(1).is_some_and(is_dash) => {
                    return Err(self.error(
                        "`--` and `--%` are not supported: name every parameter (-Name value)",
                    ));
                }
                _ => {
                    self.check_structural(c)?;
                    // Report what is wrong with the value itself first
                    // (`$x`, `@params`, an unterminated string, ...).
                    let at = self.pos;
                    self.parse_value()?;
                    self.pos = at;
                    return Err(self.positional_error(&cmdlet, &args));
                }
            }
        }
        Ok(Statement {
            cmdlet,
            args,
            to_json,
        })
    }

    /// Errors for characters that cannot start an argument at all.
    fn check_structural(&self, c: char) -> Result<(), StatementError> {
        let message = match c {
            ';' => "only one statement is allowed: remove `;` and what follows",
            '{' | '}' => {
                "script blocks `{ }` are not supported: the console does not evaluate code"
            }
            '&' if self.peek_at(1) == Some('&') => {
                "pipeline chains (`&&`) are not supported: type one statement"
            }
            '&' => "`&` is not supported: type one cmdlet call",
            '>' | '<' => "redirection is not supported",
            ')' => "unexpected `)`",
            ',' => "unexpected `,`: a list must follow a parameter (-Name 'a','b')",
            _ => return Ok(()),
        };
        Err(self.error(message))
    }

    fn positional_error(&self, cmdlet: &str, args: &Map<String, Value>) -> StatementError {
        let word: String = self.chars[self.pos..]
            .iter()
            .map(|&(_, c)| c)
            .take_while(|&c| !c.is_whitespace())
            .take(40)
            .collect();
        let hints: Vec<String> = self
            .hints
            .map(|h| h.positional_parameters(cmdlet, 0))
            .unwrap_or_default()
            .into_iter()
            .filter(|p| !args.keys().any(|k| k.eq_ignore_ascii_case(p)))
            .collect();
        let message = if hints.is_empty() {
            format!(
                "positional argument `{word}`: the console needs named parameters; \
                 write -ParameterName {word} (see Get-Help {cmdlet} -Parameter *)"
            )
        } else {
            let named: Vec<String> = hints.iter().map(|p| format!("-{p} {word}")).collect();
            format!(
                "positional argument `{word}`: the console needs named parameters; \
                 {cmdlet} expects it named, e.g. {}",
                named.join(" or ")
            )
        };
        self.error(message)
    }

    fn parse_command_name(&mut self) -> Result<String, StatementError> {
        let start = self.pos;
        let first = self.peek().unwrap_or(' ');
        if first == '$' {
            return Err(self.error(
                "variables and assignments are not supported: type one cmdlet call, e.g. Get-CMSite",
            ));
        }
        if is_single_quote(first) || is_double_quote(first) {
            return Err(self.error("expected a cmdlet name, not a quoted string"));
        }
        if first == '(' {
            return Err(
                self.error("parenthesised expressions are not evaluated: type one cmdlet call")
            );
        }
        let mut name = String::new();
        while let Some(c) = self.peek() {
            if is_delimiter(c) || c == '#' && name.is_empty() {
                break;
            }
            if is_dash(c) {
                name.push('-');
            } else if is_name_char(c) {
                name.push(c);
            } else {
                self.check_structural(c)?;
                return Err(self.error(format!(
                    "`{c}` cannot appear in a cmdlet name: expected Verb-Noun, e.g. Get-CMBoundary"
                )));
            }
            self.pos += 1;
        }
        if name.is_empty() {
            self.check_structural(first)?;
            return Err(self.error_at(start, "expected a cmdlet name, e.g. Get-CMBoundaryGroup"));
        }
        if name.starts_with('-') || !name.chars().any(char::is_alphabetic) {
            return Err(self.error_at(
                start,
                format!("`{name}` is not a cmdlet name: expected Verb-Noun, e.g. Get-CMBoundary"),
            ));
        }
        if name.eq_ignore_ascii_case("PS") && self.looks_like_prompt() {
            return Err(self.error_at(
                start,
                "this starts with a copied prompt (`PS C:\\>`): remove it and type only the cmdlet call",
            ));
        }
        if let Some(c) = self.peek() {
            if !c.is_whitespace() && !matches!(c, '|' | ';' | '#') {
                self.check_structural(c)?;
                return Err(self.error(format!("unexpected `{c}` after the cmdlet name")));
            }
        }
        Ok(name)
    }

    /// After a leading `PS`: is the next word a prompt path (`C:\>`)?
    fn looks_like_prompt(&self) -> bool {
        let rest: String = self.chars[self.pos..]
            .iter()
            .map(|&(_, c)| c)
            .skip_while(|c| c.is_whitespace())
            .take_while(|c| !c.is_whitespace())
            .collect();
        rest.contains('>')
    }

    /// Parse `-Name`, `-Name value`, `-Name:value` at a dash; insert into `args`.
    fn parse_parameter(&mut self, args: &mut Map<String, Value>) -> Result<(), StatementError> {
        let start = self.pos;
        self.pos += 1; // the dash
        let mut name = String::new();
        while let Some(c) = self.peek().filter(|&c| is_name_char(c)) {
            name.push(c);
            self.pos += 1;
        }
        let value = match self.peek() {
            Some(':') => {
                self.pos += 1;
                while self
                    .peek()
                    .is_some_and(|c| c.is_whitespace() && !is_newline(c))
                {
                    self.pos += 1;
                }
                match self.peek() {
                    None => return Err(self.error(format!("missing a value after -{name}:"))),
                    Some(c) if matches!(c, '|' | ';' | '#') || is_newline(c) => {
                        return Err(self.error(format!("missing a value after -{name}:")));
                    }
                    Some(_) => self.parse_value()?,
                }
            }
            None => Value::Bool(true),
            Some(c) if c.is_whitespace() => {
                self.skip_ws()?;
                match self.peek() {
                    None => Value::Bool(true),
                    Some('|' | ';' | '#') => Value::Bool(true),
                    Some(c) if is_dash(c) && self.peek_at(1).is_some_and(is_name_start) => {
                        Value::Bool(true)
                    }
                    Some(_) => self.parse_value()?,
                }
            }
            Some('|' | ';') => Value::Bool(true),
            Some(c) => {
                return Err(self.error(format!(
                    "unexpected `{c}` after -{name}: put a space or `:` between a parameter and its value"
                )));
            }
        };
        if let Some(existing) = args.keys().find(|k| k.eq_ignore_ascii_case(&name)) {
            return Err(self.error_at(
                start,
                format!("parameter -{name} is given twice (first as -{existing})"),
            ));
        }
        args.insert(name, value);
        Ok(())
    }

    /// A value, or a comma-separated list of values (an array).
    fn parse_value(&mut self) -> Result<Value, StatementError> {
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

    /// `` `u{XXXX} `` with the position just after `u`.
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

    /// `| ConvertTo-Json [-Depth n] [-Compress] ...` at the `|`.
    fn parse_pipeline_tail(&mut self) -> Result<(), StatementError> {
        if self.peek_at(1) == Some('|') {
            return Err(self.error("pipeline chains (`||`) are not supported: type one statement"));
        }
        self.pos += 1;
        self.skip_ws()?;
        let at = self.pos;
        if self.at_end() {
            return Err(self.error("expected ConvertTo-Json after `|`"));
        }
        let name = self.parse_command_name()?;
        if !name.eq_ignore_ascii_case("ConvertTo-Json") {
            return Err(self.error_at(
                at,
                format!("only `| ConvertTo-Json` may follow the cmdlet, not `| {name}`"),
            ));
        }
        let mut params = Map::new();
        loop {
            self.skip_ws()?;
            let Some(c) = self.peek() else { break };
            match c {
                '#' => break,
                '|' => {
                    return Err(self
                        .error("only one pipe is allowed: `| ConvertTo-Json` ends the statement"))
                }
                _ if is_dash(c) && self.peek_at(1).is_some_and(is_name_start) => {
                    let param_at = self.pos;
                    self.parse_parameter(&mut params)?;
                    if let Some((key, value)) = params.iter().find(|(k, _)| {
                        !CONVERT_TO_JSON_PARAMS
                            .iter()
                            .any(|p| p.eq_ignore_ascii_case(k))
                    }) {
                        let _ = value;
                        return Err(self.error_at(
                            param_at,
                            format!(
                                "ConvertTo-Json -{key} is not supported here (allowed: -Depth, -Compress, -EnumsAsStrings, -AsArray)"
                            ),
                        ));
                    }
                    if let Some((_, depth)) =
                        params.iter().find(|(k, _)| k.eq_ignore_ascii_case("Depth"))
                    {
                        if depth.as_u64().is_none_or(|d| d > 100) {
                            return Err(self.error_at(
                                param_at,
                                "ConvertTo-Json -Depth takes a whole number from 0 to 100",
                            ));
                        }
                    }
                }
                _ => {
                    self.check_structural(c)?;
                    return Err(self.error(
                        "ConvertTo-Json takes its input from the pipe; name any other argument (-Depth 5)",
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Read a PowerShell numeric literal in argument mode: optional leading dash
/// (any of PowerShell's dashes), decimal integer, decimal fraction or `0x`
/// hex (read as unsigned), with an optional `kb`/`mb`/`gb`/`tb`/`pb`
/// multiplier. Anything else (`10.1.0.0`, `1e`, `5x`) is not a number.
fn parse_number(word: &str) -> Option<Number> {
    let (negative, body) = match word.chars().next() {
        Some(c) if is_dash(c) => (true, &word[c.len_utf8()..]),
        _ => (false, word),
    };
    let lower = body.to_ascii_lowercase();
    let (digits, multiplier): (&str, i64) =
        [("kb", 10), ("mb", 20), ("gb", 30), ("tb", 40), ("pb", 50)]
            .iter()
            .find_map(|&(suffix, shift)| lower.strip_suffix(suffix).map(|d| (d, 1i64 << shift)))
            .unwrap_or((lower.as_str(), 1));
    if digits.is_empty() {
        return None;
    }
    if let Some(hex) = digits.strip_prefix("0x") {
        if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let v = i64::try_from(u64::from_str_radix(hex, 16).ok()?).ok()?;
        let v = v.checked_mul(multiplier)?;
        return Some(Number::from(if negative { v.checked_neg()? } else { v }));
    }
    let (int_part, frac_part) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    if int_part.is_empty() || !int_part.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    match frac_part {
        None => {
            let v: i64 = int_part.parse().ok()?;
            let v = v.checked_mul(multiplier)?;
            Some(Number::from(if negative { -v } else { v }))
        }
        Some(f) => {
            if f.is_empty() || !f.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let v: f64 = format!("{int_part}.{f}").parse().ok()?;
            let v = v * multiplier as f64;
            Number::from_f64(if negative { -v } else { v })
        }
    }
}

#[cfg(test)]
mod tests;
