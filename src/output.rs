//! Where output goes and how it looks: colour only on a terminal, diagnostics through miette.

use std::io::IsTerminal;

use cmdeploy_engine::diagnostics::Diagnostics;
use miette::{GraphicalReportHandler, GraphicalTheme};

/// Diagnostics of one code shown in text; the rest are counted in one line (JSON lists all).
pub const MAX_PER_CODE: usize = 20;

/// Output settings.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// Colour on stdout.
    pub color: bool,
    /// Colour on stderr.
    pub color_err: bool,
    /// stderr is a terminal (progress bars).
    pub interactive: bool,
}

impl Output {
    /// Detects terminals; `NO_COLOR` and `--no-color` turn colour off.
    pub fn detect(no_color: bool) -> Output {
        let allowed = !no_color && std::env::var_os("NO_COLOR").is_none();
        Output {
            color: allowed && std::io::stdout().is_terminal(),
            color_err: allowed && std::io::stderr().is_terminal(),
            interactive: std::io::stderr().is_terminal(),
        }
    }

    /// Renders diagnostics (errors and warnings) to stderr.
    pub fn diagnostics(&self, diags: &Diagnostics) {
        let theme = if self.color_err {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let handler = GraphicalReportHandler::new_themed(theme).with_context_lines(1);
        let mut shown: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for d in diags.sorted() {
            let seen = shown.entry(d.code.as_str()).or_default();
            *seen += 1;
            if *seen > MAX_PER_CODE {
                continue;
            }
            let mut out = String::new();
            if handler.render_report(&mut out, d).is_ok() {
                eprintln!("{out}");
            } else {
                eprintln!("{}: {}", d.code, d.message);
            }
        }
        let mut hidden: Vec<(&str, usize)> = shown
            .into_iter()
            .filter(|(_, n)| *n > MAX_PER_CODE)
            .map(|(code, n)| (code, n - MAX_PER_CODE))
            .collect();
        hidden.sort_unstable();
        for (code, more) in hidden {
            eprintln!(
                "... and {more} more {code} diagnostic(s) not shown (`validate --format json` lists them all)"
            );
        }
        let errors = diags.error_count();
        let warnings = diags.len() - errors;
        if errors > 0 {
            eprintln!("{errors} error(s), {warnings} warning(s)");
        }
    }

    /// Wraps text in an ANSI style when colour is on.
    pub fn paint(&self, style: &str, text: &str) -> String {
        if self.color {
            format!("{style}{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// Diagnostics as JSON: `{"valid": bool, "diagnostics": [{code, severity, message, help, file,
/// line, column}]}` (line and column 1-based).
pub fn diagnostics_json(diags: &Diagnostics, valid: bool) -> String {
    let items: Vec<serde_json::Value> = diags
        .sorted()
        .into_iter()
        .map(|d| {
            let (file, line, column) = match &d.loc {
                Some(loc) => (
                    Some(loc.file.display.clone()),
                    Some(loc.file.line_of(loc.span.start)),
                    Some(loc.file.column_of(loc.span.start)),
                ),
                None => (None, None, None),
            };
            serde_json::json!({
                "code": d.code,
                "severity": d.severity,
                "message": d.message,
                "help": d.help,
                "file": file,
                "line": line,
                "column": column,
            })
        })
        .collect();
    serde_json::to_string_pretty(&serde_json::json!({"valid": valid, "diagnostics": items}))
        .unwrap_or_default()
}
