//! Character classes of PowerShell's tokenizer, as the parser needs them.

/// PowerShell's single quotes: `'` and U+2018–U+201B (CharTraits.IsSingleQuote).
pub(super) fn is_single_quote(c: char) -> bool {
    matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}')
}

/// PowerShell's double quotes: `"` and U+201C–U+201E (CharTraits.IsDoubleQuote).
pub(super) fn is_double_quote(c: char) -> bool {
    matches!(c, '"' | '\u{201C}' | '\u{201D}' | '\u{201E}')
}

/// PowerShell's dashes: `-` and U+2013–U+2015 (CharTraits.IsDash).
pub(super) fn is_dash(c: char) -> bool {
    matches!(c, '-' | '\u{2013}' | '\u{2014}' | '\u{2015}')
}

pub(super) fn is_newline(c: char) -> bool {
    matches!(c, '\n' | '\r')
}

/// Characters that end an unquoted word or a value.
pub(super) fn is_delimiter(c: char) -> bool {
    c.is_whitespace() || matches!(c, ',' | ';' | '|' | '(' | ')' | '{' | '}' | '&' | '<' | '>')
}

/// Characters that make `$` start a variable or expression.
pub(super) fn starts_variable(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '?' | '^' | '$' | ':' | '{' | '(')
}

pub(super) fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

pub(super) fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}
