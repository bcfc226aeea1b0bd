//! Active Directory replication subnets as a data source (`[data.ad_subnets.NAME]`) and boundary
//! tables expanded over them (`for_each`): contoso's branch-office boundaries follow AD. A subnet
//! added in AD is a planned create, a removed one a planned delete, a subnet moved to another site
//! a planned update; a domain controller that cannot be read makes what depends on the subnets
//! read failures instead of planning the deletion of every AD boundary; `validate` checks the
//! templates offline.

mod common;

use common::Project;

fn applied() -> Project {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    p.run(&["apply", "--auto-approve"]).code(0);
    p
}

#[test]
fn branch_subnets_from_ad_are_planned_applied_and_converge() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let plan = p.run(&["plan"]).code(0).stdout;
    for want in [
        "# boundary.ad_branch[\"10.3.0.0/24\"] will be created",
        "+ name  = \"AD Branch2 10.3.0.0/24\"",
        "# boundary.ad_branch[\"10.4.0.0/24\"] will be created",
        "+ name  = \"AD Branch3 10.4.0.0/24\"",
        "# boundary_group.ad_branches will be created",
    ] {
        assert!(plan.contains(want), "missing {want:?}:\n{plan}");
    }
    // The filters: HQ and the Lab site are no branch sites; 192.168.50.0/24 is outside 10/8.
    assert!(!plan.contains("10.1.0.0/16\"]"), "{plan}");
    assert!(!plan.contains("192.168.50.0/24"), "{plan}");
    p.run(&["apply", "--auto-approve"]).code(0);
    p.run(&["plan", "--detailed-exitcode"]).code(0);
    // ConfigMgr holds the boundaries in the group, under their AD names.
    let members = p.console_json(
        "cm01",
        "Get-CMBoundary -BoundaryGroupName 'AD Branch Offices'",
    );
    let names: Vec<&str> = members
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["DisplayName"].as_str().unwrap())
        .collect();
    assert_eq!(
        names.len(),
        2,
        "{}",
        serde_json::to_string_pretty(&members).unwrap()
    );
    assert!(names.contains(&"AD Branch2 10.3.0.0/24"), "{names:?}");
    assert!(names.contains(&"AD Branch3 10.4.0.0/24"), "{names:?}");
}

#[test]
fn a_subnet_added_in_ad_is_a_planned_boundary_in_its_group() {
    let p = applied();
    p.run(&[
        "lab",
        "ad-subnet",
        "add",
        "10.5.0.0/24",
        "--site",
        "Branch3",
    ])
    .code(0);
    // Not a branch site, or outside 10/8: nothing planned for these.
    p.run(&["lab", "ad-subnet", "add", "10.6.0.0/24", "--site", "HQ"])
        .code(0);
    p.run(&[
        "lab",
        "ad-subnet",
        "add",
        "172.20.0.0/24",
        "--site",
        "Branch2",
    ])
    .code(0);
    let plan = p.run(&["plan", "--detailed-exitcode"]).code(2).stdout;
    assert!(
        plan.contains("# boundary.ad_branch[\"10.5.0.0/24\"] will be created"),
        "{plan}"
    );
    assert!(
        plan.contains("# boundary_group.ad_branches will be updated in-place"),
        "{plan}"
    );
    assert!(
        plan.contains("Plan: 1 to add, 1 to change, 0 to destroy."),
        "{plan}"
    );
    p.run(&["apply", "--auto-approve"]).code(0);
    p.run(&["plan", "--detailed-exitcode"]).code(0);
}

#[test]
fn a_subnet_removed_from_ad_is_a_planned_delete() {
    let p = applied();
    p.run(&["lab", "ad-subnet", "remove", "10.3.0.0/24"])
        .code(0);
    let plan = p.run(&["plan", "--detailed-exitcode"]).code(2).stdout;
    assert!(
        plan.contains("# boundary.ad_branch[\"10.3.0.0/24\"] will be destroyed"),
        "{plan}"
    );
    assert!(
        plan.contains("Plan: 0 to add, 1 to change, 1 to destroy."),
        "{plan}"
    );
    p.run(&["apply", "--auto-approve"]).code(0);
    p.run(&["plan", "--detailed-exitcode"]).code(0);
    let left = p.console_json(
        "cm01",
        "Get-CMBoundary -BoundaryGroupName 'AD Branch Offices'",
    );
    assert_eq!(left.as_array().map_or(1, Vec::len), 1, "{left}");
}

