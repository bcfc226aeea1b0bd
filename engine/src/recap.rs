//! The recap of an apply, per host, as Ansible prints its `PLAY RECAP`: for every host that a
//! resource manages itself (a client computer, not a server holding objects — see
//! [`crate::provider::Kind::target_host`]), how many of its resources were `ok` (nothing to do),
//! `changed`, `failed`, `unreachable` (the host could not be reached or logged on to: never
//! counted as failed) or `skipped` (a dependency failed, or the run was interrupted first); and
//! the totals over all hosts.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::address::Address;
use crate::apply::Report;
use crate::plan::{Action, Plan};
use crate::provider::ReadOutcome;
use crate::registry::Registry;
use crate::resource::ResourceSet;

/// Counts of one host's resources (or of all hosts).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Nothing to do: the resource already matched the manifests.
    pub ok: usize,
    /// Changed by this apply.
    pub changed: usize,
    /// The change failed, or the resource could not be read for another reason than reaching
    /// the host.
    pub failed: usize,
    /// The host could not be reached or logged on to (name resolution, refused or timed-out
    /// connection, authentication), when reading or when changing it.
    pub unreachable: usize,
    /// Not attempted: a dependency failed, or the run was interrupted before it started.
    pub skipped: usize,
}

impl Counts {
    fn add(&mut self, other: Counts) {
        self.ok += other.ok;
        self.changed += other.changed;
        self.failed += other.failed;
        self.unreachable += other.unreachable;
        self.skipped += other.skipped;
    }
}

/// One host's line of the recap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostRecap {
    /// The host, as the manifest names it (`kiosk01`, `ref01`).
    pub host: String,
    /// Its resources' outcomes.
    #[serde(flatten)]
    pub counts: Counts,
}

/// The recap: hosts in natural order (`ws2` before `ws10`), and totals.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recap {
    /// One entry per host.
    pub hosts: Vec<HostRecap>,
    /// Sums over all hosts.
    pub totals: Counts,
}

/// What an apply did to each host, from the plan it carried out, its [`Report`], the refresh
/// outcomes the plan was built from (`observed`: why a read failed) and the desired resources
/// (which host each one manages, asked of its kind).
pub fn recap(
    plan: &Plan,
    report: &Report,
    observed: &BTreeMap<Address, ReadOutcome>,
    resources: &ResourceSet,
    registry: &Registry,
) -> Recap {
    let succeeded: BTreeSet<&Address> = report.succeeded.iter().collect();
    let failed: BTreeSet<&Address> = report.failed.iter().map(|(a, _)| a).collect();
    let mut hosts: BTreeMap<String, Counts> = BTreeMap::new();
    for change in &plan.resource_changes {
        let Ok(address) = Address::parse(&change.address) else {
            continue;
        };
        let Some(desired) = resources.get(&address) else {
            continue;
        };
        let Some(host) = registry
            .get(&address.kind)
            .and_then(|k| k.target_host(desired))
        else {
            continue;
        };
        let mut c = Counts::default();
        match change.action() {
            Action::NoOp => c.ok = 1,
            Action::ReadFailed => match observed.get(&address) {
                Some(ReadOutcome::Failed(e)) if e.is_unreachable() => c.unreachable = 1,
                _ => c.failed = 1,
            },
            _ if succeeded.contains(&address) => c.changed = 1,
            _ if report.unreachable.contains(&address) => c.unreachable = 1,
            _ if failed.contains(&address) => c.failed = 1,
            _ => c.skipped = 1,
        }
        hosts.entry(host).or_default().add(c);
    }
    let mut hosts: Vec<HostRecap> = hosts
        .into_iter()
        .map(|(host, counts)| HostRecap { host, counts })
        .collect();
    hosts.sort_by(|a, b| crate::plan::natural_order(&a.host, &b.host));
    let mut totals = Counts::default();
    for h in &hosts {
        totals.add(h.counts);
    }
    Recap { hosts, totals }
}

/// The recap as text, one aligned line per host and a totals line, Ansible's shape:
///
/// ```text
/// HOST RECAP
/// kiosk01   : ok=0 changed=1 failed=0 unreachable=0 skipped=0
/// ```
///
/// Empty when no resource manages a host. `color` paints hosts green (ok), yellow (changed) or
/// red (failed or unreachable), as Ansible does.
pub fn render_text(recap: &Recap, color: bool) -> String {
    let mut out = String::new();
    if recap.hosts.is_empty() {
        return out;
    }
    let width = recap
        .hosts
        .iter()
        .map(|h| h.host.chars().count())
        .max()
        .unwrap_or(0)
        .max("total".len());
    let line = |out: &mut String, name: &str, c: &Counts, paint: &str| {
        let (start, end) = if color && !paint.is_empty() {
            (paint, "\x1b[0m")
        } else {
            ("", "")
        };
        let _ = writeln!(
            out,
            "{start}{name:<width$}{end} : ok={} changed={} failed={} unreachable={} skipped={}",
            c.ok, c.changed, c.failed, c.unreachable, c.skipped
        );
    };
    out.push_str("\nHOST RECAP\n");
    for h in &recap.hosts {
        let c = &h.counts;
        let paint = if c.failed + c.unreachable > 0 {
            "\x1b[31m"
        } else if c.changed > 0 {
            "\x1b[33m"
        } else {
            "\x1b[32m"
        };
        line(&mut out, &h.host, c, paint);
    }
    line(&mut out, "total", &recap.totals, "");
    out
}
