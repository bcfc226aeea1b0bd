//! Internet-based clients after installation: the internet management point is an updatable
//! attribute, changed in place (SetInternetManagementPointFQDN, then a CcmExec restart) without
//! reinstalling the client.

mod common;

use common::Project;

#[test]
fn a_new_internet_management_point_is_set_in_place() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    p.run(&["apply", "--auto-approve"]).code(0);
    p.run(&["plan", "--detailed-exitcode"]).code(0);
    let audit_before = p.read(".cmdeploy/lab/audit.jsonl").lines().count();

    p.edit(
        "clients.toml",
        "{ CCMHOSTNAME = \"server1.contoso.com\", SMSSIGNCERT",
        "{ CCMHOSTNAME = \"server3.contoso.com\", SMSSIGNCERT",
    );
    let plan = p.run(&["plan", "--detailed-exitcode"]).code(2);
    assert!(
        plan.stdout.contains(
            "~ internet_management_point = \"server1.contoso.com\" -> \"server3.contoso.com\""
        ),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("2 to change"), "{}", plan.stdout);
    p.run(&["apply", "--auto-approve"]).code(0);
    p.run(&["plan", "--detailed-exitcode"]).code(0);

    let audit = p.read(".cmdeploy/lab/audit.jsonl");
    let new: Vec<&str> = audit.lines().skip(audit_before).collect();
    let sets = new
        .iter()
        .filter(|l| l.contains("\"Set-CmdeployInternetManagementPoint\""))
        .count();
    assert_eq!(sets, 2, "one in-place change per laptop");
    assert!(
        !new.iter().any(|l| l.contains("\"Install-CmdeployClient\"")),
        "no reinstall"
    );

    // The lab's laptops now use the new internet management point.
    let show = p.run(&["lab", "show"]).code(0);
    assert!(
        show.stdout.contains("server3.contoso.com"),
        "{}",
        show.stdout
    );
}
