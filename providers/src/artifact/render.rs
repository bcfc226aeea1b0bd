//! The artifact templates (`providers/templates/*.j2`), rendered with minijinja.
//!
//! Values are inserted through filters that quote for the target shell: `psquote` doubles `'`
//! for a PowerShell single-quoted string. cmd has no quoting that survives `%` and `^`, so the
//! kinds refuse those characters before rendering a `.cmd` file ([`cmd_unsafe`]).

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
    env.add_filter("psquote", |s: String| s.replace('\'', "''"));
    for (n, t) in TEMPLATES {
        env.add_template(n, t).map_err(|e| e.to_string())?;
    }
    env.get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(|e| format!("template {name}: {e}"))
}

/// The characters of `text` that cmd would interpret even inside a command line it passes on
/// (`%` expansion, `^` escapes, `&`/`|`/`<`/`>` outside quotes, `!` with delayed expansion).
pub fn cmd_unsafe(text: &str) -> Vec<char> {
    let mut bad: Vec<char> = text
        .chars()
        .filter(|c| matches!(c, '%' | '^' | '&' | '|' | '<' | '>' | '!'))
        .collect();
    bad.sort_unstable();
    bad.dedup();
    bad
}
