//! The real wire: examples/contoso with its connections switched to `winrm`, against
//! `cmdeploy lab serve` on a random loopback port as Windows ships WinRM, with NTLM as a domain
//! estate uses it: message encryption over HTTP, or HTTPS verified with the CA file lab serve
//! writes. The results must be those of the in-process lab.

mod common;

use common::serve::{serve, switch_to_winrm};
use common::Project;
use serde_json::Value;

fn main_job(p: &Project) {
    let plan = p.run(&["plan", "--detailed-exitcode"]).code(2);
    assert!(
        plan.stdout
            .contains("Plan: 16 to add, 8 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
    let apply = p.run(&["apply", "--auto-approve"]).code(0);
    assert!(
        apply
            .stdout
            .contains("Apply complete! Resources: 16 added, 8 changed, 0 destroyed."),
        "{}",
        apply.stdout
    );
    p.run(&["plan", "--detailed-exitcode"]).code(0);
    p.run(&[
        "lab",
        "console",
        "--connection",
        "cm01",
        "Set-CMClientPushInstallation -SiteCode ABC -EnableAutomaticClientPushInstallation $false",
    ])
    .code(0);
    let drift = p.run(&["drift", "--format", "json"]).code(2);
    let v: Value = serde_json::from_str(&drift.stdout).unwrap();
    assert_eq!(v["entries"][0]["address"], "client_push.ABC");
}

#[test]
fn main_job_over_winrm_http_matches_the_lab() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let s = serve(&p, &[]);
    switch_to_winrm(&p, s.port, None, "lab-secrets/admin.txt");
    main_job(&p);
}

#[test]
fn main_job_over_winrm_https_with_the_lab_ca_matches_the_lab() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    // CbtHardeningLevel Strict: the NTLM proof must carry the channel binding of the TLS
    // certificate.
    let s = serve(&p, &["--https", "--cbt-hardening", "strict"]);
    let ca = s.ca_file.clone().expect("--https writes a CA file");
    switch_to_winrm(&p, s.port, Some(&ca), "lab-secrets/admin.txt");
    main_job(&p);
}

#[test]
fn https_without_the_lab_ca_is_refused() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let s = serve(&p, &["--https"]);
    // No ca_file: the public roots do not know the lab's CA.
    switch_to_winrm(&p, s.port, None, "lab-secrets/admin.txt");
    p.edit(
        "cmdeploy.toml",
        "auth = \"ntlm\"",
        "https = true\nauth = \"ntlm\"",
    );
    let out = p.run(&["plan"]);
    assert!(
        out.all().contains("read failed") || out.code != 0,
        "{}",
        out.all()
    );
    assert!(
        out.all().contains("cm01.contoso.com") && out.all().to_lowercase().contains("certificate"),
        "{}",
        out.all()
    );
    // A certificate that does not verify is said once per connection, never retried; plain
    // HTTP to the TLS port (dc01 keeps https off) is named as such.
    let all = out.all();
    let cert = all
        .lines()
        .find(|l| l.contains("invalid peer certificate"))
        .unwrap_or_else(|| panic!("{all}"));
    assert!(!cert.contains("attempts"), "{cert}");
    assert!(all.contains("chain to `ca_file`"), "{all}");
    assert!(
        all.contains("it is an HTTPS listener; set https = true"),
        "{all}"
    );
    assert!(!all.contains("attempts"), "{all}");
}

