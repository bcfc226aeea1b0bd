//! `cmdeploy lab generate` writes a synthetic estate that validates and converges.

mod common;

use assert_cmd::Command;

fn cmdeploy(args: &[&str]) -> common::Run {
    let out = Command::cargo_bin("cmdeploy")
        .unwrap()
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    common::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn a_generated_estate_validates_and_converges() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("estate");
    let d = out.to_str().unwrap();
    let gen = cmdeploy(&[
        "lab",
        "generate",
        "--boundaries",
        "12",
        "--groups",
        "3",
        "--hosts",
        "4",
        d,
    ])
    .code(0);
    assert!(gen.stdout.contains("21 resources"), "{}", gen.stdout);
    let valid = cmdeploy(&["-C", d, "validate"]).code(0);
    assert!(valid.stdout.contains("21 resources"), "{}", valid.stdout);
    cmdeploy(&["-C", d, "lab", "reset"]).code(0);
    let plan = cmdeploy(&["-C", d, "plan"]).code(0);
    assert!(
        plan.stdout
            .contains("Plan: 20 to add, 1 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
    cmdeploy(&["-C", d, "apply", "--auto-approve"]).code(0);
    cmdeploy(&["-C", d, "plan", "--detailed-exitcode"]).code(0);
    // Regenerating over a generated project is allowed; over another project it is not.
    cmdeploy(&["lab", "generate", "--hosts", "1", d]).code(0);
    let other = common::Project::example("contoso");
    let refused = cmdeploy(&["lab", "generate", other.path().to_str().unwrap()]).code(1);
    assert!(refused.stderr.contains("not empty"), "{}", refused.stderr);
}

#[test]
fn numbers_that_make_no_estate_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("x");
    let r = cmdeploy(&[
        "lab",
        "generate",
        "--boundaries",
        "5",
        "--groups",
        "0",
        d.to_str().unwrap(),
    ])
    .code(1);
    assert!(r.stderr.contains("--groups"), "{}", r.stderr);
}

/// A converged estate is the one apply leaves: its first apply writes nothing but the account's
/// password (a secret cannot be compared) and adopts every other object into state by its
/// natural key; the plan after it reads a full state and has nothing to do, as after a real
/// apply of the same manifests.
#[test]
fn a_converged_estate_is_adopted_with_one_write_and_then_plans_no_changes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("estate");
    let d = out.to_str().unwrap();
    let gen = cmdeploy(&[
        "lab",
        "generate",
        "--converged",
        "--boundaries",
        "12",
        "--groups",
        "3",
        "--hosts",
        "4",
        d,
    ])
    .code(0);
    assert!(
        gen.stdout.contains("the lab holds them all"),
        "{}",
        gen.stdout
    );
    cmdeploy(&["-C", d, "lab", "reset"]).code(0);
    let plan = cmdeploy(&["-C", d, "plan"]).code(0);
    assert!(
        plan.stdout
            .contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("account.naa"), "{}", plan.stdout);
    let applied = cmdeploy(&["-C", d, "apply", "--auto-approve"]).code(0);
    assert!(
        applied
            .stdout
            .contains("20 existing object(s) already match"),
        "{}",
        applied.stdout
    );
    let listed = cmdeploy(&["-C", d, "state", "list"]).code(0);
    assert_eq!(listed.stdout.lines().count(), 21, "{}", listed.stdout);
    let converged = cmdeploy(&["-C", d, "plan", "--detailed-exitcode"]).code(0);
    assert!(
        converged.stdout.contains("No changes"),
        "{}",
        converged.stdout
    );
}
