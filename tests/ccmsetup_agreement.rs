//! `cmdeploy ccmsetup check --context C LINE` and `cmdeploy validate` of a `client_group` whose
//! `ccmsetup` and `properties` tables hold the same LINE agree: both accept it, or both reject it
//! with the same CCMSetup finding codes. Regression: validate added an `SMSSITECODE` the manifest
//! did not give, so it accepted workgroup and internet lines the linter rejects, and a bare
//! `CCMSetup.exe` (seed 000, manual example 1) was not what the manifest said.

mod common;

use cmdeploy_providers::ccmsetup;
use common::Project;

/// (method, command line): each runs with `/source:C:\ClientSource`, which `source` adds too.
const CASES: &[(&str, &str)] = &[
    // Seed 000, manual example 1: properties from AD or the ConfigMgrInstallation.adm policy.
    ("manual", r"CCMSetup.exe /source:C:\ClientSource"),
    (
        "manual",
        r"CCMSetup.exe /source:C:\ClientSource SMSSITECODE=AUTO",
    ),
    (
        "manual",
        r"CCMSetup.exe /source:C:\ClientSource SMSSITECODE=ABCD",
    ),
    // A workgroup computer cannot find its site in AD.
    (
        "workgroup",
        r"CCMSetup.exe /source:C:\ClientSource FSP=fsp.contoso.com",
    ),
    (
        "workgroup",
        r"CCMSetup.exe /source:C:\ClientSource DNSSUFFIX=contoso.com SMSSITECODE=ABC",
    ),
    // An internet-based client needs an explicit site code.
    (
        "internet",
        r"CCMSetup.exe /source:C:\ClientSource /UsePKICert CCMALWAYSINF=1 CCMHOSTNAME=server1.contoso.com SMSSIGNCERT=C:\ClientSource\siteserver.cer",
    ),
    (
        "internet",
        r"CCMSetup.exe /source:C:\ClientSource /UsePKICert CCMALWAYSINF=1 CCMHOSTNAME=server1.contoso.com SMSSIGNCERT=C:\ClientSource\siteserver.cer SMSSITECODE=ABC",
    ),
];

/// The `[client_group.probe]` table of `line`, its tables converted by the CCMSetup model.
fn group(method: &str, line: &str) -> String {
    let cmd = ccmsetup::parse(line).command_line;
    let (params, props) = ccmsetup::from_command_line(&cmd);
    let mut table = toml::Table::new();
    table.insert("method".into(), method.into());
    table.insert("site".into(), "ABC".into());
    if method != "workgroup" {
        table.insert("domain".into(), "contoso.com".into());
    }
    table.insert("hosts".into(), toml::Value::Array(vec!["probe01".into()]));
    table.insert("source".into(), r"C:\ClientSource".into());
    table.insert("ccmsetup".into(), toml::Value::try_from(params).unwrap());
    table.insert("properties".into(), toml::Value::try_from(props).unwrap());
    let mut doc = toml::Table::new();
    let mut groups = toml::Table::new();
    groups.insert("probe".into(), toml::Value::Table(table));
    doc.insert("client_group".into(), toml::Value::Table(groups));
    toml::to_string(&doc).unwrap()
}

/// The `cmdeploy::ccmsetup::*` codes an output names, sorted and deduplicated.
fn ccmsetup_codes(text: &str) -> Vec<String> {
    let mut codes: Vec<String> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == ':' || c == '_'))
        .filter(|w| w.starts_with("cmdeploy::ccmsetup::"))
        .map(str::to_string)
        .collect();
    codes.sort();
    codes.dedup();
    codes
}

#[test]
fn the_linter_and_validate_agree_on_the_same_line_in_the_same_context() {
    let p = Project::example("contoso");
    for (method, line) in CASES {
        let check = p.run(&["ccmsetup", "check", "--context", method, line]);
        p.write("clients.toml", &group(method, line));
        let validate = p.run(&["validate"]);
        assert_eq!(
            check.code,
            validate.code,
            "{method}: {line}\n--- check ---\n{}\n--- validate ---\n{}",
            check.all(),
            validate.all()
        );
        assert_eq!(
            ccmsetup_codes(&check.all()),
            ccmsetup_codes(&validate.all()),
            "{method}: {line}\n--- check ---\n{}\n--- validate ---\n{}",
            check.all(),
            validate.all()
        );
    }
}

/// Seed 000's manual example 1 is a bare `CCMSetup.exe`: the plan runs no `SMSSITECODE` the
/// manifest did not give, and the lab's host takes the site from the properties its
/// ConfigMgrInstallation.adm policy provisioned.
#[test]
fn a_bare_ccmsetup_adds_no_site_code_and_takes_the_provisioned_properties() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let plan = p.run(&["plan", "--json"]).code(0);
    let doc: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    let commands = doc["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "client_group.manual_auto[\"ws10\"]")
        .map(|c| c["commands"].clone())
        .expect("ws10 is planned");
    assert_eq!(
        commands,
        serde_json::json!([r"C:\ClientSource\ccmsetup.exe /source:C:\ClientSource"])
    );
    p.run(&[
        "apply",
        "--auto-approve",
        "--target",
        "client_group.manual_auto",
    ])
    .code(0);
    let cfg = p.read("cmdeploy.toml");
    p.write(
        "cmdeploy.toml",
        &format!("{cfg}\n[connection.ws10]\ntransport = \"lab\"\nhost = \"ws10.contoso.com\"\n"),
    );
    let state = p.console_json("ws10", "Get-CmdeployClientState | ConvertTo-Json");
    assert_eq!(state["SiteCode"], "ABC", "{state}");
    p.run(&[
        "plan",
        "--detailed-exitcode",
        "--target",
        "client_group.manual_auto",
    ])
    .code(0);
}

/// The policy wins over nothing else: a host whose provisioned `SetupParameters` name another
/// site is assigned to that site, since cmdeploy puts no `SMSSITECODE` of its own on the line
/// (the old line carried `SMSSITECODE=ABC` and overrode the policy).
#[test]
fn the_provisioned_site_code_is_not_overridden() {
    let p = Project::example("contoso");
    p.edit(
        "lab.toml",
        "setup_parameters = \"SMSSITECODE=ABC FSP=fspserver.contoso.com\"",
        "setup_parameters = \"SMSSITECODE=XYZ\"",
    );
    p.run(&["lab", "reset"]).code(0);
    let apply = p.run(&[
        "apply",
        "--auto-approve",
        "--target",
        "client_group.manual_auto",
    ]);
    assert_ne!(apply.code, 0, "{}", apply.all());
    assert!(
        apply.all().contains("Failed to assign to site XYZ"),
        "{}",
        apply.all()
    );
}
