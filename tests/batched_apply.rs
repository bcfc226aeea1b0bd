//! Apply batches the site-side writes of one graph level per connection: a generated estate of
//! 600 boundaries in 20 groups is applied in a handful of Scripts (it took 667, one per write,
//! each paying a WinRM shell, a powershell.exe and a ConfigurationManager import on a real site),
//! and one refused write fails alone while the rest of its Script goes through. Kinds on the typed
//! SDK send their verifying reads in the Script of their writes, and share it with their level.

mod common;

use std::path::Path;

use common::{run_in, Project};

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
/// example's apply (all three change) sent three Scripts more when each wrote, then read in a
/// second one (21 instead of 18 before the typed account and software update point).
#[test]
fn site_settings_and_push_are_read_back_in_the_script_of_their_writes() {
    let p = Project::example("upgrade");
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
    assert!(sent <= 17, "apply sent {sent} Scripts, refresh included");
    let again = p.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "the estate converges:\n{}", again.all());
}

/// Scripts a command sent to the lab of `p`.
fn sent_by(p: &Project, args: &[&str]) -> u64 {
    let before = scripts(p.path());
    let out = p.run(args);
    assert!(out.code == 0 || out.code == 2, "{}", out.all());
    scripts(p.path()) - before
}

#[test]
fn a_software_update_point_change_and_its_read_back_take_one_script() {
    let p = Project::example("upgrade");
    p.run(&["lab", "reset"]).code(0);
    p.run(&["apply", "--auto-approve"]).code(0);
    // Behind cmdeploy's back the role moves to the default web site's ports.
    p.run(&[
        "lab",
        "console",
        "--connection",
        "cm01",
        "Set-CMSoftwareUpdatePoint -SiteCode ABC -SiteSystemServerName server1.contoso.com -HttpPort 80 -HttpsPort 443",
    ])
    .code(0);
    let refresh = sent_by(&p, &["plan", "--detailed-exitcode"]);
    let sent = sent_by(&p, &["apply", "--auto-approve"]);
    // The refresh, then Set-CMSoftwareUpdatePoint and Get-CMSoftwareUpdatePoint in one Script
    // (the read-back was a Script of its own).
    assert_eq!(sent, refresh + 1, "refresh {refresh}, apply {sent}");
    let again = p.run(&["plan", "--detailed-exitcode"]).code(0);
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);
}

#[test]
fn two_accounts_of_one_level_are_written_in_one_script() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let target = ["--target", "account.push", "--target", "account.naa"];
    let plan = [&["plan", "--detailed-exitcode"][..], &target].concat();
    let refresh = sent_by(&p, &plan);
    let apply = [
        &["apply", "--auto-approve", "--parallelism", "1"][..],
        &target,
    ]
    .concat();
    let sent = sent_by(&p, &apply);
    // The refresh, then New-CMAccount, Set-CMAccount and their Get-CMAccount in one Script (each
    // account took a Script of its own).
    assert_eq!(sent, refresh + 1, "refresh {refresh}, apply {sent}");
    let again = p.run(&["plan", "--detailed-exitcode"]).code(2);
    assert!(!again.stdout.contains("account."), "{}", again.stdout);
}

/// A GPO's writes (New-GPO, Set-GPRegistryValue, New-GPLink) and the reads that verify them go
/// in one Script with the other GPOs of its level; the policy keys a GPO does not hold fail
/// `Get-GPRegistryValue` there without stopping the rest of its reads.
#[test]
fn two_gpos_of_one_level_are_written_and_read_back_in_one_script() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let target = [
        "--target",
        "gpo.client_settings",
        "--target",
        "gpo.software_update_point",
    ];
    let plan = [&["plan", "--detailed-exitcode"][..], &target].concat();
    let refresh = sent_by(&p, &plan);
    let apply = [
        &["apply", "--auto-approve", "--parallelism", "1"][..],
        &target,
    ]
    .concat();
    let sent = sent_by(&p, &apply);
    // The refresh, then both GPOs' writes and reads in one Script (each GPO took a write Script
    // and a read Script of its own).
    assert_eq!(sent, refresh + 1, "refresh {refresh}, apply {sent}");
    let state = p.run(&["state", "show", "gpo.client_settings"]).code(0);
    assert!(state.stdout.contains("SetupParameters"), "{}", state.stdout);
    let again = p.run(&["plan", "--detailed-exitcode"]).code(2);
    assert!(!again.stdout.contains("gpo."), "{}", again.stdout);
}
