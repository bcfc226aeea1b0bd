//! The main job, end to end, against the embedded lab: plan, apply, plan again with no changes,
//! a change behind cmdeploy's back, and drift catching it.

mod common;

use common::Project;
use serde_json::Value;

#[test]
fn first_plan_shows_creates_and_updates_for_every_kind() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let plan = p.run(&["plan", "--detailed-exitcode"]).code(2);
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
            plan.stdout.contains(&format!("# {kind}.")),
            "no change for {kind}:\n{}",
            plan.stdout
        );
    }
    assert!(
        plan.stdout.contains("will be created") && plan.stdout.contains("will be updated in-place")
    );
    assert!(plan
        .stdout
        .contains("# gpo.client_settings will be updated in-place"));
    assert!(plan
        .stdout
        .contains("# gpo.software_update_point will be created"));
    assert!(
        plan.stdout.contains("steps still needed"),
        "imaging steps missing:\n{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("Plan: 16 to add, 8 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
}

#[test]
fn json_plan_is_versioned_and_covers_every_kind() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let out = p.run(&["plan", "--json"]).code(0);
    let v: Value = serde_json::from_str(&out.stdout).expect("plan --json parses");
    assert_eq!(v["format_version"], "1.0");
    let changes = v["resource_changes"].as_array().unwrap();
    let kinds: std::collections::BTreeSet<&str> = changes
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
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
        assert!(kinds.contains(kind), "{kind} missing from {kinds:?}");
    }
    for c in changes {
        assert!(c["address"].is_string() && c["actions"].is_array(), "{c}");
        assert!(c.get("before").is_some() && c.get("after").is_some());
    }
    let addresses: Vec<&str> = changes
        .iter()
        .map(|c| c["address"].as_str().unwrap())
        .collect();
    let mut sorted = addresses.clone();
    sorted.sort();
    assert_eq!(addresses, sorted, "resource_changes are in address order");
    assert!(addresses.contains(&"client_group.kiosks[\"kiosk01\"]"));
}

#[test]
fn apply_converges_and_drift_catches_a_console_change() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let apply = p.run(&["apply", "--auto-approve"]).code(0);
    assert!(
        apply
            .stdout
            .contains("Apply complete! Resources: 16 added, 8 changed, 0 destroyed."),
        "{}",
        apply.stdout
    );
    let again = p.run(&["plan", "--detailed-exitcode"]).code(0);
    assert!(again.stdout.contains("No changes."));
    p.run(&["drift"]).code(0);

    p.run(&[
        "lab",
        "console",
        "--connection",
        "cm01",
        "Set-CMClientPushInstallation -SiteCode ABC -EnableAutomaticClientPushInstallation $false",
    ])
    .code(0);
    let drift = p.run(&["drift"]).code(2);
    assert!(
        drift
            .stdout
            .contains("client_push.ABC changed outside cmdeploy"),
        "{}",
        drift.stdout
    );
    assert!(
        drift
            .stdout
            .contains("automatic: true (last applied) -> false (estate)"),
        "{}",
        drift.stdout
    );
    let json = p.run(&["drift", "--format", "json"]).code(2);
    let v: Value = serde_json::from_str(&json.stdout).expect("drift --format json parses");
    assert_eq!(v["entries"][0]["address"], "client_push.ABC");
    assert_eq!(v["entries"][0]["drift"], "changed-outside");

    // Apply puts it back; drift is clean again.
    p.run(&["apply", "--auto-approve"]).code(0);
    p.run(&["drift"]).code(0);
}

