//! `cmdeploy import`: a Contoso lab seeded with objects nobody manages (two boundaries, two
//! boundary groups, an account and the site's client push settings) is adopted into a new
//! manifest, after which the plan is a no-op, the file validates, and nothing secret leaks.

mod common;

use common::serve::{serve, switch_site_connections_to_winrm};
use common::Project;

const CANARY: &str = "Canary-Import-5150!";

const SEED: &str = r#"
[[boundary]]
type = 0
value = "10.9.0.0"
name = "Lab Subnet"

[[boundary]]
type = 3
value = "10.8.0.1-10.8.0.254"
name = "Lab Range"

[[boundary_group]]
name = "Lab Clients"
description = "Lab floor"
default_site_code = "ABC"
members = ["Lab Subnet", "Lab Range", "HQ LAN"]
site_systems = ["mpserver.contoso.com"]

[[boundary_group]]
name = "Lab Content"
members = ["Lab Range"]

[[site.account]]
user_name = 'CONTOSO\svc-lab'
password = { file = "lab-secrets/lab-account.txt" }

[[gpo]]
id = "6b1a3c2d-4e5f-4a6b-8c7d-0e1f2a3b4c5d"
name = "Lab Client Install"
domain = "contoso.com"

[[gpo.value]]
key = 'HKLM\Software\Policies\Microsoft\ccmsetup'
value_name = "SetupParameters"
type = "String"
value = "SMSSITECODE=ABC FSP=fspserver.contoso.com"

[[gpo.value]]
key = 'HKLM\Software\Policies\Microsoft\ccmsetup'
value_name = "NoDefAutoAssign"
type = "DWord"
value = 1

[[gpo.value]]
key = 'HKLM\Software\Microsoft\SMS\Mobile Client'
value_name = "GPRequestedSiteAssignmentCode"
type = "String"
value = "ABC"

[[gpo.value]]
key = 'HKLM\Software\Microsoft\SMS\Mobile Client'
value_name = "GPSiteAssignmentRetryInterval(Min)"
type = "DWord"
value = 30

[[gpo.value]]
key = 'HKLM\Software\Microsoft\SMS\Mobile Client'
value_name = "GPSiteAssignmentRetryDuration(Hour)"
type = "DWord"
value = 12

[[gpo.value]]
key = 'HKLM\Software\Policies\Microsoft\Windows\WindowsUpdate'
value_name = "WUServer"
type = "String"
value = "http://server1.contoso.com:8530"

[[gpo.value]]
key = 'HKLM\Software\Policies\Microsoft\Windows\WindowsUpdate'
value_name = "WUStatusServer"
type = "String"
value = "http://server1.contoso.com:8530"

[[gpo.value]]
key = 'HKLM\Software\Policies\Microsoft\Windows\WindowsUpdate\AU'
value_name = "UseWUServer"
type = "DWord"
value = 1

[[gpo.link]]
target = "OU=Branch1,DC=contoso,DC=com"

[[gpo.link]]
target = "OU=Servers,DC=contoso,DC=com"

# The real "Install ConfigMgr Client" GPO's typo (shared/corpus): imported commented out.
[[gpo]]
id = "f28c3c29-e501-47e7-9e60-9a3d94715b70"
name = "Legacy Client Install"
domain = "contoso.com"

[[gpo.value]]
key = 'HKLM\Software\Policies\Microsoft\ccmsetup'
value_name = "SetupParameters"
type = "String"
value = "/logon /mp:mpserver.contoso.com SMSSITECODE=ABC SMSMP=mpserver.contoso.com FSP=fspserver.contoso.com DNSSUFIX=contoso.com"

[[gpo.value]]
key = 'HKLM\Software\Policies\Microsoft\ccmsetup'
value_name = "NoDefAutoAssign"
type = "DWord"
value = 1

[[gpo.link]]
target = "OU=Workstations,DC=contoso,DC=com"

# Client settings nobody manages yet: hierarchy settings and the client upgrade package.
[site.hierarchy]
auto_upgrade = true
auto_upgrade_days = 14
pre_production = true
pre_production_collection = "Branch Workstations"
approval_method = "ManuallyApproveEachComputer"
auto_resolve_conflicts = false

[[site.package]]
id = "ABC00042"
name = "Configuration Manager Client Upgrade"
manufacturer = "Microsoft"
source = '\\cm01.contoso.com\SMS_ABC\Client'
distributed_to = ["cm01.contoso.com"]

