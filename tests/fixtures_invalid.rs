//! One failing fixture per diagnostic code of the configmgr.md §6 rules, under
//! `tests/fixtures/invalid/<code>/`, where the directory is the code with `::` written as `.`
//! (`cmdeploy.site_code.format` for `cmdeploy::site_code::format`): colons are not allowed in
//! Windows paths, and ConfigMgr administrators clone this repository on Windows.
//!
//! Every code of the CCMSetup model (`ccmsetup::codes::ALL`) has one too, most of them as a GPO's
//! `SetupParameters`.
//!
//! Each fixture is a project whose `cmdeploy validate` reports its code, with a file and line
//! inside the fixture, and fails: errors exit 1; a warning code fails under `--strict`.

mod common;

use std::path::{Path, PathBuf};

use common::run_in;

/// The codes issue #5 names; each must have its fixture (more fixtures are welcome).
const REQUIRED: &[&str] = &[
    "cmdeploy::site_code::format",
    "cmdeploy::reference::unknown",
    "cmdeploy::boundary::assignment_overlap",
    "cmdeploy::boundary::supernet",
    "cmdeploy::account::password_too_long",
    "cmdeploy::client_push::workgroup_target",
    "cmdeploy::client::internet_auto_site",
    "cmdeploy::client::internet_missing_pki",
    "cmdeploy::workgroup::no_network_access_account",
    "cmdeploy::secondary_site::push_site_code",
    "cmdeploy::ccmsetup::order",
    "cmdeploy::ccmsetup::unknown_property",
    "cmdeploy::ccmsetup::push_subset",
    "cmdeploy::gpo::setup_parameters_too_long",
    "cmdeploy::gpo::wsus_url",
];

fn fixtures() -> Vec<(String, PathBuf)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/invalid");
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(&root)
        .expect("tests/fixtures/invalid exists")
        .map(|e| e.expect("readable fixture dir").path())
        .filter(|p| p.is_dir())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().replace('.', "::");
            (name, p)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn every_required_code_and_every_ccmsetup_code_has_a_fixture() {
    let have: Vec<String> = fixtures().into_iter().map(|(c, _)| c).collect();
    let missing: Vec<&&str> = REQUIRED
        .iter()
        .chain(cmdeploy_providers::ccmsetup::codes::ALL)
        .filter(|c| !have.iter().any(|h| h == *c))
        .collect();
    assert!(missing.is_empty(), "fixtures missing for {missing:?}");
}

/// Every `"cmdeploy::area::rule"` string in the providers' sources, but the shape errors of
/// deserialisation (`::invalid`) and template bugs (`::render`), which no manifest should reach.
fn provider_codes() -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("providers/src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            for piece in text.split("\"cmdeploy::").skip(1) {
                let code: String = piece
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_' || *c == ':')
                    .collect();
                if piece[code.len()..].starts_with('"')
                    && code.matches("::").count() == 1
                    && !code.ends_with("::invalid")
                    && !code.ends_with("::render")
                {
                    out.push(format!("cmdeploy::{code}"));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    // A prefix matched by `starts_with` (`cmdeploy::client::internet`) is not a code of its own.
    let all = out.clone();
    out.retain(|c| !all.iter().any(|o| o != c && o.starts_with(c.as_str())));
    out
}

#[test]
fn every_rule_code_of_the_providers_has_a_fixture() {
    let have: Vec<String> = fixtures().into_iter().map(|(c, _)| c).collect();
    let codes = provider_codes();
    assert!(codes.len() > 50, "the scan found {} codes", codes.len());
    let missing: Vec<&String> = codes.iter().filter(|c| !have.contains(c)).collect();
    assert!(missing.is_empty(), "fixtures missing for {missing:?}");
}

#[test]
fn each_fixture_fails_validation_with_its_code() {
    let mut problems = Vec::new();
    for (code, dir) in fixtures() {
        let out = run_in(&dir, &["validate", "--format", "json"], &[]);
        let v: serde_json::Value = match serde_json::from_str(&out.stdout) {
            Ok(v) => v,
            Err(e) => {
                problems.push(format!(
                    "{code}: validate printed no JSON ({e}): {}",
                    out.stderr
                ));
                continue;
            }
        };
        let diagnostics = v["diagnostics"].as_array().cloned().unwrap_or_default();
        let Some(d) = diagnostics.iter().find(|d| d["code"] == code.as_str()) else {
            let got: Vec<&serde_json::Value> = diagnostics.iter().map(|d| &d["code"]).collect();
            problems.push(format!("{code}: not reported; got {got:?}"));
            continue;
        };
        let file = d["file"].as_str().unwrap_or_default();
        let dir_name = dir.file_name().unwrap().to_string_lossy();
        if !file.contains(&format!("invalid/{dir_name}/")) {
            problems.push(format!("{code}: reported at `{file}`, outside the fixture"));
        }
        if d["line"].as_u64().unwrap_or(0) == 0 {
            problems.push(format!("{code}: no line"));
        }
        let (args, want): (&[&str], i32) = match d["severity"].as_str() {
            Some("error") => (&["validate"], 1),
            Some("warning") => (&["validate", "--strict"], 1),
            other => {
                problems.push(format!("{code}: severity {other:?}"));
                continue;
            }
        };
        let text = run_in(&dir, args, &[]);
        if text.code != want {
            problems.push(format!("{code}: `{}` exited {}", args.join(" "), text.code));
        }
        if !text.stderr.contains(&code) {
            problems.push(format!("{code}: the text report does not name it"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
