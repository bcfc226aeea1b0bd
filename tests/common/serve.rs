//! Running `cmdeploy lab serve` for a test, and switching a project's connections to it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use super::Project;

/// A running `cmdeploy lab serve` (Windows' defaults: Negotiate with encryption, Basic off; the
/// strict shell quota of 30 per user); killed on drop.
pub struct Serve {
    child: Child,
    /// The port it listens on.
    pub port: u16,
    /// The CA file it wrote (with --https).
    pub ca_file: Option<String>,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn serve(p: &Project, extra: &[&str]) -> Serve {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("cmdeploy"))
        .args([
            "-C",
            p.path().to_str().unwrap(),
            "lab",
            "serve",
            "--listen",
            "127.0.0.1:0",
            // The strict quota profile (windows-runtime.md §1: 30 on some 2012 R2 hosts).
            "--max-shells-per-user",
            "30",
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().expect("lab serve prints its address").unwrap();
    let port: u16 = first
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches("/wsman")
        .parse()
        .unwrap_or_else(|_| panic!("no port in {first:?}"));
    let ca_file = if first.contains("https://") {
        let second = lines.next().expect("lab serve prints its CA file").unwrap();
        Some(second.trim_start_matches("ca file: ").trim().to_string())
    } else {
        None
    };
    std::thread::spawn(move || for _ in lines {});
    Serve {
        child,
        port,
        ca_file,
    }
}

/// Switches the example's connections to winrm against `lab serve`.
pub fn switch_to_winrm(p: &Project, port: u16, ca_file: Option<&str>, password_file: &str) {
    switch_site_connections_to_winrm(p, port, ca_file, password_file);
    p.edit(
        "clients.toml",
        "connection = { host = \"{{ host }}\" }",
        "connection = { host = \"{{ host }}\", base = \"hosts\" }",
    );
    p.edit(
        "clients.toml",
        "connection = { host = \"{{ host }}.{{ var.domain }}\" }",
        "connection = { host = \"{{ host }}.{{ var.domain }}\", base = \"hosts\" }",
    );
    p.edit(
        "imaging.toml",
        "connection = { host = \"ref01\" }",
        "connection = { host = \"ref01\", base = \"hosts\" }",
    );
}

/// Switches `cm01`, `dc01` and a `hosts` base connection of cmdeploy.toml to winrm against
/// `lab serve` (for projects without the example's client files).
pub fn switch_site_connections_to_winrm(
    p: &Project,
    port: u16,
    ca_file: Option<&str>,
    password_file: &str,
) {
    let tls = match ca_file {
        Some(ca) => format!("https = true\nca_file = {ca:?}\n"),
        None => String::new(),
    };
    let common = format!(
        "transport = \"winrm\"\naddress = \"127.0.0.1\"\nport = {port}\n{tls}auth = \"ntlm\"\nuser = 'CONTOSO\\cmadmin'\npassword = {{ file = \"{password_file}\" }}\nretries = 2\nconnect_timeout_seconds = 5\n"
    );
    p.edit(
        "cmdeploy.toml",
        "transport = \"lab\"\nhost = \"cm01.contoso.com\"",
        &format!("{common}host = \"cm01.contoso.com\""),
    );
    p.edit(
        "cmdeploy.toml",
        "transport = \"lab\"\nhost = \"dc01.contoso.com\"",
        &format!("{common}host = \"dc01.contoso.com\""),
    );
    let text = p.read("cmdeploy.toml");
    p.write("cmdeploy.toml", &format!("{text}\n# Defaults for per-host connections.\n[connection.hosts]\n{common}host = \"localhost\"\n"));
}

/// Switches the example's connections to winrm against `lab serve` (started with `--keytab`) the
/// way a domain estate is reached: `cm01`, `dc01` and the domain clients (the `hosts` base) with
/// Kerberos as `CONTOSO\cmadmin`, tickets from the test KDC of `KRB5_CONFIG`; the workgroup
/// kiosks and the reference computer (no domain, so no Kerberos) with NTLM.
pub fn switch_to_kerberos(p: &Project, port: u16, ca_file: Option<&str>, password_file: &str) {
    switch_to_winrm(p, port, ca_file, password_file);
    let text = p
        .read("cmdeploy.toml")
        .replace("auth = \"ntlm\"", "auth = \"kerberos\"");
    // The base's placeholder host has no domain: its user names the realm (UPN form).
    let (site, base) = text.split_at(text.find("[connection.hosts]").unwrap());
    let text = format!(
        "{site}{}",
        base.replace("'CONTOSO\\cmadmin'", "'cmadmin@CONTOSO.COM'")
    );
    let tls = match ca_file {
        Some(ca) => format!("https = true\nca_file = {ca:?}\n"),
        None => String::new(),
    };
    p.write(
        "cmdeploy.toml",
        &format!("{text}\n# Workgroup hosts: NTLM.\n[connection.workgroup]\ntransport = \"winrm\"\naddress = \"127.0.0.1\"\nport = {port}\n{tls}auth = \"ntlm\"\nuser = 'CONTOSO\\cmadmin'\npassword = {{ file = \"{password_file}\" }}\nretries = 2\nconnect_timeout_seconds = 5\nhost = \"localhost\"\n"),
    );
    p.edit(
        "clients.toml",
        "connection = { host = \"{{ host }}\", base = \"hosts\" }",
        "connection = { host = \"{{ host }}\", base = \"workgroup\" }",
    );
    p.edit(
        "imaging.toml",
        "connection = { host = \"ref01\", base = \"hosts\" }",
        "connection = { host = \"ref01\", base = \"workgroup\" }",
    );
}

/// The keytab of the test KDC (tests/support/kdc.sh); fails, never skips, without it.
pub fn test_keytab() -> String {
    std::env::var("CMDEPLOY_TEST_KRB5_KEYTAB").expect(
        "the test KDC is missing: run `bash tests/run.sh` (tests/support/kdc.sh starts one and sets CMDEPLOY_TEST_KRB5_KEYTAB and KRB5_CONFIG)",
    )
}
