//! Binaries, not builds: every example pipeline installs a pinned release of cmdeploy, as built
//! and published by examples/ci/release.yml, and checks its SHA-256 before any step runs it.
//! The bash install step is also run, against a release laid out on disk, with a good and a
//! tampered archive.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_norway::Value;

use crate::common;

const PIPELINES: [&str; 4] = [
    "github-actions.yml",
    "azure-pipelines.yml",
    "github-actions-windows.yml",
    "azure-pipelines-windows.yml",
];

fn load(file: &str) -> (String, Value) {
    let path = common::repo().join("examples/ci").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    let doc = serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
    (text, doc)
}

/// The script of a step: `run`, `script`, `bash`, `powershell` or `pwsh`.
fn script(step: &Value) -> Option<&str> {
    ["run", "script", "bash", "powershell", "pwsh"]
        .iter()
        .find_map(|k| step.get(*k).and_then(Value::as_str))
}

/// Every `steps:` list of a pipeline (one per job), in document order.
fn step_lists(v: &Value, out: &mut Vec<Vec<Value>>) {
    match v {
        Value::Mapping(map) => {
            for (k, child) in map {
                match (k.as_str(), child) {
                    (Some("steps"), Value::Sequence(steps)) => out.push(steps.clone()),
                    _ => step_lists(child, out),
                }
            }
        }
        Value::Sequence(items) => items.iter().for_each(|i| step_lists(i, out)),
        _ => {}
    }
}

/// The targets release.yml builds.
fn released_targets() -> Vec<String> {
    let (_, doc) = load("release.yml");
    doc["jobs"]["build"]["strategy"]["matrix"]["include"]
        .as_sequence()
        .expect("release.yml builds a matrix")
        .iter()
        .map(|i| i["target"].as_str().unwrap().to_string())
        .collect()
}

/// The pinned version: `env.CMDEPLOY_VERSION` (GitHub) or the `CMDEPLOY_VERSION` variable (Azure).
fn pinned_version(doc: &Value) -> Option<String> {
    if let Some(v) = doc.get("env").and_then(|e| e.get("CMDEPLOY_VERSION")) {
        return v.as_str().map(String::from);
    }
    doc.get("variables")?
        .as_sequence()?
        .iter()
        .find(|v| v["name"] == "CMDEPLOY_VERSION")
        .and_then(|v| v["value"].as_str().map(String::from))
}

/// What makes a step an install of the pinned release with a checked checksum.
fn verifies(script: &str) -> bool {
    let bash = script.contains("sha256sum --check");
    let powershell = script.contains("Get-FileHash") && script.contains("throw");
    script.contains("CMDEPLOY_RELEASES")
        && (script.contains("v$CMDEPLOY_VERSION") || script.contains("v$env:CMDEPLOY_VERSION"))
        && script.contains("SHA256SUMS")
        && (bash || powershell)
}

#[test]
fn every_pipeline_pins_a_release_and_verifies_its_checksum() {
    let targets = released_targets();
    for want in [
        "x86_64-unknown-linux-gnu",
        "x86_64-unknown-linux-musl",
        "x86_64-pc-windows-msvc",
    ] {
        assert!(
            targets.iter().any(|t| t == want),
            "release.yml lacks {want}"
        );
    }
    for file in PIPELINES {
        let (text, doc) = load(file);
        assert!(
            !text.contains("cargo install") && !text.contains("cargo build"),
            "{file} still builds cmdeploy"
        );
        let version = pinned_version(&doc).unwrap_or_else(|| panic!("{file} pins no version"));
        let parts: Vec<&str> = version.split('.').collect();
        assert!(
            parts.len() == 3
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())),
            "{file}: CMDEPLOY_VERSION {version:?} is not a pinned X.Y.Z"
        );
        let mut lists = Vec::new();
        step_lists(&doc, &mut lists);
        let mut jobs_running_cmdeploy = 0;
        for steps in lists {
            let first_use = steps.iter().position(|s| {
                script(s)
                    .is_some_and(|t| t.lines().any(|l| l.trim_start().starts_with("cmdeploy ")))
            });
            let Some(first_use) = first_use else { continue };
            jobs_running_cmdeploy += 1;
            let install = steps[..first_use]
                .iter()
                .filter_map(script)
                .find(|t| verifies(t))
                .unwrap_or_else(|| {
                    panic!(
                        "{file}: a job runs cmdeploy without installing a verified release first"
                    )
                });
            // The archive is one release.yml publishes.
            let asset = targets
                .iter()
                .find(|t| install.contains(&format!("CMDEPLOY_VERSION-{t}")));
            assert!(
                asset.is_some(),
                "{file}: the install names no released target:\n{install}"
            );
            let windows = file.contains("windows");
            assert_eq!(
                asset.unwrap().contains("windows"),
                windows,
                "{file} downloads the binary of another system"
            );
        }
        assert_eq!(
            jobs_running_cmdeploy, 3,
            "{file}: plan, apply and drift jobs"
        );
    }
}

