//! The committed JSON Schema is generated from the Rust types; this fails when it is stale.

mod common;

#[test]
fn committed_schema_is_current() {
    let out = assert_cmd::Command::cargo_bin("cmdeploy")
        .unwrap()
        .arg("schema")
        .output()
        .unwrap();
    assert!(out.status.success());
    let generated = String::from_utf8(out.stdout).unwrap();
    let committed =
        std::fs::read_to_string(common::repo().join("schemas/cmdeploy.schema.json")).unwrap();
    assert!(
        generated == committed,
        "schemas/cmdeploy.schema.json is stale: run `cargo run -- schema > schemas/cmdeploy.schema.json`"
    );
    let v: serde_json::Value = serde_json::from_str(&generated).unwrap();
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
}
