//! Kerberos end to end, as a domain estate uses WinRM: examples/contoso with its domain
//! connections on `auth = "kerberos"` against `cmdeploy lab serve --keytab` (a WinRM service as
//! Windows ships it, holding the HTTP/<host> keys), tickets from the throwaway MIT KDC that
//! tests/run.sh starts (tests/support/kdc.sh). Message encryption over HTTP; HTTPS with the lab's
//! private CA and CbtHardeningLevel Strict.

mod common;

use common::serve::{serve, switch_to_kerberos, test_keytab};
use common::Project;

fn converges(p: &Project) {
    let plan = p.run(&["plan", "--detailed-exitcode"]).code(2);
    assert!(
        plan.stdout
            .contains("Plan: 16 to add, 8 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
    p.run(&["apply", "--auto-approve"]).code(0);
    p.run(&["plan", "--detailed-exitcode"]).code(0);
}

#[test]
fn main_job_over_kerberos_with_message_encryption_over_http() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let s = serve(&p, &["--keytab", &test_keytab()]);
    switch_to_kerberos(&p, s.port, None, "lab-secrets/admin.txt");
    converges(&p);
}

#[test]
fn main_job_over_kerberos_over_https_with_a_private_ca_and_strict_channel_binding() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let s = serve(
        &p,
        &[
            "--https",
            "--cbt-hardening",
            "strict",
            "--keytab",
            &test_keytab(),
        ],
    );
    let ca = s.ca_file.clone().expect("--https writes a CA file");
    switch_to_kerberos(&p, s.port, Some(&ca), "lab-secrets/admin.txt");
    converges(&p);
}

#[test]
fn a_wrong_kerberos_password_names_the_host_the_principal_and_the_kdc_refusal() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let s = serve(&p, &["--keytab", &test_keytab()]);
    p.write("wrong.txt", "not-the-password");
    switch_to_kerberos(&p, s.port, None, "wrong.txt");
    let out = p.run(&["apply", "--auto-approve", "--target", "boundary.branch_lan"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let all = out.all();
    assert!(all.contains("cm01.contoso.com"), "{all}");
    assert!(all.contains("cmadmin@CONTOSO.COM"), "{all}");
    assert!(all.contains("refused the password"), "{all}");
    assert!(!all.contains("not-the-password"), "{all}");
    assert!(!all.contains("attempts"), "not retried: {all}");
}

#[test]
fn an_unknown_principal_and_a_service_without_a_key_are_clear_errors() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let s = serve(&p, &["--keytab", &test_keytab()]);
    switch_to_kerberos(&p, s.port, None, "lab-secrets/admin.txt");
    p.edit("cmdeploy.toml", "user = 'CONTOSO\\cmadmin'\npassword = { file = \"lab-secrets/admin.txt\" }\nretries = 2\nconnect_timeout_seconds = 5\nhost = \"cm01.contoso.com\"", "user = 'nobody@CONTOSO.COM'\npassword = { file = \"lab-secrets/admin.txt\" }\nretries = 2\nconnect_timeout_seconds = 5\nhost = \"cm01.contoso.com\"");
    let out = p.run(&["apply", "--auto-approve", "--target", "boundary.branch_lan"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let all = out.all();
    assert!(
        all.contains("cm01.contoso.com") && all.contains("nobody@CONTOSO.COM"),
        "{all}"
    );
    assert!(all.contains("not found in Kerberos database"), "{all}");
}

/// A service that holds no key for `HTTP/<host>` (here `lab serve` without a keytab, as a host
/// outside the domain) refuses the ticket: the error names the SPN and the likely causes.
#[test]
fn a_service_without_the_spn_key_refuses_the_ticket_naming_the_spn() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let s = serve(&p, &[]);
    switch_to_kerberos(&p, s.port, None, "lab-secrets/admin.txt");
    let out = p.run(&["apply", "--auto-approve", "--target", "boundary.branch_lan"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let all = out.all();
    assert!(
        all.contains("HTTP/cm01.contoso.com") && all.contains("refused the Kerberos ticket"),
        "{all}"
    );
}
