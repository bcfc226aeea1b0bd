//! `cmdeploy import` lists the sites of the hierarchy the site server's SMS Provider knows (a
//! secondary site under the managed primary) with the site's own fields — network access
//! accounts (by the keys of their `account` tables), software update-based installation — and
//! the next plan leaves them as they are.

mod common;

use common::Project;

/// Contoso with a secondary site S01 under ABC, whose network access account is contoso's
/// managed `account.naa`.
fn with_secondary() -> Project {
    let p = Project::example("contoso");
    let seed = p.read("lab.toml")
        + r#"
[[site]]
code = "S01"
name = "Contoso Secondary"
type = "secondary"
parent = "ABC"
server = "server2.contoso.com"
network_access_accounts = ['CONTOSO\svc-cmnaa']

[[site.account]]
user_name = 'CONTOSO\svc-cmnaa'
password = { file = "lab-secrets/network-access.txt" }
"#;
    p.write("lab.toml", &seed);
    p.run(&["lab", "reset"]).code(0);
    p.run(&["apply", "--auto-approve"]).code(0);
    p
}

#[test]
fn a_secondary_site_is_imported_with_its_own_fields_and_the_next_plan_is_empty() {
    let p = with_secondary();
    let run = p
        .run_env(
            &["import", "--connection", "cm01", "--kinds", "site"],
            &[("SOURCE_DATE_EPOCH", "0")],
        )
        .code(0);
    assert!(
        run.stdout.contains("site.S01 (SMS_Site S01)"),
        "{}",
        run.stdout
    );
    // ABC is managed already: not listed again.
    assert!(!run.stdout.contains("site.ABC"), "{}", run.stdout);
    let toml = p.read("imported.toml");
    for want in [
        "[site.S01]\ncode = \"S01\"\ntype = \"secondary\"\nparent = \"ABC\"\nserver = \"server2.contoso.com\"\nconnection = \"cm01\"\n",
        "network_access_accounts = [\"naa\"]\n",
        "software_update_installation = false\n",
    ] {
        assert!(toml.contains(want), "missing {want:?}:\n{toml}");
    }
    p.run(&["plan", "--detailed-exitcode"]).code(0);
    let again = p
        .run(&[
            "import",
            "--connection",
            "cm01",
            "--kinds",
            "site",
            "--out",
            "again.toml",
        ])
        .code(0);
    assert!(
        again.stdout.contains("Nothing to import"),
        "{}",
        again.stdout
    );
}
