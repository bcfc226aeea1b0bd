//! Quoting, one module per target language. A value that reaches a script or a command line is
//! quoted by the module of the language that reads it, and refused when it cannot be represented
//! safely there. Refusals are [`Unsafe`]: the character and why, for a diagnostic at the value.
//!
//! * [`powershell`] — single-quoted string literals (`'...'`), where `'` and the typographic
//!   single quotes U+2018–U+201B all end the string unless doubled;
//! * [`cmd`] — values in `.cmd` files: double-quoted arguments and whole argument strings, where
//!   `%`, `!` and line breaks are interpreted even inside quotes;
//! * [`msi`] — CCMSetup and client.msi property values (`NAME="value"`, `""` inside quotes).
//!
//! Control characters (C0, DEL, C1, U+2028/U+2029) are refused by all three: no CCMSetup value
//! needs one, and a line break turns the rest of a value into a command in a `.cmd` file.

pub mod cmd;
pub mod msi;
pub mod powershell;

/// A value that cannot be represented safely in the target language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsafe {
    /// The offending character.
    pub character: char,
    /// Why it cannot be used there, e.g. "cmd expands `%` even inside quotes".
    pub reason: &'static str,
}

impl std::fmt::Display for Unsafe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.character.is_control() {
            write!(f, "U+{:04X}: {}", self.character as u32, self.reason)
        } else {
            write!(f, "`{}`: {}", self.character, self.reason)
        }
    }
}

impl std::error::Error for Unsafe {}

/// Whether `c` is a control or line-separator character (see the module doc).
pub fn is_control(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

/// The first control character of `value`, as an [`Unsafe`].
pub(crate) fn no_control(value: &str) -> Result<(), Unsafe> {
    match value.chars().find(|c| is_control(*c)) {
        Some(character) => Err(Unsafe {
            character,
            reason: "a control character (a line break ends the command in a script)",
        }),
        None => Ok(()),
    }
}
