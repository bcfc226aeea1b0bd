//! Building a plan from the desired resources, the state and a refresh.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use super::{Action, Plan, ResourceChange, FORMAT_VERSION};
use crate::address::Address;
use crate::diff::{diff_attrs, AttrChange};
use crate::provider::{DeleteMode, ReadOutcome};
use crate::registry::Registry;
use crate::resource::{Attributes, Resource, ResourceSet};
use crate::secret::{FingerprintKey, SecretValue};
use crate::state::State;

/// Everything a plan is computed from.
pub struct PlanInput<'a> {
    /// Desired resources.
    pub resources: &'a ResourceSet,
    /// Kinds.
    pub registry: &'a Registry,
    /// Current state.
    pub state: &'a State,
    /// Refresh outcomes by address.
    pub observed: &'a BTreeMap<Address, ReadOutcome>,
    /// Resolved secrets by address and attribute.
    pub secrets: &'a BTreeMap<Address, BTreeMap<String, SecretValue>>,
    /// Fingerprint key.
    pub fingerprints: &'a FingerprintKey,
    /// Manifest hash.
    pub manifest_hash: &'a str,
    /// Project name.
    pub project: Option<String>,
    /// Only these addresses (and nothing else) when `--target` is given.
    pub targets: Option<&'a [Address]>,
    /// Scripts the refresh sent.
    pub refresh_scripts: usize,
}

const SENSITIVE: &str = "(sensitive)";

/// Builds the plan.
pub fn build(input: &PlanInput<'_>) -> Plan {
    let targeted = |a: &Address| {
        input.targets.is_none_or(|ts| {
            ts.iter()
                .any(|t| t == a || (t.key.is_none() && t == &a.base()))
        })
    };
    // The entries only state knows (deletes, forgets) first, so that the changes are allocated
    // once at their size (sized for the manifests and the whole state, a plan beside a 100k state
    // held 60,000 unused slots of 300 bytes).
    let mut removed = Vec::new();
    for (addr_text, entry) in &input.state.resources {
        let Ok(address) = Address::parse(addr_text) else {
            continue;
        };
        if input.resources.by_address.contains_key(&address) || !targeted(&address) {
            continue;
        }
        let kind = input.registry.get(&entry.kind);
        let forget = kind.is_some_and(|k| k.delete_mode_of(&entry.meta) == DeleteMode::Forget);
        let mut c = change_for(&address, Action::Delete);
        c.id = Some(entry.id.clone());
        let observed = input.observed.get(&address);
        // What it was: as read when present, else as last applied.
        c.before = Some(match observed {
            Some(ReadOutcome::Present(obs)) => Arc::new(obs.attrs.clone()),
            _ => Arc::clone(&entry.attributes),
        });
        match observed {
            Some(ReadOutcome::Present(_)) => {
                if forget {
                    c.action = Some(Action::Forget);
                    c.notes.push("removed from the manifest: cmdeploy stops managing it and leaves it in place".into());
                } else if let Some(k) = kind {
                    c.notes.extend(k.delete_notes(&entry.meta));
                }
            }
            Some(ReadOutcome::Absent | ReadOutcome::AbsentWith(_)) => {
                c.action = Some(Action::Forget);
                c.notes.push(
                    "already deleted outside cmdeploy: only the state entry is removed".into(),
                );
            }
            Some(ReadOutcome::Failed(e)) => {
                c.action = Some(Action::ReadFailed);
                c.notes.push(read_failed_note(e));
            }
            None => {
                c.action = Some(Action::ReadFailed);
                c.notes.push("not read".into());
            }
        }
        removed.push(c);
    }
    let mut changes = Vec::with_capacity(input.resources.len() + removed.len());
    for (address, desired) in &input.resources.by_address {
        if !targeted(address) {
            continue;
        }
        changes.push(plan_desired(input, address, desired));
    }
    changes.append(&mut removed);
    changes.sort_by(|a, b| natural_order(&a.address, &b.address));
    for c in &mut changes {
        c.actions = c.action().as_list().into_iter().map(String::from).collect();
    }
    let warnings = take_warnings(&mut changes, input.observed);
    let summary = Plan::summarize(&changes);
    let unreachable =
        crate::reach::group(input.observed, changes.iter().map(|c| c.address.as_str()));
    Plan {
        format_version: FORMAT_VERSION.into(),
        project: input.project.clone(),
        manifest_hash: input.manifest_hash.into(),
        state_lineage: input.state.lineage.clone(),
        state_serial: input.state.serial,
        resource_changes: changes,
        summary,
        refresh_scripts: input.refresh_scripts,
        unreachable,
        warnings,
    }
}

