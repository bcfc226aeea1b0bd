//! Renaming addresses without destroying objects: `cmdeploy state mv` and `[[moved]]` tables
//! (Terraform's `state mv` and `moved` blocks), and upper-case site codes.

mod common;

use common::Project;
use serde_json::Value;

/// The contoso example, applied to its lab.
fn applied() -> Project {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    p.run(&["apply", "--auto-approve"]).code(0);
    p
}

fn state_id(p: &Project, address: &str) -> String {
    let out = p.run(&["state", "show", address, "--json"]).code(0);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    v["id"].as_str().unwrap().to_string()
}

/// Renames `[boundary.hq_lan]` to `[boundary.hq_net]` (and the group's reference to it).
fn rename_hq_lan(p: &Project) {
    p.edit("boundaries.toml", "[boundary.hq_lan]", "[boundary.hq_net]");
    p.edit(
        "boundaries.toml",
        "boundaries = [\"hq_lan\", \"hq_site\"]",
        "boundaries = [\"hq_net\", \"hq_site\"]",
    );
}

#[test]
fn state_mv_renames_the_entry_and_leaves_the_object_alone() {
    let p = applied();
    let id = state_id(&p, "boundary.hq_lan");
    // --dry-run says what would move and changes nothing.
    let dry = p
        .run(&[
            "state",
            "mv",
            "boundary.hq_lan",
            "boundary.hq_net",
            "--dry-run",
        ])
        .code(0);
    assert!(
        dry.stdout
            .contains("Would move boundary.hq_lan to boundary.hq_net."),
        "{}",
        dry.stdout
    );
    assert!(p
        .run(&["state", "list"])
        .stdout
        .contains("boundary.hq_lan\n"));
    // Refusals: a taken address, another kind, an unknown source (with the nearest address).
    let taken = p
        .run(&["state", "mv", "boundary.hq_lan", "boundary.hq_site"])
        .code(1);
    assert!(
        taken
            .stderr
            .contains("boundary.hq_site is in state already"),
        "{}",
        taken.stderr
    );
    let kind = p
        .run(&["state", "mv", "boundary.hq_lan", "boundary_group.hq_lan"])
        .code(1);
    assert!(
        kind.stderr.contains("a move keeps the kind"),
        "{}",
        kind.stderr
    );
    let missing = p
        .run(&["state", "mv", "boundary.hq_lam", "boundary.hq_net"])
        .code(1);
    assert!(
        missing
            .stderr
            .contains("boundary.hq_lam is not in state; did you mean `boundary.hq_lan`?"),
        "{}",
        missing.stderr
    );
    p.run(&["state", "mv", "boundary.hq_lan", "nonsense"])
        .code(1);
    // The move: written to state, the entry keeps its id, the group's dependency follows.
    let before: Value = serde_json::from_str(&p.read(".cmdeploy/state.json")).unwrap();
    let out = p
        .run(&["state", "mv", "boundary.hq_lan", "boundary.hq_net"])
        .code(0);
    assert!(
        out.stdout
            .contains("Moved boundary.hq_lan to boundary.hq_net."),
        "{}",
        out.stdout
    );
    let after: Value = serde_json::from_str(&p.read(".cmdeploy/state.json")).unwrap();
    assert!(after["serial"].as_u64() > before["serial"].as_u64());
    assert!(after["resources"].get("boundary.hq_lan").is_none());
    assert!(after["resources"].get("boundary.hq_net").is_some());
    assert_eq!(state_id(&p, "boundary.hq_net"), id);
    let group = p
        .run(&["state", "show", "boundary_group.hq", "--json"])
        .code(0);
    assert!(
        group.stdout.contains("\"boundary.hq_net\""),
        "{}",
        group.stdout
    );
    // With the manifest renamed too, nothing is destroyed or created.
    rename_hq_lan(&p);
    let plan = p.run(&["plan", "--detailed-exitcode"]).code(0);
    assert!(plan.stdout.contains("No changes."), "{}", plan.stdout);
}

