//! `cmdeploy resolve HOST` on the Fabrikam example: a host of the manifests is placed by its
//! device record at the site (`--estate`: SMS_R_System IPAddresses, IPSubnets, ADSiteName from
//! `Get-CMDevice -Resource`), an IP subnet boundary matching the client's own subnet ID; without
//! `--estate` it is a diagnostic at the table that declares it, since manifests hold no
//! addresses. Both failed on the old code, which took a host name for an AD site ("no boundary
//! covers ws-muc-001", exit 2), and whose lab answered `-Resource` without the record's
//! addresses.

mod common;

use common::Project;

fn contains_all(text: &str, lines: &[&str]) {
    for line in lines {
        assert!(text.contains(line), "{line}\n---\n{text}");
    }
}

fn applied() -> Project {
    let p = Project::example("fabrikam");
    p.run(&["lab", "reset"]).code(0);
    p.run(&["apply", "--auto-approve"]).code(0);
    p
}

#[test]
fn a_host_without_estate_is_a_diagnostic_at_the_table_that_declares_it() {
    let p = Project::example("fabrikam");
    let run = p.run(&["resolve", "ws-muc-001"]).code(1);
    contains_all(
        &run.stderr,
        &[
            "cmdeploy::resolve::host_without_address",
            "client_group.pushed[\"ws-muc-001\"] declares host ws-muc-001, but the manifests hold no address or AD site for it",
            "clients.toml",
            "resolve ws-muc-001 --estate`",
            "SMS_R_System IPAddresses, IPSubnets, ADSiteName",
        ],
    );
    // A host of a hosts_file, in any case.
    let run = p.run(&["resolve", "KIOSK-SIN-01"]).code(1);
    assert!(
        run.stderr.contains("client_group.kiosks[\"kiosk-sin-01\"]"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_host_with_estate_resolves_from_its_device_record_by_subnet_id() {
    let p = applied();
    // The lab answers Get-CMDevice -Resource with the SMS_R_System record.
    let record = p.console_json(
        "cm01",
        "Get-CMDevice -Name WS-MUC-001 -Resource | ConvertTo-Json",
    );
    assert_eq!(record["IPAddresses"], serde_json::json!(["10.20.42.17"]));
    assert_eq!(record["IPSubnets"], serde_json::json!(["10.20.42.0"]));
    assert_eq!(record["ADSiteName"], "Munich");

    let run = p.run(&["resolve", "ws-muc-001", "--estate"]).code(0).stdout;
    contains_all(
        &run,
        &[
            "ws-muc-001\n  device record (SMS_R_System ",
            "IP addresses 10.20.42.17; subnets 10.20.42.0; AD site Munich; declared by client_group.pushed[\"ws-muc-001\"]",
            "\"EMEA subnet 10.20.42.0\" (BoundaryID",
            "\"Munich AD site\" (BoundaryID",
            "\"EMEA Clients\", site assignment FB1",
            // From the site, each role lists only the servers holding it.
            "  distribution point:\n    now            EMEA Clients: dp02.fabrikam.com\n    after 30 min   Americas Clients: dp01.fabrikam.com\n",
            "  management point:\n    now            EMEA Clients: mp01.fabrikam.com\n    after 10 min   Americas Clients: mp01.fabrikam.com\n",
            "  software update point:\n    now            EMEA Clients: sup01.fabrikam.com\n",
        ],
    );
    // The client's own subnet ID decides: 10.20.40.0, whose widest block holds the address, is
    // not its subnet.
    assert!(!run.contains("10.20.40.0"), "{run}");
    let by_address = p
        .run(&["resolve", "10.20.42.17", "--estate"])
        .code(0)
        .stdout;
    assert!(by_address.contains("10.20.40.0"), "{by_address}");

    // A workgroup kiosk of stores.csv: no AD site, its subnet in APAC.
    let kiosk = p
        .run(&["resolve", "kiosk-sin-01", "--estate", "--json"])
        .code(0)
        .stdout;
    let v: serde_json::Value = serde_json::from_str(&kiosk).unwrap();
    assert_eq!(v["host"]["ip_subnets"], serde_json::json!(["10.30.77.0"]));
    assert_eq!(v["host"]["ad_site"], serde_json::Value::Null);
    assert_eq!(v["boundary_groups"][0]["name"], "APAC Clients");
    assert_eq!(
        v["roles"][0]["steps"][0]["site_systems"],
        serde_json::json!(["cm02.fabrikam.com"])
    );

    // The retired workstation's record is gone: nothing to place it with.
    let gone = p.run(&["resolve", "ws-sin-099", "--estate"]).code(1);
    assert!(
        gone.stderr.contains(
            "ws-sin-099 (client_group.retired[\"ws-sin-099\"]) has no device record at the site"
        ),
        "{}",
        gone.stderr
    );
}
