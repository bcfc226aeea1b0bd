//! The examples against a lab that behaves as Windows does inside a WinRM session
//! (windows-runtime.md Part B): plan, apply and converge still hold.

mod common;

use common::Project;

/// Item 3: the GroupPolicy module talks to the PDC emulator unless given `-Server`; from a
/// session on another domain controller that is a second hop (windows-runtime.md §6).
#[test]
fn gpo_changes_run_on_the_domain_controller_of_the_connection_not_the_pdc_emulator() {
    let p = Project::example("contoso");
    p.edit(
        "lab.toml",
        "controllers = [\"dc01.contoso.com\"]",
        "controllers = [\"pdc.contoso.com\", \"dc01.contoso.com\"]",
    );
    p.run(&["lab", "reset"]).code(0);
    let apply = p.run(&["apply", "--auto-approve"]);
    assert!(
        !apply.all().contains("Contacting the domain controller"),
        "a GroupPolicy call left the session's host:\n{}",
        apply.all()
    );
    apply.code(0);
    let again = p.run(&["plan", "--detailed-exitcode"]).code(0);
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);
}

/// Item 3: manual installs never read a UNC source from inside the session.
#[test]
fn a_unc_client_source_is_refused_before_anything_runs() {
    let p = Project::example("contoso");
    p.edit(
        "clients.toml",
        "source = 'C:\\ClientSource'",
        "source = '\\\\cm01.contoso.com\\SMS_ABC\\Client'",
    );
    let v = p.run(&["validate"]).code(1);
    assert!(
        v.all().contains("cmdeploy::client::unc_source"),
        "{}",
        v.all()
    );
    assert!(v.all().contains("double hop"), "{}", v.all());

    let p = Project::example("contoso");
    p.edit(
        "imaging.toml",
        "source = 'C:\\ClientSource'",
        "source = '\\\\cm01.contoso.com\\SMS_ABC\\Client'",
    );
    let v = p.run(&["validate"]).code(1);
    assert!(
        v.all().contains("cmdeploy::client::unc_source"),
        "{}",
        v.all()
    );
}

/// Item 3: push prerequisite checks run in the site server's WinRM session; a UNC path or a
/// remote CIM session fails there for healthy computers, so the plan must not report them as
/// failures (windows-runtime.md §6).
#[test]
fn healthy_push_targets_get_no_prerequisite_failures_from_a_session() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let plan = p.run(&["plan"]).code(0);
    for wrong in ["prerequisite: the ADMIN$ share", "prerequisite: WMI on"] {
        assert!(
            !plan.stdout.contains(wrong),
            "{wrong:?} in\n{}",
            plan.stdout
        );
    }
    assert!(
        plan.stdout
            .contains("not checked from the site server's WinRM session"),
        "{}",
        plan.stdout
    );
}

/// Item 7: ConfigMgrAssignment.adm values tattoo, so taking them out of a GPO writes explicit
/// deletes rather than removing the settings (configmgr.md §3.2, §6 rule 16).
#[test]
fn removing_site_assignment_from_a_gpo_writes_explicit_deletes() {
    let p = Project::example("contoso");
    let original = p.read("gpo.toml");
    p.write(
        "gpo.toml",
        &format!("{original}\n[gpo.client_settings.site_assignment]\nsite_code = \"ABC\"\n"),
    );
    p.run(&["lab", "reset"]).code(0);
    p.run(&["apply", "--auto-approve"]).code(0);
    p.write("gpo.toml", &original);
    let plan = p.run(&["plan"]).code(0);
    assert!(plan.stdout.contains("explicit deletes"), "{}", plan.stdout);
    p.run(&["apply", "--auto-approve"]).code(0);
    let rows = p.console_json(
        "dc01",
        "Get-GPRegistryValue -Name 'ConfigMgr Client Deployment Settings' -Key 'HKLM\\Software\\Microsoft\\SMS\\Mobile Client' | ConvertTo-Json",
    );
    let rows = rows
        .as_array()
        .cloned()
        .unwrap_or_else(|| vec![rows.clone()]);
    for name in [
        "GPRequestedSiteAssignmentCode",
        "GPSiteAssignmentRetryInterval(Min)",
        "GPSiteAssignmentRetryDuration(Hour)",
    ] {
        let row = rows
            .iter()
            .find(|r| r["ValueName"] == serde_json::json!(name))
            .unwrap_or_else(|| panic!("no delete for {name} in {rows:?}"));
        // PolicyState.Delete, as Windows PowerShell 5.1 prints the enum (the lab's numbering).
        assert_eq!(row["PolicyState"], serde_json::json!(0), "{row}");
    }
    p.run(&["plan", "--detailed-exitcode"]).code(0);
}

