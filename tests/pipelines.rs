//! The CI pipelines in examples/ci/ parse as YAML and validate against the CI systems' own
//! schemas (check-jsonschema's vendored GitHub Actions workflow and Azure Pipelines schemas),
//! every `cmdeploy ...` command in them parses with the real CLI definition (subcommands, flags
//! and values), the drift job refreshes once, and the commands that touch the estate get the
//! secrets they reference from the CI system's secret store. Each installs a pinned release of
//! cmdeploy and verifies its checksum before running it (tests/pipelines/release.rs).
//!
//! check-jsonschema comes from PyPI into `target/peer-venv` (`bash tests/run.sh` installs it
//! beside pywinrm); without it the schema tests fail, never skip.

mod common;
#[path = "pipelines/release.rs"]
mod release;

use std::path::PathBuf;
use std::process::Command;

use clap::CommandFactory;
use cmdeploy::cli::Cli;
use serde_norway::Value;

/// A shell command found in a pipeline, with the secrets its step or job maps into `env`.
struct Found {
    words: Vec<String>,
    env: Vec<String>,
}

/// Splits a shell script into simple commands (words), dropping redirections and their targets.
/// Enough shell for pipeline steps: quotes, `\` continuations, `;`, `&&`, `||`, `|`, `$(`, `(`.
fn commands(script: &str) -> Vec<Vec<String>> {
    let script = script.replace("\\\n", " ");
    let mut out = Vec::new();
    for line in script.lines() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        let mut words: Vec<String> = Vec::new();
        let mut word = String::new();
        let mut in_word = false;
        let mut skip_next = false;
        let mut chars = line.chars().peekable();
        let finish =
            |word: &mut String, in_word: &mut bool, skip: &mut bool, words: &mut Vec<String>| {
                if *in_word {
                    if *skip {
                        *skip = false;
                    } else {
                        words.push(std::mem::take(word));
                    }
                }
                word.clear();
                *in_word = false;
            };
        while let Some(c) = chars.next() {
            match c {
                '\'' => {
                    in_word = true;
                    for q in chars.by_ref() {
                        if q == '\'' {
                            break;
                        }
                        word.push(q);
                    }
                }
                '"' => {
                    in_word = true;
                    while let Some(q) = chars.next() {
                        match q {
                            '"' => break,
                            '\\' => word.extend(chars.next()),
                            q => word.push(q),
                        }
                    }
                }
                '$' if chars.peek() == Some(&'(') => {
                    finish(&mut word, &mut in_word, &mut skip_next, &mut words);
                    out.push(std::mem::take(&mut words));
                    chars.next();
                }
                '>' | '<' => {
                    // A file descriptor number before the operator is part of it.
                    if in_word && word.chars().all(|d| d.is_ascii_digit()) {
                        word.clear();
                        in_word = false;
                    }
                    finish(&mut word, &mut in_word, &mut skip_next, &mut words);
                    let mut op = String::new();
                    while let Some(n) = chars.next_if(|n| matches!(n, '>' | '&' | '0'..='9')) {
                        op.push(n);
                    }
                    // `>&1` names its target; `> file` is followed by it.
                    skip_next = !op.contains('&');
                }
                ';' | '|' | '&' | '(' | ')' => {
                    finish(&mut word, &mut in_word, &mut skip_next, &mut words);
                    skip_next = false;
                    out.push(std::mem::take(&mut words));
                }
                c if c.is_whitespace() => {
                    finish(&mut word, &mut in_word, &mut skip_next, &mut words)
                }
                c => {
                    in_word = true;
                    word.push(c);
                }
            }
        }
        finish(&mut word, &mut in_word, &mut skip_next, &mut words);
        out.push(words);
    }
    out.into_iter()
        .map(|ws| {
            // Leading VAR=value assignments are not the command.
            ws.into_iter()
                .skip_while(|w| {
                    w.split_once('=').is_some_and(|(k, _)| {
                        !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    })
                })
                .collect::<Vec<_>>()
        })
        .filter(|ws| !ws.is_empty())
        .collect()
}

fn env_names(map: &serde_norway::Mapping) -> Option<Vec<String>> {
    let env = map.get("env")?.as_mapping()?;
    Some(
        env.iter()
            .filter_map(|(k, v)| {
                let v = v.as_str().unwrap_or_default();
                // Only values drawn from the secret store count.
                (v.contains("secrets.") || v.starts_with("$("))
                    .then(|| k.as_str().map(String::from))?
            })
            .collect(),
    )
}

/// Every `cmdeploy` command in `run:`, `script:` and `bash:` values, with the secrets mapped by
/// the enclosing `env:` tables (the job's and the step's).
fn walk(v: &Value, env: &[String], found: &mut Vec<Found>) {
    match v {
        Value::Mapping(map) => {
            // A step's env adds to its job's.
            let mut env = env.to_vec();
            env.extend(env_names(map).unwrap_or_default());
            for (k, child) in map {
                let is_script = matches!(
                    k.as_str(),
                    Some("run" | "script" | "bash" | "powershell" | "pwsh")
                );
                match (is_script, child.as_str()) {
                    (true, Some(script)) => {
                        for words in commands(script) {
                            if words[0] == "cmdeploy" {
                                found.push(Found {
                                    words,
                                    env: env.clone(),
                                });
                            }
                        }
                    }
                    _ => walk(child, &env, found),
                }
            }
        }
        Value::Sequence(items) => items.iter().for_each(|i| walk(i, env, found)),
        _ => {}
    }
}

