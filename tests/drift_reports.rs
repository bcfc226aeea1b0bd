//! Drift reports for CI against the lab: markdown and JUnit (by snapshot; JUnit also parsed as
//! XML), read failures, and acknowledged drift from `drift.ack.toml`.

mod common;

use common::Project;
use quick_xml::events::Event;
use quick_xml::Reader;
use serde_json::Value;

/// contoso applied, then two console changes behind cmdeploy's back (one with a pipe).
fn drifted() -> Project {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    p.run(&["apply", "--auto-approve"]).code(0);
    for statement in [
        "Set-CMClientPushInstallation -SiteCode ABC -EnableAutomaticClientPushInstallation $false",
        "Set-CMBoundaryGroup -Name 'HQ Clients' -Description 'changed | by hand'",
    ] {
        p.run(&["lab", "console", "--connection", "cm01", statement])
            .code(0);
    }
    p
}

/// A test case of a JUnit document: name, classname, and the child element with its `type`.
#[derive(Debug, PartialEq)]
struct Case {
    name: String,
    classname: String,
    outcome: Option<(String, Option<String>)>,
}

fn attr(e: &quick_xml::events::BytesStart<'_>, name: &str) -> Option<String> {
    e.try_get_attribute(name)
        .expect("well-formed attribute")
        .map(|a| {
            a.normalized_value(quick_xml::XmlVersion::Explicit1_0)
                .expect("escaped value")
                .into_owned()
        })
}

/// Parses JUnit XML strictly; panics (failing the test) on malformed XML.
fn parse_junit(xml: &str) -> (usize, Vec<Case>) {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut suites = 0;
    let mut cases: Vec<Case> = Vec::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                b"testsuite" => suites += 1,
                b"testcase" => cases.push(Case {
                    name: attr(&e, "name").unwrap(),
                    classname: attr(&e, "classname").unwrap(),
                    outcome: None,
                }),
                b"failure" | b"error" | b"skipped" => {
                    let tag = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                    cases.last_mut().expect("inside a testcase").outcome =
                        Some((tag, attr(&e, "type")));
                }
                _ => {}
            },
            _ => {}
        }
    }
    (suites, cases)
}

#[test]
fn markdown_report_escapes_values_and_lists_attribute_changes() {
    let p = drifted();
    let md = p.run(&["drift", "--format", "markdown"]).code(2);
    assert!(
        md.stdout.contains("changed \\| by hand"),
        "pipe escaped: {}",
        md.stdout
    );
    insta::assert_snapshot!("drift_markdown", md.stdout);
}

#[test]
fn junit_report_has_one_case_per_resource_and_parses() {
    let p = drifted();
    let xml = p.run(&["drift", "--format", "junit"]).code(2);
    insta::assert_snapshot!("drift_junit", xml.stdout);
    let (suites, cases) = parse_junit(&xml.stdout);
    assert_eq!(suites, 1);
    let json = p.run(&["drift", "--format", "json"]).code(2);
    let v: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(cases.len(), v["checked"].as_u64().unwrap() as usize);
    assert_eq!(
        v["resources"].as_array().unwrap().len(),
        cases.len(),
        "the JSON report lists every checked resource"
    );
    let failed: Vec<&Case> = cases.iter().filter(|c| c.outcome.is_some()).collect();
    assert_eq!(failed.len(), 2, "{cases:?}");
    assert_eq!(failed[0].name, "boundary_group.hq");
    assert_eq!(failed[0].classname, "boundary_group");
    assert_eq!(
        failed[1].outcome,
        Some(("failure".into(), Some("drift".into())))
    );
    assert!(cases
        .iter()
        .any(|c| c.name == "client_group.roaming[\"laptop01\"]" && c.outcome.is_none()));
}

#[test]
fn read_failures_are_junit_errors_and_exit_3() {
    let p = drifted();
    p.edit(
        "cmdeploy.toml",
        "host = \"dc01.contoso.com\"",
        "host = \"nosuch.contoso.com\"",
    );
    let xml = p.run(&["drift", "--format", "junit"]).code(3);
    let (_, cases) = parse_junit(&xml.stdout);
    let gpo = cases
        .iter()
        .find(|c| c.name == "gpo.client_settings")
        .unwrap();
    assert_eq!(
        gpo.outcome,
        Some(("error".into(), Some("read-failed".into())))
    );
    let md = p.run(&["drift", "--format", "markdown"]).code(3);
    assert!(md.stdout.contains("could not be read"), "{}", md.stdout);
}