#[test]
fn a_wrong_password_fails_fast_naming_the_host() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let s = serve(&p, &[]);
    p.write("wrong.txt", "not-the-password");
    switch_to_winrm(&p, s.port, None, "wrong.txt");
    let start = std::time::Instant::now();
    let out = p.run(&["apply", "--auto-approve", "--target", "boundary.branch_lan"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let all = out.all();
    assert!(
        all.contains("cm01.contoso.com") && all.contains("authentication failed"),
        "{all}"
    );
    assert!(
        !all.contains("attempts"),
        "authentication failures are not retried: {all}"
    );
    assert!(start.elapsed() < std::time::Duration::from_secs(20));
}

#[test]
fn a_stopped_lab_serve_gives_a_connect_error_naming_host_and_port() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let port = {
        let s = serve(&p, &[]);
        s.port
    };
    switch_to_winrm(&p, port, None, "lab-secrets/admin.txt");
    let out = p.run(&["apply", "--auto-approve", "--target", "boundary.branch_lan"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let all = out.all();
    assert!(
        all.contains("cm01.contoso.com")
            && all.contains("connect")
            && all.contains(&port.to_string()),
        "{all}"
    );
}

#[test]
fn non_ascii_names_descriptions_and_passwords_round_trip_exactly() {
    let p = Project::example("contoso");
    // AD holds the push account's password with a euro sign (the seed reads it before reset).
    p.write(
        "lab-secrets/push-account.txt",
        "Pa55\u{2013}w\u{f6}rd\u{20ac}\n",
    );
    p.run(&["lab", "reset"]).code(0);
    p.edit(
        "boundaries.toml",
        "name = \"Branch 1 Clients\"\ndescription = \"Branch office 1\"",
        "name = \"Z\u{fc}rich Clients\"\ndescription = \"Z\u{fc}rich \u{2013} B\u{fc}ro\"",
    );
    let s = serve(&p, &[]);
    switch_to_winrm(&p, s.port, None, "lab-secrets/admin.txt");
    p.run(&["apply", "--auto-approve"]).code(0);
    p.run(&["plan", "--detailed-exitcode"]).code(0);
    let estate: Value =
        serde_json::from_str(&p.run(&["lab", "show", "--json"]).code(0).stdout).unwrap();
    let group = estate["boundary_group"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "Z\u{fc}rich Clients")
        .unwrap_or_else(|| {
            panic!(
                "no exact Z\u{fc}rich Clients in {:#}",
                estate["boundary_group"]
            )
        });
    assert_eq!(group["description"], "Z\u{fc}rich \u{2013} B\u{fc}ro");
    let ad = estate["domain"][0]["user"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "CONTOSO\\svc-cmpush")
        .unwrap()["password_hash"]
        .clone();
    let account = estate["site"][0]["account"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["user_name"] == "CONTOSO\\svc-cmpush")
        .unwrap()["password_hash"]
        .clone();
    assert!(
        ad.is_string() && ad == account,
        "the password ConfigMgr holds is the one AD holds"
    );
    assert!(
        !p.run(&["lab", "show", "--json"]).stdout.contains("nt_hash"),
        "lab show leaves out what logs on as a password"
    );
}

/// examples/upgrade (package and program, site settings, software update point) plans, applies
/// and converges over the wire too, with the auth a domain uses (NTLM, sealed over HTTP).
#[test]
fn the_upgrade_example_converges_over_winrm() {
    let p = Project::example("upgrade");
    p.run(&["lab", "reset"]).code(0);
    let s = serve(&p, &[]);
    common::serve::switch_site_connections_to_winrm(&p, s.port, None, "lab-secrets/admin.txt");
    p.run(&["apply", "--auto-approve"]).code(0);
    let plan = p.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(
        plan.code, 0,
        "not converged:\n{}{}",
        plan.stdout, plan.stderr
    );
}

/// A client CA and a client certificate for `CONTOSO\cmadmin` (UPN in the Subject Alternative
/// Name, Client Authentication usage), as an estate's AD CS issues them for WinRM's certificate
/// mapping; written to the project as PEM. Returns the CA file's path.
fn client_certificate(p: &Project) -> String {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, ExtendedKeyUsagePurpose, IsCa,
        KeyPair, OtherNameValue, SanType,
    };
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let mut leaf = CertificateParams::new(Vec::<String>::new()).unwrap();
    leaf.subject_alt_names = vec![SanType::OtherName((
        vec![1, 3, 6, 1, 4, 1, 311, 20, 2, 3],
        OtherNameValue::Utf8String("cmadmin@contoso.com".into()),
    ))];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let key = KeyPair::generate().unwrap();
    let cert = leaf.signed_by(&key, &ca).unwrap();
    p.write("client.pem", &cert.pem());
    p.write("client.key", &key.serialize_pem());
    p.write("client-ca.pem", &ca.pem());
    p.path().join("client-ca.pem").display().to_string()
}

/// Certificate authentication through the relay, over HTTPS verified with lab serve's private
/// CA: the TLS client certificate is the credential, mapped to CONTOSO\cmadmin by its UPN.
#[test]
fn main_job_over_certificate_auth_with_a_private_ca_converges() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let client_ca = client_certificate(&p);
    let s = serve(&p, &["--https", "--client-ca", &client_ca]);
    let ca = s.ca_file.clone().expect("--https writes a CA file");
    switch_to_winrm(&p, s.port, Some(&ca), "lab-secrets/admin.txt");
    let text = p.read("cmdeploy.toml").replace(
        "auth = \"ntlm\"\nuser = 'CONTOSO\\cmadmin'\npassword = { file = \"lab-secrets/admin.txt\" }",
        "auth = \"certificate\"\ncert_file = \"client.pem\"\nkey_file = \"client.key\"",
    );
    p.write("cmdeploy.toml", &text);
    p.run(&["plan", "--detailed-exitcode"]).code(2);
    p.run(&["apply", "--auto-approve"]).code(0);
    p.run(&["plan", "--detailed-exitcode"]).code(0);
    // A certificate the service's mapping does not trust fails the TLS handshake.
    let other = Project::example("contoso");
    client_certificate(&other);
    std::fs::copy(other.path().join("client.pem"), p.path().join("client.pem")).unwrap();
    std::fs::copy(other.path().join("client.key"), p.path().join("client.key")).unwrap();
    let out = p.run(&["plan"]);
    assert_ne!(out.code, 0, "{}", out.all());
    assert!(
        out.all().contains("cm01.contoso.com") && out.all().contains("fatal alert"),
        "the TLS refusal is named: {}",
        out.all()
    );
}

