//! `cmdeploy ccmsetup check`: lint one CCMSetup command line with the same model the providers
//! use, printing diagnostics pointed at the offending token.

use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource};

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
    for f in &findings {
        eprintln!("{}", render(f, "command line", &line, &out));
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
    let theme = if out.color_err {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme);
    let report = Report {
        finding,
        source: NamedSource::new(source_name, text.to_string()),
    };
    let mut rendered = String::new();
    let _ = handler.render_report(&mut rendered, &report);
    rendered
}

struct Report<'a> {
    finding: &'a Finding,
    source: NamedSource<String>,
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
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.finding.span.clone()?;
        Some(Box::new(std::iter::once(LabeledSpan::new(
            None,
            span.start,
            span.end - span.start,
        ))))
    }
}
