//! Where output goes and how it looks: colour only on a terminal, diagnostics through miette.

use std::io::IsTerminal;

use cmdeploy_engine::diagnostics::Diagnostics;
use miette::{GraphicalReportHandler, GraphicalTheme};

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
        for d in diags.sorted() {
            let mut out = String::new();
            if handler.render_report(&mut out, d).is_ok() {
                eprintln!("{out}");
            } else {
                eprintln!("{}: {}", d.code, d.message);
            }
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
                Some(loc) => {
                    let text = loc.file.text.as_str();
                    let start = loc.span.start.min(text.len());
                    let line_start = text[..start].rfind('\n').map(|i| i + 1).unwrap_or(0);
                    let column = text[line_start..start].chars().count() + 1;
                    (
                        Some(loc.file.display.clone()),
                        Some(loc.file.line_of(start)),
                        Some(column),
                    )
                }
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
