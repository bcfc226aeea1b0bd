//! How plans read: addresses in natural order.

mod common;

use common::Project;

/// Numbers in addresses compare as numbers, in the text plan and the JSON plan alike.
#[test]
fn addresses_are_in_natural_order() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let mut extra = String::new();
    for n in [10, 2, 1, 11] {
        extra.push_str(&format!(
            "[boundary.b{n}]\nsite = \"ABC\"\ntype = \"ad_site\"\nvalue = \"Branch{n}\"\n\n"
        ));
    }
    p.write("extra.toml", &extra);
    let text = p.run(&["plan", "--target", "boundary"]).code(0).stdout;
    let order: Vec<usize> = ["b1 ", "b2 ", "b10 ", "b11 "]
        .iter()
        .map(|b| {
            text.find(&format!("# boundary.{b}"))
                .unwrap_or_else(|| panic!("boundary.{b}missing:\n{text}"))
        })
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{text}");
    let json = p
        .run(&["plan", "--json", "--target", "boundary"])
        .code(0)
        .stdout;
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let planned: Vec<&str> = json["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["address"].as_str().unwrap())
        .filter(|a| a.starts_with("boundary.b") && !a.contains('_'))
        .collect();
    assert_eq!(
        planned,
        ["boundary.b1", "boundary.b2", "boundary.b10", "boundary.b11"]
    );
}

/// A generated estate of `boundaries` boundaries in one group (and two hosts), lab reset, in a
/// temporary directory.
fn generated(boundaries: usize) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("estate");
    common::run_in(
        dir.path(),
        &[
            "lab",
            "generate",
            "--boundaries",
            &boundaries.to_string(),
            "--groups",
            "1",
            "--hosts",
            "2",
            out.to_str().unwrap(),
        ],
        &[],
    )
    .code(0);
    common::run_in(&out, &["lab", "reset"], &[]).code(0);
    (dir, out)
}

/// Above 50 changes a plan prints one line per kind, not every body; the
/// summary line and exit codes stay as they were.
#[test]
fn a_large_plan_is_summarised_per_kind() {
    let (_dir, p) = generated(120);
    let plan = common::run_in(&p, &["plan", "--detailed-exitcode"], &[])
        .code(2)
        .stdout;
    assert!(
        plan.contains("  boundary:       120 to add, 0 to change, 0 to destroy\n"),
        "{plan}"
    );
    assert!(plan.contains("  boundary_group: 1 to add, 0 to change, 0 to destroy\n"));
    assert!(plan.contains("  client_group:   2 to add, 0 to change, 0 to destroy\n"));
    assert!(plan.contains("Plan: 124 to add, 1 to change, 0 to destroy."));
    assert!(!plan.contains("# boundary.b7 "), "no bodies:\n{plan}");
    assert!(plan.lines().all(|l| l.chars().count() <= 100), "{plan}");
    // The JSON plan still lists every resource.
    let json = common::run_in(&p, &["plan", "--json"], &[]).code(0).stdout;
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["resource_changes"].as_array().unwrap().len(), 125);
}

/// `--compact` asks for the per-kind summary of a small plan too.
#[test]
fn compact_summarises_a_small_plan() {
    let p = Project::example("contoso");
    p.run(&["lab", "reset"]).code(0);
    let full = p.run(&["plan"]).code(0).stdout;
    assert!(
        full.contains("# boundary.branch_lan will be created"),
        "{full}"
    );
    let compact = p.run(&["plan", "--compact"]).code(0).stdout;
    assert!(!compact.contains("# boundary.branch_lan"), "{compact}");
    let client_groups = compact
        .lines()
        .find(|l| l.trim_start().starts_with("client_group:"))
        .unwrap_or_else(|| panic!("no client_group line:\n{compact}"));
    assert!(
        client_groups.ends_with(" 7 to add, 0 to change, 0 to destroy"),
        "{compact}"
    );
    let last = |t: &str| t.lines().last().unwrap_or_default().to_string();
    assert_eq!(last(&compact), last(&full), "same summary line");
}

/// A list of hundreds of entries is wrapped at 100 columns when not on a terminal, every entry
/// kept, in order.
#[test]
fn long_lists_are_wrapped_to_100_columns() {
    let (_dir, p) = generated(300);
    common::run_in(&p, &["apply", "--auto-approve"], &[]).code(0);
    // Drop b0 from the group (it stays declared): one update of a 300-entry list.
    let file = p.join("boundaries.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replace("boundaries = [\"b0\", ", "boundaries = ["),
    )
    .unwrap();
    let plan = common::run_in(&p, &["plan"], &[]).code(0).stdout;
    assert!(
        plan.contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "{plan}"
    );
    for line in plan.lines() {
        assert!(line.chars().count() <= 100, "wider than 100: {line:?}");
    }
    let after = plan
        .split("] -> [")
        .nth(1)
        .unwrap_or_else(|| panic!("no wrapped list:\n{plan}"));
    let entries: Vec<&str> = after
        .split(']')
        .next()
        .unwrap()
        .split(',')
        .map(|e| e.trim().trim_matches('"'))
        .collect();
    assert_eq!(entries.len(), 299, "{after}");
    assert!(entries.contains(&"b299") && !entries.contains(&"b0"));
}
