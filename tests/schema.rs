//! The committed JSON Schemas are generated from the Rust types (this fails when one is stale),
//! and every TOML file of the examples validates against its schema, as an editor checks it.

mod common;

use std::path::{Path, PathBuf};

/// `cmdeploy schema ARGS` (it must succeed).
fn generated(args: &[&str]) -> String {
    let out = assert_cmd::Command::cargo_bin("cmdeploy")
        .unwrap()
        .arg("schema")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A committed schema, parsed.
fn committed(name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(common::repo().join("schemas").join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn committed_schema_is_current() {
    for (args, file) in [
        (&[][..], "cmdeploy.schema.json"),
        (&["drift-ack"], "drift-ack.schema.json"),
    ] {
        let generated = generated(args);
        let committed = std::fs::read_to_string(common::repo().join("schemas").join(file)).unwrap();
        assert!(
            generated == committed,
            "schemas/{file} is stale: run `cargo run -- schema {} > schemas/{file}`",
            args.join(" ")
        );
    }
    let v = committed("cmdeploy.schema.json");
    for kind in [
        "site",
        "boundary",
        "boundary_group",
        "account",
        "client_push",
        "gpo",
        "imaging",
        "client_group",
    ] {
        assert!(
            v["properties"][kind].is_object(),
            "{kind} missing from the schema"
        );
    }
    assert!(v["$id"]
        .as_str()
        .is_some_and(|id| id.ends_with("/schemas/cmdeploy.schema.json")));
}

/// A TOML document as the JSON an editor validates: dates and times become strings.
fn to_json(v: toml::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        toml::Value::String(s) => J::String(s),
        toml::Value::Integer(i) => J::from(i),
        toml::Value::Float(f) => J::from(f),
        toml::Value::Boolean(b) => J::Bool(b),
        toml::Value::Datetime(d) => J::String(d.to_string()),
        toml::Value::Array(a) => J::Array(a.into_iter().map(to_json).collect()),
        toml::Value::Table(t) => J::Object(t.into_iter().map(|(k, v)| (k, to_json(v))).collect()),
    }
}

/// Every error of `doc` against `schema`, one per line with its place.
fn errors(schema: &serde_json::Value, doc: &serde_json::Value) -> Vec<String> {
    let validator = jsonschema::validator_for(schema).expect("the schema is a valid JSON Schema");
    validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn parse_toml(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap();
    to_json(toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// The TOML files under a directory, recursively.
fn toml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            toml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
}

/// Every manifest file of every example (all but the lab seeds, which have no schema).
#[test]
fn every_example_validates_against_the_schema() {
    let schema = committed("cmdeploy.schema.json");
    let ack_schema = committed("drift-ack.schema.json");
    let mut files = Vec::new();
    toml_files(&common::repo().join("examples"), &mut files);
    files.sort();
    let mut checked = 0;
    let mut failures = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy();
        let schema = match name.as_ref() {
            "lab.toml" => continue,
            "drift.ack.toml" => &ack_schema,
            _ => &schema,
        };
        checked += 1;
        for e in errors(schema, &parse_toml(path)) {
            failures.push(format!("{}: {e}", path.display()));
        }
    }
    assert!(checked >= 10, "only {checked} example files found");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The tables that broke the schema: `depends_on`, `hosts` and `hosts_file` beside a kind's own
/// fields. A misspelt field is still refused.
#[test]
fn meta_fields_are_accepted_and_misspellings_refused() {
    let schema = committed("cmdeploy.schema.json");
    let doc = |text: &str| to_json(toml::from_str(text).unwrap());
    let good = doc(r#"
[boundary_group.g0]
site = "ABC"
depends_on = ["boundary.b1"]

[client_group.kiosks]
method = "manual"
site = "ABC"
hosts_file = "kiosks.csv"
depends_on = ["boundary_group.g0"]
"#);
    let found = errors(&schema, &good);
    assert!(found.is_empty(), "{found:#?}");
    let bad = doc(r#"
[boundary_group.g0]
site = "ABC"
depend_on = ["boundary.b1"]
"#);
    let found = errors(&schema, &bad);
    assert!(
        found.iter().any(|e| e.contains("depend_on")),
        "a misspelt field passed: {found:#?}"
    );
    // `hosts` belongs to kinds that expand per host only.
    let found = errors(
        &schema,
        &doc("[boundary_group.g0]\nsite = \"ABC\"\nhosts = [\"pc1\"]\n"),
    );
    assert!(found.iter().any(|e| e.contains("hosts")), "{found:#?}");
}

/// The README's acknowledgement example validates; an unknown field does not.
#[test]
fn the_drift_ack_schema_accepts_the_documented_file() {
    let schema = committed("drift-ack.schema.json");
    let readme = std::fs::read_to_string(common::repo().join("README.md")).unwrap();
    let start = readme
        .find("```toml\n[[ack]]")
        .expect("README shows an [[ack]]")
        + 8;
    let end = start + readme[start..].find("```").unwrap();
    let doc = to_json(toml::from_str(&readme[start..end]).unwrap());
    let found = errors(&schema, &doc);
    assert!(found.is_empty(), "{found:#?}");
    let bad = to_json(
        toml::from_str("[[ack]]\naddress = \"boundary.b1\"\nreason = \"x\"\nexpires = 2026-12-31\nexpiry = 2027-01-01\n")
            .unwrap(),
    );
    assert!(!errors(&schema, &bad).is_empty());
}

/// `.taplo.toml` gives editors (Even Better TOML, taplo) the schemas: every schema it names is
/// committed, and the lab seeds are left without one.
#[test]
fn taplo_config_names_the_committed_schemas() {
    let text = std::fs::read_to_string(common::repo().join(".taplo.toml")).unwrap();
    let config: toml::Table = toml::from_str(&text).unwrap();
    let rules = config["rule"].as_array().expect("[[rule]] tables");
    let mut named = Vec::new();
    for rule in rules {
        if let Some(path) = rule.get("schema").and_then(|s| s.get("path")) {
            let path = path.as_str().unwrap();
            assert!(
                common::repo().join(path).is_file(),
                "{path} is not committed"
            );
            named.push(path.trim_start_matches("./").to_string());
        }
    }
    named.sort();
    assert_eq!(
        named,
        [
            "schemas/cmdeploy.schema.json",
            "schemas/drift-ack.schema.json"
        ]
    );
    assert!(
        text.contains("**/lab.toml"),
        "the lab seeds are not excluded"
    );
}

/// Output into a reader that stopped (`cmdeploy schema | head -1`) ends quietly with 141, not a
/// panic message.
#[test]
fn a_closed_stdout_ends_quietly() {
    use std::process::{Command, Stdio};
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("cmdeploy"))
        .arg("schema")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Closed before the child writes (it is still starting), and the schema (66 KB) is more than
    // a pipe holds anyway.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(141));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}