[[site.package.program]]
name = "Configuration Manager agent silent upgrade"
command_line = "CCMSETUP.EXE /noservice SMSSITECODE=AUTO"

[[site.package.deployment]]
id = "ABC20042"
program = "Configuration Manager agent silent upgrade"
collection_id = "SMS00001"
required = true

# Not cmdeploy's business: never imported.
[[gpo]]
id = "0c0ffee0-0000-4000-8000-000000000001"
name = "Desktop Wallpaper"
domain = "contoso.com"

[[gpo.value]]
key = 'HKCU\Control Panel\Desktop'
value_name = "Wallpaper"
type = "String"
value = 'C:\Windows\Web\contoso.jpg'

[[gpo.link]]
target = "OU=Workstations,DC=contoso,DC=com"
"#;

/// Contoso without the push settings, clients and imaging, its managed part applied, and the
/// lab seeded with unmanaged objects (push settings name the unmanaged account).
fn seeded() -> Project {
    let p = Project::example("contoso");
    for f in ["client_push.toml", "clients.toml", "imaging.toml"] {
        std::fs::remove_file(p.path().join(f)).unwrap();
    }
    p.write("lab-secrets/lab-account.txt", CANARY);
    p.edit(
        "lab.toml",
        "installation_properties = \"\"",
        "installation_properties = \"SMSSITECODE=ABC FSP=fspserver.contoso.com\"\naccounts = ['CONTOSO\\svc-lab']",
    );
    p.edit(
        "lab.toml",
        "software_update_installation = false",
        "software_update_installation = false\nsystem_discovery = true\ndistribution_points = [\"cm01.contoso.com\"]",
    );
    let seed = p.read("lab.toml") + SEED;
    p.write("lab.toml", &seed);
    p.run(&["lab", "reset"]).code(0);
    p.run(&["apply", "--auto-approve"]).code(0);
    p
}

fn import(p: &Project, extra: &[&str]) -> common::Run {
    let mut args = vec!["import", "--connection", "cm01"];
    args.extend_from_slice(extra);
    p.run_env(&args, &[("SOURCE_DATE_EPOCH", "0")])
}

#[test]
fn import_then_plan_is_a_no_op_and_the_file_validates() {
    let p = seeded();
    p.run(&["plan", "--detailed-exitcode"]).code(0);
    let run = import(&p, &[]).code(0);
    assert!(run.stdout.contains("Imported 9 objects"), "{}", run.stdout);
    assert!(run.stdout.contains("9 bound in state"), "{}", run.stdout);
    p.run(&["validate"]).code(0);
    p.run(&["plan", "--detailed-exitcode"]).code(0);
    p.run(&["drift"]).code(0);
    insta::assert_snapshot!("imported_toml", p.read("imported.toml"));
    let state = p.read(".cmdeploy/state.json");
    for address in [
        "account.svc-lab",
        "boundary.subnet_10_9_0_0",
        "boundary.range_10_8_0_1_to_10_8_0_254",
        "boundary_group.lab_clients",
        "boundary_group.lab_content",
        "client_push.ABC",
        "site_settings.ABC",
        "software_update_point.server1",
        "client_upgrade_package.client_upgrade",
    ] {
        assert!(
            state.contains(&format!("\"{address}\"")),
            "{address} not in state"
        );
    }
}