#[test]
fn acknowledged_drift_is_reported_and_exits_0_until_it_expires() {
    let p = drifted();
    // Far-future and long-past dates: the CLI uses the real date.
    p.write(
        "drift.ack.toml",
        r#"# Known drift.
[[ack]]
address = "boundary_group.hq"
attribute = "description"
reason = "helpdesk | ticket 4711"
expires = 2999-12-31

[[ack]]
address = "client_push.ABC"
reason = "push paused during the migration"
expires = 2000-01-01

[[ack]]
address = "boundary.hq_lan"
reason = "no longer drifts"
expires = 2999-12-31
"#,
    );
    p.run(&["validate"]).code(0);
    let md = p.run(&["drift", "--format", "markdown"]).code(2);
    insta::assert_snapshot!("drift_markdown_acknowledged", md.stdout);
    assert!(
        md.stderr.contains("drift.ack.toml:13") && md.stderr.contains("boundary.hq_lan"),
        "stale ack warned: {}",
        md.stderr
    );
    let json = p.run(&["drift", "--format", "json"]).code(2);
    let v: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["entries"][0]["acknowledged"], true);
    assert_eq!(v["entries"][1]["acks"][0]["status"], "expired");
    assert_eq!(v["stale_acks"][0]["address"], "boundary.hq_lan");

    // Renewed: everything that drifts is acknowledged, the run passes and still reports it.
    p.edit(
        "drift.ack.toml",
        "expires = 2000-01-01",
        "expires = 2999-01-01",
    );
    let text = p.run(&["drift"]).code(0);
    assert!(
        text.stdout
            .contains("client_push.ABC changed outside cmdeploy")
            && text.stdout.contains("acknowledged until 2999-01-01"),
        "{}",
        text.stdout
    );
    let xml = p.run(&["drift", "--format", "junit"]).code(0);
    let (_, cases) = parse_junit(&xml.stdout);
    assert_eq!(
        cases.iter().filter(|c| c.outcome.is_some()).count(),
        2,
        "acknowledged drift is skipped, not hidden"
    );
    assert!(cases
        .iter()
        .filter_map(|c| c.outcome.as_ref())
        .all(|(tag, _)| tag == "skipped"));
}

#[test]
fn a_malformed_ack_file_is_a_diagnostic_with_its_line() {
    let p = drifted();
    p.write(
        "drift.ack.toml",
        "[[ack]]\naddress = \"boundary_group.hq\"\nreason = \"r\"\nexpires = \"soon\"\n",
    );
    let out = p.run(&["drift"]).code(1);
    assert!(
        out.stderr.contains("drift.ack.toml:4"),
        "file and line: {}",
        out.stderr
    );
    assert!(out.stderr.contains("expires"), "{}", out.stderr);
}

/// The text report's arrows always read cmdeploy's side -> the estate, and say so on each line:
/// `last applied` for a change behind cmdeploy's back, `manifest` for a change not applied yet.
/// (A plan's arrows read the other way, estate -> manifest.)
#[test]
fn text_arrows_are_labelled_cmdeploy_side_to_estate() {
    let p = drifted();
    // A manifest edit not applied yet, on another resource.
    p.edit(
        "boundaries.toml",
        "description = \"Branch office 1\"",
        "description = \"Branch office one\"",
    );
    let text = p.run(&["drift"]).code(2).stdout;
    for line in [
        "client_push.ABC changed outside cmdeploy",
        "    automatic: true (last applied) -> false (estate)",
        "    description: \"Headquarters: site assignment and content\" (last applied) -> \"changed | by hand\" (estate)",
        "boundary_group.branch differs from the manifests (not applied yet)",
        "    description: \"Branch office one\" (manifest) -> \"Branch office 1\" (estate)",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "no line {line:?} in\n{text}"
        );
    }
    // The JSON and markdown reports read the same way: before/expected is cmdeploy's side.
    let json: Value =
        serde_json::from_str(&p.run(&["drift", "--format", "json"]).code(2).stdout).unwrap();
    let branch = json["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["address"] == "boundary_group.branch")
        .expect("boundary_group.branch drifted");
    assert_eq!(
        branch["changes"][0]["before"], "Branch office one",
        "{branch}"
    );
    assert_eq!(branch["changes"][0]["after"], "Branch office 1", "{branch}");
    let md = p.run(&["drift", "--format", "markdown"]).code(2).stdout;
    assert!(
        md.contains(
            "| boundary\\_group.branch | description | Branch office one | Branch office 1 |"
        ),
        "{md}"
    );
}