/// The plan-time warnings of every resource read (notes starting with
/// [`crate::provider::WARNING`]), whatever its action, in address order; they are taken out of
/// the changes' notes so that each is printed once.
fn take_warnings(
    changes: &mut [ResourceChange],
    observed: &BTreeMap<Address, ReadOutcome>,
) -> Vec<super::PlanWarning> {
    let prefix = crate::provider::WARNING;
    // The few resources whose read had a warning, found from the reads (one pass, no address
    // parsed per change).
    let mut found: std::collections::HashMap<String, Vec<&str>> = Default::default();
    for (address, outcome) in observed {
        let notes = match outcome {
            ReadOutcome::Present(obs) => &obs.notes,
            ReadOutcome::AbsentWith(notes) => notes,
            _ => continue,
        };
        let messages: Vec<&str> = notes
            .iter()
            .filter_map(|n| n.strip_prefix(prefix))
            .collect();
        if !messages.is_empty() {
            found.insert(address.to_string(), messages);
        }
    }
    let mut warnings = Vec::new();
    for c in changes.iter_mut() {
        c.notes.retain(|n| !n.starts_with(prefix));
        for message in found.get(&c.address).into_iter().flatten() {
            warnings.push(super::PlanWarning {
                address: c.address.clone(),
                message: (*message).to_string(),
            });
        }
    }
    warnings
}

/// The note of a resource that could not be read: the error, or a pointer to its connection's
/// one error when the connection was unreachable.
fn read_failed_note(e: &crate::provider::RemoteError) -> String {
    match &e.unreachable {
        Some(u) => crate::reach::note(&u.connection),
        None => format!("read failed: {e}"),
    }
}

fn change_for(address: &Address, action: Action) -> ResourceChange {
    ResourceChange {
        address: address.to_string(),
        kind: address.kind.clone(),
        name: address.name.clone(),
        key: address.key.clone(),
        actions: Vec::new(),
        action: Some(action),
        before: None,
        after: None,
        changes: Vec::new(),
        notes: Vec::new(),
        commands: Vec::new(),
        id: None,
        moved_from: None,
    }
}

fn plan_desired(
    input: &PlanInput<'_>,
    address: &Address,
    desired: &Arc<Resource>,
) -> ResourceChange {
    let kind = input.registry.get(&address.kind);
    let after = if desired.secrets.is_empty() {
        Arc::clone(&desired.attrs)
    } else {
        let mut after = Attributes::clone(&desired.attrs);
        for name in desired.secrets.keys() {
            after.insert(name.clone(), Value::String(SENSITIVE.into()));
        }
        Arc::new(after)
    };
    let mut c = change_for(address, Action::NoOp);
    c.after = Some(after);
    match input.observed.get(address) {
        Some(ReadOutcome::Failed(e)) => {
            c.action = Some(Action::ReadFailed);
            c.notes.push(read_failed_note(e));
        }
        None => {
            c.action = Some(Action::ReadFailed);
            c.notes.push("not read".into());
        }
        Some(outcome @ (ReadOutcome::Absent | ReadOutcome::AbsentWith(_))) => {
            if let ReadOutcome::AbsentWith(notes) = outcome {
                c.notes.extend(notes.iter().cloned());
            }
            c.action = Some(Action::Create);
            c.changes = desired
                .attrs
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| AttrChange {
                    name: k.clone(),
                    before: None,
                    after: Some(v.clone()),
                    sensitive: false,
                })
                .chain(desired.secrets.keys().map(|k| AttrChange {
                    name: k.clone(),
                    before: None,
                    after: None,
                    sensitive: true,
                }))
                .collect();
            if let Some(k) = kind {
                c.notes.extend(k.plan_notes(Some(desired), None));
                c.commands = k.planned_commands(desired, None);
            }
        }
        Some(ReadOutcome::Present(obs)) => {
            c.id = Some(obs.id.clone());
            c.before = Some(Arc::new(obs.attrs.clone()));
            let mut diffs = diff_attrs(desired, &obs.attrs);
            diffs.extend(secret_changes(input, address, desired));
            let replace = diffs.iter().any(|d| desired.force_new.contains(&d.name));
            c.action = Some(if diffs.is_empty() {
                Action::NoOp
            } else if replace {
                Action::Replace
            } else {
                Action::Update
            });
            c.changes = diffs;
            if !obs.notes.is_empty() && c.action != Some(Action::NoOp) {
                c.notes.extend(obs.notes.iter().cloned());
            }
            if c.action != Some(Action::NoOp) {
                if let Some(k) = kind {
                    c.notes.extend(k.plan_notes(Some(desired), Some(obs)));
                    c.commands = k.planned_commands(desired, Some(obs));
                }
            }
        }
    }
    c
}

fn secret_changes(input: &PlanInput<'_>, address: &Address, desired: &Resource) -> Vec<AttrChange> {
    let prior = input.state.resources.get(&address.to_string());
    let resolved = input.secrets.get(address);
    desired
        .secrets
        .keys()
        .filter(|name| {
            let want = resolved.and_then(|m| m.get(*name)).map(|v| {
                input
                    .fingerprints
                    .fingerprint(&address.to_string(), name, v)
            });
            let have = prior.and_then(|p| p.secret_fingerprints.get(*name));
            match (want, have) {
                (Some(w), Some(h)) => &w != h,
                _ => true,
            }
        })
        .map(|name| AttrChange {
            name: name.clone(),
            before: None,
            after: None,
            sensitive: true,
        })
        .collect()
}

/// Addresses in natural order: the numbers in them compare as numbers (`boundary.b2` before
/// `boundary.b10`), ties broken by the plain text so the order is total.
pub(crate) fn natural_order(a: &str, b: &str) -> std::cmp::Ordering {
    alphanumeric_sort::compare_str(a, b).then_with(|| a.cmp(b))
}
