//! The Fabrikam hierarchy example (examples/fabrikam): primary site FB1 and its secondary site
//! FB2, a software update point, 286 boundaries in three regions, fallback between their groups, workgroup, internet,
//! upgraded and retired clients. It validates clean; the first apply upgrades the lab seed's
//! older clients and uninstalls the retired one, the next plan is empty, and drift finds a
//! relationship changed in the console. `resolve` answers for its addresses, ranges and AD
//! sites from the manifests, and from the site after apply with each role's own servers (its
//! hosts: tests/resolve_host.rs).

mod common;

use common::Project;

fn fabrikam() -> Project {
    let p = Project::example("fabrikam");
    p.run(&["lab", "reset"]).code(0);
    p
}

fn contains_all(text: &str, lines: &[&str]) {
    for line in lines {
        assert!(text.contains(line), "{line}\n---\n{text}");
    }
}

fn device(p: &Project, name: &str) -> serde_json::Value {
    p.console_json(
        "cm01",
        &format!("Get-CMDevice -Name {name} | ConvertTo-Json"),
    )
}

#[test]
fn fabrikam_validates_clean() {
    let p = Project::example("fabrikam");
    let run = p.run(&["validate", "--strict"]).code(0);
    assert!(
        run.stdout.contains("Valid: 310 resources in 7 files."),
        "{}",
        run.all()
    );
    assert!(run.stderr.is_empty(), "{}", run.stderr);
}

#[test]
fn the_first_apply_upgrades_and_uninstalls_then_converges_and_drift_finds_a_console_change() {
    let p = fabrikam();
    let plan = p.run(&["plan", "--detailed-exitcode"]).code(2).stdout;
    contains_all(
        &plan,
        &[
            "  boundary:                    284 to add, 0 to change, 0 to destroy",
            "  boundary_group_relationship: 3 to add, 0 to change, 0 to destroy",
            "Plan: 297 to add, 9 to change, 0 to destroy.",
        ],
    );
    let clients = p.run(&["plan", "--target", "client_group"]).code(0).stdout;
    contains_all(
        &clients,
        &[
            "# client_group.upgrade[\"ws-red-001\"] will be updated in-place",
            "client 5.00.9096.1000 is older than site FB1's client 5.00.9128.1000: upgrade",
            r"runs: C:\ClientSource\ccmsetup.exe /forceinstall /mp:mp01.fabrikam.com",
            "# client_group.pushed[\"ws-muc-001\"] will be updated in-place",
            "# client_group.retired[\"ws-sin-099\"] will be updated in-place",
            r"runs: C:\ClientSource\ccmsetup.exe /uninstall",
            "# client_group.kiosks[\"kiosk-sin-01\"] will be created",
            "# client_group.roaming[\"roam01\"] will be created",
        ],
    );
    // The laboratory PC's client meets its group's minimum: nothing to do.
    assert!(!clients.contains("lab_pcs"), "{clients}");

    p.run(&["apply", "--auto-approve"]).code(0);
    for name in ["WS-RED-001", "WS-MUC-002", "KIOSK-SIN-01", "ROAM02"] {
        assert_eq!(
            device(&p, name)["ClientVersion"],
            "5.00.9128.1000",
            "{name}"
        );
    }
    assert_eq!(device(&p, "WS-RED-050")["ClientVersion"], "5.00.9106.1000");
    let retired = p
        .run(&[
            "lab",
            "console",
            "--connection",
            "cm01",
            "Get-CMDevice -Name WS-SIN-099 | ConvertTo-Json",
        ])
        .code(0);
    assert!(retired.stdout.trim().is_empty(), "{}", retired.stdout);
    let plan = p.run(&["plan", "--detailed-exitcode"]).code(0).stdout;
    assert!(
        plan.contains("No changes. The estate matches the manifests (310 resources checked)."),
        "{plan}"
    );
    // The site now answers as the manifests do, and says which server holds which role:
    // Singapore gets content and management from the secondary site's server, software updates
    // only from Redmond's software update point after an hour.
    let site = p.run(&["resolve", "Singapore", "--estate"]).code(0).stdout;
    contains_all(
        &site,
        &[
            "\"Singapore AD site\" (BoundaryID",
            "  assigned site: FB1",
            "  distribution point:\n    now            APAC Clients: cm02.fabrikam.com\n    after 120 min  Default-Site-Boundary-Group<FB1>: no site system\n    never          Americas Clients\n",
            "  management point:\n    now            APAC Clients: cm02.fabrikam.com\n    after 20 min   Americas Clients: mp01.fabrikam.com\n",
            "  software update point:\n    now            APAC Clients: no site system\n    after 60 min   Americas Clients: sup01.fabrikam.com\n",
        ],
    );
    let range = p.run(&["resolve", "172.20.5.9", "--estate"]).code(0).stdout;
    contains_all(
        &range,
        &[
            "\"EMEA VPN address pool\" (BoundaryID",
            "  distribution point:\n    now            EMEA Clients: dp02.fabrikam.com\n    after 30 min   Americas Clients: dp01.fabrikam.com\n",
        ],
    );

    p.run(&[
        "lab",
        "console",
        "--connection",
        "cm01",
        "Set-CMBoundaryGroupRelationship -SourceGroupName 'EMEA Clients' -DestinationGroupName 'Americas Clients' -FallbackDPMinutes 240",
    ])
    .code(0);
    let drift = p.run(&["drift"]).code(2).stdout;
    assert!(
        drift.contains("boundary_group_relationship.emea_to_americas"),
        "{drift}"
    );
    assert!(drift.contains("240"), "{drift}");
}