#[test]
fn a_subnet_moved_to_another_site_is_a_planned_update() {
    let p = applied();
    p.run(&["lab", "ad-subnet", "set-site", "10.4.0.0/24", "Branch2"])
        .code(0);
    let plan = p.run(&["plan", "--detailed-exitcode"]).code(2).stdout;
    assert!(
        plan.contains("# boundary.ad_branch[\"10.4.0.0/24\"] will be updated in-place"),
        "{plan}"
    );
    assert!(
        plan.contains("~ name = \"AD Branch3 10.4.0.0/24\" -> \"AD Branch2 10.4.0.0/24\""),
        "{plan}"
    );
    assert!(
        plan.contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "{plan}"
    );
    p.run(&["apply", "--auto-approve"]).code(0);
    p.run(&["plan", "--detailed-exitcode"]).code(0);
}

#[test]
fn an_unreachable_domain_controller_is_a_read_failure_that_deletes_nothing() {
    let p = applied();
    let state = p.read(".cmdeploy/state.json");
    // The data source reads through a domain controller the network does not know.
    p.edit(
        "ad_sites.toml",
        "connection = \"dc01\"",
        "connection = \"dc02\"",
    );
    let config = p.read("cmdeploy.toml");
    p.write(
        "cmdeploy.toml",
        &format!("{config}\n[connection.dc02]\ntransport = \"lab\"\nhost = \"dc02.contoso.com\"\n"),
    );
    // plan and apply: read failures (exit 1), nothing destroyed or changed; drift: exit 3.
    for (cmd, code) in [
        (&["plan"][..], 1),
        (&["apply", "--auto-approve"], 1),
        (&["drift"], 3),
    ] {
        let r = p.run(cmd).code(code);
        assert!(
            r.stderr.contains(
                "data.ad_subnets.branches could not be read: dc02.contoso.com cannot be reached"
            ),
            "{cmd:?}: {}",
            r.stderr
        );
        assert!(
            r.stderr.contains("never taken for \"no items\""),
            "{}",
            r.stderr
        );
        for want in [
            "boundary.ad_branch[\"10.3.0.0/24\"]",
            "boundary.ad_branch[\"10.4.0.0/24\"]",
            "boundary_group.ad_branches",
            "not compared: it refers to boundary.ad_branch",
        ] {
            assert!(
                r.all().contains(want),
                "{cmd:?} missing {want:?}:\n{}",
                r.all()
            );
        }
        assert!(!r.stdout.contains("destroy\n"), "{cmd:?}: {}", r.stdout);
        assert!(
            !r.stdout.contains("will be destroyed"),
            "{cmd:?}: {}",
            r.stdout
        );
        assert!(
            !r.stdout.contains("changed outside"),
            "{cmd:?}: {}",
            r.stdout
        );
    }
    assert_eq!(p.read(".cmdeploy/state.json"), state, "state changed");
    // A controller whose read fails (not a domain controller: no ActiveDirectory module) is
    // the same error, never "no subnets".
    p.edit(
        "cmdeploy.toml",
        "host = \"dc02.contoso.com\"",
        "host = \"cm01.contoso.com\"",
    );
    let r = p.run(&["plan"]).code(1);
    assert!(
        r.stderr
            .contains("data.ad_subnets.branches could not be read: cm01.contoso.com"),
        "{}",
        r.stderr
    );
    assert!(!r.stdout.contains("will be destroyed"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("Plan: 0 to add, 0 to change, 0 to destroy. 3 could not be read."),
        "{}",
        r.stdout
    );
}

#[test]
fn validate_checks_for_each_tables_offline_against_a_sample_item() {
    let p = Project::example("contoso");
    // No lab, no state: validate reads nothing.
    let r = p.run(&["validate"]).code(0);
    assert!(r.stdout.contains("Valid: 23 resources"), "{}", r.stdout);
    assert!(!p.path().join(".cmdeploy/lab").exists());
    // A field the items do not have, and a for_each naming no source.
    p.edit("ad_sites.toml", "{{ each.site }}", "{{ each.sites }}");
    p.edit(
        "boundaries.toml",
        "[boundary.branch_lan]\n",
        "[boundary.branch_lan]\nfor_each = \"data.ad_subnets.branchs\"\n",
    );
    let r = p.run(&["validate"]).code(1);
    for want in [
        "each.sites",
        "checked with a sample item of",
        "each.boundary_type",
        "`for_each` names `data.ad_subnets.branchs`, which is not a declared data source",
        "did you mean `data.ad_subnets.branches`?",
        "ad_sites.toml",
    ] {
        assert!(r.stderr.contains(want), "missing {want:?}:\n{}", r.stderr);
    }
    assert!(r.stderr.contains("2 error(s)"), "{}", r.stderr);
    // A source whose own table is wrong is one error: its for_each tables are not reported again.
    p.edit("ad_sites.toml", "{{ each.sites }}", "{{ each.site }}");
    p.edit(
        "boundaries.toml",
        "for_each = \"data.ad_subnets.branchs\"\n",
        "",
    );
    p.edit(
        "ad_sites.toml",
        "within = [\"10.0.0.0/8\"]",
        "within = [\"10.0.0.0/33\"]",
    );
    let r = p.run(&["validate"]).code(1);
    assert!(
        r.stderr.contains("`10.0.0.0/33` is not a prefix"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("1 error(s)"), "{}", r.stderr);
}

#[test]
fn a_saved_plan_is_refused_when_ad_changed_since() {
    let p = applied();
    p.run(&[
        "lab",
        "ad-subnet",
        "add",
        "10.7.0.0/24",
        "--site",
        "Branch2",
    ])
    .code(0);
    let file = p.path().join("ad.plan");
    let file = file.to_str().unwrap();
    p.run(&["plan", "--out", file]).code(0);
    p.run(&["lab", "ad-subnet", "remove", "10.7.0.0/24"])
        .code(0);
    let r = p.run(&["apply", file]).code(1);
    assert!(
        r.stderr
            .contains("manifests changed since it was made (or what their data sources read)"),
        "{}",
        r.stderr
    );
}

#[test]
fn resolve_answers_from_the_boundaries_ad_declares() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let r = p.run(&["resolve", "10.3.0.7"]).code(0);
    assert!(
        r.stdout
            .contains("boundary.ad_branch[\"10.3.0.0/24\"] (ip_subnet 10.3.0.0)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("\"AD Branch Offices\", site assignment ABC"),
        "{}",
        r.stdout
    );
    // Gone from AD: no boundary covers the address any more.
    p.run(&["lab", "ad-subnet", "remove", "10.3.0.0/24"])
        .code(0);
    let r = p.run(&["resolve", "10.3.0.7"]).code(2);
    assert!(!r.stdout.contains("ad_branch"), "{}", r.stdout);
}

/// Regression: after the site was rebuilt (here: the lab reset), a GroupID that state holds for
/// one group can be handed out to another; the group state knows is the one with its name, not
/// the one with its old id (seen as a flaky "did not converge" when contoso's two new groups were
/// created in the other order after a reset).
#[test]
fn a_group_id_handed_out_again_is_not_taken_for_the_group_state_knows() {
    let p = applied();
    let state: serde_json::Value = serde_json::from_str(&p.read(".cmdeploy/state.json")).unwrap();
    let id: u64 = state["resources"]["boundary_group.ad_branches"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    p.run(&["lab", "reset"]).code(0);
    // Hand out ids until the next one is the AD group's, then give it to another group.
    let mut i = 0;
    loop {
        let created = p.console_json("cm01", &format!("New-CMBoundaryGroup -Name 'Filler {i}'"));
        let got = created["GroupID"].as_u64().unwrap();
        if got + 1 == id {
            break;
        }
        assert!(got + 1 < id, "ids passed {id}: {created}");
        i += 1;
    }
    // The two groups come back in the other order: Branch 1 Clients gets the AD group's id.
    let branch = p.console_json("cm01", "New-CMBoundaryGroup -Name 'Branch 1 Clients'");
    assert_eq!(branch["GroupID"].as_u64(), Some(id));
    p.console_json("cm01", "New-CMBoundaryGroup -Name 'AD Branch Offices'");
    let plan = p.run(&["plan"]).code(0).stdout;
    assert!(
        !plan.contains("\"Branch 1 Clients\" -> \"AD Branch Offices\""),
        "{plan}"
    );
    p.run(&["apply", "--auto-approve"]).code(0);
    p.run(&["plan", "--detailed-exitcode"]).code(0);
}
