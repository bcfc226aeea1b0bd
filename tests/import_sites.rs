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

/// Contoso applied, then its manifests and state taken away: a project holding only its
/// connections, beside a site that already has everything.
fn only_connections() -> Project {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    p.run(&["apply", "--auto-approve"]).code(0);
    for file in [
        "site.toml",
        "boundaries.toml",
        "client_push.toml",
        "clients.toml",
        "gpo.toml",
        "imaging.toml",
        "ad_sites.toml",
        ".cmdeploy/state.json",
    ] {
        std::fs::remove_file(p.path().join(file)).unwrap();
    }
    p
}

#[test]
fn a_site_no_manifest_declares_is_found_through_its_sms_provider_and_imported_whole() {
    let p = only_connections();
    let run = p
        .run_env(
            &["import", "--connection", "cm01"],
            &[("SOURCE_DATE_EPOCH", "0")],
        )
        .code(0);
    assert!(
        run.stdout.contains("site.ABC (SMS_Site ABC)"),
        "{}",
        run.stdout
    );
    let toml = p.read("imported.toml");
    // The site's own fields, as contoso's site.toml declares them.
    for want in [
        "[site.ABC]\ncode = \"ABC\"\ntype = \"primary\"\nserver = \"cm01.contoso.com\"\nconnection = \"cm01\"\n",
        "[site.ABC.fallback_status_point]\nserver = \"fspserver.contoso.com\"\n",
        "network_access_accounts = [\"svc-cmnaa\"]\n",
        "software_update_installation = true\n",
        // The site-side tables name it by its key.
        "[client_push.ABC]\nsite = \"ABC\"\n",
        "[site_settings.ABC]\nsite = \"ABC\"\n",
    ] {
        assert!(toml.contains(want), "missing {want:?}:\n{toml}");
    }
    p.run(&["plan", "--detailed-exitcode"]).code(0);
}

#[test]
fn a_domain_controller_has_no_sms_provider_so_no_site_side_kind_imports_through_it() {
    let p = only_connections();
    let run = p
        .run(&["import", "--connection", "dc01", "--kinds", "boundary"])
        .code(1);
    assert!(
        run.all()
            .contains("nothing can be imported through connection dc01"),
        "{}",
        run.all()
    );
}

#[test]
fn importing_one_site_side_kind_through_an_undeclared_site_brings_the_site_table_along() {
    let p = only_connections();
    let run = p
        .run(&["import", "--connection", "cm01", "--kinds", "boundary"])
        .code(0);
    assert!(run.stdout.contains("site.ABC"), "{}", run.stdout);
    let toml = p.read("imported.toml");
    assert!(toml.contains("[site.ABC]\n"), "{toml}");
    assert!(
        toml.contains("[boundary.subnet_10_1_0_0]\nsite = \"ABC\"\n"),
        "{toml}"
    );
    p.run(&["plan", "--detailed-exitcode"]).code(0);
}
