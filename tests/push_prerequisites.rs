//! Prerequisite probes in plan for client push targets (configmgr.md §6 rule 9; seed 002): the
//! site server checks every target without a client in one Script, and the plan names what will
//! make the push fail before anything is pushed.

mod common;

use common::Project;

#[test]
fn the_plan_names_unmet_push_prerequisites_and_the_lab_enforces_them() {
    let p = Project::example("contoso");
    // ws01 is a Windows 7 computer without SHA-2 code signing support, its ADMIN$ share is off and
    // the push account is not among its administrators.
    p.edit(
        "lab.toml",
        "os = \"Windows 11 Enterprise\"\nlocal_admins = ['CONTOSO\\svc-cmpush']",
        "os = \"Windows 7 Enterprise SP1\"\nadmin_share = false\nlocal_admins = ['CONTOSO\\helpdesk']",
    );
    p.run(&["lab", "reset"]).code(0);
    let plan = p.run(&["plan"]).code(0);
    let out = plan.stdout;
    assert!(
        out.contains("client_group.pushed[\"ws01\"] will be created"),
        "{out}"
    );
    assert!(
        out.contains("prerequisite: SMB (TCP 445) on ws01 does not answer the site server"),
        "{out}"
    );
    // The site server's WinRM session has no network credentials (the double hop): what needs
    // them is named as not checked, never reported as failed (windows-runtime.md §6).
    assert!(
        out.contains("not checked from the site server's WinRM session, which has no network credentials (the double hop): the ADMIN$ share, the push accounts' membership of Administrators, SHA-2 code signing support (KB4474419) on ws01"),
        "{out}"
    );
    assert!(!out.contains("WMI on"), "{out}");
    let audit = p.read(".cmdeploy/lab/audit.jsonl");
    assert_eq!(
        audit
            .lines()
            .filter(|l| l.contains("\"Test-CmdeployPushPrerequisites\""))
            .count(),
        2,
        "one Script for the push wizard's device targets, one for the collection's members"
    );

    // Fix the share and the administrators: the lab still refuses the SHA-2-less OS, in the
    // product's words, and apply names the host and the cmdlet.
    p.edit(
        "lab.toml",
        "admin_share = false\nlocal_admins = ['CONTOSO\\helpdesk']",
        "local_admins = ['CONTOSO\\svc-cmpush']",
    );
    p.run(&["lab", "reset"]).code(0);
    let plan = p.run(&["plan"]).code(0);
    assert!(
        !plan.stdout.contains("prerequisite: SMB"),
        "{}",
        plan.stdout
    );
    let apply = p.run(&["apply", "--auto-approve"]).code(1);
    assert!(apply.all().contains("Install-CMClient"), "{}", apply.all());
    assert!(
        apply
            .all()
            .contains("lacks SHA-2 code signing support (KB4474419)"),
        "{}",
        apply.all()
    );

    // With the update installed the push goes through and the plan has nothing to say.
    p.edit(
        "lab.toml",
        "os = \"Windows 7 Enterprise SP1\"",
        "os = \"Windows 7 Enterprise SP1\"\nhotfixes = [\"KB4474419\"]",
    );
    p.run(&["lab", "reset"]).code(0);
    let plan = p.run(&["plan"]).code(0);
    assert!(!plan.stdout.contains("prerequisite:"), "{}", plan.stdout);
    p.run(&["apply", "--auto-approve"]).code(0);
    p.run(&["plan", "--detailed-exitcode"]).code(0);
}

#[test]
fn a_pending_restart_on_a_host_without_a_client_is_named_in_the_plan() {
    let p = Project::example("contoso");
    p.edit(
        "lab.toml",
        "os = \"Windows 11 IoT Enterprise\"\nfiles = ['C:\\ClientSource']\n\n[[host]]\nfqdn = \"kiosk02\"",
        "os = \"Windows 11 IoT Enterprise\"\nfiles = ['C:\\ClientSource']\npending_reboot = true\n\n[[host]]\nfqdn = \"kiosk02\"",
    );
    p.run(&["lab", "reset"]).code(0);
    let plan = p.run(&["plan"]).code(0);
    assert!(
        plan.stdout.contains(
            "prerequisite: a restart is pending on kiosk01; installing the client may restart it"
        ),
        "{}",
        plan.stdout
    );
    assert!(
        !plan.stdout.contains("restart is pending on kiosk02"),
        "{}",
        plan.stdout
    );
}