#[test]
fn a_moved_table_renames_instead_of_destroying_and_creating() {
    let p = applied();
    let id = state_id(&p, "boundary.hq_lan");
    rename_hq_lan(&p);
    // Without the table, the object state knows as hq_lan is destroyed (the new address would
    // match it by its natural key only until then).
    let without = p.run(&["plan", "--detailed-exitcode"]).code(2);
    assert!(
        without.stdout.contains("boundary.hq_lan will be destroyed"),
        "{}",
        without.stdout
    );
    p.write(
        "moved.toml",
        "[[moved]]\nfrom = \"boundary.hq_lan\"\nto = \"boundary.hq_net\"\n",
    );
    let plan = p.run(&["plan", "--detailed-exitcode"]).code(2);
    assert!(
        plan.stdout
            .contains("# boundary.hq_lan has moved to boundary.hq_net"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("Plan: 0 to add, 0 to change, 0 to destroy. 1 moved."),
        "{}",
        plan.stdout
    );
    let json: Value = serde_json::from_str(&p.run(&["plan", "--json"]).code(0).stdout).unwrap();
    let change = json["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "boundary.hq_net")
        .unwrap();
    assert_eq!(change["previous_address"], "boundary.hq_lan");
    assert_eq!(change["actions"], serde_json::json!(["no-op"]));
    assert_eq!(json["summary"]["moved"], 1);
    // A saved plan with a move applies, and state then knows the new address only.
    let file = p.path().join("moved.plan.json");
    let file = file.to_str().unwrap();
    p.run(&["plan", "--out", file]).code(0);
    let applied = p.run(&["apply", file]).code(0);
    assert!(
        applied
            .stdout
            .contains("Recorded 1 moved address(es) in state."),
        "{}",
        applied.stdout
    );
    assert_eq!(state_id(&p, "boundary.hq_net"), id, "the same object");
    let list = p.run(&["state", "list"]).code(0).stdout;
    assert!(!list.contains("boundary.hq_lan"), "{list}");
    let again = p.run(&["plan", "--detailed-exitcode"]).code(0);
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);
    // The table may stay: its old address is in state no more, so it has nothing to do.
    p.run(&["drift"]).code(0);
}

#[test]
fn moved_tables_are_checked_at_their_values() {
    let p = Project::example("contoso");
    p.write(
        "moved.toml",
        "[[moved]]\nfrom = \"boundary.hq_lan\"\nto = \"boundary.elsewhere\"\n\n[[moved]]\nfrom = \"boundary.gone\"\nto = \"boundary_group.hq\"\n\n[[moved]]\nfrom = \"nonsense\"\nto = \"boundary.hq_site\"\n",
    );
    let out = p.run(&["validate", "--format", "json"]).code(1);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    let codes: Vec<(&str, u64)> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["code"].as_str().unwrap(), d["line"].as_u64().unwrap()))
        .collect();
    for want in [
        ("cmdeploy::moved::from_declared", 2),
        ("cmdeploy::moved::to_undeclared", 3),
        ("cmdeploy::moved::invalid", 7),
        ("cmdeploy::moved::address", 10),
    ] {
        assert!(codes.contains(&want), "{want:?} not in {codes:?}");
    }
    // A broken move does not lock the state commands out (they may be how it gets fixed).
    p.run(&["state", "list"]).code(0);
}

#[test]
fn lower_case_site_codes_are_refused_with_the_upper_case_fix() {
    let p = Project::example("contoso");
    p.edit("site.toml", "[site.ABC]", "[site.abc]");
    let err = p.run(&["validate"]).code(1).stderr;
    assert!(err.contains("cmdeploy::site_code::case"), "{err}");
    assert!(
        err.contains("site code `abc` is written in lower case"),
        "{err}"
    );
    assert!(err.contains("write `ABC`"), "{err}");
    assert!(
        err.contains("from = \"site.abc\" and to = \"site.ABC\""),
        "{err}"
    );
    // The references that already say ABC are not reported again.
    assert!(err.contains("1 error(s)"), "{err}");
    // A table keyed by the site code likewise, and the references to it are not repeated.
    let k = Project::example("contoso");
    k.edit("client_push.toml", "[client_push.ABC]", "[client_push.abc]");
    k.edit(
        "client_push.toml",
        "[client_push.ABC.properties]",
        "[client_push.abc.properties]",
    );
    let err = k.run(&["validate"]).code(1).stderr;
    assert!(err.contains("cmdeploy::site_code::case"), "{err}");
    assert!(
        err.contains("from = \"client_push.abc\" and to = \"client_push.ABC\""),
        "{err}"
    );
    assert!(err.contains("1 error(s)"), "{err}");
    // A reference in lower case names the one spelling.
    let q = Project::example("contoso");
    q.edit(
        "boundaries.toml",
        "[boundary.hq_lan]\nsite = \"ABC\"",
        "[boundary.hq_lan]\nsite = \"abc\"",
    );
    let err = q.run(&["validate"]).code(1).stderr;
    assert!(
        err.contains("names are case-sensitive: write `ABC` (site.ABC)"),
        "{err}"
    );
    // A CCMSetup line works with either case; the lint gives the upper-case spelling.
    let line = q
        .run(&[
            "ccmsetup",
            "check",
            "CCMSetup.exe /mp:mp1.contoso.com SMSSITECODE=abc",
        ])
        .code(0);
    assert!(line.stderr.contains("SMSSITECODE=ABC"), "{}", line.stderr);
}

/// State written while a site was known as `site.abc` (by hand, or before lower case was
/// refused) is carried to `site.ABC` by a `[[moved]]` table, as the fix-it says.
#[test]
fn a_lower_case_site_address_in_state_moves_to_upper_case() {
    let p = applied();
    p.run(&["state", "mv", "site.ABC", "site.abc"]).code(0);
    p.write(
        "moved.toml",
        "[[moved]]\nfrom = \"site.abc\"\nto = \"site.ABC\"\n",
    );
    let plan = p.run(&["plan"]).code(0);
    assert!(
        plan.stdout.contains("# site.abc has moved to site.ABC")
            && plan
                .stdout
                .contains("0 to add, 0 to change, 0 to destroy. 1 moved."),
        "{}",
        plan.stdout
    );
    p.run(&["apply", "--auto-approve"]).code(0);
    p.run(&["plan", "--detailed-exitcode"]).code(0);
}
