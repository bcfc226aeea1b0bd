//! Entry points of the validator.

use super::context_rules;
use super::model::{CommandLine, Context, Finding};
use super::parse::{parse, ParsedCommandLine};
use super::rules;
use super::text_rules;
use super::values;

/// Parse and validate a command line, optionally for a [`Context`].
///
/// Returns the model (`None` when the text could not be split faithfully: unterminated
/// quote, stray or malformed token) and every finding, syntax ones first, in text order
/// within each rule family. See [`crate::ccmsetup::codes`] for the codes.
pub fn check(text: &str, ctx: Option<Context>) -> (Option<CommandLine>, Vec<Finding>) {
    let mut findings = text_rules::check(text);
    if findings.iter().any(|f| f.code == super::codes::TOO_LONG) {
        return (None, findings);
    }
    let parsed = parse(text);
    findings.extend(check_parsed(&parsed, ctx));
    let cmd = (!parsed.has_syntax_error()).then_some(parsed.command_line);
    (cmd, findings)
}

/// Validate an already parsed command line (syntax findings are included).
pub fn check_parsed(parsed: &ParsedCommandLine, ctx: Option<Context>) -> Vec<Finding> {
    let mut out = parsed.findings.clone();
    let cmd = &parsed.command_line;
    rules::names(cmd, &mut out);
    values::values(cmd, &mut out);
    rules::relations(cmd, ctx, &mut out);
    context_rules::check(
        cmd,
        ctx,
        parsed.text_chars,
        parsed.program_span.clone(),
        &mut out,
    );
    out
}

/// Validate a command line built in code (e.g. from typed manifest structs). It is rendered
/// and re-parsed, so spans refer to `cmd.render()` and length limits apply to that text.
pub fn check_command_line(cmd: &CommandLine, ctx: Option<Context>) -> Vec<Finding> {
    check(&cmd.render(), ctx).1
}
