//! The drift report as JUnit XML, for the test tabs of CI systems: one test suite, one test case
//! per checked resource (name = address, classname = kind). Drift is a `<failure type="drift">`
//! listing the attribute changes, a read failure an `<error>`, acknowledged drift `<skipped>`.
//!
//! Written with quick-xml, which escapes attribute values and text; characters XML 1.0 cannot
//! carry at all (most control characters) are replaced first.

use std::collections::BTreeMap;
use std::io;

use cmdeploy_engine::drift::{DriftEntry, DriftKind, DriftReport};
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use super::{describe, describe_acks, expected_actual};

/// Renders the report for project `project`.
pub fn render(report: &DriftReport, project: &str) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    // Writing to a Vec cannot fail; an error would only lose output, never panic.
    let _ = write(&mut w, report, project);
    let mut out = String::from_utf8_lossy(&w.into_inner()).into_owned();
    out.push('\n');
    out
}

struct Counts {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
}

fn counts(report: &DriftReport) -> Counts {
    let errors = report
        .entries
        .iter()
        .filter(|e| e.drift == DriftKind::ReadFailed)
        .count();
    Counts {
        tests: report.resources.len(),
        failures: report.unacknowledged().count(),
        errors,
        skipped: report.entries.iter().filter(|e| e.acknowledged).count(),
    }
}

fn start<'a>(name: &'a str, attrs: &[(&'a str, String)]) -> BytesStart<'a> {
    let mut e = BytesStart::new(name);
    for (k, v) in attrs {
        e.push_attribute((*k, xml_safe(v).as_str()));
    }
    e
}

fn count_attrs(name: &str, c: &Counts) -> Vec<(&'static str, String)> {
    vec![
        ("name", name.to_string()),
        ("tests", c.tests.to_string()),
        ("failures", c.failures.to_string()),
        ("errors", c.errors.to_string()),
        ("skipped", c.skipped.to_string()),
    ]
}

fn write(w: &mut Writer<Vec<u8>>, report: &DriftReport, project: &str) -> io::Result<()> {
    let c = counts(report);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.write_event(Event::Start(start(
        "testsuites",
        &count_attrs("cmdeploy drift", &c),
    )))?;
    w.write_event(Event::Start(start(
        "testsuite",
        &count_attrs(&format!("drift: {project}"), &c),
    )))?;
    let by_address: BTreeMap<&str, &DriftEntry> = report
        .entries
        .iter()
        .map(|e| (e.address.as_str(), e))
        .collect();
    for r in &report.resources {
        let attrs = [("name", r.address.clone()), ("classname", r.kind.clone())];
        match by_address.get(r.address.as_str()) {
            None => w.write_event(Event::Empty(start("testcase", &attrs)))?,
            Some(e) => {
                w.write_event(Event::Start(start("testcase", &attrs)))?;
                outcome(w, e)?;
                w.write_event(Event::End(BytesEnd::new("testcase")))?;
            }
        }
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
        text_element(w, start("system-err", &[]), &text.join("\n"))?;
    }
    w.write_event(Event::End(BytesEnd::new("testsuite")))?;
    w.write_event(Event::End(BytesEnd::new("testsuites")))?;
    Ok(())
}

fn outcome(w: &mut Writer<Vec<u8>>, e: &DriftEntry) -> io::Result<()> {
    let what = format!("{} {}", e.address, describe(e.drift));
    if e.drift == DriftKind::ReadFailed {
        let body = e.error.clone().unwrap_or_default();
        let el = start(
            "error",
            &[("message", what), ("type", "read-failed".into())],
        );
        return text_element(w, el, &body);
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
        let message = format!("{what}; {}", describe_acks(e));
        let el = start("skipped", &[("message", message)]);
        if body.is_empty() {
            return w.write_event(Event::Empty(el));
        }
        // <skipped> carries no text in every schema; the details go to system-out.
        w.write_event(Event::Empty(el))?;
        return text_element(w, start("system-out", &[]), &body);
    }
    let message = match e.changes.len() {
        0 => what,
        1 => format!("{what}: 1 attribute"),
        n => format!("{what}: {n} attributes"),
    };
    let el = start("failure", &[("message", message), ("type", "drift".into())]);
    text_element(w, el, &body)
}

fn text_element(w: &mut Writer<Vec<u8>>, el: BytesStart<'_>, text: &str) -> io::Result<()> {
    let name = String::from_utf8_lossy(el.name().as_ref()).into_owned();
    if text.is_empty() {
        return w.write_event(Event::Empty(el));
    }
    w.write_event(Event::Start(el))?;
    w.write_event(Event::Text(BytesText::new(&xml_safe(text))))?;
    w.write_event(Event::End(BytesEnd::new(name)))
}

/// Replaces characters that XML 1.0 cannot represent (even escaped) with U+FFFD.
pub fn xml_safe(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            c if (c as u32) < 0x20 => '\u{FFFD}',
            '\u{FFFE}' | '\u{FFFF}' => '\u{FFFD}',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::xml_safe;

    #[test]
    fn control_characters_are_replaced() {
        assert_eq!(xml_safe("a\u{1}b\tc\n"), "a\u{FFFD}b\tc\n");
    }
}
