//! The PostgreSQL state backend through the CLI: examples/contoso with `[state] backend =
//! "postgres"` against `CMDEPLOY_TEST_PG_URL` (tests/run.sh starts a server; these tests fail,
//! never skip, without one).

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{pg_url, Project, Run};

/// The password part of the test URL, which must never be printed.
fn password() -> Option<String> {
    common::url_password(&pg_url())
}

fn assert_no_secret(run: &Run) {
    if let Some(p) = password() {
        assert!(!run.all().contains(&p), "the URL's password was printed");
    }
}

fn slow_apply(p: &Project) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin("cmdeploy"))
        .args(["-C", p.path().to_str().unwrap()])
        .args(["apply", "--auto-approve", "--parallelism", "1"])
        .env("CMDEPLOY_LAB_LATENCY_MS", "120")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until `state lock` shows an apply holding the lock.
fn wait_for_holder(p: &Project) -> Run {
    let start = Instant::now();
    loop {
        let r = p.run(&["state", "lock"]).code(0);
        if r.stdout.contains("running `apply`") {
            return r;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no holder: {}",
            r.all()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn contoso_converges_with_postgres_state() {
    let p = Project::example_postgres("contoso");
    p.run(&["lab", "reset"]).code(0);
    let apply = p.run(&["apply", "--auto-approve"]).code(0);
    assert_no_secret(&apply);
    let plan = p.run(&["plan", "--detailed-exitcode"]).code(0);
    assert!(plan.stdout.contains("No changes"), "{}", plan.stdout);
    assert_eq!(p.run(&["state", "list"]).code(0).stdout.lines().count(), 25);
    assert!(
        !p.path().join(".cmdeploy/state.json").exists(),
        "no local state file"
    );
    let lock = p.run(&["state", "lock"]).code(0);
    assert!(lock.stdout.contains("is not locked"), "{}", lock.stdout);
    assert!(
        lock.stdout.contains("127.0.0.1"),
        "names host: {}",
        lock.stdout
    );
    assert_no_secret(&lock);
}

#[test]
fn a_second_apply_waits_then_fails_naming_the_holder() {
    let p = Project::example_postgres("contoso");
    p.run(&["lab", "reset"]).code(0);
    let mut first = slow_apply(&p);
    wait_for_holder(&p);
    let start = Instant::now();
    let second = p
        .run(&["apply", "--auto-approve", "--lock-timeout", "1"])
        .code(1);
    assert!(start.elapsed() >= Duration::from_secs(1), "it waited");
    assert!(
        second.stderr.contains("state is locked by") && second.stderr.contains("running `apply`"),
        "{}",
        second.stderr
    );
    assert_no_secret(&second);
    // SIGKILL: the lock dies with the holder's connection, and the next apply takes it.
    first.kill().unwrap();
    first.wait().unwrap();
    p.run(&["apply", "--auto-approve", "--lock-timeout", "10"])
        .code(0);
    p.run(&["plan", "--detailed-exitcode"]).code(0);
}

#[test]
fn state_lock_shows_the_holder_and_state_unlock_breaks_it() {
    let p = Project::example_postgres("contoso");
    p.run(&["lab", "reset"]).code(0);
    let first = slow_apply(&p);
    let shown = wait_for_holder(&p);
    assert!(
        shown.stdout.contains(&format!("pid {}", first.id())),
        "{}",
        shown.stdout
    );
    let unlock = p.run(&["state", "unlock"]).code(0);
    assert!(
        unlock.stdout.contains("broke the lock held by"),
        "{}",
        unlock.stdout
    );
    assert_no_secret(&unlock);
    // The holder's session is gone: it cannot write any more and stops with an error.
    let out = first.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("state could not be saved"), "{stderr}");
    let after = p.run(&["state", "lock"]).code(0);
    assert!(after.stdout.contains("is not locked"), "{}", after.stdout);
    p.run(&["apply", "--auto-approve"]).code(0);
    p.run(&["plan", "--detailed-exitcode"]).code(0);
}

#[test]
fn a_missing_url_is_named_not_printed() {
    let p = Project::example_postgres("contoso");
    let r = p.run_env(&["plan"], &[]).code(0);
    assert_no_secret(&r);
    let mut cmd = assert_cmd::Command::cargo_bin("cmdeploy").unwrap();
    let out = cmd
        .args(["-C", p.path().to_str().unwrap(), "plan"])
        .env_remove("CMDEPLOY_TEST_PG_URL")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("CMDEPLOY_TEST_PG_URL"), "{stderr}");
}

/// A rename in PostgreSQL state, by `state mv` and by a `[[moved]]` table: one transaction each,
/// and the next plan neither destroys nor creates.
#[test]
fn renames_move_postgres_state_without_recreating() {
    let p = Project::example_postgres("contoso");
    p.run(&["lab", "reset"]).code(0);
    p.run(&["apply", "--auto-approve"]).code(0);
    p.run(&["state", "mv", "boundary.hq_lan", "boundary.hq_net"])
        .code(0);
    p.edit("boundaries.toml", "[boundary.hq_lan]", "[boundary.hq_net]");
    p.edit(
        "boundaries.toml",
        "boundaries = [\"hq_lan\", \"hq_site\"]",
        "boundaries = [\"hq_net\", \"hq_site\"]",
    );
    let plan = p.run(&["plan", "--detailed-exitcode"]).code(0);
    assert!(plan.stdout.contains("No changes"), "{}", plan.stdout);
    p.edit(
        "boundaries.toml",
        "[boundary.hq_site]",
        "[boundary.head_office]",
    );
    p.edit(
        "boundaries.toml",
        "boundaries = [\"hq_net\", \"hq_site\"]",
        "boundaries = [\"hq_net\", \"head_office\"]",
    );
    p.write(
        "moved.toml",
        "[[moved]]\nfrom = \"boundary.hq_site\"\nto = \"boundary.head_office\"\n",
    );
    let apply = p.run(&["apply", "--auto-approve"]).code(0);
    assert!(
        apply.stdout.contains("Recorded 1 moved address(es)"),
        "{}",
        apply.stdout
    );
    let list = p.run(&["state", "list"]).code(0).stdout;
    assert!(
        list.contains("boundary.head_office") && !list.contains("boundary.hq_site"),
        "{list}"
    );
    p.run(&["plan", "--detailed-exitcode"]).code(0);
    p.run(&["drift"]).code(0);
}
