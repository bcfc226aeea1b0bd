//! Apply batches the site-side writes of one graph level per connection: a generated estate of
//! 600 boundaries in 20 groups is applied in a handful of Scripts (it took 667, one per write,
//! each paying a WinRM shell, a powershell.exe and a ConfigurationManager import on a real site),
//! and one refused write fails alone while the rest of its Script goes through.

mod common;

use std::path::Path;

use common::run_in;

/// Scripts the lab ran since its reset.
fn scripts(dir: &Path) -> u64 {
    let show = run_in(dir, &["lab", "show"], &[]).code(0);
    show.stdout
        .lines()
        .find_map(|l| l.strip_prefix("scripts run since reset: "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no Script count in:\n{}", show.stdout))
}

fn generate(boundaries: &str, groups: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    run_in(
        Path::new("."),
        &[
            "lab",
            "generate",
            "--boundaries",
            boundaries,
            "--groups",
            groups,
            "--hosts",
            "0",
            d,
        ],
        &[],
    )
    .code(0);
    run_in(dir.path(), &["lab", "reset"], &[]).code(0);
    dir
}

#[test]
fn six_hundred_boundaries_in_twenty_groups_take_at_most_forty_scripts() {
    let dir = generate("600", "20");
    let before = scripts(dir.path());
    let out = run_in(
        dir.path(),
        &["apply", "--auto-approve", "--parallelism", "10"],
        &[],
    )
    .code(0);
    assert!(out.stdout.contains("621 added"), "{}", out.stdout);
    let sent = scripts(dir.path()) - before;
    assert!(sent <= 40, "apply sent {sent} Scripts, refresh included");
    let again = run_in(dir.path(), &["plan", "--detailed-exitcode"], &[]);
    assert_eq!(again.code, 0, "the estate converges:\n{}", again.all());
}

#[test]
fn a_refused_write_fails_alone_and_its_batch_goes_on() {
    let dir = generate("12", "3");
    // ConfigMgr refuses a boundary group whose site system is not a site system server; the
    // other two groups share its Script (parallelism 1).
    let file = dir.path().join("boundaries.toml");
    let text = std::fs::read_to_string(&file).unwrap().replace(
        "name = \"Group 1\"\n",
        "name = \"Group 1\"\nsite_systems = [\"ghost.fabrikam.test\"]\n",
    );
    std::fs::write(&file, text).unwrap();
    let before = scripts(dir.path());
    let out = run_in(
        dir.path(),
        &["apply", "--auto-approve", "--parallelism", "1"],
        &[],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    let all = out.all();
    assert!(
        all.contains("boundary_group.g1")
            && all.contains("No site system server named 'ghost.fabrikam.test'"),
        "{all}"
    );
    assert!(
        all.contains("boundary_group.g0: Creation complete"),
        "{all}"
    );
    assert!(
        all.contains("boundary_group.g2: Creation complete"),
        "{all}"
    );
    // Refresh, then one Script per level: the site, the boundaries, the groups.
    let sent = scripts(dir.path()) - before;
    assert!(sent <= 10, "{sent} Scripts");
    let g0 = run_in(dir.path(), &["state", "show", "boundary_group.g0"], &[]).code(0);
    assert!(g0.stdout.contains("b9"), "{}", g0.stdout);
}

/// site, site_settings and client_push read back in the Script of their writes: the upgrade
/// example's apply (all three change) sent 20 Scripts when each wrote, then read in a second one.
#[test]
fn site_settings_and_push_are_read_back_in_the_script_of_their_writes() {
    let p = common::Project::example("upgrade");
    p.run(&["lab", "reset"]).code(0);
    let before = scripts(p.path());
    let out = p.run(&["apply", "--auto-approve"]).code(0);
    for changed in [
        "site.ABC: Modification",
        "site_settings.ABC: Modification",
        "client_push.ABC: Modification",
    ] {
        assert!(out.stdout.contains(changed), "{changed}:\n{}", out.stdout);
    }
    let sent = scripts(p.path()) - before;
    assert!(sent <= 18, "apply sent {sent} Scripts, refresh included");
    let again = p.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "the estate converges:\n{}", again.all());
}