#[test]
fn gpos_with_configmgr_policies_are_imported_from_the_domain_controller() {
    let p = seeded();
    let run = p
        .run_env(
            &["import", "--connection", "dc01", "--out", "gpos.toml"],
            &[("SOURCE_DATE_EPOCH", "0")],
        )
        .code(0);
    assert!(run.stdout.contains("Imported 2 objects"), "{}", run.stdout);
    assert!(run.stdout.contains("1 bound in state"), "{}", run.stdout);
    assert!(
        run.stderr
            .contains("gpo.legacy_client_install is written commented out")
            && run.stderr.contains("DNSSUFIX"),
        "{}",
        run.stderr
    );
    let toml = p.read("gpos.toml");
    assert!(!toml.contains("Desktop Wallpaper"), "{toml}");
    assert!(
        !toml.contains("ConfigMgr Software Update Point"),
        "managed GPOs stay out"
    );
    p.run(&["validate"]).code(0);
    p.run(&["plan", "--detailed-exitcode"]).code(0);
    p.run(&["drift"]).code(0);
    insta::assert_snapshot!("imported_gpos_toml", toml);
    let state = p.read(".cmdeploy/state.json");
    assert!(state.contains("\"gpo.lab_client_install\""));
    assert!(!state.contains("legacy_client_install"));
    // GPOs are not read through the site server, nor site objects through the DC.
    let run = import(&p, &["--kinds", "gpo"]).code(1);
    assert!(
        run.stderr
            .contains("`gpo` objects are not read through connection cm01"),
        "{}",
        run.stderr
    );
    // Fixing the typo and uncommenting the table: the next apply corrects the GPO.
    let fixed = toml
        .split("# [gpo.legacy_client_install]")
        .nth(1)
        .unwrap()
        .lines()
        .map(|l| l.strip_prefix("# ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
        .replace("DNSSUFIX", "DNSSUFFIX");
    p.write(
        "gpos.toml",
        &format!("{toml}\n[gpo.legacy_client_install]{fixed}\n"),
    );
    let plan = p.run(&["plan", "--detailed-exitcode"]).code(2);
    assert!(
        plan.stdout.contains("gpo.legacy_client_install"),
        "{}",
        plan.stdout
    );
    p.run(&["apply", "--auto-approve"]).code(0);
    p.run(&["plan", "--detailed-exitcode"]).code(0);
}

#[test]
fn account_passwords_are_never_written_and_stay_unmanaged() {
    let p = seeded();
    let run = import(&p, &[]).code(0);
    let toml = p.read("imported.toml");
    let state = p.read(".cmdeploy/state.json");
    for text in [&toml, &state, &run.stdout, &run.stderr] {
        assert!(!text.contains(CANARY), "the account password leaked");
    }
    assert!(toml.contains("# password = { env = \"CMDEPLOY_SECRET_CONTOSO_SVC_LAB\" }"));
    // Managing the password later: the next plan sets it once (no fingerprint yet).
    p.edit(
        "imported.toml",
        "# password = { env = \"CMDEPLOY_SECRET_CONTOSO_SVC_LAB\" }\n[account.svc-lab]",
        "[account.svc-lab]\npassword = { env = \"CMDEPLOY_SECRET_CONTOSO_SVC_LAB\" }",
    );
    let env = [("CMDEPLOY_SECRET_CONTOSO_SVC_LAB", "New-Passw0rd")];
    let plan = p.run_env(&["plan", "--detailed-exitcode"], &env).code(2);
    assert!(
        plan.stdout.contains("account.svc-lab will be updated"),
        "{}",
        plan.stdout
    );
    p.run_env(&["apply", "--auto-approve"], &env).code(0);
    p.run_env(&["plan", "--detailed-exitcode"], &env).code(0);
}

#[test]
fn kinds_filter_and_references_pull_in_what_they_need() {
    let p = seeded();
    let run = import(&p, &["--kinds", "boundary_group", "--out", "groups.toml"]).code(0);
    assert!(
        run.stdout.contains("needed by boundary_group.lab_clients"),
        "{}",
        run.stdout
    );
    let toml = p.read("groups.toml");
    assert!(toml.contains("[boundary_group.lab_clients]"));
    assert!(toml.contains("[boundary.subnet_10_9_0_0]"));
    assert!(!toml.contains("[account."));
    assert!(!toml.contains("[client_push."));
    assert!(toml
        .contains(r#"boundaries = ["range_10_8_0_1_to_10_8_0_254", "hq_lan", "subnet_10_9_0_0"]"#));
    p.run(&["plan", "--detailed-exitcode"]).code(0);
    let run = import(&p, &["--kinds", "account"]).code(0);
    assert!(run.stdout.contains("Imported 1 objects"), "{}", run.stdout);
    assert!(p.read("imported.toml").contains("[account.svc-lab]"));
}

#[test]
fn unknown_or_misplaced_kinds_are_refused_with_the_valid_ones() {
    let p = seeded();
    let run = import(&p, &["--kinds", "boundry"]).code(1);
    assert!(
        run.stderr.contains("unknown kind `boundry`; through cm01 you can import: account, boundary, boundary_group, boundary_group_relationship, client_push"),
        "{}",
        run.stderr
    );
    let run = import(&p, &["--kinds", "imaging"]).code(1);
    assert!(
        run.stderr.contains("`imaging` cannot be imported"),
        "{}",
        run.stderr
    );
    let run = p.run(&["import", "--connection", "cm99"]).code(1);
    assert!(
        run.stderr.contains("unknown connection `cm99`"),
        "{}",
        run.stderr
    );
    let run = import(&p, &["--out", "lab.toml"]).code(1);
    assert!(
        run.stderr.contains("must be a new .toml file"),
        "{}",
        run.stderr
    );
    // No lock is left held: the lock file stays (it is never deleted) but names no holder.
    let lock = std::fs::read_to_string(p.path().join(".cmdeploy/state.lock")).unwrap_or_default();
    assert!(lock.is_empty(), "lock left held: {lock}");
}

#[test]
fn an_existing_file_is_replaced_only_with_force() {
    let p = seeded();
    p.write("imported.toml", "# mine\n");
    let run = import(&p, &[]).code(1);
    assert!(
        run.stderr.contains("already exists; pass --force"),
        "{}",
        run.stderr
    );
    assert_eq!(p.read("imported.toml"), "# mine\n");
    let before = p.read(".cmdeploy/state.json");
    assert!(!before.contains("svc-lab"));
    import(&p, &["--force"]).code(0);
    let first = p.read("imported.toml");
    // Replacing a file import wrote imports its objects again, under the same names.
    import(&p, &["--force"]).code(0);
    assert_eq!(p.read("imported.toml"), first);
    p.run(&["plan", "--detailed-exitcode"]).code(0);
}

#[test]
fn a_second_import_finds_nothing_new() {
    let p = seeded();
    import(&p, &[]).code(0);
    let serial = |p: &Project| {
        let v: serde_json::Value = serde_json::from_str(&p.read(".cmdeploy/state.json")).unwrap();
        v["serial"].as_u64().unwrap()
    };
    let before = serial(&p);
    let run = import(&p, &["--out", "again.toml"]).code(0);
    assert!(run.stdout.contains("Nothing to import"), "{}", run.stdout);
    assert!(!p.path().join("again.toml").exists());
    assert_eq!(serial(&p), before);
}

#[test]
fn import_over_winrm_against_lab_serve() {
    let p = seeded();
    let s = serve(&p, &[]);
    switch_site_connections_to_winrm(&p, s.port, None, "lab-secrets/admin.txt");
    let run = import(&p, &[]).code(0);
    assert!(run.stdout.contains("Imported 9 objects"), "{}", run.stdout);
    p.run(&["validate"]).code(0);
    p.run(&["plan", "--detailed-exitcode"]).code(0);
    assert!(!p.read("imported.toml").contains(CANARY));
}

/// The upgrade example's site-side settings, applied, then dropped from the manifests and from
/// state (as if cmdeploy had never managed them): import writes the client upgrade package, the
/// site's client settings and the software update point back, and the plan is a no-op.
#[test]
fn client_settings_sups_and_upgrade_package_are_imported_back() {
    let p = Project::example("upgrade");
    p.run(&["lab", "reset"]).code(0);
    p.run(&["apply", "--auto-approve"]).code(0);
    let addresses = [
        "client_upgrade_package.upgrade",
        "site_settings.ABC",
        "software_update_point.server1",
    ];
    for a in addresses {
        p.run(&["state", "rm", a]).code(0);
    }
    p.write("upgrade.toml", "");
    p.write("settings.toml", "");
    p.remove_table("software_updates.toml", "[software_update_point.server1]");
    let run = import(&p, &[]).code(0);
    for a in [
        "client_upgrade_package.client_upgrade",
        "site_settings.ABC",
        "software_update_point.server1",
    ] {
        assert!(run.stdout.contains(a), "{a} not imported: {}", run.stdout);
    }
    assert!(run.stdout.contains("3 bound in state"), "{}", run.stdout);
    let toml = p.read("imported.toml");
    for line in [
        "distribution_points = [\"dp01.contoso.com\"]",
        "pre_production_collection = \"Pre-production clients\"",
        "exclude_servers = true",
        "approval = \"trusted_domains\"",
        "system_discovery = true",
        "https_port = 8531",
        "collection = \"All Desktop and Server Clients\"",
        "deploy_purpose = \"available\"",
    ] {
        assert!(toml.contains(line), "`{line}` missing:\n{toml}");
    }
    p.run(&["validate"]).code(0);
    p.run(&["plan", "--detailed-exitcode"]).code(0);
    p.run(&["drift"]).code(0);
}
