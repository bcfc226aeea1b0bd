//! How `apply` ends: the summary line, the per-host recap (Ansible's `PLAY RECAP` shape) and,
//! with `--json`, one JSON document on standard output:
//!
//! ```json
//! {"format_version": "1.0", "outcome": "complete",
//!  "resources": {"added": 7, "changed": 2, "destroyed": 0, "failed": 0, "skipped": 0},
//!  "errors": [{"address": "...", "message": "..."}],
//!  "recap": {"hosts": [{"host": "kiosk01", "ok": 0, "changed": 1, "failed": 0,
//!                       "unreachable": 0, "skipped": 0}], "totals": {...}}}
//! ```

use std::collections::BTreeMap;

use cmdeploy_engine::address::Address;
use cmdeploy_engine::apply::Report;
use cmdeploy_engine::plan::{Action, Plan};
use cmdeploy_engine::provider::ReadOutcome;
use cmdeploy_engine::recap::{recap, render_text};
use serde_json::json;

use crate::output::Output;
use crate::session::Session;

/// Version of the `apply --json` document.
pub const FORMAT_VERSION: &str = "1.0";

/// Where apply's human lines go: standard output, or standard error under `--json` (whose
/// standard output holds only the JSON document).
#[derive(Debug, Clone, Copy)]
pub struct Human {
    /// `--json` was given.
    pub json: bool,
}

impl Human {
    /// Prints one line for people.
    pub fn line(self, text: &str) {
        if self.json {
            eprintln!("{text}");
        } else {
            println!("{text}");
        }
    }

    /// Prints text for people as is.
    pub fn text(self, text: &str) {
        if self.json {
            eprint!("{text}");
        } else {
            print!("{text}");
        }
    }
}

/// Resources added, changed, destroyed and forgotten (left in place, dropped from state) by the
/// successful operations of `report`.
pub fn counts(plan: &Plan, report: &Report) -> (usize, usize, usize, usize) {
    let succeeded: std::collections::HashSet<String> =
        report.succeeded.iter().map(ToString::to_string).collect();
    let count = |a: Action| {
        plan.resource_changes
            .iter()
            .filter(|c| c.action() == a && succeeded.contains(&c.address))
            .count()
    };
    let added = count(Action::Create) + count(Action::Replace);
    let changed = count(Action::Update);
    let destroyed = count(Action::Delete) + count(Action::Replace);
    (added, changed, destroyed, count(Action::Forget))
}

/// `, N forgotten` when an apply forgot objects (left in place), else nothing.
pub fn forgotten_text(n: usize) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(", {n} forgotten")
    }
}

/// Prints the recap (text for people; the JSON document under `--json`) and returns `code`.
/// `outcome` names how the run ended: `complete`, `no-changes`, `errors`, `read-failures` or
/// `interrupted`.
pub fn finish(
    s: &Session,
    plan: &Plan,
    observed: &BTreeMap<Address, ReadOutcome>,
    report: &Report,
    (outcome, code): (&str, i32),
    human: Human,
    out: Output,
) -> i32 {
    let r = recap(plan, report, observed, s.resources(), &s.registry);
    human.text(&render_text(&r, out.color && !human.json));
    if human.json {
        let (added, changed, destroyed, forgotten) = counts(plan, report);
        let errors: Vec<serde_json::Value> = report
            .failed
            .iter()
            .map(|(a, m)| json!({"address": a.to_string(), "message": m}))
            .collect();
        let doc = json!({
            "format_version": FORMAT_VERSION,
            "outcome": outcome,
            "exit_code": code,
            "resources": {
                "added": added,
                "changed": changed,
                "destroyed": destroyed,
                "forgotten": forgotten,
                "failed": report.failed.len(),
                "skipped": report.skipped.len() + report.not_started.len(),
            },
            "errors": errors,
            "recap": r,
        });
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    }
    code
}
