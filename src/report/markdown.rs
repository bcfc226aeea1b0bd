//! The drift report as markdown, for a pull-request comment or a CI job summary: a heading with
//! the project and counts, a table of drifted resources and a table of attribute changes.
//!
//! Every cell is escaped so that no value (pipes, newlines, markup) can break a table.

use std::fmt::Write as _;

use cmdeploy_engine::drift::{DriftKind, DriftReport};

use super::{describe, describe_acks, expected_actual};

/// Renders the report for project `project`.
pub fn render(report: &DriftReport, project: &str) -> String {
    let mut out = String::new();
    let drifted = report.unacknowledged().count();
    let acknowledged = report.entries.iter().filter(|e| e.acknowledged).count();
    let failed = report
        .entries
        .iter()
        .filter(|e| e.drift == DriftKind::ReadFailed)
        .count();
    let _ = writeln!(
        out,
        "## Drift report for {}: {drifted} drifted, {acknowledged} acknowledged, {failed} unreadable of {} resources\n",
        cell(project),
        report.checked
    );
    let verdict = match report.exit_code() {
        0 if report.entries.is_empty() => "**In sync.** Every resource matches what was applied.",
        0 => "**In sync** apart from acknowledged drift.",
        3 => {
            "**Some resources could not be read**: their state is unknown (never taken for absent)."
        }
        _ => "**Drift**: resources were changed outside cmdeploy or differ from the manifests.",
    };
    let _ = writeln!(out, "{verdict}\n");
    if !report.entries.is_empty() {
        out.push_str("| Resource | Kind | What happened | Status |\n|---|---|---|---|\n");
        for e in &report.entries {
            let mut what = describe(e.drift).to_string();
            if let Some(err) = &e.error {
                let _ = write!(what, ": {err}");
            }
            let status = if e.drift == DriftKind::ReadFailed {
                "unknown".to_string()
            } else if e.acks.is_empty() {
                "drift".to_string()
            } else if e.acknowledged {
                describe_acks(e)
            } else {
                format!("drift; {}", describe_acks(e))
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                cell(&e.address),
                cell(&e.kind),
                cell(&what),
                cell(&status)
            );
        }
        out.push('\n');
    }
    if report.entries.iter().any(|e| !e.changes.is_empty()) {
        out.push_str(
            "### Attribute changes\n\n| Resource | Attribute | Expected | Actual |\n|---|---|---|---|\n",
        );
        for e in &report.entries {
            for c in &e.changes {
                let (expected, actual) = expected_actual(c);
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    cell(&e.address),
                    cell(&c.name),
                    cell(&expected),
                    cell(&actual)
                );
            }
        }
        out.push('\n');
    }
    if !report.stale_acks.is_empty() {
        out.push_str("### Stale acknowledgements\n\nThese entries of `drift.ack.toml` match no drift any more; remove them:\n\n");
        for s in &report.stale_acks {
            let attr = s
                .attribute
                .as_ref()
                .map(|a| format!(" ({})", cell(a)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "* line {}: {}{attr}, until {}: {}",
                s.line,
                cell(&s.address),
                s.expires,
                cell(&s.reason)
            );
        }
        out.push('\n');
    }
    out
}

/// Escapes text for a table cell: markdown punctuation backslash-escaped, newlines as `<br>`.
pub fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() == Some(&'\n') => {}
            '\r' | '\n' => out.push_str("<br>"),
            '\\' | '|' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '~' | '&' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn cells_cannot_break_the_table() {
        assert_eq!(cell("a | b"), "a \\| b");
        assert_eq!(cell("one\r\ntwo\nthree"), "one<br>two<br>three");
        assert_eq!(cell("a\\|b"), "a\\\\\\|b");
        assert_eq!(cell("<script>"), "\\<script\\>");
        assert_eq!(cell("tab\there"), "tab here");
        assert_eq!(cell("10.1.0.0"), "10.1.0.0");
    }
}
