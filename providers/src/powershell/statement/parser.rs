//! The statement-level grammar: the [`Parser`] cursor over one line, the
//! cmdlet name, `-Parameter` arguments and the `| ConvertTo-Json` tail.

use serde_json::{Map, Value};

use super::chars::{
    is_dash, is_delimiter, is_double_quote, is_name_char, is_name_start, is_newline,
    is_single_quote,
};
use super::{PositionalHints, Statement, StatementError};

/// Allowed parameters of the trailing `ConvertTo-Json`: Windows PowerShell 5.1's. `-EnumsAsStrings`
/// came with PowerShell 6.0 and `-AsArray` later (windows-runtime.md §5: PowerShell commit
/// 02c4d34380a7, PR #4318; PowerShell-Docs 5.1 `ConvertTo-Json.md` syntax).
const CONVERT_TO_JSON_PARAMS: &[&str] = &["Depth", "Compress"];

/// Parses one console line; see the module documentation for the grammar.
pub(super) struct Parser<'a> {
    src: &'a str,
    chars: Vec<(usize, char)>,
    pub(super) pos: usize,
    hints: Option<&'a dyn PositionalHints>,
}

impl<'a> Parser<'a> {
    pub(super) fn new(src: &'a str, hints: Option<&'a dyn PositionalHints>) -> Self {
        Parser {
            src,
            chars: src.char_indices().collect(),
            pos: 0,
            hints,
        }
    }

    pub(super) fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).map(|&(_, c)| c)
    }

    pub(super) fn peek_at(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).map(|&(_, c)| c)
    }

    pub(super) fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    pub(super) fn error_at(&self, index: usize, message: impl Into<String>) -> StatementError {
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

    pub(super) fn error(&self, message: impl Into<String>) -> StatementError {
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

    pub(super) fn parse(mut self) -> Result<Statement, StatementError> {
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
                                "ConvertTo-Json: A parameter cannot be found that matches parameter name '{key}' (Windows PowerShell 5.1's ConvertTo-Json takes -Depth and -Compress)"
                            ),
                        ));
                    }
                    if let Some((_, depth)) =
                        params.iter().find(|(k, _)| k.eq_ignore_ascii_case("Depth"))
                    {
                        // [ValidateRange(1, int.MaxValue)], and more than 100 is refused
                        // (ConvertToJsonCommand.cs:44-79 at PowerShell@60b3b304).
                        if depth.as_u64().is_none_or(|d| d == 0 || d > 100) {
                            return Err(self.error_at(
                                param_at,
                                "ConvertTo-Json -Depth takes a whole number from 1 to 100",
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
