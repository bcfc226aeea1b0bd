//! `cmdeploy show PLANFILE` and a readable `cmdeploy state show ADDRESS`.

mod common;

use common::Project;
use serde_json::Value;

#[test]
fn show_prints_a_saved_plan_as_text_and_json_without_reading_the_estate() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let file = p.path().join("saved.plan.json");
    let file = file.to_str().unwrap();
    let planned = p.run(&["plan", "--out", file]).code(0).stdout;
    // The plan's own text, then how to apply it.
    let shown = p.run(&["show", file]).code(0).stdout;
    let body = planned.split("\nSaved the plan").next().unwrap();
    assert!(
        shown.contains(body),
        "--- plan\n{planned}\n--- show\n{shown}"
    );
    assert!(
        shown.starts_with(&format!(
            "Saved plan {file}: project contoso, made against a new state"
        )),
        "{shown}"
    );
    assert!(shown.contains(&format!("cmdeploy apply {file}")), "{shown}");
    // JSON: the saved document, as `plan --json` prints it.
    let json: Value =
        serde_json::from_str(&p.run(&["show", file, "--json"]).code(0).stdout).unwrap();
    let saved: Value = serde_json::from_str(&p.read("saved.plan.json")).unwrap();
    assert_eq!(json, saved);
    assert_eq!(json["format_version"], "1.0");
    // The estate is not read: show works with the lab gone.
    std::fs::remove_dir_all(p.path().join(".cmdeploy/lab")).unwrap();
    p.run(&["show", file]).code(0);
    // Files that are not plans are refused with the reason.
    let not_plan = p
        .run(&["show", p.path().join("site.toml").to_str().unwrap()])
        .code(1);
    assert!(
        not_plan.stderr.contains("is not a cmdeploy plan"),
        "{}",
        not_plan.stderr
    );
    let missing = p.run(&["show", "no-such.plan"]).code(1);
    assert!(
        missing
            .stderr
            .contains("cannot read the saved plan no-such.plan"),
        "{}",
        missing.stderr
    );
    let mut other = saved.clone();
    other["format_version"] = "9.0".into();
    p.write("other.plan.json", &other.to_string());
    let version = p
        .run(&["show", p.path().join("other.plan.json").to_str().unwrap()])
        .code(1);
    assert!(
        version.stderr.contains("format version 9.0"),
        "{}",
        version.stderr
    );
}

#[test]
fn state_show_is_readable_and_suggests_the_nearest_address() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let empty = p.run(&["state", "show", "boundary.hq_lan"]).code(1);
    assert!(
        empty.stderr.contains("the state is empty"),
        "{}",
        empty.stderr
    );
    p.run(&["apply", "--auto-approve"]).code(0);
    let group = p
        .run(&["state", "show", "boundary_group.hq"])
        .code(0)
        .stdout;
    for line in [
        "# boundary_group.hq:",
        "boundary_group {",
        "    name            = \"HQ Clients\"",
        "    boundaries      = [\"hq_lan\", \"hq_site\"]",
        "depends on:  boundary.hq_lan, boundary.hq_site, site.ABC",
        "written via: cm01.contoso.com",
    ] {
        assert!(group.contains(line), "{line:?} not in\n{group}");
    }
    // An object attribute is a block, one member a line.
    let site = p.run(&["state", "show", "site.ABC"]).code(0).stdout;
    assert!(site.contains("\n    fallback_status_point {\n"), "{site}");
    assert!(
        site.contains("        state_message_count = 10000\n"),
        "{site}"
    );
    // Secrets are never in state: their fingerprint shows as (sensitive).
    let account = p.run(&["state", "show", "account.push"]).code(0).stdout;
    assert!(account.contains("password  = (sensitive)"), "{account}");
    // A typo names the nearest address.
    let typo = p.run(&["state", "show", "boundary_group.hqq"]).code(1);
    assert!(
        typo.stderr
            .contains("boundary_group.hqq is not in state; did you mean `boundary_group.hq`?"),
        "{}",
        typo.stderr
    );
    let far = p.run(&["state", "show", "gpo.nothing_like_it"]).code(1);
    assert!(
        far.stderr.contains("`cmdeploy state list` lists them"),
        "{}",
        far.stderr
    );
    p.run(&["state", "rm", "boundary_group.hqq"]).code(1);
    // --json prints the entry as state holds it.
    let json: Value = serde_json::from_str(
        &p.run(&["state", "show", "boundary_group.hq", "--json"])
            .code(0)
            .stdout,
    )
    .unwrap();
    assert_eq!(json["attributes"]["name"], "HQ Clients");
}
