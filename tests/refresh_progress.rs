//! Refresh progress: a terminal sees per-connection progress while the estate is read; piped
//! output and machine-readable output carry no progress and no escape codes.

mod common;

use std::process::{Command, Stdio};

use common::Project;

/// Latency per lab Script, so the refresh lasts long enough to be drawn.
const LATENCY_MS: &str = "300";

/// Runs `cmdeploy -C <project> args` on a pseudo-terminal (`script` from util-linux) and
/// returns what the terminal received.
fn on_a_terminal(p: &Project, args: &str) -> String {
    let command = format!(
        "{} -C {} {args}",
        env!("CARGO_BIN_EXE_cmdeploy"),
        p.path().display()
    );
    let out = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("CMDEPLOY_LAB_LATENCY_MS", LATENCY_MS)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("script(1) from util-linux");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_terminal_sees_progress_per_connection_while_the_estate_is_read() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let screen = on_a_terminal(&p, "plan");
    assert!(screen.contains("Reading the estate"), "{screen:?}");
    assert!(screen.contains("resources"), "{screen:?}");
    assert!(screen.contains("cm01"), "a line per connection: {screen:?}");
    assert!(
        screen.contains("\x1b["),
        "drawn with escape codes: {screen:?}"
    );
    // It is cleared before the plan is printed.
    let plan_at = screen.find("Plan:").expect("the plan");
    assert!(
        !screen[plan_at..].contains("Reading the estate"),
        "{screen:?}"
    );
    // JSON on a terminal: no progress.
    let json = on_a_terminal(&p, "plan --json");
    assert!(!json.contains("Reading the estate"), "{json:?}");
    assert!(!json.contains("\x1b["), "{json:?}");
    let drift = on_a_terminal(&p, "drift --format json");
    assert!(!drift.contains("Reading the estate"), "{drift:?}");
}

#[test]
fn piped_output_has_no_progress_and_no_escape_codes() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    for args in [&["plan"][..], &["drift"], &["apply", "--auto-approve"]] {
        let r = p.run_env(args, &[("CMDEPLOY_LAB_LATENCY_MS", LATENCY_MS)]);
        assert!(!r.all().contains('\x1b'), "{args:?}: {}", r.all());
        assert!(
            !r.all().contains("Reading the estate"),
            "{args:?}: {}",
            r.all()
        );
        assert!(!r.all().contains('\r'), "{args:?}: {}", r.all());
    }
}
