//! Site codes: three characters A–Z or 0–9, not reserved (prepare-to-install-sites.md), written
//! in upper case as ConfigMgr shows them.

use std::sync::Arc;

use cmdeploy_engine::diagnostics::{Diagnostic, SourceFile};

/// Reserved site codes (prepare-to-install-sites.md).
pub const RESERVED_SITE_CODES: [&str; 6] = ["AUX", "CON", "NUL", "PRN", "SMS", "ENV"];

/// Checks a site code: exactly 3 characters A–Z/0–9, not reserved.
pub fn site_code_problem(code: &str) -> Option<String> {
    if code.len() != 3 || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Some(format!(
            "site code `{code}` must be exactly 3 characters A–Z or 0–9"
        ));
    }
    if RESERVED_SITE_CODES.contains(&code.to_uppercase().as_str()) {
        return Some(format!(
            "site code `{code}` is reserved ({})",
            RESERVED_SITE_CODES.join(", ")
        ));
    }
    None
}

/// A site code written with lower-case letters, refused with the upper-case fix-it.
///
/// ConfigMgr compares site codes without regard to case and shows and stores them in upper case
/// (`Get-CMSite` returns `ABC`). cmdeploy refuses lower case rather than normalising it: a site
/// code is also part of addresses (`site.ABC`, `client_push.ABC`) and references, and one
/// spelling in manifests, state, plans and `--target` keeps them matching; a silently
/// normalised table key would change the address state knows. `renamed` is the address the
/// lower-case spelling made, when the code is a table key: its help says how to keep the
/// object's state under the new address.
pub fn site_code_case(
    code: &str,
    file: &Arc<SourceFile>,
    span: std::ops::Range<usize>,
    renamed: Option<&str>,
) -> Option<Diagnostic> {
    if !code.bytes().any(|b| b.is_ascii_lowercase()) {
        return None;
    }
    let upper = code.to_ascii_uppercase();
    let mut help = format!(
        "write `{upper}`: ConfigMgr site codes are case-insensitive and always shown in upper case, and cmdeploy writes them so everywhere (addresses, references, properties)"
    );
    if let Some(old) = renamed {
        let kind = old.split('.').next().unwrap_or_default();
        help.push_str(&format!(
            "; if state already holds `{old}`, add [[moved]] with from = \"{old}\" and to = \"{kind}.{upper}\" (or run `cmdeploy state mv {old} {kind}.{upper}`) so nothing is recreated"
        ));
    }
    Some(
        Diagnostic::error(
            "cmdeploy::site_code::case",
            format!("site code `{code}` is written in lower case"),
        )
        .with_label(format!("write `{upper}`"))
        .with_help(help)
        .at_span(file, span),
    )
}
