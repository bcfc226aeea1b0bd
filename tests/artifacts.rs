//! Artifacts no connection reaches (examples/offline): a logon script, an offline bundle for
//! internet-only clients and an Intune command line plan, apply, drift and delete like remote
//! objects, and their rules are diagnostics.

mod common;

use common::Project;

#[test]
fn plan_apply_noop_drift_and_repair() {
    let p = Project::example("offline");
    let plan = p.run(&["plan", "--detailed-exitcode"]).code(2);
    assert!(plan.stdout.contains("Plan: 4 to add"), "{}", plan.stdout);
    p.run(&["apply", "--auto-approve"]).code(0);
    p.run(&["plan", "--detailed-exitcode"]).code(0);

    // What was written: the seed's internet-only command line, /logon, CCMSETUPCMD.
    let cmd = p.read("out/internet-client/ccmsetup-command-line.txt");
    assert!(
        cmd.starts_with(r"C:\ClientSource\ccmsetup.exe /source:C:\ClientSource /UsePKICert"),
        "{cmd}"
    );
    assert!(
        cmd.contains(r"SMSSIGNCERT=C:\ClientSource\siteserver.cer"),
        "{cmd}"
    );
    assert!(cmd.ends_with("\r\n"), "CRLF for Windows");
    assert_eq!(
        std::fs::read(p.path().join("out/internet-client/Client/x64/client.msi")).unwrap(),
        std::fs::read(p.path().join("client-source/x64/client.msi")).unwrap()
    );
    let logon = p.read("out/netlogon/ccmsetup-logon.cmd");
    assert!(
        logon.contains(r#""\\cm01.contoso.com\SMS_ABC\Client\ccmsetup.exe" /logon FSP=fspserver.contoso.com SMSSITECODE=ABC"#),
        "{logon}"
    );
    let ps = p.read("out/netlogon/ccmsetup-logon.ps1");
    assert!(
        ps.contains("$arguments = '/logon SMSSITECODE=AUTO'"),
        "{ps}"
    );
    assert_eq!(
        p.read("out/intune/ccmsetup-intune.txt").trim_end(),
        r#"CCMSETUPCMD="/mp:mpserver.contoso.com DNSSUFFIX=contoso.com SMSMP=mpserver.contoso.com SMSSITECODE=ABC""#
    );

    // A hand edit is drift (exit 2), and apply puts the file back.
    p.write(
        "out/internet-client/install.cmd",
        "@echo off\r\nrem edited\r\n",
    );
    let drift = p.run(&["drift"]).code(2);
    assert!(
        drift.stdout.contains("offline_bundle.roaming"),
        "{}",
        drift.stdout
    );
    assert!(drift.stdout.contains("install.cmd"), "{}", drift.stdout);
    p.run(&["apply", "--auto-approve"]).code(0);
    assert!(p
        .read("out/internet-client/install.cmd")
        .contains("robocopy"));
    p.run(&["drift"]).code(0);

    // A new source file is copied; a changed property rewrites the command line.
    p.write("client-source/x64/ccmsetup.cab", "new cab");
    p.edit(
        "methods.toml",
        "FSP = \"server2.contoso.com\"",
        "FSP = \"server3.contoso.com\"",
    );
    let plan = p.run(&["plan"]).code(0);
    assert!(
        plan.stdout.contains("files.Client/x64/ccmsetup.cab"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("server3.contoso.com"),
        "{}",
        plan.stdout
    );
    p.run(&["apply", "--auto-approve"]).code(0);
    assert!(p
        .read("out/internet-client/install.cmd")
        .contains("FSP=server3.contoso.com"));
    p.run(&["plan", "--detailed-exitcode"]).code(0);

    // Removing a resource deletes the files it owned, and only those.
    p.write("out/netlogon/someone-elses.cmd", "@echo off\r\n");
    p.remove_table("methods.toml", "[logon_script.netlogon]");
    p.run(&["apply", "--auto-approve"]).code(0);
    assert!(!p.path().join("out/netlogon/ccmsetup-logon.cmd").exists());
    assert!(p.path().join("out/netlogon/ccmsetup-logon.ps1").exists());
    assert!(p.path().join("out/netlogon/someone-elses.cmd").exists());
}

#[test]
fn moving_the_path_replaces_the_files() {
    let p = Project::example("offline");
    p.run(&["apply", "--auto-approve"]).code(0);
    p.edit(
        "methods.toml",
        "path = \"out/intune\"",
        "path = \"out/intune-apps\"",
    );
    let plan = p.run(&["plan"]).code(0);
    assert!(plan.stdout.contains("must be replaced"), "{}", plan.stdout);
    p.run(&["apply", "--auto-approve"]).code(0);
    assert!(
        !p.path().join("out/intune").exists(),
        "the emptied folder is removed"
    );
    assert!(p
        .path()
        .join("out/intune-apps/ccmsetup-intune.txt")
        .exists());
}

#[test]
fn rules_of_the_methods_are_diagnostics() {
    let p = Project::example("offline");
    // Internet-only clients need an explicit site code (configmgr.md §6 rule 6).
    p.edit(
        "methods.toml",
        "SMSSITECODE = \"ABC\", FSP = \"server2",
        "SMSSITECODE = \"AUTO\", FSP = \"server2",
    );
    // The client source must hold ccmsetup.cab.
    std::fs::remove_file(p.path().join("client-source/ccmsetup.cab")).unwrap();
    // cmd would expand %...% in a logon script's command line.
    p.edit(
        "methods.toml",
        "FSP = \"fspserver.contoso.com\"",
        "FSP = \"%FSP%\"",
    );
    // Intune caps the command line at 1024 characters.
    p.edit(
        "methods.toml",
        "DNSSUFFIX = \"contoso.com\" }",
        &format!("DNSSUFFIX = \"{}.contoso.com\" }}", "x".repeat(1020)),
    );
    let out = p.run(&["validate"]).code(1);
    for code in [
        "cmdeploy::offline_bundle::source_layout",
        "cmdeploy::logon_script::unsafe_value",
        "cmdeploy::ccmsetup::intune_maxlen",
    ] {
        assert!(out.stderr.contains(code), "{code}: {}", out.stderr);
    }
    // With the source repaired, the AUTO site code is reported.
    p.write("client-source/ccmsetup.cab", "cab");
    let out = p.run(&["validate"]).code(1);
    assert!(out.stderr.contains("SMSSITECODE"), "{}", out.stderr);
}

/// Regression: `CCMINSTALLDIR = "C:\x’; Remove-Item C:\ -Recurse #"` in a PowerShell logon script
/// ended PowerShell's string at the curly quote, and a CR/LF in a `.cmd` value put `calc.exe` on a
/// line of its own; `validate` passed both. Both are refused at the value now.
#[test]
fn values_that_would_run_as_code_are_refused() {
    let p = Project::example("offline");
    let text = p.read("methods.toml");
    let text = text.replacen(
        "properties = { SMSSITECODE = \"AUTO\" }",
        "properties = { SMSSITECODE = \"ABC\", CCMINSTALLDIR = \"C:\\\\x\u{2019}; Remove-Item C:\\\\ -Recurse #\" }",
        1,
    );
    assert!(text.contains("Remove-Item"));
    let text = text.replacen(
        "FSP = \"fspserver.contoso.com\"",
        "FSP = \"fspserver.contoso.com\\r\\ncalc.exe\"",
        1,
    );
    p.write("methods.toml", &text);
    let out = p.run(&["validate"]).code(1);
    for code in [
        "cmdeploy::ccmsetup::typographic_quote",
        "cmdeploy::ccmsetup::control_character",
    ] {
        assert!(out.stderr.contains(code), "{code}: {}", out.stderr);
    }
    assert!(!out.stderr.contains("cmdeploy::toml"), "{}", out.stderr);
}
