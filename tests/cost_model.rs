//! The lab's cost model: a Script pays its startup and each cmdlet it ran, in the in-process lab
//! (environment) and over `lab serve` (flags). Timings are lower bounds only.

mod common;

use std::time::{Duration, Instant};

use common::serve::{serve, switch_to_winrm};
use common::Project;

/// Scripts the lab ran since its reset.
fn scripts(p: &Project) -> u64 {
    let show = p.run(&["lab", "show"]).code(0);
    show.stdout
        .lines()
        .find_map(|l| l.strip_prefix("scripts run since reset: "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no Script count in:\n{}", show.stdout))
}

/// Cmdlets run by Scripts, as the lab's audit log counts them.
fn cmdlets(p: &Project) -> u64 {
    let log =
        std::fs::read_to_string(p.path().join(".cmdeploy/lab/audit.jsonl")).unwrap_or_default();
    log.lines()
        .filter(|l| l.contains(r#""source":"script""#))
        .count() as u64
}

/// Plans the site-side boundaries and groups (one connection) at parallelism 1, so that Scripts
/// run one after another, and checks it took at least what its Scripts and cmdlets cost.
fn plan_pays(p: &Project, env: &[(&str, &str)], startup_ms: u64, cmdlet_ms: u64) {
    let (s0, c0) = (scripts(p), cmdlets(p));
    let start = Instant::now();
    let args = [
        "plan",
        "--parallelism",
        "1",
        "--target",
        "boundary",
        "--target",
        "boundary_group",
    ];
    p.run_env(&args, env).code(0);
    let took = start.elapsed();
    let (s, c) = (scripts(p) - s0, cmdlets(p) - c0);
    assert!(s >= 1 && c >= 1, "{s} Scripts, {c} cmdlets");
    let least = Duration::from_millis(s * startup_ms + c * cmdlet_ms);
    assert!(
        took >= least,
        "{s} Scripts and {c} cmdlets took {took:?}, less than their cost {least:?}"
    );
}

#[test]
fn the_in_process_lab_sleeps_the_cost_from_the_environment() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    plan_pays(
        &p,
        &[
            ("CMDEPLOY_LAB_SCRIPT_STARTUP_MS", "150"),
            ("CMDEPLOY_LAB_CMDLET_MS", "20"),
        ],
        150,
        20,
    );
}

#[test]
fn lab_serve_sleeps_the_cost_from_its_flags() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let s = serve(&p, &["--script-startup-ms", "300", "--cmdlet-ms", "20"]);
    switch_to_winrm(&p, s.port, None, "lab-secrets/admin.txt");
    plan_pays(&p, &[], 300, 20);
}