/// MaxConcurrentOperationsPerUser as Server 2008 R2 ships it is 15 ([MS-WSMV] note <19>), and
/// each of cmdeploy's Scripts keeps one Receive waiting: with the quota at 3 the service
/// answers the fourth concurrent request with the w:QuotaLimit fault 2150859174. cmdeploy keeps
/// at most `max_concurrent_operations` requests in flight per service and user, so the main job
/// converges without a fault.
#[test]
fn main_job_stays_within_max_concurrent_operations_per_user() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let s = serve(&p, &["--max-concurrent-operations-per-user", "3"]);
    switch_to_winrm(&p, s.port, None, "lab-secrets/admin.txt");
    let text = p.read("cmdeploy.toml").replace(
        "retries = 2\n",
        "retries = 0\nmax_concurrent_operations = 3\n",
    );
    p.write("cmdeploy.toml", &text);
    let plan = p.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}", plan.all());
    p.run(&["apply", "--auto-approve"]).code(0);
    p.run(&["plan", "--detailed-exitcode"]).code(0);
}

/// A CI runner often has `HTTP_PROXY`/`ALL_PROXY` set. The loopback relays carry Scripts (and
/// account passwords) in the clear, so they must never go through such a proxy: here one that
/// nothing listens on, which would fail every Script that reached it.
#[test]
fn a_proxy_in_the_environment_never_sees_the_relays_traffic() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let s = serve(&p, &[]);
    switch_to_winrm(&p, s.port, None, "lab-secrets/admin.txt");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let env = [
        ("HTTP_PROXY", proxy.as_str()),
        ("ALL_PROXY", proxy.as_str()),
        ("NO_PROXY", ""),
        ("no_proxy", ""),
    ];
    let plan = p.run_env(&["plan", "--detailed-exitcode"], &env).code(2);
    assert!(
        plan.stdout
            .contains("Plan: 16 to add, 8 to change, 0 to destroy."),
        "{}",
        plan.all()
    );
}