/// Item 9: an unfiltered `Get-CMDevice -Fast` returns every device of the site; the client
/// targets' refresh filters by their names (windows-runtime.md §9).
#[test]
fn client_refresh_reads_only_the_devices_it_manages() {
    let p = Project::example("contoso");
    p.edit(
        "lab.toml",
        "code = \"ABC\"\n",
        "code = \"ABC\"\nlarge_site_devices = 2\n",
    );
    p.run(&["lab", "reset"]).code(0);
    let plan = p.run(&["plan"]);
    assert!(
        !plan.all().contains("Get-CMDevice without -Name"),
        "{}",
        plan.all()
    );
    plan.code(0);
    p.run(&["apply", "--auto-approve"]).code(0);
    p.run(&["plan", "--detailed-exitcode"]).code(0);
}

const SECONDARY_LAB: &str = r#"
[[site]]
code = "S01"
name = "Contoso Branch"
type = "secondary"
parent = "ABC"
server = "s01.contoso.com"

[[site.account]]
user_name = 'CONTOSO\svc-cmpush'
password = { file = "lab-secrets/push-account.txt" }

[[host]]
fqdn = "s01.contoso.com"
domain = "contoso.com"
ip = "10.1.0.10"
role = "server"
os = "Windows Server 2022 Standard"
"#;

const SECONDARY_MANIFEST: &str = r#"
[site.S01]
type = "secondary"
parent = "ABC"
server = "s01.contoso.com"
connection = "cm01"

[account.push_s01]
site = "S01"
user_name = 'CONTOSO\svc-cmpush'
password = { file = "lab-secrets/push-account.txt" }

[client_push.S01]
automatic = false
accounts = ["push_s01"]
allow_ntlm_fallback = true

[client_push.S01.properties]
SMSSITECODE = "ABC"
"#;

fn with_secondary(manifest: &str) -> Project {
    let p = Project::example("contoso");
    let lab = p.read("lab.toml");
    // The secondary site goes before the first host, with the other sites.
    let (sites, hosts) = lab.split_once("[[host]]").unwrap();
    p.write(
        "lab.toml",
        &format!("{sites}{SECONDARY_LAB}\n[[host]]{hosts}"),
    );
    p.write("secondary.toml", manifest);
    p
}

/// Item 6: a secondary site has no SMS Provider; its settings go through the parent primary's
/// provider with `-SiteCode <secondary>` (windows-runtime.md §7).
#[test]
fn a_secondary_site_is_managed_through_its_parent_primarys_provider() {
    let p = with_secondary(SECONDARY_MANIFEST);
    p.run(&["validate"]).code(0);
    p.run(&["lab", "reset"]).code(0);
    let apply = p.run(&["apply", "--auto-approve"]);
    assert!(
        !apply.all().contains("Cannot find drive"),
        "{}",
        apply.all()
    );
    apply.code(0);
    p.run(&["plan", "--detailed-exitcode"]).code(0);
}

/// Item 6: the connection of a secondary site must reach its parent's SMS Provider, and its push
/// account must be defined at the secondary (configmgr.md §6 rule 2).
#[test]
fn a_secondary_site_needs_its_parents_connection_and_its_own_push_account() {
    let p = with_secondary(
        &SECONDARY_MANIFEST
            .replace("connection = \"cm01\"", "connection = \"s01\"")
            .replace("site = \"S01\"", "site = \"ABC\""),
    );
    let text = p.read("cmdeploy.toml");
    p.write(
        "cmdeploy.toml",
        &format!("{text}\n[connection.s01]\ntransport = \"lab\"\nhost = \"s01.contoso.com\"\n"),
    );
    let v = p.run(&["validate"]).code(1);
    assert!(
        v.all().contains("cmdeploy::site::secondary_provider"),
        "{}",
        v.all()
    );
    assert!(
        v.all()
            .contains("cmdeploy::client_push::secondary_account_site"),
        "{}",
        v.all()
    );
}

