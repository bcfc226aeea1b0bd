//! The site-side deployment methods end to end against the lab (examples/upgrade): the client
//! upgrade package and program, site settings, software update-based installation. Plan, apply,
//! converge, and drift after console changes; and the rules each method brings, as diagnostics.

mod common;

use common::Project;

fn console(p: &Project, statement: &str) {
    p.run(&["lab", "console", "--connection", "cm01", statement])
        .code(0);
}

#[test]
fn plan_apply_converge_and_drift_after_console_changes() {
    let p = Project::example("upgrade");
    p.run(&["lab", "reset"]).code(0);
    let plan = p.run(&["plan", "--detailed-exitcode"]).code(2);
    for part in [
        "Later Version of Client Package Detected: the site's client is 5.00.9128.1000, the software update point holds client 5.00.9122.1000",
        "published_client_current = false -> true",
        "+ collection          = \"All Desktop and Server Clients\"",
        "+ deploy_purpose      = \"available\"",
        "is deployed to collection \"All Desktop and Server Clients\" (New-CMPackageDeployment)",
        "+ command_line        = \"/noservice SMSSITECODE=AUTO\"",
        "blocked_devices                             = [] -> [\"LAPTOP07\"]",
        "http_port  = 80 -> 8530",
        "Plan: 3 to add, 4 to change, 0 to destroy.",
    ] {
        assert!(plan.stdout.contains(part), "{part:?} in\n{}", plan.stdout);
    }
    assert!(
        !plan.stderr.contains("deployment_manual"),
        "{}",
        plan.stderr
    );
    p.run(&["apply", "--auto-approve"]).code(0);
    let again = p.run(&["plan", "--detailed-exitcode"]).code(0);
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);
    p.run(&["drift"]).code(0);

    // Behind cmdeploy's back: the program's command line changes, a device is unblocked, system
    // discovery is turned off, the content leaves the distribution point.
    console(&p, "Set-CMProgram -PackageName 'Configuration Manager Client Upgrade' -ProgramName 'Configuration Manager agent silent upgrade' -StandardProgram -CommandLine 'CCMSETUP.EXE /noservice'");
    console(&p, "Unblock-CMDevice -DeviceName LAPTOP07");
    console(
        &p,
        "Set-CMDiscoveryMethod -ActiveDirectorySystemDiscovery -SiteCode ABC -Enabled $false",
    );
    let id = p.console_json("cm01", "Get-CMPackage | ConvertTo-Json")["PackageID"]
        .as_str()
        .unwrap()
        .to_string();
    console(
        &p,
        &format!("Remove-CMContentDistribution -PackageId {id} -DistributionPointName dp01.contoso.com -Force"),
    );
    // ...and the deployment to the collection is deleted.
    console(
        &p,
        &format!("Remove-CMPackageDeployment -PackageId {id} -CollectionName 'All Desktop and Server Clients' -Force"),
    );
    let drift = p.run(&["drift"]).code(2);
    for part in [
        "client_upgrade_package.upgrade changed outside cmdeploy",
        "command_line: \"/noservice SMSSITECODE=AUTO\" (last applied) -> \"/noservice\" (estate)",
        "site_settings.ABC changed outside cmdeploy",
        "blocked_devices: [\"LAPTOP07\"] (last applied) -> [] (estate)",
        "system_discovery: true (last applied) -> false (estate)",
        "distribution_points: [\"dp01.contoso.com\"] (last applied) -> [] (estate)",
        "collection: \"All Desktop and Server Clients\" (last applied) -> (unset) (estate)",
    ] {
        assert!(drift.stdout.contains(part), "{part:?} in\n{}", drift.stdout);
    }
    p.run(&["apply", "--auto-approve"]).code(0);
    p.run(&["drift"]).code(0);
    let deployed = p.console_json("cm01", "Get-CMPackageDeployment | ConvertTo-Json");
    assert_eq!(deployed["PackageID"], serde_json::json!(id), "{deployed}");
    assert_eq!(
        deployed["CollectionID"],
        serde_json::json!("ABC00016"),
        "{deployed}"
    );

    // A required deployment to another collection replaces the available one.
    p.edit(
        "upgrade.toml",
        "collection = \"All Desktop and Server Clients\"",
        "collection = \"All Systems\"\ndeploy_purpose = \"required\"",
    );
    p.run(&["apply", "--auto-approve"]).code(0);
    p.run(&["plan", "--detailed-exitcode"]).code(0);
    let deployed = p.console_json("cm01", "Get-CMPackageDeployment | ConvertTo-Json");
    assert_eq!(
        deployed["CollectionID"],
        serde_json::json!("SMS00001"),
        "{deployed}"
    );
    assert_eq!(deployed["OfferType"], serde_json::json!(0), "{deployed}");
}

