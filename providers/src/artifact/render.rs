//! The artifact templates (`providers/templates/*.j2`), rendered with minijinja.
//!
//! Every value goes in through a filter of the [`crate::quote`] module of the file's language:
//! `psquote` (a whole PowerShell single-quoted literal), `comment` (a PowerShell `#` line),
//! `cmdsafe` (between double quotes the template writes), `cmdline` (a raw cmd argument string or
//! a `rem` line). A filter refuses what its language cannot hold safely, so even a value a kind
//! failed to check cannot change a script's structure; the kinds check first, to put the
//! diagnostic at the value.

use minijinja::{Environment, Value};

const TEMPLATES: &[(&str, &str)] = &[
    ("logon.cmd", include_str!("../../templates/logon.cmd.j2")),
    ("logon.ps1", include_str!("../../templates/logon.ps1.j2")),
    (
        "offline-install.cmd",
        include_str!("../../templates/offline-install.cmd.j2"),
    ),
    (
        "offline-readme.txt",
        include_str!("../../templates/offline-readme.txt.j2"),
    ),
];

/// Renders template `name` (one of `logon.cmd`, `logon.ps1`, `offline-install.cmd`,
/// `offline-readme.txt`) with `ctx`.
///
/// # Errors
/// A minijinja error (an unknown template or an undefined value): a bug, reported as text.
pub fn render(name: &str, ctx: Value) -> Result<String, String> {
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    env.set_trim_blocks(true);
    let refused = |e: crate::quote::Unsafe| {
        minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string())
    };
    env.add_filter("psquote", move |s: String| {
        crate::quote::powershell::single_quoted(&s).map_err(refused)
    });
    env.add_filter("comment", move |s: String| {
        crate::quote::no_control(&s).map(|()| s).map_err(refused)
    });
    env.add_filter("cmdsafe", move |s: String| {
        crate::quote::cmd::in_quotes(&s)
            .map(str::to_string)
            .map_err(refused)
    });
    env.add_filter("cmdline", move |s: String| {
        crate::quote::cmd::line(&s)
            .map(str::to_string)
            .map_err(refused)
    });
    for (n, t) in TEMPLATES {
        env.add_template(n, t).map_err(|e| e.to_string())?;
    }
    env.get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(|e| format!("template {name}: {e}"))
}
