//! The client's whole life on the contoso example: version and health are state (an older
//! client is upgraded, a stopped CcmExec repaired, the next plan is empty), the push wizard's
//! "always install" reinstalls a pushed client, and a client target is uninstalled
//! (`ensure = "absent"`, or removed with `on_destroy = "uninstall"`) or forgotten (the default,
//! which the plan calls "forget", not "destroy"). Each failed on the old code: the plan said
//! "No changes" for an old or broken client, and removal only forgot while the summary counted
//! a destroy.

mod common;

use common::Project;

/// contoso with lab connections to `hosts`, so that the lab console can reach them.
fn contoso(hosts: &[&str]) -> Project {
    let p = Project::example("contoso");
    let mut cfg = p.read("cmdeploy.toml");
    for h in hosts {
        cfg.push_str(&format!(
            "\n[connection.{h}]\ntransport = \"lab\"\nhost = \"{h}.contoso.com\"\n"
        ));
    }
    p.write("cmdeploy.toml", &cfg);
    p
}

fn converged(p: &Project) {
    let plan = p.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "not converged:\n{}", plan.all());
}

fn client_state(p: &Project, host: &str) -> serde_json::Value {
    p.console_json(host, "Get-CmdeployClientState | ConvertTo-Json")
}

#[test]
fn an_older_client_is_upgraded_with_forceinstall_and_the_plan_says_why() {
    let p = contoso(&["ws11"]);
    p.edit(
        "lab.toml",
        "fqdn = \"ws11.contoso.com\"\n",
        "fqdn = \"ws11.contoso.com\"\nclient = { version = \"5.00.9000.1000\", site_code = \"ABC\" }\n",
    );
    p.run(&["lab", "reset"]).code(0);
    let plan = p.run(&["plan"]).code(0).stdout;
    assert!(
        plan.contains(
            "client 5.00.9000.1000 is older than site ABC's client 5.00.9128.1000: upgrade"
        ),
        "{plan}"
    );
    assert!(
        plan.contains(r"runs: C:\ClientSource\ccmsetup.exe /forceinstall /mp:mpserver.contoso.com"),
        "{plan}"
    );
    assert!(
        plan.contains("client_version = \"5.00.9000.1000\" -> \"site\""),
        "{plan}"
    );
    p.run(&["apply", "--auto-approve"]).code(0);
    assert_eq!(client_state(&p, "ws11")["ClientVersion"], "5.00.9128.1000");
    converged(&p);
}

#[test]
fn version_any_or_a_met_minimum_leaves_an_older_client_alone() {
    let p = contoso(&[]);
    p.edit(
        "lab.toml",
        "fqdn = \"ws11.contoso.com\"\n",
        "fqdn = \"ws11.contoso.com\"\nclient = { version = \"5.00.9000.1000\", site_code = \"ABC\" }\n",
    );
    p.edit(
        "clients.toml",
        "version = \"site\"",
        "version = \"5.00.8000.1000\"",
    );
    p.run(&["lab", "reset"]).code(0);
    let plan = p.run(&["plan"]).code(0);
    assert!(
        !plan.stdout.contains("manual_explicit[\"ws11\"] will"),
        "{}",
        plan.stdout
    );
    p.edit(
        "clients.toml",
        "version = \"5.00.8000.1000\"",
        "version = \"any\"",
    );
    let plan = p.run(&["plan"]).code(0);
    assert!(
        !plan.stdout.contains("manual_explicit[\"ws11\"] will"),
        "{}",
        plan.stdout
    );
    p.edit("clients.toml", "version = \"any\"", "version = \"newest\"");
    let bad = p.run(&["validate"]).code(1);
    assert!(
        bad.stderr.contains("cmdeploy::client::version"),
        "{}",
        bad.stderr
    );
}