/// Item 4: CCMSetup runs as a service; the bootstrap exits at once and the install ends later
/// with "CcmSetup is exiting with return code N" in ccmsetup.log (windows-runtime.md §8).
#[test]
fn installs_wait_for_the_ccmsetup_service_and_report_its_return_code() {
    let p = Project::example("contoso");
    let lab = p.read("lab.toml");
    p.write("lab.toml", &format!("ccmsetup_seconds = 1\n{lab}"));
    p.run(&["lab", "reset"]).code(0);
    let apply = p.run(&["apply", "--auto-approve"]);
    apply.code(0);
    p.run(&["plan", "--detailed-exitcode"]).code(0);
}

/// Item 4: a failed install names the host, CCMSetup's return code and the log's last lines;
/// imaging does not clean up a reference computer whose client did not install.
#[test]
fn a_failed_ccmsetup_install_names_the_host_the_return_code_and_the_log() {
    let p = Project::example("contoso");
    // The ccmsetup service on ref01 ends with return code 9 (prerequisite evaluation failure).
    p.edit(
        "lab.toml",
        "fqdn = \"ref01\"\n",
        "fqdn = \"ref01\"\nccmsetup_return_code = 9\n",
    );
    p.run(&["lab", "reset"]).code(0);
    let apply = p.run(&["apply", "--auto-approve", "--target", "imaging.reference"]);
    let all = apply.all();
    assert!(all.contains("return code 9"), "{all}");
    assert!(all.contains("ref01"), "{all}");
    // Nothing was cleaned up: the reference computer has no client to prepare.
    let cfg = p.read("cmdeploy.toml");
    p.write(
        "cmdeploy.toml",
        &format!("{cfg}\n[connection.ref01]\ntransport = \"lab\"\nhost = \"ref01\"\n"),
    );
    let show = p.console_json("ref01", "Get-CmdeployClientState | ConvertTo-Json");
    assert_eq!(show["Installed"], serde_json::json!(false), "{show}");
}

/// Item 4 over the wire: `lab serve --ccmsetup-seconds` makes every install take that long, and
/// the example still applies and converges through the winrm transport.
#[test]
fn the_example_converges_over_lab_serve_with_a_slow_ccmsetup_service() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let s = common::serve::serve(&p, &["--ccmsetup-seconds", "1"]);
    common::serve::switch_to_winrm(&p, s.port, None, "lab-secrets/admin.txt");
    p.run(&["apply", "--auto-approve"]).code(0);
    p.run(&["plan", "--detailed-exitcode"]).code(0);
    assert!(
        p.read(".cmdeploy/lab/estate.json")
            .contains("\"ccmsetup_seconds\":1.0"),
        "the option reached the lab"
    );
}

/// Item 4, waited for without polling: the Script that runs CCMSetup also waits for the ccmsetup
/// service (`Wait-Process`) and reads the client back, so an install that ends within that
/// wait costs one Script on its host, and no read of ccmsetup.log on a fixed interval.
#[test]
fn an_install_waits_for_the_ccmsetup_service_in_the_script_that_starts_it() {
    let p = Project::example("contoso");
    let lab = p.read("lab.toml");
    p.write("lab.toml", &format!("ccmsetup_seconds = 3\n{lab}"));
    p.run(&["lab", "reset"]).code(0);
    let started = std::time::Instant::now();
    p.run(&["apply", "--auto-approve", "--target", "client_group.kiosks"])
        .code(0);
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(3),
        "the install took less than the ccmsetup service"
    );
    let audit = p.read(".cmdeploy/lab/audit.jsonl");
    let calls = |cmdlet: &str| {
        audit
            .lines()
            .filter(|l| l.contains("\"host\":\"kiosk01\"") || l.contains("\"host\":\"kiosk01."))
            .filter(|l| l.contains(&format!("\"cmdlet\":\"{cmdlet}\"")))
            .count()
    };
    assert_eq!(calls("Install-CmdeployClient"), 1, "{audit}");
    assert_eq!(calls("Get-CmdeployInstallResult"), 0, "{audit}");
    // The refresh's probe, and the read-back in the install's own Script.
    assert_eq!(calls("Get-CmdeployClientState"), 2, "{audit}");
    p.run(&[
        "plan",
        "--detailed-exitcode",
        "--target",
        "client_group.kiosks",
    ])
    .code(0);
}