/// The lab refuses a deployment to a collection that does not exist, as ConfigMgr does, and
/// apply names it.
#[test]
fn a_deployment_to_an_unknown_collection_is_refused() {
    let p = Project::example("upgrade");
    p.run(&["lab", "reset"]).code(0);
    p.edit(
        "upgrade.toml",
        "collection = \"All Desktop and Server Clients\"",
        "collection = \"All Desktop Clients\"",
    );
    let apply = p.run(&["apply", "--auto-approve"]).code(1);
    let all = apply.all();
    assert!(all.contains("New-CMPackageDeployment"), "{all}");
    assert!(all.contains("collection 'All Desktop Clients'"), "{all}");
}

#[test]
fn missing_content_on_a_distribution_point_is_distributed_again() {
    let p = Project::example("upgrade");
    p.run(&["lab", "reset"]).code(0);
    p.run(&["apply", "--auto-approve"]).code(0);
    // The package is deleted at the console: plan creates it again, with its content.
    let v = p.console_json("cm01", "Get-CMPackage | ConvertTo-Json");
    let id = v["PackageID"].as_str().unwrap().to_string();
    console(&p, &format!("Remove-CMPackage -Id {id} -Force"));
    let plan = p.run(&["plan", "--detailed-exitcode"]).code(2);
    assert!(
        plan.stdout
            .contains("client_upgrade_package.upgrade will be created"),
        "{}",
        plan.stdout
    );
    p.run(&["apply", "--auto-approve"]).code(0);
    let on = p
        .run(&[
            "lab",
            "console",
            "--connection",
            "cm01",
            "Get-CMDeploymentPackage -DistributionPointName dp01.contoso.com | ConvertTo-Json",
        ])
        .code(0);
    assert!(
        on.stdout.contains("Configuration Manager Client Upgrade"),
        "{}",
        on.stdout
    );
}

fn refused(p: &Project, code: &str, parts: &[&str]) {
    let out = p.run(&["validate"]).code(1);
    assert!(out.stderr.contains(code), "{code} in\n{}", out.stderr);
    for part in parts {
        assert!(out.stderr.contains(part), "{part:?} in\n{}", out.stderr);
    }
}

#[test]
fn automatic_push_without_system_discovery_is_refused() {
    let p = Project::example("upgrade");
    p.edit(
        "settings.toml",
        "system_discovery = true",
        "system_discovery = false",
    );
    refused(
        &p,
        "cmdeploy::site_settings::push_needs_discovery",
        &[
            "client_push.ABC enables automatic site-wide client push",
            "settings.toml:7",
            "rule 12",
        ],
    );
}

#[test]
fn wsus_url_must_use_the_software_update_points_name_form_and_port() {
    let p = Project::example("upgrade");
    p.edit(
        "software_updates.toml",
        "server = \"http://server1.contoso.com:8530\"",
        "server = \"http://server1:8530\"",
    );
    refused(
        &p,
        "cmdeploy::gpo::wsus_url",
        &["WUServer `http://server1:8530` of gpo.wsus does not match the software update point (http://server1.contoso.com:8530)", "FQDN or short name"],
    );
    let p = Project::example("upgrade");
    // HTTPS while the software update point does not require SSL.
    p.edit(
        "software_updates.toml",
        "\"http://server1.contoso.com:8530\"",
        "\"https://server1.contoso.com:8531\"",
    );
    refused(&p, "cmdeploy::gpo::wsus_url", &["does not match"]);
}

#[test]
fn software_update_point_ports_follow_the_http_plus_one_rule() {
    let p = Project::example("upgrade");
    p.edit(
        "software_updates.toml",
        "https_port = 8531",
        "https_port = 443",
    );
    refused(
        &p,
        "cmdeploy::software_update_point::ports",
        &["WSUS ports 8530/443 do not go together", "HTTP+1"],
    );
}

#[test]
fn site_settings_and_package_values_are_checked() {
    let p = Project::example("upgrade");
    p.edit("settings.toml", "days = 7", "days = 45");
    refused(&p, "cmdeploy::site_settings::upgrade_days", &["1 to 31"]);

    let p = Project::example("upgrade");
    p.edit(
        "upgrade.toml",
        "command_line = \"/noservice SMSSITECODE=AUTO\"",
        "command_line = \"SMSSITECODE=AUTO /noservice\"",
    );
    refused(&p, "cmdeploy::ccmsetup::order", &["program command line"]);

    let p = Project::example("upgrade");
    p.edit(
        "upgrade.toml",
        "source = '\\\\cm01.contoso.com",
        "source = 'C:",
    );
    refused(
        &p,
        "cmdeploy::client_upgrade_package::source",
        &["network path"],
    );

    let p = Project::example("upgrade");
    p.write(
        "more_settings.toml",
        "[site_settings.XYZ]\nsite = \"ABC\"\napproval = \"manual\"\n",
    );
    refused(
        &p,
        "cmdeploy::site_settings::hierarchy_twice",
        &["both set hierarchy settings"],
    );
}

