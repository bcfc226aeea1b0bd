//! Logs: -v/-vv, CMDEPLOY_LOG and --log-file, one event per Script run with its connection,
//! cmdlets, duration and result, winrm-rs's events through the same subscriber — and never a
//! secret, in clear or in base64, even at trace level where winrm-rs logs its SOAP bodies.

mod common;

use base64::Engine;
use common::serve::{serve, switch_to_winrm};
use common::Project;

/// The base64 text of `secret` wherever it starts in a longer base64 stream (at each of the
/// three byte alignments, without the characters it shares with its neighbours).
fn base64_forms(secret: &str) -> Vec<String> {
    (0..3)
        .map(|pad| {
            let mut bytes = vec![b'x'; pad];
            bytes.extend(secret.as_bytes());
            let encoded = base64::engine::general_purpose::STANDARD.encode(&bytes);
            let skip = (pad * 4).div_ceil(3);
            encoded[skip..encoded.len() - 4].to_string()
        })
        .collect()
}

fn assert_secret_free(what: &str, text: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(!text.contains(secret), "{what} holds a password");
        for form in base64_forms(secret) {
            assert!(
                !text.contains(&form),
                "{what} holds a password in base64 ({form})"
            );
        }
    }
}

#[test]
fn an_apply_over_winrm_logs_each_script_and_never_a_password() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let s = serve(&p, &[]);
    switch_to_winrm(&p, s.port, None, "lab-secrets/admin.txt");
    let log = p.path().join("cmdeploy.log");
    let log_arg = log.to_str().unwrap();
    let admin = p.read("lab-secrets/admin.txt").trim().to_string();
    let push = p.read("lab-secrets/push-account.txt").trim().to_string();
    // The apply creates the push account: its password travels in a write Script's payload.
    let r = p
        .run(&["apply", "--auto-approve", "-vv", "--log-file", log_arg])
        .code(0);
    let text = std::fs::read_to_string(&log).unwrap();
    assert_secret_free("the -vv log", &text, &[&admin, &push]);
    assert_secret_free("the output", &r.all(), &[&admin, &push]);
    // Each Script: its connection, transport, cmdlets, duration and result; plain text.
    let account_write = text
        .lines()
        .find(|l| l.contains("script run") && l.contains("New-CMAccount"))
        .unwrap_or_else(|| panic!("no Script creating the account in the log:\n{text}"));
    for want in [
        " INFO ",
        "cmdeploy::script",
        "connection=\"cm01\"",
        "host=cm01.contoso.com",
        "transport=\"winrm\"",
        "access=\"write\"",
        "duration_ms=",
        "result=ok",
    ] {
        assert!(
            account_write.contains(want),
            "missing {want:?}: {account_write}"
        );
    }
    assert!(!text.contains('\x1b'), "colour in the log file");
    // winrm-rs's own events come through the same subscriber at debug.
    assert!(
        text.contains("winrm_rs"),
        "no winrm-rs event at -vv:\n{text}"
    );
    // stderr keeps warnings only while logs go to the file.
    assert!(!r.stderr.contains(" INFO "), "{}", r.stderr);
    // At trace, winrm-rs logs each SOAP body (the Script's stdin, in base64): those are dropped.
    // A new password makes the next apply send it again.
    p.write("lab-secrets/push-account.txt", "Another-Push-Passw0rd!\n");
    let trace = p.path().join("trace.log");
    p.run_env(
        &[
            "apply",
            "--auto-approve",
            "--log-file",
            trace.to_str().unwrap(),
        ],
        &[("CMDEPLOY_LOG", "trace")],
    )
    .code(0);
    let text = std::fs::read_to_string(&trace).unwrap();
    assert!(text.contains("TRACE"), "nothing at trace:\n{text}");
    assert!(text.contains("Set-CMAccount"), "{text}");
    assert_secret_free(
        "the trace log",
        &text,
        &[&admin, &push, "Another-Push-Passw0rd!"],
    );
    // The log file is appended to.
    let before = std::fs::metadata(&log).unwrap().len();
    p.run(&["plan", "-v", "--log-file", log_arg]).code(0);
    assert!(std::fs::metadata(&log).unwrap().len() > before);
}

#[test]
fn by_default_only_warnings_reach_stderr_and_v_shows_each_script() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let quiet = p.run(&["plan"]).code(0);
    assert_eq!(quiet.stderr, "", "{}", quiet.stderr);
    let v = p.run(&["plan", "-v"]).code(0);
    let scripts = v
        .stderr
        .lines()
        .filter(|l| l.contains("script run"))
        .count();
    assert!(scripts >= 5, "{}", v.stderr);
    assert!(v.stderr.contains("transport=\"lab\""), "{}", v.stderr);
    assert_eq!(quiet.stdout, v.stdout, "logs never go to stdout");
    let env = p
        .run_env(&["plan"], &[("CMDEPLOY_LOG", "cmdeploy::script=info")])
        .code(0);
    assert_eq!(
        env.stderr
            .lines()
            .filter(|l| l.contains("script run"))
            .count(),
        scripts
    );
}

#[test]
fn an_invalid_log_filter_is_a_clear_error() {
    let p = Project::example("contoso");
    let r = p
        .run_env(&["validate"], &[("CMDEPLOY_LOG", "cmdeploy=loud")])
        .code(1);
    assert!(
        r.stderr.contains("CMDEPLOY_LOG=cmdeploy=loud"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("not a log filter"), "{}", r.stderr);
    let r = p
        .run(&["validate", "--log-file", "/nonexistent-dir/x.log"])
        .code(1);
    assert!(
        r.stderr.contains("cannot open the log file"),
        "{}",
        r.stderr
    );
}
