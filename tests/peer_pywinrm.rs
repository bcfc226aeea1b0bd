//! Peer check: pywinrm, a WinRM client written against real Windows, works against
//! `cmdeploy lab serve` as Windows ships WinRM: NTLM with message encryption over HTTP gives a
//! statement's JSON output and exit code 0, and a bad parameter's CLIXML error decoded to text
//! with a non-zero exit code; Basic over HTTP is refused with 401. With Kerberos (pywinrm's
//! `kerberos` extra, MIT GSSAPI) against `lab serve --keytab`, the same over message encryption.
//!
//! Needs a Python with pywinrm: `$CMDEPLOY_PEER_PYTHON`, else `target/peer-venv/bin/python`
//! (`bash tests/run.sh` creates it). Without either the test fails; it never skips.

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use common::{repo, Project};

/// Kills the server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn peer_python() -> PathBuf {
    let candidate = std::env::var_os("CMDEPLOY_PEER_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/peer-venv/bin/python"));
    assert!(
        candidate.exists(),
        "pywinrm venv missing: run `bash tests/run.sh` (it creates target/peer-venv with pywinrm[kerberos]) [looked for {}]",
        candidate.display()
    );
    candidate
}

/// Starts `cmdeploy lab serve` on a free port with `extra` options; returns it and the port.
fn serve(p: &Project, extra: &[&str]) -> (Server, String) {
    let child = Command::new(assert_cmd::cargo::cargo_bin("cmdeploy"))
        .arg("-C")
        .arg(p.path())
        .args(["lab", "serve", "--listen", "127.0.0.1:0"])
        .args(extra)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start cmdeploy lab serve");
    let mut server = Server(child);
    let mut first = String::new();
    BufReader::new(server.0.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let port = first
        .trim()
        .strip_prefix("listening on http://127.0.0.1:")
        .and_then(|rest| rest.strip_suffix("/wsman"))
        .unwrap_or_else(|| panic!("unexpected first line from lab serve: {first:?}"))
        .to_string();
    (server, port)
}

/// Runs a check script of tests/peer against lab serve; it must print OK.
fn check(script: &str, p: &Project, port: &str) {
    let out = Command::new(peer_python())
        .arg(repo().join("tests/peer").join(script))
        .arg(port)
        .arg(p.path().join("lab-secrets/admin.txt"))
        .output()
        .expect("run the pywinrm check");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.trim_end().ends_with("OK"),
        "pywinrm check {script} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
}

#[test]
fn pywinrm_runs_statements_against_lab_serve() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let (_server, port) = serve(&p, &[]);
    check("pywinrm_check.py", &p, &port);
}

/// pywinrm's Kerberos (MIT GSSAPI through pykerberos, a ticket from the test KDC) logs on to
/// `lab serve --keytab` under `Negotiate` and seals with GSSAPI wrap tokens: an implementation of
/// Kerberos other than cmdeploy's agrees with the lab's acceptor.
#[test]
fn pywinrm_with_kerberos_and_message_encryption_against_lab_serve() {
    let keytab = std::env::var("CMDEPLOY_TEST_KRB5_KEYTAB").expect(
        "the test KDC is missing: run `bash tests/run.sh` (tests/support/kdc.sh starts one)",
    );
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let (_server, port) = serve(&p, &["--keytab", &keytab]);
    check("pywinrm_kerberos_check.py", &p, &port);
}
