//! Every call the providers emit is valid against Microsoft's documented syntax
//! (../shared/reference/cmdlets.json): the cmdlet exists, each parameter exists in one parameter
//! set with a value of the right type, and that set's mandatory parameters are present.
//!
//! A scenario drives every kind through create, update and delete against the lab; the lab's
//! audit log holds every call the providers sent. The test also checks that the scenario used
//! every cmdlet on the runner's allow-list, so nothing a provider can emit goes unchecked.

mod common;

use std::collections::BTreeSet;

use cmdeploy_providers::powershell::oracle::{Oracle, Parameter, ParameterSet};
use cmdeploy_providers::powershell::runner::{ALLOWED, TEMPLATE};
use common::Project;
use serde_json::Value;

fn oracle() -> Oracle {
    let path = common::repo().join("../shared/reference/cmdlets.json");
    let mut o = Oracle::load(&path)
        .unwrap_or_else(|e| panic!("the cmdlet reference {} is needed: {e}", path.display()));
    let site = || Parameter::new("SiteCode", "String");
    o.add_extra(
        "Get-CMSoftwareUpdateBasedClientInstallation",
        vec![ParameterSet::new("__AllParameterSets", vec![site()])],
        "in PSRef (Get-CMSoftwareUpdateBasedClientInstallation.md) but not extracted into cmdlets.json; configmgr.md §2.7",
    )
    .unwrap();
    o.add_extra(
        "Set-CMSoftwareUpdateBasedClientInstallation",
        vec![ParameterSet::new("__AllParameterSets", vec![site(), Parameter::new("EnableWsus", "Boolean")])],
        "in PSRef (Set-CMSoftwareUpdateBasedClientInstallation.md) but not extracted into cmdlets.json; configmgr.md §2.7",
    )
    .unwrap();
    o.add_extra(
        "Get-CMDeploymentPackage",
        vec![ParameterSet::new(
            "__AllParameterSets",
            vec![
                Parameter::new("DistributionPointName", "String").mandatory(),
                Parameter::new("DeploymentPackageName", "String"),
            ],
        )],
        "in PSRef (Get-CMDeploymentPackage.md: -DistributionPointName <String> [-DeploymentPackageName <String>]) but not extracted into cmdlets.json; the only documented read of a package's content on a distribution point",
    )
    .unwrap();
    for (name, params) in runner_functions() {
        o.add_extra(
            &name,
            vec![ParameterSet::new("__AllParameterSets", params)],
            "defined by cmdeploy's own runner template",
        )
        .unwrap();
    }
    o
}

/// The runner's own functions and their `param()` blocks, read from the template.
fn runner_functions() -> Vec<(String, Vec<Parameter>)> {
    let mut out = Vec::new();
    let lines: Vec<&str> = TEMPLATE.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let Some(name) = line
            .strip_prefix("function ")
            .and_then(|r| r.strip_suffix(" {"))
        else {
            continue;
        };
        if !name.starts_with("Get-Cmdeploy") && !name.contains("-Cmdeploy") {
            continue;
        }
        let mut params = Vec::new();
        if lines.get(i + 1).is_some_and(|l| l.trim() == "param(") {
            for l in lines[i + 2..].iter().take_while(|l| l.trim() != ")") {
                let l = l.trim().trim_end_matches(',');
                let var = l.rsplit('$').next().unwrap_or("");
                let ty = if l.contains("[string[]]") {
                    "String[]"
                } else if l.contains("[long]") {
                    "Int64"
                } else if l.contains("[int]") {
                    "Int32"
                } else {
                    "String"
                };
                let mut p = Parameter::new(var, ty);
                if l.contains("Mandatory = $true") {
                    p = p.mandatory();
                }
                if let Some(set) = l
                    .split("ValidateSet(")
                    .nth(1)
                    .and_then(|s| s.split(')').next())
                {
                    p = p.valid_values(
                        set.split(',')
                            .map(|v| v.trim().trim_matches('\'').to_string()),
                    );
                }
                params.push(p);
            }
        }
        out.push((name.to_string(), params));
    }
    out
}

