//! The per-kind summary of a large plan (above [`super::SUMMARY_ABOVE`] changes, or `plan
//! --compact`): one line per kind with its counts, instead of hundreds of resource bodies. The
//! resources that could not be read are still named one by one: they are errors, not changes.

use std::collections::BTreeMap;
use std::fmt::Write;

use cmdeploy_engine::plan::{Action, Plan, ResourceChange, Summary};

/// Writes the summary of `changed` (every resource whose action is not no-op) to `out`.
/// `compact` says the user asked for it (else the plan's size chose it).
pub fn render(
    out: &mut String,
    changed: &[&ResourceChange],
    compact: bool,
    bold: &str,
    reset: &str,
) {
    let mut kinds: BTreeMap<&str, Vec<ResourceChange>> = BTreeMap::new();
    for c in changed {
        kinds.entry(c.kind.as_str()).or_default().push((*c).clone());
    }
    let why = if compact {
        "--compact".to_string()
    } else {
        format!("more than {} changes", super::SUMMARY_ABOVE)
    };
    let _ = writeln!(
        out,
        "cmdeploy will perform the following actions on {} resources, summarised per kind\n({why}; `plan --json` lists each one):\n",
        changed.len()
    );
    let width = kinds.keys().map(|k| k.len()).max().unwrap_or(0) + 1;
    for (kind, changes) in &kinds {
        let Summary {
            add,
            change,
            destroy,
            forget,
            read_failed,
            moved,
        } = Plan::summarize(changes);
        let mut line = format!(
            "  {bold}{:<width$}{reset} {add} to add, {change} to change, {destroy} to destroy{}",
            format!("{kind}:"),
            forgets(forget)
        );
        if moved > 0 {
            line.push_str(&format!(", {moved} moved"));
        }
        if read_failed > 0 {
            line.push_str(&format!(", {read_failed} could not be read"));
        }
        let _ = writeln!(out, "{line}");
    }
    let failed: Vec<&&ResourceChange> = changed
        .iter()
        .filter(|c| c.action() == Action::ReadFailed)
        .collect();
    if !failed.is_empty() {
        let _ = writeln!(out, "\nCould not be read (left alone):");
        for c in failed {
            let _ = writeln!(out, "  {}: {}", c.address, c.notes.join("; "));
        }
    }
    out.push('\n');
}

/// `, N to forget` when a plan forgets objects (left in place), as Terraform's plan says it.
pub(super) fn forgets(n: usize) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(", {n} to forget")
    }
}