#[test]
fn a_stopped_ccmexec_is_repaired_and_the_next_plan_is_empty() {
    let p = contoso(&["ws10"]);
    p.run(&["lab", "reset"]).code(0);
    p.run(&["apply", "--auto-approve"]).code(0);
    p.run(&[
        "lab",
        "console",
        "--connection",
        "ws10",
        "Stop-CmdeployClientService",
    ])
    .code(0);
    let plan = p.run(&["plan"]).code(0).stdout;
    assert!(
        plan.contains("CcmExec (SMS Agent Host) is not running: repair"),
        "{plan}"
    );
    assert!(plan.contains("ccmexec_running = false -> true"), "{plan}");
    p.run(&["apply", "--auto-approve"]).code(0);
    assert_eq!(client_state(&p, "ws10")["CcmExecRunning"], true);
    converged(&p);
}

#[test]
fn always_install_lets_the_push_wizard_repair_a_pushed_client() {
    let p = contoso(&["ws01"]);
    p.run(&["lab", "reset"]).code(0);
    p.run(&["apply", "--auto-approve"]).code(0);
    p.run(&[
        "lab",
        "console",
        "--connection",
        "ws01",
        "Stop-CmdeployClientService",
    ])
    .code(0);
    // Without "always install" the wizard skips a computer that has a client: nothing to plan,
    // but the plan warns that the unhealthy client is left alone, and says how to repair it.
    let plan = p.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(
        plan.stdout
            .contains("Warning: client_group.pushed[\"ws01\"]"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("not planned: set push = { always_install = true }"),
        "{}",
        plan.stdout
    );
    p.edit(
        "clients.toml",
        "hosts = [\"ws01\"]\n",
        "hosts = [\"ws01\"]\npush = { always_install = true }\n",
    );
    let plan = p.run(&["plan"]).code(0).stdout;
    assert!(
        plan.contains("client_group.pushed[\"ws01\"] will be updated in-place"),
        "{plan}"
    );
    p.run(&["apply", "--auto-approve"]).code(0);
    assert_eq!(client_state(&p, "ws01")["CcmExecRunning"], true);
    converged(&p);
}

#[test]
fn ensure_absent_uninstalls_and_removes_the_device_record() {
    let p = contoso(&["ws10"]);
    p.run(&["lab", "reset"]).code(0);
    p.run(&["apply", "--auto-approve"]).code(0);
    p.edit(
        "clients.toml",
        "[client_group.manual_auto]\n",
        "[client_group.manual_auto]\nensure = \"absent\"\non_destroy = \"uninstall\"\nremove_device_record = true\n",
    );
    let plan = p.run(&["plan"]).code(0).stdout;
    assert!(
        plan.contains(r"runs: C:\ClientSource\ccmsetup.exe /uninstall"),
        "{plan}"
    );
    assert!(
        plan.contains("then deletes the site's device record (Remove-CMDevice)"),
        "{plan}"
    );
    p.run(&["apply", "--auto-approve"]).code(0);
    assert_eq!(client_state(&p, "ws10")["Installed"], false);
    let record = p
        .run(&[
            "lab",
            "console",
            "--connection",
            "cm01",
            "Get-CMDevice -Name WS10 | ConvertTo-Json",
        ])
        .code(0);
    assert!(record.stdout.trim().is_empty(), "{}", record.stdout);
    converged(&p);
}

#[test]
fn a_removed_target_that_opted_in_is_uninstalled() {
    let p = contoso(&["ws10"]);
    p.edit(
        "clients.toml",
        "[client_group.manual_auto]\n",
        "[client_group.manual_auto]\non_destroy = \"uninstall\"\n",
    );
    p.run(&["lab", "reset"]).code(0);
    p.run(&["apply", "--auto-approve"]).code(0);
    p.remove_table("clients.toml", "[client_group.manual_auto]");
    let plan = p.run(&["plan"]).code(0).stdout;
    assert!(
        plan.contains("client_group.manual_auto[\"ws10\"] will be destroyed"),
        "{plan}"
    );
    assert!(
        plan.contains(r"uninstalls the client: C:\ClientSource\ccmsetup.exe /uninstall"),
        "{plan}"
    );
    p.run(&["apply", "--auto-approve"]).code(0);
    assert_eq!(client_state(&p, "ws10")["Installed"], false);
    converged(&p);
}

#[test]
fn removing_a_client_target_plans_a_forget_not_a_destroy() {
    let p = contoso(&[]);
    p.run(&["lab", "reset"]).code(0);
    p.run(&["apply", "--auto-approve", "--target", "client_group.kiosks"])
        .code(0);
    p.remove_table("clients.toml", "[client_group.kiosks]");
    let plan = p.run(&["plan"]).code(0).stdout;
    assert!(
        plan.contains("client_group.kiosks[\"kiosk01\"] will be forgotten (left in place)"),
        "{plan}"
    );
    assert!(
        plan.contains(" to change, 0 to destroy, 2 to forget."),
        "{plan}"
    );
    let compact = p.run(&["plan", "--compact"]).code(0).stdout;
    let line = compact
        .lines()
        .find(|l| l.trim_start().starts_with("client_group:"))
        .unwrap_or_else(|| panic!("{compact}"));
    assert!(line.ends_with("0 to destroy, 2 to forget"), "{compact}");
    let apply = p.run(&["apply", "--auto-approve"]).code(0).all();
    assert!(apply.contains(" 0 destroyed, 2 forgotten."), "{apply}");
}

#[test]
fn uninstall_options_are_checked() {
    let p = contoso(&[]);
    p.edit(
        "clients.toml",
        "[client_group.manual_auto]\n",
        "[client_group.manual_auto]\nensure = \"absent\"\n",
    );
    p.edit(
        "clients.toml",
        "[client_group.pushed]\n",
        "[client_group.pushed]\non_destroy = \"uninstall\"\n",
    );
    let out = p.run(&["validate"]).code(1);
    assert!(
        out.stderr
            .contains("cmdeploy::client::absent_without_uninstall"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("cmdeploy::client::push_uninstall"),
        "{}",
        out.stderr
    );
}

#[test]
fn allow_on_domain_controllers_decides_whether_a_domain_controller_is_pushed() {
    let p = contoso(&[]);
    p.edit(
        "lab.toml",
        "role = \"domain_controller\"\n",
        "role = \"domain_controller\"\nlocal_admins = ['CONTOSO\\svc-cmpush']\n",
    );
    p.write(
        "dcs.toml",
        "[client_group.dcs]\nmethod = \"push\"\nsite = \"ABC\"\ndomain = \"contoso.com\"\nhosts = [\"dc01\"]\ndepends_on = [\"client_push.ABC\"]\n",
    );
    p.run(&["lab", "reset"]).code(0);
    let refused = p.run(&["apply", "--auto-approve"]);
    assert_ne!(refused.code, 0, "{}", refused.all());
    assert!(
        refused.all().contains("dc01 is a domain controller")
            || refused.all().contains("DC01 is a domain controller"),
        "{}",
        refused.all()
    );
    p.edit(
        "dcs.toml",
        "hosts = [\"dc01\"]\n",
        "hosts = [\"dc01\"]\npush = { include_domain_controllers = true }\n",
    );
    p.run(&["apply", "--auto-approve"]).code(0);
    assert_eq!(client_state(&p, "dc01")["Installed"], true);
    converged(&p);
}

#[test]
fn the_lab_refuses_remove_cmdevice_without_force() {
    let p = contoso(&[]);
    p.run(&["lab", "reset"]).code(0);
    let out = p.run(&[
        "lab",
        "console",
        "--connection",
        "cm01",
        "Remove-CMDevice -Name WS10",
    ]);
    assert_ne!(out.code, 0, "{}", out.all());
    assert!(out.all().contains("use -Force"), "{}", out.all());
}