fn step(p: &Project, edits: &[(&str, &str, &str)]) {
    for (file, from, to) in edits {
        p.edit(file, from, to);
    }
    p.run(&["apply", "--auto-approve"]).code(0);
    p.run(&["plan", "--detailed-exitcode"]).code(0);
}

#[test]
fn every_emitted_call_matches_the_documented_syntax() {
    let oracle = oracle();
    let p = Project::example("contoso");
    // Installs take 2 s, and ws10's Scripts wait 1 s for them (half its 2 s operation timeout):
    // its install is read again with Get-CmdeployInstallResult.
    let lab = p.read("lab.toml");
    p.write("lab.toml", &format!("ccmsetup_seconds = 2\n{lab}"));
    p.edit(
        "clients.toml",
        "hosts = [\"ws10\"]\nconnection = { host = \"{{ host }}.{{ var.domain }}\" }",
        "hosts = [\"ws10\"]\nconnection = { host = \"{{ host }}.{{ var.domain }}\", operation_timeout_seconds = 2 }",
    );
    p.run(&["lab", "reset"]).code(0);
    // 1. Creates and updates from the seed; then an import through the domain controller
    // (Get-GPOReport), which finds every GPO managed already.
    step(&p, &[]);
    let run = p.run(&["import", "--connection", "dc01"]).code(0);
    assert!(run.stdout.contains("Nothing to import"), "{}", run.stdout);
    // `resolve --estate` reads the site: for a host, its device record (Get-CMDevice -Resource),
    // and each site's distribution, management and software update points.
    p.run(&["resolve", "ws01", "--estate"]).code(0);
    // 2. Updates of every kind, and the first deletes. Workgroup clients need a network access
    // account: the kiosks go with it.
    p.remove_table("clients.toml", "[client_group.kiosks]");
    step(
        &p,
        &[
            ("site.toml", "network_access_accounts = [\"naa\"]", "network_access_accounts = []"),
            ("site.toml", "software_update_installation = true", "software_update_installation = false"),
            ("site.toml", "throttle_seconds = 3600", "throttle_seconds = 1800"),
            ("client_push.toml", "accounts = [\"push\"]", "accounts = []"),
            ("site.toml", "[account.push]\nsite = \"ABC\"\nuser_name = 'CONTOSO\\svc-cmpush'\npassword = { file = \"lab-secrets/push-account.txt\" }\n", ""),
            ("boundaries.toml", "value = \"10.2.0.1-10.2.0.254\"\nname = \"Branch 1 LAN\"", "value = \"10.2.0.1-10.2.0.200\"\nname = \"Branch One LAN\""),
            ("boundaries.toml", "name = \"HQ Clients\"", "name = \"Headquarters\""),
            ("boundaries.toml", "boundaries = [\"hq_lan\", \"hq_site\"]\nsite_systems = [\"mpserver.contoso.com\"]", "boundaries = [\"hq_lan\"]\nsite_systems = []"),
            ("boundaries.toml", "distribution_point = 20", "distribution_point = 30"),
            ("boundaries.toml", "[boundary.hq_site]\nsite = \"ABC\"\ntype = \"ad_site\"\nvalue = \"HQ\"\nname = \"HQ AD site\"\n", ""),
            ("gpo.toml", "links = [\"OU=Workstations,DC=contoso,DC=com\", \"OU=Servers,DC=contoso,DC=com\"]", "links = [\"OU=Workstations,DC=contoso,DC=com\"]"),
            ("gpo.toml", "[gpo.client_settings.client_deployment]\nproperties = { SMSSITECODE = \"ABC\", FSP = \"fspserver.contoso.com\" }\n", ""),
            ("imaging.toml", "hierarchy = \"same\"", "hierarchy = \"different\""),
            ("clients.toml", "{ CCMHOSTNAME = \"server1.contoso.com\", SMSSIGNCERT", "{ CCMHOSTNAME = \"server3.contoso.com\", SMSSIGNCERT"),
            // A client uninstalled, its device record deleted (Remove-CMDevice).
            ("clients.toml", "[client_group.manual_auto]\n", "[client_group.manual_auto]\nensure = \"absent\"\non_destroy = \"uninstall\"\nremove_device_record = true\n"),
        ],
    );
    // 3. The fallback status point moves; a group and a GPO go.
    p.truncate_at("boundaries.toml", "[boundary_group.branch]");
    p.truncate_at("gpo.toml", "[gpo.software_update_point]");
    step(
        &p,
        &[(
            "site.toml",
            "server = \"fspserver.contoso.com\"",
            "server = \"server2.contoso.com\"",
        )],
    );
    let mut seen = BTreeSet::new();
    let mut problems = Vec::new();
    check_audit(&oracle, &p, &mut seen, &mut problems);
    let upgrade = upgrade_scenario();
    check_audit(&oracle, &upgrade, &mut seen, &mut problems);
    for action in ["merge", "block"] {
        let conflicts = conflicts_scenario(action);
        check_audit(&oracle, &conflicts, &mut seen, &mut problems);
    }
    let denied = push_denied_scenario();
    check_audit(&oracle, &denied, &mut seen, &mut problems);
    problems.sort();
    problems.dedup();
    assert!(
        problems.is_empty(),
        "calls that do not match the documented syntax:\n{}",
        problems.join("\n")
    );
    let unseen: Vec<&&str> = ALLOWED.iter().filter(|c| !seen.contains(**c)).collect();
    assert!(
        unseen.is_empty(),
        "the scenario never emitted {unseen:?}: extend it so every call is checked"
    );
}

