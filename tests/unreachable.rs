//! Unreachable hosts: a connection that cannot be used is one error, naming where it goes and
//! the likely causes, with the resources behind it listed once under it (regression: a closed
//! port printed the same error once per resource in the plan body and again on stderr, and a
//! 401 gave no hint); and a WinRM service that comes up late is waited for within the
//! connection's retry budget.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::serve::{serve, switch_site_connections_to_winrm};
use common::Project;

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Replaces every `retries = 2` that `switch_site_connections_to_winrm` writes with a retry budget.
fn with_budget(p: &Project, seconds: u64) {
    let text = p.read("cmdeploy.toml");
    assert!(text.contains("retries = 2\n"));
    p.write(
        "cmdeploy.toml",
        &text.replace(
            "retries = 2\n",
            &format!("retry_budget_seconds = {seconds}\n"),
        ),
    );
}

#[test]
fn a_closed_port_gives_one_error_per_connection_with_the_causes() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let port = closed_port();
    switch_site_connections_to_winrm(&p, port, None, "lab-secrets/admin.txt");
    with_budget(&p, 1);
    let r = p.run(&["plan"]).code(1);
    let refused = |s: &str| s.matches("Connection refused").count();
    // One error per connection (cm01 and dc01), not one per resource behind them.
    assert_eq!(refused(&r.stderr), 2, "{}", r.stderr);
    assert_eq!(
        r.stderr.matches("connection cm01 is unreachable").count(),
        1,
        "{}",
        r.stderr
    );
    assert_eq!(
        r.stderr.matches("connection dc01 is unreachable").count(),
        1,
        "{}",
        r.stderr
    );
    for want in [
        &format!("cm01.contoso.com at 127.0.0.1:{port}, winrm over HTTP, ntlm as CONTOSO\\cmadmin")
            as &str,
        "likely causes:",
        "no HTTP listener",
        "winrm quickconfig",
        "firewall",
        "5985 for HTTP and 5986 for HTTPS",
    ] {
        assert!(r.stderr.contains(want), "missing {want:?}:\n{}", r.stderr);
    }
    assert!(!r.stderr.contains("boundary.hq_lan"), "{}", r.stderr);
    // The plan body lists the resources once, under their connection, without the error.
    assert_eq!(refused(&r.stdout), 0, "{}", r.stdout);
    assert_eq!(
        r.stdout.matches("boundary.hq_lan").count(),
        1,
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("connection cm01 is unreachable"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("could not be read\n"), "{}", r.stdout);
    // The JSON plan carries the error and causes once per connection, and each resource's note.
    let json = p.run(&["plan", "--json"]).code(1);
    let plan: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let groups = plan["unreachable"].as_array().unwrap();
    assert_eq!(groups.len(), 2, "{}", json.stdout);
    assert_eq!(groups[0]["connection"], "cm01");
    assert!(groups[0]["resources"]
        .as_array()
        .unwrap()
        .contains(&"boundary.hq_lan".into()));
    let hq = plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "boundary.hq_lan")
        .unwrap();
    assert_eq!(hq["actions"][0], "read-failed");
    assert_eq!(hq["notes"][0], "not read: connection cm01 is unreachable");
    // Drift, like apply, says it once per connection too (exit 3: reads failed).
    let drift = p.run(&["drift"]).code(3);
    assert_eq!(refused(&drift.stderr), 2, "{}", drift.stderr);
    assert_eq!(refused(&drift.stdout), 0, "{}", drift.stdout);
    let apply = p.run(&["apply", "--auto-approve"]).code(1);
    assert_eq!(refused(&apply.all()), 2, "{}", apply.all());
}

#[test]
fn a_refused_logon_names_the_auth_method_and_the_credentials() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let s = serve(&p, &[]);
    p.write("lab-secrets/wrong.txt", "not-the-password\n");
    switch_site_connections_to_winrm(&p, s.port, None, "lab-secrets/wrong.txt");
    let r = p.run(&["plan"]).code(1);
    for want in [
        "connection cm01 is unreachable",
        "authentication failed",
        "winrm get winrm/config/service/auth",
        "Negotiate = true",
        "user or password for CONTOSO\\cmadmin",
    ] {
        assert!(r.stderr.contains(want), "missing {want:?}:\n{}", r.stderr);
    }
    assert_eq!(
        r.stderr.matches("authentication failed").count(),
        2,
        "one per connection (cm01, dc01):\n{}",
        r.stderr
    );
    assert!(!r.stderr.contains("not-the-password"), "{}", r.stderr);
}

#[test]
fn a_service_that_comes_up_late_is_reached_within_the_budget() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let port = closed_port();
    switch_site_connections_to_winrm(&p, port, None, "lab-secrets/admin.txt");
    with_budget(&p, 40);
    let started = Instant::now();
    let plan = Command::new(assert_cmd::cargo::cargo_bin("cmdeploy"))
        .args(["-C", p.path().to_str().unwrap(), "plan", "-v"])
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    // The WinRM service starts on the port the plan is knocking on.
    let mut service = Command::new(assert_cmd::cargo::cargo_bin("cmdeploy"))
        .args(["-C", p.path().to_str().unwrap(), "lab", "serve"])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(service.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.contains(&port.to_string()), "{first}");
    let out = plan.wait_with_output().unwrap();
    let elapsed = started.elapsed();
    let _ = service.kill();
    let _ = service.wait();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("Plan:"), "{stdout}");
    assert!(stderr.contains("retrying"), "the plan waited: {stderr}");
    assert!(
        elapsed >= Duration::from_secs(3) && elapsed < Duration::from_secs(40),
        "{elapsed:?}"
    );
}