#[test]
fn release_workflow_builds_on_tags_and_publishes_checksums() {
    let (text, doc) = load("release.yml");
    let tags = &doc["on"]["push"]["tags"];
    assert!(
        tags.as_sequence().is_some_and(|t| !t.is_empty()),
        "release.yml runs on tags"
    );
    for needle in [
        "cargo build --release --locked --target",
        "cmdeploy-$VERSION-${{ matrix.target }}",
        "sha256sum cmdeploy-* > SHA256SUMS",
        "sha256sum --check SHA256SUMS",
        "gh release create",
        "man --out",
    ] {
        assert!(text.contains(needle), "release.yml lacks `{needle}`");
    }
    // The man page command it runs exists.
    use clap::CommandFactory;
    cmdeploy::cli::Cli::command()
        .try_get_matches_from(["cmdeploy", "man", "--out", "dist/man"])
        .unwrap();
}

/// The bash install step of `file`'s first job.
fn bash_install(file: &str) -> String {
    let (_, doc) = load(file);
    let mut lists = Vec::new();
    step_lists(&doc, &mut lists);
    lists
        .iter()
        .flatten()
        .filter_map(script)
        .find(|t| verifies(t))
        .unwrap()
        .to_string()
}

/// A release laid out as release.yml publishes it: the archive and SHA256SUMS under `v{version}`.
fn fake_release(root: &Path, version: &str) -> PathBuf {
    let dir = root.join(format!("v{version}"));
    let name = format!("cmdeploy-{version}-x86_64-unknown-linux-musl");
    std::fs::create_dir_all(root.join("pack").join(&name)).unwrap();
    std::fs::create_dir_all(&dir).unwrap();
    // A small executable in the binary's place keeps the archive small; what is under test is the
    // step that downloads, checks and unpacks it.
    let exe = root.join("pack").join(&name).join("cmdeploy");
    std::fs::write(&exe, format!("#!/bin/sh\necho cmdeploy {version}\n")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let archive = dir.join(format!("{name}.tar.gz"));
    let ok = Command::new("tar")
        .arg("czf")
        .arg(&archive)
        .arg("-C")
        .arg(root.join("pack"))
        .arg(&name)
        .status()
        .unwrap();
    assert!(ok.success());
    let sums = Command::new("sha256sum")
        .arg(format!("{name}.tar.gz"))
        .current_dir(&dir)
        .output()
        .unwrap();
    std::fs::write(dir.join("SHA256SUMS"), sums.stdout).unwrap();
    archive
}

fn run_install(
    script: &str,
    releases: &Path,
    temp: &Path,
    path_file: &Path,
) -> std::process::Output {
    Command::new("bash")
        .arg("-c")
        .arg(script)
        .env("CMDEPLOY_VERSION", "0.1.0")
        .env(
            "CMDEPLOY_RELEASES",
            format!("file://{}", releases.display()),
        )
        .env("RUNNER_TEMP", temp)
        .env("AGENT_TEMPDIRECTORY", temp)
        .env("GITHUB_PATH", path_file)
        .output()
        .unwrap()
}

#[test]
fn the_install_step_runs_a_verified_binary_and_refuses_a_tampered_one() {
    for file in ["github-actions.yml", "azure-pipelines.yml"] {
        let script = bash_install(file);
        let root = tempfile::tempdir().unwrap();
        let releases = root.path().join("releases");
        let archive = fake_release(&releases, "0.1.0");
        let temp = root.path().join("temp");
        std::fs::create_dir_all(&temp).unwrap();
        let path_file = root.path().join("github_path");
        let out = run_install(&script, &releases, &temp, &path_file);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{file}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // The directory the step puts on PATH holds a cmdeploy that runs.
        let bin_dir = if file.starts_with("github") {
            std::fs::read_to_string(&path_file)
                .unwrap()
                .trim()
                .to_string()
        } else {
            stdout
                .lines()
                .find_map(|l| l.strip_prefix("##vso[task.prependpath]"))
                .unwrap_or_else(|| panic!("{file}: no prependpath in {stdout}"))
                .to_string()
        };
        let version = Command::new(Path::new(&bin_dir).join("cmdeploy"))
            .arg("--version")
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&version.stdout), "cmdeploy 0.1.0\n");
        // One byte changed in the archive: the step fails and puts nothing on PATH.
        let mut bytes = std::fs::read(&archive).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        std::fs::write(&archive, bytes).unwrap();
        std::fs::remove_file(&path_file).ok();
        let temp2 = root.path().join("temp2");
        std::fs::create_dir_all(&temp2).unwrap();
        let out = run_install(&script, &releases, &temp2, &path_file);
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !out.status.success(),
            "{file}: a tampered archive was accepted: {all}"
        );
        assert!(all.contains("FAILED"), "{file}: {all}");
        assert!(!all.contains("##vso[task.prependpath]"), "{file}: {all}");
        assert!(!path_file.exists(), "{file}: PATH was changed");
    }
}