/// A collection push that a member refuses (no push account among its administrators): apply
/// reads the site server's ccm.log for it (`Get-CmdeployPushLog`).
fn push_denied_scenario() -> Project {
    let p = Project::example("contoso");
    p.edit(
        "lab.toml",
        "os = \"Windows 10 Enterprise\"\nlocal_admins = ['CONTOSO\\svc-cmpush']",
        "os = \"Windows 10 Enterprise\"\nlocal_admins = ['CONTOSO\\helpdesk']",
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
    assert!(apply.all().contains("ccm.log"), "{}", apply.all());
    p
}

/// The site-side methods example (examples/upgrade) through create, out-of-band repair, update,
/// replace and delete: client upgrade package and program, site settings, software update point.
fn upgrade_scenario() -> Project {
    let p = Project::example("upgrade");
    // The site approves computers by hand: the manifest approves LAPTOP07 (Approve-CMDevice).
    p.edit(
        "lab.toml",
        "software_update_client_version = \"5.00.9122.1000\"",
        "software_update_client_version = \"5.00.9122.1000\"\nhierarchy = { approval_method = \"ManuallyApproveEachComputer\" }",
    );
    p.edit(
        "settings.toml",
        "approval = \"trusted_domains\"",
        "approval = \"manual\"\napproved_devices = [\"LAPTOP07\"]",
    );
    p.run(&["lab", "reset"]).code(0);
    // 1. Creates and updates from the seed.
    step(&p, &[]);
    // 2. The program is deleted at the console; apply creates it again (New-CMProgram).
    let v = p.console_json("cm01", "Get-CMPackage | ConvertTo-Json");
    let id = v["PackageID"].as_str().unwrap().to_string();
    p.run(&[
        "lab",
        "console",
        "--connection",
        "cm01",
        &format!("Remove-CMProgram -PackageId {id} -ProgramName 'Configuration Manager agent silent upgrade' -Force"),
    ])
    .code(0);
    step(&p, &[]);
    // 3. Updates of every kind.
    step(
        &p,
        &[
            (
                "upgrade.toml",
                "command_line = \"/noservice SMSSITECODE=AUTO\"",
                "command_line = \"/noservice SMSSITECODE=ABC\"",
            ),
            ("upgrade.toml", "SMS_ABC\\Client'", "SMS_ABC\\Client\\x64'"),
            (
                "settings.toml",
                "approval = \"manual\"",
                "approval = \"trusted_domains\"",
            ),
            (
                "settings.toml",
                "conflicting_records = \"automatic\"",
                "conflicting_records = \"manual\"",
            ),
            (
                "settings.toml",
                "blocked_devices = [\"LAPTOP07\"]",
                "blocked_devices = []",
            ),
            ("settings.toml", "days = 7", "days = 14"),
            (
                "site.toml",
                "connection = \"cm01\"\nsoftware_update_installation",
                "connection = \"cm01\"\npublish_to_forests = [\"contoso.com\"]\nsoftware_update_installation",
            ),
            (
                "upgrade.toml",
                "collection = \"All Desktop and Server Clients\"",
                "collection = \"All Systems\"\ndeploy_purpose = \"required\"",
            ),
            (
                "software_updates.toml",
                "http_port = 8530\nhttps_port = 8531",
                "http_port = 80\nhttps_port = 443",
            ),
            (
                "software_updates.toml",
                "server1.contoso.com:8530",
                "server1.contoso.com:80",
            ),
            // A second software update point, configured with its short name.
            (
                "software_updates.toml",
                "[gpo.wsus]",
                "[software_update_point.dp01]\nsite = \"ABC\"\nserver = \"dp01\"\n\n[gpo.wsus]",
            ),
        ],
    );
    // An import through the site server lists the settings, software update points and the
    // client upgrade package, all managed already.
    let run = p.run(&["import", "--connection", "cm01"]).code(0);
    assert!(run.stdout.contains("Nothing to import"), "{}", run.stdout);
    // 4. A renamed package is replaced; then the package and the software update point go.
    step(
        &p,
        &[(
            "upgrade.toml",
            "site = \"ABC\"\n",
            "site = \"ABC\"\nname = \"Client Upgrade (ABC)\"\n",
        )],
    );
    p.remove_table("software_updates.toml", "[software_update_point.server1]");
    p.remove_table("software_updates.toml", "[software_update_point.dp01]");
    p.write("upgrade.toml", "");
    step(&p, &[]);
    p
}

/// The upgrade example with a conflicting record pending, cleared with `action`.
fn conflicts_scenario(action: &str) -> Project {
    let p = Project::example("upgrade");
    let seed = p.read("lab.toml")
        + "\n[[site.conflicting_record]]\nsmsid = \"GUID:0A1B\"\nname = \"WS07\"\n";
    p.write("lab.toml", &seed);
    p.edit(
        "settings.toml",
        "conflicting_records = \"automatic\"",
        &format!("conflicting_records = \"manual\"\nconflicting_record_action = \"{action}\""),
    );
    p.run(&["lab", "reset"]).code(0);
    step(&p, &[]);
    p
}

/// Checks every script call of a project's lab audit log against the oracle.
fn check_audit(
    oracle: &Oracle,
    p: &Project,
    seen: &mut BTreeSet<String>,
    problems: &mut Vec<String>,
) {
    let audit = std::fs::read_to_string(p.path().join(".cmdeploy/lab/audit.jsonl")).unwrap();
    for line in audit.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        if v["source"] != "script" {
            continue;
        }
        let cmdlet = v["cmdlet"].as_str().unwrap();
        let args = v["args"].as_object().unwrap();
        let secret: Vec<String> = v["secret"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect();
        seen.insert(cmdlet.to_string());
        if let Err(p) = oracle.check(cmdlet, args, &secret) {
            problems.push(format!(
                "{cmdlet} {}: {}",
                Value::Object(args.clone()),
                p.join("; ")
            ));
        }
    }
}
