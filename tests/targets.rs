//! `--target` includes what the targets depend on, as Terraform's does, and accepts a whole kind.

mod common;

use common::Project;

/// `apply --target boundary_group.branch` on a fresh lab used to fail: its boundary did not exist.
/// Now the boundary (and the site the group is managed by) come first, and nothing else does.
#[test]
fn a_targeted_apply_creates_what_the_target_depends_on_first() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let apply = p
        .run(&[
            "apply",
            "--auto-approve",
            "--target",
            "boundary_group.branch",
        ])
        .code(0);
    let created = apply
        .stdout
        .find("boundary.branch_lan: Creation complete")
        .unwrap_or_else(|| panic!("the boundary was not created:\n{}", apply.all()));
    let group = apply
        .stdout
        .find("boundary_group.branch: Creating...")
        .expect("the group was not created");
    assert!(created < group, "{}", apply.stdout);
    let list = p.run(&["state", "list"]).code(0).stdout;
    let listed: Vec<&str> = list.lines().collect();
    for want in ["boundary.branch_lan", "boundary_group.branch", "site.ABC"] {
        assert!(listed.contains(&want), "{want} not in state:\n{list}");
    }
    for other in [
        "boundary_group.hq",
        "client_push.ABC",
        "gpo.client_settings",
    ] {
        assert!(!listed.contains(&other), "{other} was applied:\n{list}");
    }
}

/// `--target boundary` plans every boundary and what they need, and no boundary group.
#[test]
fn a_kind_targets_every_resource_of_it() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let plan = p.run(&["plan", "--json", "--target", "boundary"]).code(0);
    let json: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    let addresses: Vec<&str> = json["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["address"].as_str().unwrap())
        .collect();
    for want in [
        "boundary.hq_lan",
        "boundary.hq_site",
        "boundary.branch_lan",
        "site.ABC",
    ] {
        assert!(
            addresses.contains(&want),
            "{want} not planned: {addresses:?}"
        );
    }
    assert!(
        addresses
            .iter()
            .all(|a| !a.starts_with("boundary_group.") && !a.starts_with("client_group.")),
        "{addresses:?}"
    );
}

#[test]
fn an_unknown_kind_is_refused_with_a_suggestion() {
    let p = Project::example("contoso");
    let run = p.run(&["plan", "--target", "boundry"]).code(1);
    assert!(
        run.stderr
            .contains("--target boundry: no such kind (did you mean `boundary`?)"),
        "{}",
        run.stderr
    );
    let run = p.run(&["plan", "--target", "boundary.nowhere"]).code(1);
    assert!(run.stderr.contains("no such resource"), "{}", run.stderr);
}
