//! `cmdeploy ccmsetup check`: lint one CCMSetup command line with the same model the providers
//! use, printing diagnostics pointed at the offending token.

use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan};

use cmdeploy_engine::diagnostics::{line_starts, Snippet};

use cmdeploy_providers::ccmsetup::{self, Context, Finding};

use crate::cli::CcmsetupCommand;
use crate::output::Output;
use crate::Failure;

/// Runs a ccmsetup subcommand.
pub fn run(cmd: CcmsetupCommand, out: Output) -> Result<i32, Failure> {
    let CcmsetupCommand::Check { context, line } = cmd;
    let ctx: Option<Context> = match context {
        Some(c) => Some(c.parse().map_err(|_| {
            Failure::Message(format!(
                "unknown context `{c}`: use push, gpo, manual, workgroup, internet or intune"
            ))
        })?),
        None => None,
    };
    let (_, findings) = ccmsetup::check(&line, ctx);
    let starts = line_starts(&line);
    let mut shown: std::collections::BTreeMap<&str, usize> = Default::default();
    for f in &findings {
        let seen = shown.entry(f.code).or_default();
        *seen += 1;
        if *seen <= crate::output::MAX_PER_CODE {
            eprintln!("{}", render_with(f, "command line", &line, &starts, &out));
        }
    }
    for (code, n) in shown {
        if n > crate::output::MAX_PER_CODE {
            eprintln!(
                "... and {} more {code} finding(s) not shown",
                n - crate::output::MAX_PER_CODE
            );
        }
    }
    let errors = findings.iter().filter(|f| f.is_error()).count();
    if errors == 0 {
        println!(
            "{} {} warning(s).",
            out.paint("\x1b[32;1m", "OK:"),
            findings.len()
        );
        Ok(0)
    } else {
        eprintln!("{errors} error(s), {} warning(s)", findings.len() - errors);
        Ok(1)
    }
}

/// A finding rendered as a miette report against `text` (named `source_name`).
pub(super) fn render(finding: &Finding, source_name: &str, text: &str, out: &Output) -> String {
    render_with(finding, source_name, text, &line_starts(text), out)
}

/// [`render`] with the line starts of `text` computed once by the caller.
fn render_with(
    finding: &Finding,
    source_name: &str,
    text: &str,
    starts: &[usize],
    out: &Output,
) -> String {
    let theme = if out.color_err {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme);
    let report = Report {
        finding,
        source: finding
            .span
            .clone()
            .map(|span| Snippet::cut(source_name, text, starts, span)),
    };
    let mut rendered = String::new();
    let _ = handler.render_report(&mut rendered, &report);
    rendered
}

struct Report<'a> {
    finding: &'a Finding,
    /// The excerpt around the finding's span (none for a finding without one).
    source: Option<Snippet>,
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.finding.message)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.finding.message)
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.finding.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(if self.finding.is_error() {
            miette::Severity::Error
        } else {
            miette::Severity::Warning
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.finding
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display + 'b>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let label = self.source.as_ref()?.label.clone();
        Some(Box::new(std::iter::once(LabeledSpan::new(
            None,
            label.start,
            label.end - label.start,
        ))))
    }
}