/// Syntax errors of a PowerShell script under the tree-sitter PowerShell grammar, as
/// `line:column: text`.
fn powershell_errors(script: &str) -> Vec<String> {
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_powershell::LANGUAGE.into())
        .expect("the PowerShell grammar loads");
    let tree = parser.parse(script, None).expect("a tree");
    let mut out = Vec::new();
    let mut stack = vec![tree.root_node()];
    while let Some(node) = stack.pop() {
        if node.is_error() || node.is_missing() {
            let p = node.start_position();
            let line = script.lines().nth(p.row).unwrap_or("");
            out.push(format!("{}:{}: {line}", p.row + 1, p.column + 1));
        }
        let mut cursor = node.walk();
        stack.extend(node.children(&mut cursor));
    }
    out
}

#[test]
fn windows_steps_are_valid_powershell() {
    assert!(!powershell_errors("if ($x) { throw 'unterminated }").is_empty());
    for file in ["github-actions-windows.yml", "azure-pipelines-windows.yml"] {
        let (_, doc) = load(file);
        let mut lists = Vec::new();
        step_lists(&doc, &mut lists);
        let mut checked = 0;
        for step in lists.iter().flatten() {
            // GitHub's steps run in Windows PowerShell by the workflow's `defaults`; Azure's
            // are `powershell:` steps.
            let Some(text) = step
                .get("run")
                .or_else(|| step.get("powershell"))
                .and_then(Value::as_str)
            else {
                continue;
            };
            // `${{ ... }}` is GitHub's expression syntax, replaced before PowerShell sees it.
            let text = text
                .replace("${{ github.event.pull_request.number }}", "42")
                .replace("${{ github.workflow }}", "cmdeploy");
            let errors = powershell_errors(&text);
            assert!(
                errors.is_empty(),
                "{file}: syntax errors:\n{}\n{text}",
                errors.join("\n")
            );
            checked += 1;
        }
        assert!(checked >= 8, "{file}: {checked} PowerShell steps");
    }
}
