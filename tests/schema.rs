//! The committed JSON Schema is generated from the Rust types; this fails when it is stale.

mod common;

#[test]
fn committed_schema_is_current() {
    let out = assert_cmd::Command::cargo_bin("cmdeploy")
        .unwrap()
        .arg("schema")
        .output()
        .unwrap();
    assert!(out.status.success());
    let generated = String::from_utf8(out.stdout).unwrap();
    let committed =
        std::fs::read_to_string(common::repo().join("schemas/cmdeploy.schema.json")).unwrap();
    assert!(
        generated == committed,
        "schemas/cmdeploy.schema.json is stale: run `cargo run -- schema > schemas/cmdeploy.schema.json`"
    );
    let v: serde_json::Value = serde_json::from_str(&generated).unwrap();
    for kind in [
        "site",
        "boundary",
        "boundary_group",
        "account",
        "client_push",
        "gpo",
        "imaging",
        "client_group",
    ] {
        assert!(
            v["properties"][kind].is_object(),
            "{kind} missing from the schema"
        );
    }
}

/// Output into a reader that stopped (`cmdeploy schema | head -1`) ends quietly with 141, not a
/// panic message.
#[test]
fn a_closed_stdout_ends_quietly() {
    use std::process::{Command, Stdio};
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("cmdeploy"))
        .arg("schema")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Closed before the child writes (it is still starting), and the schema (66 KB) is more than
    // a pipe holds anyway.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(141));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}
