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

mod chars;
mod hints;
mod model;
mod number;
mod parser;
mod value;

pub use hints::PositionalHints;
pub use model::{Statement, StatementError};

use parser::Parser;

// Names the tests (`tests.rs`, `use super::*`) rely on.
#[cfg(test)]
use serde_json::{Map, Value};

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

#[cfg(test)]
mod tests;
