//! Values in `.cmd` batch files.
//!
//! cmd reads a batch file line by line and expands `%...%` (and `!...!` under delayed expansion)
//! before anything else, even inside double quotes; outside quotes `&`, `|`, `<`, `>`, `^`, `(`
//! and `)` are operators (Microsoft's `cmd` reference, "Remarks"; the parsing phases are
//! described in Microsoft's "Command shell overview"). There is no escape for `"` inside a quoted
//! argument. So:
//! * [`quoted`] gives `"value"` for a path or file name, refusing `"`, `%`, `!` and control
//!   characters;
//! * [`line`] checks a whole argument string written raw after a program (CCMSetup's arguments,
//!   which carry their own `"` quoting), refusing every operator, `%`, `!` and control characters.

use super::{no_control, Unsafe};

/// Characters refused in a double-quoted argument.
const IN_QUOTES: [(char, &str); 3] = [
    (
        '"',
        "cmd has no way to escape a double quote inside a quoted argument",
    ),
    ('%', "cmd expands `%` even inside quotes"),
    (
        '!',
        "cmd expands `!` under delayed expansion, even inside quotes",
    ),
];

/// Characters refused in a raw argument string.
const RAW: [(char, &str); 9] = [
    ('%', "cmd expands `%` even inside quotes"),
    (
        '!',
        "cmd expands `!` under delayed expansion, even inside quotes",
    ),
    ('^', "cmd's escape character"),
    ('&', "cmd runs what follows `&` as another command"),
    ('|', "cmd pipes into what follows `|`"),
    ('<', "cmd redirects input at `<`"),
    ('>', "cmd redirects output at `>`"),
    ('(', "cmd groups commands with parentheses"),
    (')', "cmd ends a parenthesised block at `)`"),
];

fn refuse(value: &str, set: &[(char, &'static str)]) -> Result<(), Unsafe> {
    no_control(value)?;
    match value
        .chars()
        .find_map(|c| set.iter().find(|(bad, _)| *bad == c))
    {
        Some((character, reason)) => Err(Unsafe {
            character: *character,
            reason,
        }),
        None => Ok(()),
    }
}

/// `value` as a double-quoted cmd argument, quotes included.
///
/// # Errors
/// [`Unsafe`] for `"`, `%`, `!` or a control character.
pub fn quoted(value: &str) -> Result<String, Unsafe> {
    Ok(format!("\"{}\"", in_quotes(value)?))
}

/// Checks `value` for use between double quotes that a template writes itself
/// (`"%~dp0{{ name }}"`), and returns it unchanged.
///
/// # Errors
/// [`Unsafe`] for `"`, `%`, `!` or a control character.
pub fn in_quotes(value: &str) -> Result<&str, Unsafe> {
    refuse(value, &IN_QUOTES)?;
    Ok(value)
}

/// Checks an argument string written raw on a cmd line.
///
/// # Errors
/// [`Unsafe`] for a cmd operator, `%`, `!` or a control character.
pub fn line(value: &str) -> Result<&str, Unsafe> {
    refuse(value, &RAW)?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_breaks_and_expansions_are_refused() {
        assert!(line("/logon SMSSITECODE=ABC\r\ncalc.exe").is_err());
        assert!(line("FSP=%COMPUTERNAME%").is_err());
        assert!(line("FSP=a&calc").is_err());
        assert!(quoted("C:\\a\" & calc").is_err());
        assert_eq!(
            quoted("C:\\Program Files (x86)\\a&b").unwrap(),
            "\"C:\\Program Files (x86)\\a&b\""
        );
        assert_eq!(
            line("/mp:cm01 FSP=\"a b\"").unwrap(),
            "/mp:cm01 FSP=\"a b\""
        );
    }
}
