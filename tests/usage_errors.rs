//! Usage errors exit 1 for every command, never clap's default 2: pipelines read 2 as "changes"
//! (`plan --detailed-exitcode`) or "drift". Help and version still exit 0.

mod common;

use common::Project;

/// Runs and asserts exit 1 with clap's message about `what` on stderr and nothing on stdout.
fn usage_error(p: &Project, args: &[&str], what: &str) {
    let run = p.run(args).code(1);
    assert!(
        run.stderr.contains(what),
        "{args:?}: stderr lacks {what:?}:\n{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "{args:?} printed:\n{}", run.stdout);
}

#[test]
fn a_mistyped_flag_exits_1_for_plan_apply_and_drift() {
    let p = Project::example("contoso");
    usage_error(
        &p,
        &["plan", "--detailed-exitcodes"],
        "--detailed-exitcodes",
    );
    usage_error(&p, &["apply", "--auto-aprove"], "--auto-aprove");
    usage_error(&p, &["drift", "--formt", "json"], "--formt");
    // The estate was not read and nothing was written.
    assert!(p.work_files().is_empty(), "{:?}", p.work_files());
}

#[test]
fn a_bad_value_a_missing_argument_or_an_unknown_command_exits_1() {
    let p = Project::example("contoso");
    usage_error(&p, &["drift", "--format", "yaml"], "yaml");
    usage_error(&p, &["plan", "--parallelism", "many"], "many");
    usage_error(&p, &["state", "show"], "<ADDRESS>");
    usage_error(&p, &["validte"], "validte");
    usage_error(&p, &["completions", "tcsh"], "tcsh");
    // No subcommand: clap shows the help, on stderr, as an error.
    let run = p.run(&[]).code(1);
    assert!(run.stderr.contains("Usage:"), "{}", run.stderr);
}

#[test]
fn help_and_version_exit_0_on_stdout() {
    let p = Project::example("contoso");
    for args in [
        &["--help"][..],
        &["plan", "--help"],
        &["drift", "-h"],
        &["help", "apply"],
    ] {
        let run = p.run(args).code(0);
        assert!(run.stdout.contains("Usage:"), "{args:?}:\n{}", run.stdout);
    }
    let run = p.run(&["--version"]).code(0);
    assert!(
        run.stdout
            .starts_with(&format!("cmdeploy {}", env!("CARGO_PKG_VERSION"))),
        "{}",
        run.stdout
    );
}