#[test]
fn the_console_refuses_in_configmgr_words() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let dup = p
        .run(&[
            "lab",
            "console",
            "--connection",
            "cm01",
            "New-CMBoundaryGroup -Name 'hq clients'",
        ])
        .code(1);
    assert!(dup.stderr.contains("already exists"), "{}", dup.stderr);
    let unknown = p
        .run(&[
            "lab",
            "console",
            "--connection",
            "cm01",
            "Set-CMBoundaryGroup -Name 'HQ Clients' -Bogus 1",
        ])
        .code(1);
    assert!(
        unknown
            .stderr
            .contains("A parameter cannot be found that matches parameter name 'Bogus'"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn a_failure_stops_only_its_dependents() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    // The branch group's site system is not a site system of the hierarchy: ConfigMgr refuses it.
    p.edit("boundaries.toml", "description = \"Branch office 1\"\nassignment_site = \"ABC\"\nboundaries = [\"branch_lan\"]\nsite_systems = [\"mpserver.contoso.com\"]", "description = \"Branch office 1\"\nassignment_site = \"ABC\"\nboundaries = [\"branch_lan\"]\nsite_systems = [\"nosuch.contoso.com\"]");
    let apply = p.run(&["apply", "--auto-approve"]).code(1);
    assert!(
        apply.stderr.contains("boundary_group.branch")
            && apply.stderr.contains("nosuch.contoso.com"),
        "{}",
        apply.stderr
    );
    assert!(
        apply
            .stderr
            .contains("cm01.contoso.com: New-CMBoundaryGroup"),
        "the error names host and cmdlet: {}",
        apply.stderr
    );
    // Everything else was applied and journaled.
    let state = p.run(&["state", "list"]).code(0);
    assert!(
        state.stdout.contains("boundary.branch_lan")
            && state.stdout.contains("gpo.client_settings")
    );
    assert!(!state.stdout.contains("boundary_group.branch\n"));
    // The group's relationship depends on it: skipped, still to add.
    assert!(!state
        .stdout
        .contains("boundary_group_relationship.branch_to_hq"));
    let plan = p.run(&["plan", "--detailed-exitcode"]).code(2);
    assert!(
        plan.stdout
            .contains("Plan: 2 to add, 0 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
}

#[test]
fn saved_plans_apply_exactly_and_stale_ones_are_refused() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let file = p.path().join("saved.plan");
    let file = file.to_str().unwrap();
    p.run(&["plan", "--out", file]).code(0);
    p.edit(
        "boundaries.toml",
        "name = \"Branch 1 LAN\"",
        "name = \"Branch One LAN\"",
    );
    let stale = p.run(&["apply", file]).code(1);
    assert!(
        stale.stderr.contains("stale") && stale.stderr.contains("manifests changed"),
        "{}",
        stale.stderr
    );
    p.run(&["plan", "--out", file]).code(0);
    p.run(&["apply", file]).code(0);
    p.run(&["plan", "--detailed-exitcode"]).code(0);
}

#[test]
fn state_commands_list_show_and_forget() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    p.run(&["apply", "--auto-approve"]).code(0);
    let show = p
        .run(&["state", "show", "boundary.hq_lan", "--json"])
        .code(0);
    let entry: Value = serde_json::from_str(&show.stdout).unwrap();
    assert_eq!(
        entry["attributes"]["value"], "10.1.0.0",
        "IP subnets are stored as the subnet ID"
    );
    p.run(&["state", "rm", "boundary.hq_lan"]).code(0);
    // Refresh finds it again by its natural key: no duplicate is created.
    let plan = p.run(&["plan", "--detailed-exitcode"]).code(0);
    assert!(plan.stdout.contains("No changes."));
    p.run(&["state", "unlock"]).code(0);
}

#[test]
fn graph_shows_dependencies() {
    let p = Project::example("contoso");
    let dot = p.run(&["graph"]).code(0);
    // DOT from petgraph: numbered nodes labelled with their address, edges between numbers.
    let node = |address: &str| {
        dot.stdout
            .lines()
            .find(|l| l.contains(&format!("[ label = \"{address}\"")))
            .and_then(|l| l.split_whitespace().next())
            .unwrap_or_else(|| panic!("no node {address}:\n{}", dot.stdout))
            .to_string()
    };
    let edge = format!(
        "{} -> {} ",
        node("boundary.hq_lan"),
        node("boundary_group.hq")
    );
    assert!(
        dot.stdout
            .lines()
            .any(|l| l.trim_start().starts_with(&edge)),
        "{}",
        dot.stdout
    );
    let json = p.run(&["graph", "--format", "json"]).code(0);
    let v: Value = serde_json::from_str(&json.stdout).unwrap();
    assert!(v["edges"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["from"] == "account.push" && e["to"] == "client_push.ABC"));
}
