//! What parsing produces: a [`Statement`], or a [`StatementError`].

use serde_json::{Map, Value};

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
    /// `true` when the statement ends in `| ConvertTo-Json` (its `-Depth` and
    /// `-Compress` are accepted and ignored; 5.1 has no other parameter).
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
