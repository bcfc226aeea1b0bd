//! The examples against a lab that behaves as Windows does inside a WinRM session
//! (windows-runtime.md Part B): plan, apply and converge still hold.

mod common;

use common::Project;

/// Item 3: the GroupPolicy module talks to the PDC emulator unless given `-Server`; from a
/// session on another domain controller that is a second hop (windows-runtime.md §6).
#[test]
fn gpo_changes_run_on_the_domain_controller_of_the_connection_not_the_pdc_emulator() {
    let p = Project::example("contoso");
    p.edit(
        "lab.toml",
        "controllers = [\"dc01.contoso.com\"]",
        "controllers = [\"pdc.contoso.com\", \"dc01.contoso.com\"]",
    );
    p.run(&["lab", "reset"]).code(0);
    let apply = p.run(&["apply", "--auto-approve"]);
    assert!(
        !apply.all().contains("double hop"),
        "a GroupPolicy call left the session's host:\n{}",
        apply.all()
    );
    apply.code(0);
    let again = p.run(&["plan", "--detailed-exitcode"]).code(0);
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);
}
