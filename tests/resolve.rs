//! `cmdeploy resolve` against Contoso's manifests: the boundaries, groups and site an address or
//! AD site resolves to, each role's fallback timeline (a neighbor after its minutes, "never",
//! the default site boundary group's implied 120 minutes), and the warnings for an address no
//! boundary covers (the overlap warning is a unit test: valid manifests cannot overlap).

mod common;

use common::Project;

#[test]
fn a_branch_address_resolves_to_its_group_site_and_fallback_timeline() {
    let p = Project::example("contoso");
    let run = p.run(&["resolve", "10.2.0.15"]).code(0);
    for line in [
        "    boundary.branch_lan (ip_range 10.2.0.1-10.2.0.254)",
        "    boundary_group.branch \"Branch 1 Clients\", site assignment ABC",
        "  assigned site: ABC",
        "    after 20 min   HQ Clients: mpserver.contoso.com",
        "    after 10 min   HQ Clients: mpserver.contoso.com",
        "    after 120 min  Default-Site-Boundary-Group<ABC>: no site system",
        "    never          HQ Clients",
    ] {
        assert!(run.stdout.contains(line), "{line}\n{}", run.stdout);
    }
    let json = p.run(&["resolve", "HQ", "--json"]).code(0);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["boundaries"][0]["address"], "boundary.hq_site");
    assert_eq!(v["assigned_sites"], serde_json::json!(["ABC"]));
    let mp = &v["roles"][1];
    assert_eq!(mp["role"], "management_point");
    assert_eq!(
        mp["never"],
        serde_json::json!(["Default-Site-Boundary-Group<ABC>"])
    );
}

#[test]
fn an_address_no_boundary_covers_is_a_warning_with_exit_2() {
    let p = Project::example("contoso");
    let run = p.run(&["resolve", "192.168.9.9"]).code(2);
    assert!(
        run.stdout
            .contains("warning: no boundary covers 192.168.9.9"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("now            Default-Site-Boundary-Group<ABC>"),
        "{}",
        run.stdout
    );
}

#[test]
fn estate_reads_what_the_site_holds_not_what_the_manifests_declare() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    // Before apply the site has no Branch 1 boundary: the address is uncovered there...
    let run = p.run(&["resolve", "10.2.0.15", "--estate"]).code(2);
    assert!(
        run.stdout.contains("warning: no boundary covers 10.2.0.15"),
        "{}",
        run.stdout
    );
    // ...while the manifests cover it.
    p.run(&["resolve", "10.2.0.15"]).code(0);
    p.run(&["apply", "--auto-approve"]).code(0);
    let run = p.run(&["resolve", "10.2.0.15", "--estate"]).code(0);
    // The site says which site system holds which role: mpserver is a management point only,
    // and Contoso's lab has no distribution point.
    for line in [
        "\"Branch 1 LAN\" (BoundaryID",
        "\"Branch 1 Clients\", site assignment ABC",
        "    after 20 min   HQ Clients: no site system",
        "    after 10 min   HQ Clients: mpserver.contoso.com",
        "    never          HQ Clients",
    ] {
        assert!(run.stdout.contains(line), "{line}\n{}", run.stdout);
    }
}
