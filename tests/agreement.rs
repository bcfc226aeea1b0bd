//! Nothing is written to state unless the operator agreed: answering anything but "yes" at the
//! apply prompt, or a saved plan refused as stale, leave the state untouched, even when objects
//! that already match the manifest could be adopted (regression: both wrote serial 0 → 1).

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::Project;

/// A fresh contoso lab holds `boundary.hq_lan` exactly as declared: apply would adopt it.
fn contoso_with_an_adoptable_object() -> Project {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let plan = p.run(&["plan", "--json"]).code(0);
    assert!(
        plan.stdout.contains("\"boundary.hq_lan\""),
        "the seeded lab no longer has an adoptable object:\n{}",
        plan.stdout
    );
    p
}

fn state_written(p: &Project) -> bool {
    let dir = p.path().join(".cmdeploy");
    dir.join("state.json").exists() || dir.join("state.journal").exists()
}

#[test]
fn a_stale_saved_plan_writes_nothing() {
    let p = contoso_with_an_adoptable_object();
    let saved = p.path().join("saved.json");
    let saved = saved.to_str().unwrap();
    p.run(&["plan", "--out", saved]).code(0);
    // Any manifest edit makes the saved plan stale; this one leaves boundary.hq_lan adoptable.
    let text = p.read("boundaries.toml");
    p.write(
        "boundaries.toml",
        &format!("{text}\n# edited after the plan\n"),
    );
    let r = p.run(&["apply", saved]).code(1);
    assert!(r.stderr.contains("stale"), "{}", r.stderr);
    assert!(!state_written(&p), "a refused plan wrote state");
}

#[test]
fn answering_no_at_the_prompt_writes_nothing() {
    let p = contoso_with_an_adoptable_object();
    // The prompt needs a terminal: `script` gives apply a pseudo-terminal fed from our stdin.
    let command = format!(
        "{} -C {} apply",
        env!("CARGO_BIN_EXE_cmdeploy"),
        p.path().display()
    );
    let mut child = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script(1) from util-linux");
    child.stdin.take().unwrap().write_all(b"no\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Apply cancelled."), "{text}");
    assert!(!state_written(&p), "a cancelled apply wrote state");
}