#[test]
fn resolve_answers_for_a_subnet_a_range_and_an_ad_site_now_and_after_fallback() {
    let p = Project::example("fabrikam");
    let subnet = p.run(&["resolve", "10.20.42.17"]).code(0).stdout;
    contains_all(
        &subnet,
        &[
            "    boundary.eu_042 (ip_subnet 10.20.42.0)",
            "    boundary_group.emea \"EMEA Clients\", site assignment FB1",
            "  assigned site: FB1",
            // The manifests do not say which site system holds which role: each role lists the
            // group's site systems.
            "  distribution point:\n    now            EMEA Clients: dp02.fabrikam.com, mp01.fabrikam.com, sup01.fabrikam.com\n    after 30 min   Americas Clients: dp01.fabrikam.com, mp01.fabrikam.com, sup01.fabrikam.com\n    after 120 min  Default-Site-Boundary-Group<FB1>",
            "  management point:\n    now            EMEA Clients: dp02.fabrikam.com, mp01.fabrikam.com, sup01.fabrikam.com\n    after 10 min   Americas Clients",
            "    never          Americas Clients",
        ],
    );
    let range = p.run(&["resolve", "172.20.5.9"]).code(0).stdout;
    contains_all(
        &range,
        &[
            "    boundary.eu_vpn_pool (ip_range 172.20.0.1-172.20.15.254)",
            "    boundary_group.emea \"EMEA Clients\", site assignment FB1",
        ],
    );
    // Singapore, behind the secondary site: its server cm02 at once, content never from
    // Redmond, management after 20 minutes, software updates after an hour.
    let site = p.run(&["resolve", "Singapore"]).code(0).stdout;
    contains_all(
        &site,
        &[
            "    boundary.ap_ad_site (ad_site Singapore)",
            "  assigned site: FB1",
            "  distribution point:\n    now            APAC Clients: cm02.fabrikam.com\n    after 120 min  Default-Site-Boundary-Group<FB1>: no site system\n    never          Americas Clients",
            "  management point:\n    now            APAC Clients: cm02.fabrikam.com\n    after 20 min   Americas Clients",
            "  software update point:\n    now            APAC Clients: cm02.fabrikam.com\n    after 60 min   Americas Clients",
        ],
    );
    let json = p.run(&["resolve", "Redmond", "--json"]).code(0).stdout;
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["boundary_groups"][0]["name"], "Americas Clients");
    assert_eq!(
        v["roles"][1]["never"],
        serde_json::json!(["Default-Site-Boundary-Group<FB1>"])
    );
    let outside = p.run(&["resolve", "192.0.2.1"]).code(2).stdout;
    assert!(
        outside.contains("warning: no boundary covers 192.0.2.1"),
        "{outside}"
    );
}
