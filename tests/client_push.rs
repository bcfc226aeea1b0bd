//! The client push installation settings of a site (seed 000 "Client push installation"; the
//! push wizard's "System Types" tab), end to end against the lab.

mod common;

use common::Project;

/// The system types are a set: ConfigMgr stores them as bits (SMS_SCI_Component
/// `SMS_DISCOVERY_DATA_MANAGER` "Filters" and "AutoInstallSiteSystem"), so no order is read back.
/// Written in any order, they converge.
#[test]
fn system_types_in_any_order_converge() {
    let p = Project::example("contoso");
    p.edit(
        "client_push.toml",
        r#"system_types = ["servers", "workstations"]"#,
        r#"system_types = ["workstations", "site_systems", "servers"]"#,
    );
    p.run(&["lab", "reset"]).code(0);
    p.run(&["apply", "--auto-approve", "--target", "client_push"])
        .code(0);
    let again = p
        .run(&["plan", "--detailed-exitcode", "--target", "client_push"])
        .code(0);
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);
}

/// Seed 000 lists `/forceinstall` among the CCMSetup properties the Installation Properties tab
/// accepts: it reaches the site's push properties (it was dropped with a warning) and converges.
#[test]
fn forceinstall_reaches_the_push_installation_properties() {
    let p = Project::example("contoso");
    let text = p.read("client_push.toml");
    p.write(
        "client_push.toml",
        &format!("{text}\n[client_push.ABC.ccmsetup]\nforceinstall = true\n"),
    );
    p.run(&["lab", "reset"]).code(0);
    let apply = p
        .run(&["apply", "--auto-approve", "--target", "client_push"])
        .code(0);
    assert!(!apply.stderr.contains("push_subset"), "{}", apply.stderr);
    let show = p.run(&["lab", "show"]).code(0);
    assert!(
        show.stdout
            .contains(r#"properties="/forceinstall FSP=fspserver.contoso.com SMSSITECODE=ABC""#),
        "{}",
        show.stdout
    );
    let again = p
        .run(&["plan", "--detailed-exitcode", "--target", "client_push"])
        .code(0);
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);
}
