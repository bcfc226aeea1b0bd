//! The drift report as JUnit XML, for the test tabs of CI systems: one test suite, one test case
//! per checked resource (name = address, classname = kind). Drift is a `<failure type="drift">`
//! listing the attribute changes, a read failure an `<error type="read-failed">`, acknowledged
//! drift `<skipped>` with the details in the test case's `<system-out>`; stale acknowledgements
//! go to the suite's `<system-err>`.
//!
//! Written with quick-junit, which escapes attribute values and text and drops what XML 1.0
//! cannot carry (most control characters, ANSI escapes).

use std::collections::BTreeMap;

use cmdeploy_engine::drift::{DriftEntry, DriftKind, DriftReport};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::{describe, describe_acks, expected_actual};

/// Renders the report for project `project`.
pub fn render(report: &DriftReport, project: &str) -> String {
    let mut suite = TestSuite::new(format!("drift: {project}"));
    let by_address: BTreeMap<&str, &DriftEntry> = report
        .entries
        .iter()
        .map(|e| (e.address.as_str(), e))
        .collect();
    for r in &report.resources {
        let mut case = match by_address.get(r.address.as_str()) {
            None => TestCase::new(r.address.as_str(), TestCaseStatus::success()),
            Some(e) => outcome(e),
        };
        case.set_classname(r.kind.as_str());
        suite.add_test_case(case);
    }
    if !report.stale_acks.is_empty() {
        let text: Vec<String> = report
            .stale_acks
            .iter()
            .map(|s| {
                let attr = s
                    .attribute
                    .as_ref()
                    .map(|a| format!(" ({a})"))
                    .unwrap_or_default();
                format!(
                    "warning: stale acknowledgement at drift.ack.toml:{}: {}{attr} matches no drift; remove it",
                    s.line, s.address
                )
            })
            .collect();
        suite.set_system_err(text.join("\n"));
    }
    let mut junit = Report::new("cmdeploy drift");
    junit.add_test_suite(suite);
    // Serializing to memory fails only on a writer error, which a String has not.
    let mut out = junit.to_string().unwrap_or_default();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// The test case of a resource with drift, acknowledged drift or a read failure.
fn outcome(e: &DriftEntry) -> TestCase {
    let what = format!("{} {}", e.address, describe(e.drift));
    if e.drift == DriftKind::ReadFailed {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status
            .set_message(what)
            .set_type("read-failed")
            .set_description(e.error.clone().unwrap_or_default());
        return TestCase::new(e.address.as_str(), status);
    }
    let mut lines: Vec<String> = e
        .changes
        .iter()
        .map(|c| {
            let (expected, actual) = expected_actual(c);
            format!("{}: expected {expected}, actual {actual}", c.name)
        })
        .collect();
    if !e.acks.is_empty() {
        lines.push(describe_acks(e));
    }
    let body = lines.join("\n");
    if e.acknowledged {
        let mut status = TestCaseStatus::skipped();
        status.set_message(format!("{what}; {}", describe_acks(e)));
        let mut case = TestCase::new(e.address.as_str(), status);
        // <skipped> carries no text in every schema; the details go to system-out.
        if !body.is_empty() {
            case.set_system_out(body);
        }
        return case;
    }
    let message = match e.changes.len() {
        0 => what,
        1 => format!("{what}: 1 attribute"),
        n => format!("{what}: {n} attributes"),
    };
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
    status.set_message(message).set_type("drift");
    if !body.is_empty() {
        status.set_description(body);
    }
    TestCase::new(e.address.as_str(), status)
}

#[cfg(test)]
mod tests {
    use cmdeploy_engine::drift::{CheckedResource, DriftEntry, DriftKind, DriftReport};

    use super::render;

    /// Text with characters XML 1.0 cannot carry (control characters, ANSI escapes) still gives
    /// a well-formed document.
    #[test]
    fn control_characters_do_not_break_the_document() {
        let address = "boundary.b\u{1}".to_string();
        let report = DriftReport {
            format_version: "1.0".into(),
            checked: 1,
            entries: vec![DriftEntry {
                address: address.clone(),
                kind: "boundary".into(),
                drift: DriftKind::ReadFailed,
                changes: Vec::new(),
                error: Some("bad \u{1b}[31mred\u{1b}[0m <&> \u{7}".into()),
                acks: Vec::new(),
                acknowledged: false,
            }],
            resources: vec![CheckedResource {
                address,
                kind: "boundary".into(),
            }],
            stale_acks: Vec::new(),
            unreachable: Vec::new(),
        };
        let xml = render(&report, "p");
        assert!(xml.contains("bad red &lt;&amp;&gt;"), "{xml}");
        let mut reader = quick_xml::Reader::from_str(&xml);
        loop {
            match reader.read_event() {
                Ok(quick_xml::events::Event::Eof) => break,
                Ok(_) => {}
                Err(e) => panic!("malformed XML ({e}):\n{xml}"),
            }
        }
    }
}
