//! Interrupted applies lose nothing: after SIGKILL or Ctrl-C partway, state parses and the next
//! plan and apply converge without duplicate objects.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::Project;
use serde_json::Value;

/// Entries in state as cmdeploy loads it (`state.json` plus the journal apply appends to).
fn state_entries(p: &Project) -> usize {
    let out = p.run(&["state", "list"]);
    if out.code != 0 {
        return 0;
    }
    out.stdout.lines().filter(|l| !l.trim().is_empty()).count()
}

fn slow_apply(p: &Project) -> std::process::Child {
    Command::new(assert_cmd::cargo::cargo_bin("cmdeploy"))
        .args([
            "-C",
            p.path().to_str().unwrap(),
            "apply",
            "--auto-approve",
            "--parallelism",
            "1",
        ])
        .env("CMDEPLOY_LAB_LATENCY_MS", "120")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn wait_for_entries(p: &Project, n: usize) {
    let start = Instant::now();
    while state_entries(p) < n {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "apply made no progress"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn assert_converges_without_duplicates(p: &Project) {
    p.run(&["state", "list"]).code(0);
    p.run(&["apply", "--auto-approve"]).code(0);
    p.run(&["plan", "--detailed-exitcode"]).code(0);
    let estate: Value =
        serde_json::from_str(&p.run(&["lab", "show", "--json"]).code(0).stdout).unwrap();
    let names = |list: &str, field: &str| -> Vec<String> {
        estate[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x[field].to_string().to_lowercase())
            .collect()
    };
    for (list, field) in [
        ("boundary_group", "name"),
        ("boundary", "value"),
        ("gpo", "name"),
    ] {
        let mut v = names(list, field);
        let n = v.len();
        v.sort();
        v.dedup();
        assert_eq!(v.len(), n, "duplicate {list} objects: {v:?}");
    }
    let accounts = estate["site"][0]["account"].as_array().unwrap().len();
    assert_eq!(accounts, 2, "push and network access accounts, once each");
    // HQ, Branch 1, AD Branch Offices and the site's Default-Site-Boundary-Group<ABC>.
    assert_eq!(estate["boundary_group"].as_array().unwrap().len(), 4);
}

#[test]
fn sigkill_partway_through_apply_loses_nothing() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let mut child = slow_apply(&p);
    wait_for_entries(&p, 5);
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(state_entries(&p) < 20, "the kill came partway");
    assert_converges_without_duplicates(&p);
}

#[test]
fn ctrl_c_finishes_in_flight_work_saves_and_exits_130() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let child = slow_apply(&p);
    wait_for_entries(&p, 4);
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("Interrupted:"), "{stderr}");
    assert_converges_without_duplicates(&p);
}

#[test]
fn a_second_apply_waits_for_the_lock_then_names_the_holder() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let mut child = slow_apply(&p);
    wait_for_entries(&p, 1);
    let second = p
        .run(&["apply", "--auto-approve", "--lock-timeout", "1"])
        .code(1);
    assert!(
        second.stderr.contains("state is locked by") && second.stderr.contains("running `apply`"),
        "{}",
        second.stderr
    );
    child.kill().unwrap();
    child.wait().unwrap();
    // The lock died with its holder: the next apply takes it.
    p.run(&["apply", "--auto-approve"]).code(0);
}
