//! CCMSetup and client.msi property values: `NAME=value`, quoted when the value is empty or holds
//! whitespace or `"` (doubled inside the quotes), as msiexec's command-line parser reads them
//! (Microsoft, "Command-Line Options" of Windows Installer: "To include a double quote within a
//! property value, use two adjacent double quotes"). `;`-lists such as `NTFSONLY;COMPRESS` stay
//! unquoted, as in the ConfigMgr docs.
//!
//! Control characters and typographic quotes are not quoted away: they are refused earlier, by
//! the CCMSetup model's text rules (`cmdeploy::ccmsetup::control_character`,
//! `cmdeploy::ccmsetup::typographic_quote`), with a diagnostic at the value.

use std::borrow::Cow;

/// `v` quoted when it is empty or contains whitespace or `"`.
pub fn value(v: &str) -> Cow<'_, str> {
    if v.is_empty() || v.chars().any(|c| c.is_whitespace() || c == '"') {
        Cow::Owned(always(v))
    } else {
        Cow::Borrowed(v)
    }
}

/// `v` in double quotes, inner `"` doubled.
pub fn always(v: &str) -> String {
    format!("\"{}\"", v.replace('"', "\"\""))
}