#[test]
fn push_to_a_collection_installs_its_members_and_names_the_one_that_fails() {
    let p = Project::example("contoso");
    // ws21 has its ADMIN$ share turned off.
    p.edit(
        "lab.toml",
        "os = \"Windows 10 Enterprise\"\nlocal_admins",
        "os = \"Windows 10 Enterprise\"\nadmin_share = false\nlocal_admins",
    );
    p.edit(
        "clients.toml",
        "collection = \"Branch Workstations\"",
        "collection = \"Branch Workstations\"\nwait_minutes = 0",
    );
    p.run(&["lab", "reset"]).code(0);
    let plan = p.run(&["plan"]).code(0);
    assert!(
        plan.stdout
            .contains("~ clients_missing = [\"ws20\",\"ws21\"] -> []"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("prerequisite: SMB (TCP 445) on ws21 does not answer the site server"),
        "{}",
        plan.stdout
    );
    let apply = p.run(&["apply", "--auto-approve"]).code(1);
    let all = apply.all();
    assert!(all.contains("Install-CMClient"), "{all}");
    assert!(
        all.contains("1 of its members report no client yet (ws21)"),
        "{all}"
    );
    let show = p.run(&["lab", "show"]).code(0).stdout;
    assert!(
        show.contains("host ws20.contoso.com (contoso.com, 10.2.0.40/16) client"),
        "{show}"
    );
    assert!(
        show.contains("host ws21.contoso.com (contoso.com, 10.2.0.41/16) no client"),
        "{show}"
    );

    // An unknown collection is a read failure naming the cmdlet, never "nothing to do".
    p.edit(
        "clients.toml",
        "collection = \"Branch Workstations\"",
        "collection = \"Branch Workstatons\"",
    );
    let plan = p.run(&["plan"]).code(1);
    assert!(plan.all().contains("Get-CMDevice"), "{}", plan.all());
    assert!(plan.all().contains("Branch Workstatons"), "{}", plan.all());
}

/// A collection push whose only member without a client cannot be reached over SMB does not hold
/// apply for the default 10 minutes: the site server's own probe proves the push cannot succeed,
/// so apply stops at once and names the member and why.
#[test]
fn a_collection_push_whose_members_all_fail_does_not_hold_apply() {
    let p = Project::example("contoso");
    // ws21 has its ADMIN$ share (File and Printer Sharing) turned off; the wait is the default.
    p.edit(
        "lab.toml",
        "os = \"Windows 10 Enterprise\"\nlocal_admins",
        "os = \"Windows 10 Enterprise\"\nadmin_share = false\nlocal_admins",
    );
    p.run(&["lab", "reset"]).code(0);
    let started = std::time::Instant::now();
    let apply = p
        .run(&[
            "apply",
            "--auto-approve",
            "--target",
            "collection_push.branch",
        ])
        .code(1);
    let elapsed = started.elapsed();
    let all = apply.all();
    assert!(
        elapsed < std::time::Duration::from_secs(60),
        "apply held for {elapsed:?}: {all}"
    );
    assert!(
        all.contains("1 of its members report no client yet (ws21)"),
        "{all}"
    );
    assert!(
        all.contains("ws21: SMB (TCP 445) on ws21 does not answer the site server"),
        "{all}"
    );
    assert!(all.contains("apply stops now"), "{all}");
    let show = p.run(&["lab", "show"]).code(0).stdout;
    assert!(
        show.contains("host ws20.contoso.com (contoso.com, 10.2.0.40/16) client"),
        "{show}"
    );
}

/// A member the site server reaches but cannot administer (no client push installation account
/// in its local Administrators group) fails only in the site server's ccm.log: the probe cannot
/// see it (a WinRM session has no network credentials). Apply reads ccm.log and stops at once
/// with its line, instead of waiting out `wait_minutes`.
#[test]
fn a_collection_push_denied_on_a_member_stops_at_its_ccm_log_line() {
    let p = Project::example("contoso");
    p.edit(
        "lab.toml",
        "os = \"Windows 10 Enterprise\"\nlocal_admins = ['CONTOSO\\svc-cmpush']",
        "os = \"Windows 10 Enterprise\"\nlocal_admins = ['CONTOSO\\helpdesk']",
    );
    p.edit(
        "clients.toml",
        "collection = \"Branch Workstations\"",
        "collection = \"Branch Workstations\"\nwait_minutes = 1",
    );
    p.run(&["lab", "reset"]).code(0);
    let apply = p
        .run(&[
            "apply",
            "--auto-approve",
            "--target",
            "collection_push.branch",
        ])
        .code(1);
    let all = apply.all();
    assert!(
        all.contains("1 of its members report no client yet (ws21)"),
        "{all}"
    );
    assert!(
        all.contains("ws21: ccm.log: ERROR: Unable to access target machine")
            && all.contains("Access is denied to WS21"),
        "{all}"
    );
    assert!(all.contains("apply stops now"), "{all}");
    let log = p.console_json(
        "cm01",
        "Get-CmdeployPushLog -ComputerName ws20, ws21 | ConvertTo-Json",
    );
    let rows = log.as_array().expect("two rows");
    assert_eq!(rows[0]["Failed"], serde_json::json!(false), "{log}");
    assert_eq!(rows[1]["Failed"], serde_json::json!(true), "{log}");
}
