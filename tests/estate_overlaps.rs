//! Overlaps against the estate: a managed boundary whose addresses overlap a boundary that
//! exists in ConfigMgr but is in no manifest is a plan-time warning naming both, on a plan
//! that creates it and on a no-op plan alike; adopting the unmanaged boundary silences it.

mod common;

use common::Project;

/// Unmanaged boundaries in the lab's site: a range inside `boundary.hq_lan` (10.1.0.0/16), a
/// subnet ID whose widest block (10.2.0.0/15) holds `boundary.branch_lan`, and a subnet that
/// overlaps nothing.
const SEED: &str = r#"
[[boundary]]
type = 3
value = "10.1.5.1-10.1.5.50"
name = "Legacy Print Range"

[[boundary]]
type = 0
value = "10.2.0.0"
name = "Old Branch Subnet"

[[boundary]]
type = 0
value = "10.9.0.0"
name = "Lab Subnet"
"#;

/// Contoso's boundaries and site objects (no clients, push settings or imaging), in a lab
/// seeded with [`SEED`].
fn seeded() -> Project {
    let p = Project::example("contoso");
    for f in ["client_push.toml", "clients.toml", "imaging.toml"] {
        std::fs::remove_file(p.path().join(f)).unwrap();
    }
    let seed = p.read("lab.toml") + SEED;
    p.write("lab.toml", &seed);
    p.run(&["lab", "reset"]).code(0);
    p
}

const RANGE_WARNING: &str = "boundary.hq_lan (10.1.0.0-10.1.255.255) overlaps the boundary \"Legacy Print Range\" (IP range 10.1.5.1-10.1.5.50; BoundaryID";
const SUBNET_WARNING: &str = "boundary.branch_lan (10.2.0.1-10.2.0.254) overlaps the boundary \"Old Branch Subnet\" (IP subnet 10.2.0.0, read as 10.2.0.0/15: ConfigMgr keeps no mask; BoundaryID";

#[test]
fn unmanaged_overlapping_boundaries_are_plan_warnings_naming_both() {
    let p = seeded();
    let plan = p.run(&["plan"]).code(0);
    for w in [RANGE_WARNING, SUBNET_WARNING] {
        assert!(plan.stdout.contains(w), "{w}\n{}", plan.stdout);
    }
    assert!(
        plan.stdout.contains("Warning: boundary.hq_lan"),
        "{}",
        plan.stdout
    );
    assert!(!plan.stdout.contains("Lab Subnet"), "{}", plan.stdout);
    assert_eq!(
        plan.stdout.matches("Legacy Print Range").count(),
        1,
        "{}",
        plan.stdout
    );

    p.run(&["apply", "--auto-approve"]).code(0);
    // The boundaries are unchanged now: the warnings hold all the same.
    let plan = p.run(&["plan", "--detailed-exitcode"]).code(0);
    assert!(plan.stdout.contains("No changes."), "{}", plan.stdout);
    for w in [RANGE_WARNING, SUBNET_WARNING] {
        assert!(plan.stdout.contains(w), "{w}\n{}", plan.stdout);
    }
    let json = p.run(&["plan", "--json"]).code(0);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let addresses: Vec<&str> = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["address"].as_str().unwrap())
        .collect();
    // The AD branch subnet 10.3.0.0/24 is inside the /15 too.
    assert_eq!(
        addresses,
        [
            "boundary.ad_branch[\"10.3.0.0/24\"]",
            "boundary.branch_lan",
            "boundary.hq_lan"
        ]
    );
}

#[test]
fn adopting_the_unmanaged_boundary_silences_the_warning() {
    let p = seeded();
    p.run(&["apply", "--auto-approve"]).code(0);
    p.run_env(
        &["import", "--connection", "cm01", "--kinds", "boundary"],
        &[("SOURCE_DATE_EPOCH", "0")],
    )
    .code(0);
    let plan = p.run(&["plan", "--detailed-exitcode"]).code(0);
    assert!(!plan.stdout.contains("Warning:"), "{}", plan.stdout);
}