fn check(file: &str) -> Vec<Found> {
    let path = common::repo().join("examples/ci").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    let doc: Value =
        serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{file} is not YAML: {e}"));
    let mut found = Vec::new();
    walk(&doc, &[], &mut found);
    assert!(!found.is_empty(), "{file} runs no cmdeploy command");
    for f in &found {
        if let Err(e) = Cli::command().try_get_matches_from(&f.words) {
            panic!(
                "{file}: `{}` is not a cmdeploy command line:\n{e}",
                f.words.join(" ")
            );
        }
    }
    let has = |needles: &[&str]| {
        found
            .iter()
            .any(|f| needles.iter().all(|n| f.words.iter().any(|w| w == n)))
    };
    assert!(has(&["validate"]), "{file}: no validate");
    assert!(
        has(&["plan", "--detailed-exitcode", "--out", "plan.json"]),
        "{file}: no saved plan"
    );
    assert!(
        has(&["apply", "plan.json"]),
        "{file}: no apply of the saved plan"
    );
    // One refresh per drift job: a single `drift` run writes both reports.
    let drifts = found
        .iter()
        .filter(|f| f.words.iter().any(|w| w == "drift"))
        .count();
    assert_eq!(drifts, 1, "{file}: the drift job must run drift once");
    assert!(
        has(&["drift", "--junit", "--markdown"]),
        "{file}: the drift run writes no JUnit and markdown reports"
    );
    for f in &found {
        let touches_estate = ["plan", "apply", "drift"]
            .iter()
            .any(|s| f.words.contains(&s.to_string()));
        if touches_estate {
            for secret in ["CM_PUSH_PASSWORD", "CMDEPLOY_FINGERPRINT_KEY"] {
                assert!(
                    f.env.iter().any(|e| e == secret),
                    "{file}: `{}` runs without {secret} from the secret store (env: {:?})",
                    f.words.join(" "),
                    f.env
                );
            }
        }
    }
    found
}

#[test]
fn github_actions_pipeline_runs_real_commands() {
    check("github-actions.yml");
}

#[test]
fn azure_pipeline_runs_real_commands() {
    check("azure-pipelines.yml");
}

#[test]
fn windows_pipelines_run_real_commands() {
    check("github-actions-windows.yml");
    check("azure-pipelines-windows.yml");
}

#[test]
fn the_shell_splitter_finds_commands_and_drops_redirections() {
    let cmds = commands(
        "set +e\ncode=$?\nX=1 cmdeploy -C \"$DIR\" drift --format junit > out.xml 2>&1 || true\n# cmdeploy bogus\ncargo install cmdeploy; cmdeploy \\\n  validate",
    );
    assert_eq!(
        cmds,
        vec![
            vec!["set", "+e"],
            vec!["cmdeploy", "-C", "$DIR", "drift", "--format", "junit"],
            vec!["true"],
            vec!["cargo", "install", "cmdeploy"],
            vec!["cmdeploy", "validate"],
        ]
    );
    assert!(Cli::command()
        .try_get_matches_from(["cmdeploy", "drift", "--format", "yaml"])
        .is_err());
}

/// check-jsonschema in the peer venv: beside `$CMDEPLOY_PEER_PYTHON`, else in
/// `target/peer-venv/bin`.
fn check_jsonschema() -> PathBuf {
    let bin = std::env::var_os("CMDEPLOY_PEER_PYTHON")
        .map(PathBuf::from)
        .and_then(|p| p.parent().map(|d| d.join("check-jsonschema")))
        .filter(|p| p.exists())
        .unwrap_or_else(|| common::repo().join("target/peer-venv/bin/check-jsonschema"));
    assert!(
        bin.exists(),
        "check-jsonschema missing: run `bash tests/run.sh` (it installs it from PyPI into target/peer-venv) [looked for {}]",
        bin.display()
    );
    bin
}

/// Validates `file` with check-jsonschema's vendored `schema`.
fn validate_with(file: &str, schema: &str, extra: &[&str]) {
    let path = common::repo().join("examples/ci").join(file);
    let out = Command::new(check_jsonschema())
        .args(["--builtin-schema", schema])
        .args(extra)
        .arg(&path)
        .output()
        .expect("check-jsonschema runs");
    assert!(
        out.status.success(),
        "{file} does not validate against {schema}:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn github_actions_pipeline_validates_against_the_workflow_schema() {
    validate_with("github-actions.yml", "vendor.github-workflows", &[]);
}

#[test]
fn azure_pipeline_validates_against_the_azure_pipelines_schema() {
    // A pattern of the Azure schema (branch names) uses identity escapes such as `\:` and `\/`,
    // which ECMA-262 refuses in unicode mode and accepts without it: hence `nonunicode`.
    validate_with(
        "azure-pipelines.yml",
        "vendor.azure-pipelines",
        &["--regex-variant", "nonunicode"],
    );
}