#[test]
fn software_update_based_installation_needs_a_primary_sites_software_update_point() {
    let p = Project::example("upgrade");
    p.remove_table("software_updates.toml", "[software_update_point.server1]");
    p.write(
        "other_sup.toml",
        "[site.XYZ]\ntype = \"primary\"\nserver = \"cm02.contoso.com\"\nconnection = \"cm01\"\n\n[software_update_point.cm02]\nsite = \"XYZ\"\nserver = \"cm02.contoso.com\"\n",
    );
    refused(
        &p,
        "cmdeploy::software_update_point::primary_site",
        &[
            "site.ABC has no software update point in the manifest",
            "site.toml:9",
        ],
    );
}

/// Manual approval leaves a client waiting in Devices; `approved_devices` approves it
/// (`Approve-CMDevice`), after which the plan is a no-op. A device without a client cannot be
/// approved, and apply says so.
#[test]
fn approved_devices_are_approved_and_non_clients_are_refused() {
    let p = Project::example("upgrade");
    // The site approves each computer by hand already.
    p.edit(
        "lab.toml",
        "software_update_client_version = \"5.00.9122.1000\"",
        "software_update_client_version = \"5.00.9122.1000\"\nhierarchy = { approval_method = \"ManuallyApproveEachComputer\" }",
    );
    p.edit(
        "settings.toml",
        "approval = \"trusted_domains\"",
        "approval = \"manual\"\napproved_devices = [\"laptop07\"]",
    );
    p.run(&["lab", "reset"]).code(0);
    let record = p.console_json("cm01", "Get-CMDevice -Name LAPTOP07 -Fast | ConvertTo-Json");
    assert_eq!(record["IsApproved"], serde_json::json!(0), "{record}");
    let plan = p.run(&["plan"]).code(0);
    assert!(
        plan.stdout.contains("approved_devices") && plan.stdout.contains("[] -> [\"LAPTOP07\"]"),
        "{}",
        plan.stdout
    );
    p.run(&["apply", "--auto-approve"]).code(0);
    p.run(&["plan", "--detailed-exitcode"]).code(0);
    let record = p.console_json("cm01", "Get-CMDevice -Name LAPTOP07 -Fast | ConvertTo-Json");
    assert_eq!(record["IsApproved"], serde_json::json!(1), "{record}");

    p.edit(
        "settings.toml",
        "approved_devices = [\"laptop07\"]",
        "approved_devices = [\"laptop07\", \"dp01\"]",
    );
    let apply = p.run(&["apply", "--auto-approve"]).code(1);
    let all = apply.all();
    assert!(all.contains("Approve-CMDevice"), "{all}");
    assert!(all.contains("only client records can be approved"), "{all}");
}

/// Approval is decided when a client registers: switching the site to manual approval leaves a
/// client approved under "trusted domains" approved.
#[test]
fn a_client_approved_before_manual_approval_stays_approved() {
    let p = Project::example("upgrade");
    p.run(&["lab", "reset"]).code(0);
    p.run(&["apply", "--auto-approve"]).code(0);
    p.edit(
        "settings.toml",
        "approval = \"trusted_domains\"",
        "approval = \"manual\"\napproved_devices = [\"LAPTOP07\"]",
    );
    let plan = p.run(&["plan"]).code(0);
    assert!(
        !plan.stdout.contains("[] -> [\"LAPTOP07\"]"),
        "{}",
        plan.stdout
    );
    p.run(&["apply", "--auto-approve"]).code(0);
    p.run(&["plan", "--detailed-exitcode"]).code(0);
    let record = p.console_json("cm01", "Get-CMDevice -Name LAPTOP07 -Fast | ConvertTo-Json");
    assert_eq!(record["IsApproved"], serde_json::json!(1), "{record}");
}

