//! Secrets never leave memory: a canary password appears in no output and no file under .cmdeploy.

mod common;

use common::Project;

const CANARY: &str = "Canary-7c1e-Passw0rd";

#[test]
fn a_canary_password_appears_nowhere() {
    let p = Project::example("contoso");
    // The push account's password (also the AD user's password in the lab seed).
    p.write("lab-secrets/push-account.txt", CANARY);
    let saved = p.path().join("saved.plan");
    let saved_arg = saved.to_str().unwrap();
    let mut outputs = vec![
        p.run(&["lab", "reset"]).code(0).all(),
        p.run(&["validate"]).code(0).all(),
        p.run(&["plan"]).code(0).all(),
        p.run(&["plan", "--json"]).code(0).all(),
        p.run(&["plan", "--out", saved_arg]).code(0).all(),
        p.run(&["apply", "--auto-approve"]).code(0).all(),
    ];
    // Change the password: the plan must say so without showing either value.
    p.write("lab-secrets/push-account.txt", &format!("{CANARY}-2"));
    let changed = p.run(&["plan"]).code(0).all();
    assert!(changed.contains("~ password = (sensitive)"), "{changed}");
    outputs.push(changed);
    outputs.push(p.run(&["apply", "--auto-approve"]).code(0).all());
    outputs.push(p.run(&["drift"]).code(0).all());
    outputs.push(p.run(&["drift", "--format", "json"]).code(0).all());
    outputs.push(p.run(&["state", "show", "account.push"]).code(0).all());
    outputs.push(p.run(&["lab", "show", "--json"]).code(0).all());
    for (i, out) in outputs.iter().enumerate() {
        assert!(!out.contains(CANARY), "output {i} leaks the canary:\n{out}");
    }
    let files = p.work_files();
    assert!(
        files.len() >= 4,
        "state, key, lab estate and audit log exist: {files:?}"
    );
    for (path, bytes) in files {
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(CANARY),
            "{} holds the canary",
            path.display()
        );
    }
    let saved = std::fs::read_to_string(saved).unwrap();
    assert!(!saved.contains(CANARY), "the saved plan holds the canary");
}

#[test]
fn an_unreadable_secret_is_an_error_naming_the_reference() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    p.edit(
        "site.toml",
        "password = { file = \"lab-secrets/push-account.txt\" }",
        "password = { env = \"CMDEPLOY_TEST_UNSET_PASSWORD\" }",
    );
    let out = p.run(&["plan"]).code(1);
    assert!(
        out.stderr.contains("cmdeploy::secret::unreadable")
            && out.stderr.contains("CMDEPLOY_TEST_UNSET_PASSWORD"),
        "{}",
        out.stderr
    );
}

/// Regression: `lab console` kept a secret-typed parameter's value in the audit log unless it was
/// spelled exactly `-Password`. PowerShell binds abbreviations and aliases too; the cmdlet
/// reference's types decide (SecureString, PSCredential), however the parameter is written.
#[test]
fn the_console_never_logs_a_secret_typed_parameter_however_it_is_spelled() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    for statement in [
        "New-CMAccount -UserName 'CONTOSO\\x' -Pass 'canary-console-1' -SiteCode ABC",
        "New-CMAccount -UserName 'CONTOSO\\x' -PASSWORD 'canary-console-2' -SiteCode ABC",
        "Set-CMDistributionPoint -SiteSystemServerName cm01.contoso.com -ComputersUsePxe 'canary-console-3'",
        "New-CMActiveDirectoryForest -ForestFqdn contoso.com -UserName x -Password 'canary-console-4'",
    ] {
        let out = p.run(&["lab", "console", "--connection", "cm01", statement]);
        assert_ne!(out.code, 0, "{statement}: {}", out.all());
    }
    let audit = p.path().join(".cmdeploy/lab/audit.jsonl");
    let text = std::fs::read_to_string(&audit).unwrap_or_default();
    assert!(
        !text.contains("canary-console"),
        "a secret reached {}:\n{text}",
        audit.display()
    );
}
