//! After apply, a recap per client host as Ansible prints one (ok, changed,
//! failed, unreachable, skipped) with totals, in text and in `apply --json`. A host that cannot be
//! reached is unreachable, never failed; a host whose install fails is failed.

mod common;

use common::serve::{serve, switch_to_winrm};
use common::Project;
use serde_json::Value;

/// contoso with kiosk02 off the network and ws10's ccmsetup service ending with return code 9
/// (prerequisite evaluation failure), the lab's injected faults.
fn faulty() -> Project {
    let p = Project::example("contoso");
    p.edit(
        "lab.toml",
        "fqdn = \"kiosk02\"\n",
        "fqdn = \"kiosk02\"\nreachable = false\n",
    );
    p.edit(
        "lab.toml",
        "fqdn = \"ws10.contoso.com\"\n",
        "fqdn = \"ws10.contoso.com\"\nccmsetup_return_code = 9\n",
    );
    p.run(&["lab", "reset"]).code(0);
    p
}

/// The recap's counts of `host` in an `apply --json` document, as
/// `[ok, changed, failed, unreachable, skipped]`.
fn counts(doc: &Value, host: &str) -> [u64; 5] {
    let hosts = doc["recap"]["hosts"].as_array().expect("recap.hosts");
    let h = hosts
        .iter()
        .find(|h| h["host"] == host)
        .unwrap_or_else(|| panic!("{host} not in the recap: {doc}"));
    ["ok", "changed", "failed", "unreachable", "skipped"].map(|k| h[k].as_u64().unwrap())
}

#[test]
fn the_recap_counts_each_client_host_and_an_unreachable_host_is_not_failed() {
    let p = faulty();
    let run = p.run(&["apply", "--auto-approve", "--json"]).code(1);
    let doc: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is one JSON document ({e}):\n{}", run.stdout));
    assert_eq!(doc["format_version"], "1.0");
    assert_eq!(doc["outcome"], "errors");
    assert_eq!(doc["exit_code"], 1);
    assert_eq!(counts(&doc, "kiosk02"), [0, 0, 0, 1, 0], "unreachable");
    assert_eq!(counts(&doc, "ws10"), [0, 0, 1, 0, 0], "failed install");
    for host in ["kiosk01", "ws11", "laptop01", "laptop02", "ref01", "ws01"] {
        assert_eq!(counts(&doc, host), [0, 1, 0, 0, 0], "{host} changed");
    }
    let totals = &doc["recap"]["totals"];
    assert_eq!(
        (
            &totals["changed"],
            &totals["failed"],
            &totals["unreachable"]
        ),
        (&Value::from(6), &Value::from(1), &Value::from(1)),
        "{doc}"
    );
    // Site-side objects are no client hosts.
    assert!(!run.stdout.contains("cm01"), "{}", run.stdout);
    // The people's output went to stderr, recap included.
    assert!(run.stderr.contains("HOST RECAP"), "{}", run.stderr);

    // Again, as text: what installed is ok now; the two faults stay what they were.
    let text = p.run(&["apply", "--auto-approve"]).code(1).stdout;
    let line = |host: &str| {
        text.lines()
            .find(|l| l.split(" : ").next().map(str::trim) == Some(host))
            .unwrap_or_else(|| panic!("no recap line for {host}:\n{text}"))
            .split(" : ")
            .nth(1)
            .unwrap()
            .to_string()
    };
    assert!(text.contains("HOST RECAP"), "{text}");
    assert_eq!(
        line("kiosk01"),
        "ok=1 changed=0 failed=0 unreachable=0 skipped=0"
    );
    assert_eq!(
        line("kiosk02"),
        "ok=0 changed=0 failed=0 unreachable=1 skipped=0"
    );
    assert_eq!(
        line("ws10"),
        "ok=0 changed=0 failed=1 unreachable=0 skipped=0"
    );
    assert_eq!(
        line("total"),
        "ok=6 changed=0 failed=1 unreachable=1 skipped=0"
    );
}

#[test]
fn a_refused_winrm_connection_is_unreachable() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let s = serve(&p, &[]);
    switch_to_winrm(&p, s.port, None, "lab-secrets/admin.txt");
    // Nothing listens on this port: the kiosks' connections are refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    p.edit(
        "clients.toml",
        "connection = { host = \"{{ host }}\", base = \"hosts\" }",
        &format!("connection = {{ host = \"{{{{ host }}}}\", base = \"hosts\", port = {closed} }}"),
    );
    let run = p.run(&["apply", "--auto-approve", "--json"]).code(1);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(counts(&doc, "kiosk01"), [0, 0, 0, 1, 0], "{}", run.stderr);
    assert_eq!(counts(&doc, "kiosk02"), [0, 0, 0, 1, 0]);
    assert_eq!(counts(&doc, "ws11"), [0, 1, 0, 0, 0]);
}
