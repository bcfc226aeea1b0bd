//! The plan shows the CCMSetup command line each client target will run, in
//! text and JSON, with credentials masked (a `/regtoken` bulk registration token never appears in
//! a plan, its JSON, a saved plan file, apply's output or state; only the host receives it).

mod common;

use common::Project;
use serde_json::Value;

/// A bulk registration token: a credential, as a password is.
const TOKEN: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.TOKEN-SECRET-4711";

/// contoso, with ws11 (a manual intranet client) registering through a bulk registration token.
fn with_token() -> Project {
    let p = Project::example("contoso");
    p.edit(
        "clients.toml",
        "ccmsetup = { mp = [\"mpserver.contoso.com\"], UsePKICert = true }",
        &format!("ccmsetup = {{ mp = [\"mpserver.contoso.com\"], UsePKICert = true, regtoken = \"{TOKEN}\" }}"),
    );
    p.edit(
        "clients.toml",
        "FSP = \"fspserver.contoso.com\" }",
        "FSP = \"fspserver.contoso.com\", SMSMP = \"https://mpserver.contoso.com\" }",
    );
    p.run(&["lab", "reset"]).code(0);
    p
}

/// The text block of one resource in a plan: from its `#` header to its closing brace.
fn block(plan: &str, address: &str) -> String {
    let start = plan
        .find(&format!("  # {address} "))
        .unwrap_or_else(|| panic!("{address} not in the plan:\n{plan}"));
    let rest = &plan[start..];
    let end = rest.find("\n    }\n").map_or(rest.len(), |i| i + 7);
    rest[..end].to_string()
}

#[test]
fn the_plan_shows_each_client_targets_ccmsetup_command_line_with_secrets_masked() {
    let p = with_token();
    let text = p.run(&["plan"]).code(0).stdout;
    assert!(!text.contains("TOKEN-SECRET"), "the token leaked:\n{text}");
    insta::assert_snapshot!(
        "plan_ccmsetup_manual_with_regtoken",
        block(&text, "client_group.manual_explicit[\"ws11\"]")
    );
    insta::assert_snapshot!(
        "plan_ccmsetup_workgroup",
        block(&text, "client_group.kiosks[\"kiosk01\"]")
    );

    let json = p.run(&["plan", "--json"]).code(0).stdout;
    assert!(!json.contains("TOKEN-SECRET"), "the token leaked:\n{json}");
    let v: Value = serde_json::from_str(&json).unwrap();
    let commands: Vec<(String, Value)> = v["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c.get("commands").is_some())
        .map(|c| {
            (
                c["address"].as_str().unwrap().to_string(),
                c["commands"].clone(),
            )
        })
        .collect();
    let listed: String = commands
        .iter()
        .map(|(a, c)| format!("{a}: {c}\n"))
        .collect();
    insta::assert_snapshot!("plan_json_commands", listed);

    let saved = p.path().join("plan.json");
    p.run(&["plan", "--out", saved.to_str().unwrap()]).code(0);
    let file = std::fs::read_to_string(&saved).unwrap();
    assert!(
        !file.contains("TOKEN-SECRET"),
        "the token leaked into the saved plan"
    );

    // Applied: the host's CCMSetup got the token; the output and the state never hold it.
    let target = "client_group.manual_explicit";
    let apply = p
        .run(&["apply", "--auto-approve", "--target", target])
        .code(0);
    assert!(!apply.all().contains("TOKEN-SECRET"), "{}", apply.all());
    for file in [".cmdeploy/state.json", ".cmdeploy/state.journal"] {
        let path = p.path().join(file);
        if path.exists() {
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(
                !text.contains("TOKEN-SECRET"),
                "the token leaked into {file}"
            );
        }
    }
    let audit = p.read(".cmdeploy/lab/audit.jsonl");
    assert!(
        audit.contains(&format!("/regtoken:{TOKEN}")),
        "CCMSetup ran with the token"
    );
}

#[test]
fn a_converged_plan_runs_no_command_line() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    p.run(&["apply", "--auto-approve"]).code(0);
    let json = p.run(&["plan", "--json"]).code(0).stdout;
    assert!(!json.contains("\"commands\""), "{json}");
    assert!(!p.run(&["plan"]).code(0).stdout.contains("# runs:"));
}