/// One `drift` run reads the estate once and writes every report asked for
/// (JUnit and markdown files beside the text or the JSON on standard output), each the same as
/// its `--format` alone, with one exit code.
#[test]
fn one_drift_run_writes_every_report_from_one_refresh() {
    let p = drifted();
    let scripts = |p: &Project| -> u64 {
        let v: Value =
            serde_json::from_str(&p.run(&["lab", "show", "--json"]).code(0).stdout).unwrap();
        v["scripts_run"].as_u64().expect("the lab counts Scripts")
    };
    let before = scripts(&p);
    let text = p.run(&["drift"]).code(2);
    let per_refresh = scripts(&p) - before;
    assert!(per_refresh > 0);
    // Paths are the caller's (relative ones to the working directory, as `plan --out`); a
    // missing directory is created.
    let at = |rel: &str| p.path().join(rel).to_string_lossy().into_owned();
    let files = [
        "--junit",
        &at("out/drift-junit.xml"),
        "--markdown",
        &at("drift.md"),
    ];
    let before = scripts(&p);
    let all = p.run(&[&["drift"], &files[..]].concat()).code(2);
    assert_eq!(
        scripts(&p) - before,
        per_refresh,
        "two reports, one refresh"
    );
    assert_eq!(all.stdout, text.stdout, "the text report stays on stdout");
    for (file, format) in [("out/drift-junit.xml", "junit"), ("drift.md", "markdown")] {
        let alone = p.run(&["drift", "--format", format]).code(2);
        assert_eq!(p.read(file), alone.stdout, "{file} as --format {format}");
    }
    // --json puts the JSON report on stdout instead of the text, the files as before.
    let before = scripts(&p);
    let json = p.run(&[&["drift", "--json"], &files[..]].concat()).code(2);
    assert_eq!(scripts(&p) - before, per_refresh);
    let alone = p.run(&["drift", "--format", "json"]).code(2);
    assert_eq!(json.stdout, alone.stdout);
    let v: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["entries"].as_array().unwrap().len(), 2);
    p.run(&["drift", "--json", "--format", "text"]).code(1);
}

/// The calls the lab ran for Scripts, from line `from` of its audit log on.
fn script_calls(p: &Project, from: usize) -> Vec<String> {
    p.read(".cmdeploy/lab/audit.jsonl")
        .lines()
        .skip(from)
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["source"] == "script")
        .map(|v| v["cmdlet"].as_str().unwrap().to_string())
        .collect()
}

/// plan and drift never write: every call they send is a read in the cmdlet table.
#[test]
fn plan_and_drift_call_only_cmdlets_the_table_marks_as_reads() {
    use cmdeploy_providers::powershell::cmdlets::{self, Access};
    let p = drifted();
    let from = p.read(".cmdeploy/lab/audit.jsonl").lines().count();
    p.run(&["plan", "--detailed-exitcode"]).code(2);
    let drift = p.run(&["drift", "--format", "json"]);
    assert_eq!(drift.code, 2, "{}", drift.all());
    let calls = script_calls(&p, from);
    assert!(
        calls.iter().any(|c| c == "Get-CMBoundaryGroup"),
        "{calls:?}"
    );
    let writes: Vec<&String> = calls
        .iter()
        .filter(|c| cmdlets::find(c).is_none_or(|e| e.access != Access::Read))
        .collect();
    assert!(writes.is_empty(), "plan or drift sent {writes:?}");
    // The apply before them did write, so the audit tells reads from writes.
    let applied = script_calls(&p, 0);
    assert!(
        applied
            .iter()
            .any(|c| cmdlets::find(c).is_some_and(|e| e.access == Access::Write)),
        "{applied:?}"
    );
}