/// Conflicting records waiting for an administrator: `merge` and `block` clear them with
/// Merge-/Block-CMConflictingRecord, and `new`, which no cmdlet does, makes the plan name the
/// console step for each.
#[test]
fn pending_conflicting_records_are_merged_blocked_or_named() {
    let p = Project::example("upgrade");
    let seed = p.read("lab.toml")
        + "\n[[site.conflicting_record]]\nsmsid = \"GUID:0A1B\"\nname = \"WS07\"\n\n[[site.conflicting_record]]\nsmsid = \"GUID:0C2D\"\nname = \"WS08\"\n";
    p.write("lab.toml", &seed);
    p.edit(
        "settings.toml",
        "conflicting_records = \"automatic\"",
        "conflicting_records = \"manual\"\nconflicting_record_action = \"new\"",
    );
    p.run(&["lab", "reset"]).code(0);
    let plan = p.run(&["plan", "--detailed-exitcode"]).code(2);
    assert!(
        plan.stdout
            .contains("select WS07 and choose Create New Record"),
        "{}",
        plan.stdout
    );
    let apply = p.run(&["apply", "--auto-approve"]).code(1);
    assert!(
        apply
            .all()
            .contains("select WS08 and choose Create New Record"),
        "{}",
        apply.all()
    );

    p.edit(
        "settings.toml",
        "conflicting_record_action = \"new\"",
        "conflicting_record_action = \"merge\"",
    );
    let plan = p.run(&["plan"]).code(0);
    assert!(
        plan.stdout
            .contains("conflicting_records_pending = [\"WS07\",\"WS08\"] -> []"),
        "{}",
        plan.stdout
    );
    p.run(&["apply", "--auto-approve"]).code(0);
    p.run(&["plan", "--detailed-exitcode"]).code(0);
    let none_left = |p: &Project| {
        let out = p
            .run(&[
                "lab",
                "console",
                "--connection",
                "cm01",
                "Get-CMConflictingRecord | ConvertTo-Json",
            ])
            .code(0)
            .stdout;
        assert!(out.trim().is_empty(), "{out}");
    };
    none_left(&p);

    // The conflicts again (a fresh lab); `block` creates blocked records for them.
    p.edit(
        "settings.toml",
        "conflicting_record_action = \"merge\"",
        "conflicting_record_action = \"block\"",
    );
    p.run(&["lab", "reset"]).code(0);
    p.run(&["apply", "--auto-approve"]).code(0);
    p.run(&["plan", "--detailed-exitcode"]).code(0);
    none_left(&p);
    let audit = p.read(".cmdeploy/lab/audit.jsonl");
    assert!(audit.contains("Block-CMConflictingRecord"), "no block call");
    let show = p.run(&["lab", "show"]).code(0).stdout;
    assert!(show.contains("WS07"), "{show}");
}

/// Publishing the site to Active Directory (Site Properties, Publishing): `publish_to_forests`
/// adds the forest with Set-CMSite -AddActiveDirectoryForest (through the runner, which passes
/// Get-CMActiveDirectoryForest's object), a forest dropped from the list is removed, and a forest
/// ConfigMgr does not know is refused with what to do.
#[test]
fn the_site_is_published_to_the_forests_the_manifest_names() {
    let p = Project::example("upgrade");
    p.edit(
        "site.toml",
        "connection = \"cm01\"\nsoftware_update_installation",
        "connection = \"cm01\"\npublish_to_forests = [\"Contoso.com\"]\nsoftware_update_installation",
    );
    p.run(&["lab", "reset"]).code(0);
    let plan = p.run(&["plan"]).code(0);
    assert!(
        plan.stdout
            .contains("~ publish_to_forests       = [] -> [\"contoso.com\"]"),
        "{}",
        plan.stdout
    );
    p.run(&["apply", "--auto-approve"]).code(0);
    p.run(&["plan", "--detailed-exitcode"]).code(0);
    let published = p.console_json(
        "cm01",
        "Get-CmdeploySitePublishing -SiteCode ABC | ConvertTo-Json",
    );
    assert_eq!(
        published["ForestFQDN"],
        serde_json::json!("contoso.com"),
        "{published}"
    );

    p.edit(
        "site.toml",
        "publish_to_forests = [\"Contoso.com\"]",
        "publish_to_forests = []",
    );
    p.run(&["apply", "--auto-approve"]).code(0);
    p.run(&["plan", "--detailed-exitcode"]).code(0);

    p.edit(
        "site.toml",
        "publish_to_forests = []",
        "publish_to_forests = [\"fabrikam.com\"]",
    );
    let apply = p.run(&["apply", "--auto-approve"]).code(1);
    let all = apply.all();
    assert!(all.contains("Set-CmdeploySitePublishing"), "{all}");
    assert!(
        all.contains("fabrikam.com is not among the site's Active Directory Forests"),
        "{all}"
    );
}
