//! Boundary-group relationships: Contoso's two relationships (a neighbor and the default site
//! boundary group) are planned, applied, converge, drift when changed in the console, update in
//! place, and are removed; the manifest's mistakes are diagnostics.

mod common;

use common::Project;

fn contoso() -> Project {
    let p = Project::example("contoso");
    for f in ["client_push.toml", "clients.toml", "imaging.toml"] {
        std::fs::remove_file(p.path().join(f)).unwrap();
    }
    p.run(&["lab", "reset"]).code(0);
    p
}

fn relationships(p: &Project) -> serde_json::Value {
    p.console_json("cm01", "Get-CMBoundaryGroupRelationship | ConvertTo-Json")
}

#[test]
fn relationships_are_applied_converge_drift_update_and_are_removed() {
    let p = contoso();
    let plan = p.run(&["plan"]).code(0);
    assert!(
        plan.stdout
            .contains("boundary_group_relationship.branch_to_hq will be created"),
        "{}",
        plan.stdout
    );
    p.run(&["apply", "--auto-approve"]).code(0);
    let all = relationships(&p);
    let all = all.as_array().unwrap();
    let branch = all
        .iter()
        .find(|r| r["SourceGroupName"] == "Branch 1 Clients")
        .unwrap();
    assert_eq!(branch["DestinationGroupName"], "HQ Clients");
    assert_eq!(
        (
            &branch["FallbackDP"],
            &branch["FallbackMP"],
            &branch["FallbackSUP"]
        ),
        (&20.into(), &10.into(), &(-1).into())
    );
    let hq = all
        .iter()
        .find(|r| r["SourceGroupName"] == "HQ Clients")
        .unwrap();
    assert_eq!(
        hq["DestinationGroupName"],
        "Default-Site-Boundary-Group<ABC>"
    );
    assert_eq!(hq["FallbackDP"], 120);
    p.run(&["plan", "--detailed-exitcode"]).code(0);

    // A console administrator shortens the content fallback: drift, then apply restores it.
    p.run(&[
        "lab",
        "console",
        "--connection",
        "cm01",
        "Set-CMBoundaryGroupRelationship -SourceGroupName 'Branch 1 Clients' -DestinationGroupName 'HQ Clients' -FallbackDPMinutes 0",
    ])
    .code(0);
    let drift = p.run(&["drift"]).code(2);
    assert!(
        drift
            .all()
            .contains("boundary_group_relationship.branch_to_hq"),
        "{}",
        drift.all()
    );
    let plan = p.run(&["plan", "--detailed-exitcode"]).code(2);
    assert!(
        plan.stdout.contains("distribution_point = 0 -> 20"),
        "{}",
        plan.stdout
    );
    p.run(&["apply", "--auto-approve"]).code(0);
    p.run(&["plan", "--detailed-exitcode"]).code(0);

    // Removing a table removes the relationship in ConfigMgr.
    p.remove_table(
        "boundaries.toml",
        "[boundary_group_relationship.hq_to_default_site]",
    );
    let plan = p.run(&["plan"]).code(0);
    assert!(
        plan.stdout
            .contains("boundary_group_relationship.hq_to_default_site will be destroyed"),
        "{}",
        plan.stdout
    );
    p.run(&["apply", "--auto-approve"]).code(0);
    assert_eq!(relationships(&p)["SourceGroupName"], "Branch 1 Clients");
    p.run(&["plan", "--detailed-exitcode"]).code(0);
}

#[test]
fn a_group_falling_back_to_itself_a_duplicate_and_an_unknown_default_group_are_diagnostics() {
    let p = contoso();
    let text = p.read("boundaries.toml")
        + r#"
[boundary_group_relationship.loop]
site = "ABC"
source = "hq"
destination = "hq"

[boundary_group_relationship.again]
site = "ABC"
source = "branch"
destination = "hq"

[boundary_group_relationship.elsewhere]
site = "ABC"
source = "branch"
destination = "Default-Site-Boundary-Group<XYZ>"

[boundary_group_relationship.nowhere]
site = "ABC"
source = "branch"
destination = "warehouse"
"#;
    p.write("boundaries.toml", &text);
    let run = p.run(&["validate"]).code(1);
    for code in [
        "cmdeploy::boundary_group_relationship::itself",
        "cmdeploy::boundary_group_relationship::duplicate",
        "cmdeploy::boundary_group_relationship::default_site",
        "warehouse",
    ] {
        assert!(run.stderr.contains(code), "{code}\n{}", run.stderr);
    }
}

#[test]
fn renaming_a_group_keeps_its_relationships_in_place() {
    let p = contoso();
    p.run(&["apply", "--auto-approve"]).code(0);
    p.edit(
        "boundaries.toml",
        "name = \"HQ Clients\"",
        "name = \"Headquarters\"",
    );
    let plan = p.run(&["plan"]).code(0);
    assert!(!plan.stdout.contains("must be replaced"), "{}", plan.stdout);
    assert!(
        !plan.stdout.contains("boundary_group_relationship"),
        "{}",
        plan.stdout
    );
    p.run(&["apply", "--auto-approve"]).code(0);
    p.run(&["plan", "--detailed-exitcode"]).code(0);
    let all = relationships(&p);
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .any(|r| r["DestinationGroupName"] == "Headquarters"),
        "{all}"
    );
}

#[test]
fn relationships_nobody_manages_are_imported_with_group_keys_and_converge() {
    let p = contoso();
    p.run(&["apply", "--auto-approve"]).code(0);
    // Forget both relationships: they stay in ConfigMgr, unmanaged.
    for address in [
        "boundary_group_relationship.branch_to_hq",
        "boundary_group_relationship.hq_to_default_site",
    ] {
        p.run(&["state", "rm", address]).code(0);
    }
    p.truncate_at("boundaries.toml", "# Fallback (boundary-groups-example.md)");
    let run = p
        .run_env(
            &[
                "import",
                "--connection",
                "cm01",
                "--kinds",
                "boundary_group_relationship",
            ],
            &[("SOURCE_DATE_EPOCH", "0")],
        )
        .code(0);
    assert!(run.stdout.contains("Imported 2 objects"), "{}", run.stdout);
    let imported = p.read("imported.toml");
    for line in [
        "[boundary_group_relationship.branch_1_clients_to_hq_clients]",
        "source = \"branch\"",
        "destination = \"hq\"",
        "software_update_point = \"never\"",
        "destination = \"Default-Site-Boundary-Group<ABC>\"",
        "distribution_point = 120",
    ] {
        assert!(imported.contains(line), "{line}\n{imported}");
    }
    p.run(&["validate"]).code(0);
    p.run(&["plan", "--detailed-exitcode"]).code(0);
}
