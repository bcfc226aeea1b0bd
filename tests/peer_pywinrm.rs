//! Peer check: pywinrm, a WinRM client written against real Windows, works against
//! `cmdeploy lab serve` as Windows ships WinRM: NTLM with message encryption over HTTP gives a
//! statement's JSON output and exit code 0, and a bad parameter's CLIXML error decoded to text
//! with a non-zero exit code; Basic over HTTP is refused with 401.
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
        "pywinrm venv missing: run `bash tests/run.sh` (it creates target/peer-venv with pywinrm) [looked for {}]",
        candidate.display()
    );
    candidate
}

#[test]
fn pywinrm_runs_statements_against_lab_serve() {
    let python = peer_python();
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let child = Command::new(assert_cmd::cargo::cargo_bin("cmdeploy"))
        .arg("-C")
        .arg(p.path())
        .args(["lab", "serve", "--listen", "127.0.0.1:0"])
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
        .unwrap_or_else(|| panic!("unexpected first line from lab serve: {first:?}"));
    let out = Command::new(&python)
        .arg(repo().join("tests/peer/pywinrm_check.py"))
        .arg(port)
        .arg(p.path().join("lab-secrets/admin.txt"))
        .output()
        .expect("run the pywinrm check");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.trim_end().ends_with("OK"),
        "pywinrm check failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
}
