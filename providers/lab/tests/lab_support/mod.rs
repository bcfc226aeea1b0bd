//! Shared helpers of the lab rule tests: a lab seeded from a copy of the Contoso example, and
//! short ways to run console statements and host functions against it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};
use tempfile::TempDir;

use cmdeploy_lab::exec::{self, Session};
use cmdeploy_lab::Lab;

pub const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/contoso");
pub const SITE_SERVER: &str = "cm01.contoso.com";

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A lab seeded from the Contoso example, with `extra_seed` appended to its `lab.toml`.
pub fn lab_with(extra_seed: &str) -> (TempDir, Lab) {
    let tmp = TempDir::new().unwrap();
    copy_dir(Path::new(EXAMPLE), tmp.path());
    if !extra_seed.is_empty() {
        let seed = tmp.path().join("lab.toml");
        let mut text = std::fs::read_to_string(&seed).unwrap();
        text.push('\n');
        text.push_str(extra_seed);
        std::fs::write(&seed, text).unwrap();
    }
    let lab = Lab::open(tmp.path(), &tmp.path().join(".cmdeploy"));
    lab.reset().unwrap();
    (tmp, lab)
}

pub fn lab() -> (TempDir, Lab) {
    lab_with("")
}

/// A lab seeded from `examples/<name>` as it is.
pub fn example_lab(name: &str) -> (TempDir, Lab) {
    let tmp = TempDir::new().unwrap();
    copy_dir(&Path::new(EXAMPLE).join("..").join(name), tmp.path());
    let lab = Lab::open(tmp.path(), &tmp.path().join(".cmdeploy"));
    lab.reset().unwrap();
    (tmp, lab)
}

pub fn ok(lab: &Lab, host: &str, line: &str) -> Value {
    lab.console(host, line)
        .unwrap_or_else(|e| panic!("`{line}` on {host} failed: {e}"))
}

pub fn refused(lab: &Lab, host: &str, line: &str) -> String {
    match lab.console(host, line) {
        Ok(v) => panic!("`{line}` on {host} should have been refused, got {v}"),
        Err(e) => e,
    }
}

pub fn assert_says(message: &str, parts: &[&str]) {
    for p in parts {
        assert!(message.contains(p), "expected {p:?} in: {message}");
    }
}

pub fn client_state(lab: &Lab, host: &str) -> Value {
    ok(lab, host, "Get-CmdeployClientState")
}

/// Installs as the runner does: `Install-CmdeployClient` starts the ccmsetup service and returns
/// at once; `Get-CmdeployInstallResult` then reads the outcome from ccmsetup.log (the lab's
/// service finishes when a statement ends, with `ccmsetup_seconds = 0`). Returns that result:
/// `Running`, `ReturnCode`, `LogTail`.
pub fn install(lab: &Lab, host: &str, command_line: &str) -> Value {
    let started = ok(
        lab,
        host,
        &format!(
            "Install-CmdeployClient -SourcePath 'C:\\ClientSource' -CommandLine '{command_line}'"
        ),
    );
    let offset = started["LogOffset"]
        .as_u64()
        .unwrap_or_else(|| panic!("no LogOffset in {started}"));
    ok(
        lab,
        host,
        &format!("Get-CmdeployInstallResult -LogOffset {offset}"),
    )
}

/// The `LogTail` of `Install-CmdeployClient` as the console prints it: Windows PowerShell 5.1
/// serialises a `Get-Content` line as `{"value": <line>, "PSPath": ...}`.
pub fn log_tail(out: &Value) -> String {
    let tail = &out["LogTail"];
    tail.as_str()
        .or_else(|| tail["value"].as_str())
        .unwrap_or_default()
        .to_string()
}

pub fn site_code_of(state: &Value) -> Option<&str> {
    state["SiteCode"].as_str().filter(|s| !s.is_empty())
}

pub fn device(lab: &Lab, name: &str) -> Value {
    let out = ok(lab, SITE_SERVER, &format!("Get-CMDevice -Name {name}"));
    let list = out.as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 1, "one device named {name}: {out}");
    list[0].clone()
}

/// `New-CMAccount` with a password, as a SecureString parameter would carry it: straight to
/// the lab's executor, since the console parser cannot build SecureStrings.
pub fn new_cm_account(lab: &Lab, user: &str, password: &str) -> Result<Value, String> {
    let mut args = Map::new();
    args.insert("UserName".into(), json!(user));
    args.insert("Password".into(), json!(password));
    let session = Session {
        host: SITE_SERVER.into(),
        site: Some("ABC".into()),
        domain: None,
    };
    lab.with_estate(|e| exec::execute(e, &session, "New-CMAccount", &args))
        .unwrap()
        .map_err(|e| format!("{} ({})", e.message, e.category))
}

pub fn push_password(tmp: &TempDir) -> String {
    std::fs::read_to_string(tmp.path().join("lab-secrets/push-account.txt"))
        .unwrap()
        .trim()
        .to_string()
}

pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            out.extend(files_under(&entry.path()));
        } else {
            out.push(entry.path());
        }
    }
    out
}

/// True when the lab shows a client installed on `host`.
pub fn has_client(lab: &Lab, host: &str) -> bool {
    lab.snapshot().unwrap().host(host).unwrap().client.is_some()
}
