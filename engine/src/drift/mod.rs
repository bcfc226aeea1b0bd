//! Drift: what changed behind cmdeploy's back. Compares the refreshed estate with the state (as
//! last applied) and with the manifests. Never writes.
//!
//! [`detect`] builds the report; [`ack`] reads `drift.ack.toml` (known drift, with a reason and an
//! expiry date) and [`acknowledge`] marks the report with it.

pub mod ack;
pub mod acknowledge;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::address::Address;
use crate::diff::{diff_attrs, diff_observed, AttrChange};
use crate::provider::ReadOutcome;
use crate::resource::ResourceSet;
use crate::state::State;

/// Why a resource is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DriftKind {
    /// Changed outside cmdeploy since the last apply.
    ChangedOutside,
    /// Deleted outside cmdeploy since the last apply.
    DeletedOutside,
    /// The manifest asks for something the estate does not have yet (not applied).
    NotApplied,
    /// The resource could not be read.
    ReadFailed,
}

/// One drifted resource.
#[derive(Debug, Clone, Serialize)]
pub struct DriftEntry {
    /// Address.
    pub address: String,
    /// Kind.
    pub kind: String,
    /// Why it is reported.
    pub drift: DriftKind,
    /// Attribute-level differences (`before` = state or manifest, `after` = actual).
    pub changes: Vec<AttrChange>,
    /// Error text for read failures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Acknowledgements from `drift.ack.toml` that match this entry (active or expired).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub acks: Vec<acknowledge::AckMark>,
    /// True when every difference of this entry is covered by an acknowledgement that has not
    /// expired: the entry is reported but does not fail the run.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub acknowledged: bool,
}

/// One resource that was checked, drifted or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckedResource {
    /// Address.
    pub address: String,
    /// Kind.
    pub kind: String,
}

/// The drift report.
#[derive(Debug, Clone, Serialize)]
pub struct DriftReport {
    /// Format version of the JSON report.
    pub format_version: String,
    /// Resources checked.
    pub checked: usize,
    /// Drifted resources, in address order.
    pub entries: Vec<DriftEntry>,
    /// Every checked resource, in address order (added in 1.0 without breaking readers: `checked`
    /// is its length).
    pub resources: Vec<CheckedResource>,
    /// Acknowledgements that match no drift any more: remove them from `drift.ack.toml`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stale_acks: Vec<acknowledge::StaleAck>,
    /// Connections that could not be used, each once with its error, causes and the resources
    /// behind it (their entries are `read-failed` with a note naming the connection).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unreachable: Vec<crate::reach::UnreachableConnection>,
}

impl DriftReport {
    /// Exit code: 0 in sync (or all drift acknowledged), 2 drift, 3 some reads failed.
    pub fn exit_code(&self) -> i32 {
        if self
            .entries
            .iter()
            .any(|e| e.drift == DriftKind::ReadFailed)
        {
            3
        } else if self.entries.iter().all(|e| e.acknowledged) {
            0
        } else {
            2
        }
    }

    /// Entries that count as drift (not read failures, not acknowledged).
    pub fn unacknowledged(&self) -> impl Iterator<Item = &DriftEntry> {
        self.entries
            .iter()
            .filter(|e| e.drift != DriftKind::ReadFailed && !e.acknowledged)
    }
}

/// Computes drift.
pub fn detect(
    resources: &ResourceSet,
    state: &State,
    observed: &BTreeMap<Address, ReadOutcome>,
) -> DriftReport {
    let mut entries = Vec::new();
    let mut checked = Vec::new();
    for (address, outcome) in observed {
        let key = address.to_string();
        checked.push(CheckedResource {
            address: key.clone(),
            kind: address.kind.clone(),
        });
        let prior = state.resources.get(&key);
        let desired = resources.get(address);
        let entry = |drift, changes, error| DriftEntry {
            address: key.clone(),
            kind: address.kind.clone(),
            drift,
            changes,
            error,
            acks: Vec::new(),
            acknowledged: false,
        };
        match (outcome, prior, desired) {
            (ReadOutcome::Failed(e), _, _) => entries.push(entry(
                DriftKind::ReadFailed,
                Vec::new(),
                Some(match &e.unreachable {
                    Some(u) => crate::reach::note(&u.connection),
                    None => e.to_string(),
                }),
            )),
            (ReadOutcome::Absent | ReadOutcome::AbsentWith(_), Some(_), _) => {
                entries.push(entry(DriftKind::DeletedOutside, Vec::new(), None))
            }
            (ReadOutcome::Absent | ReadOutcome::AbsentWith(_), None, Some(_)) => {
                entries.push(entry(DriftKind::NotApplied, Vec::new(), None))
            }
            (ReadOutcome::Present(obs), Some(p), d) => {
                let outside = diff_observed(&p.attributes, &obs.attrs);
                if !outside.is_empty() {
                    entries.push(entry(DriftKind::ChangedOutside, outside, None));
                } else if let Some(d) = d {
                    let pending = manifest_to_estate(diff_attrs(d, &obs.attrs));
                    if !pending.is_empty() {
                        entries.push(entry(DriftKind::NotApplied, pending, None));
                    }
                }
            }
            (ReadOutcome::Present(obs), None, Some(d)) => {
                let pending = manifest_to_estate(diff_attrs(d, &obs.attrs));
                if !pending.is_empty() {
                    entries.push(entry(DriftKind::NotApplied, pending, None));
                }
            }
            _ => {}
        }
    }
    let unreachable = crate::reach::group(observed, checked.iter().map(|c| c.address.as_str()));
    DriftReport {
        format_version: "1.0".into(),
        checked: checked.len(),
        entries,
        resources: checked,
        stale_acks: Vec::new(),
        unreachable,
    }
}

/// A plan's changes (`before` = the estate, `after` = the manifest) turned to drift's direction:
/// `before` = the manifest, `after` = the estate, as for changes outside cmdeploy (`before` =
/// last applied). Every drift report then reads expected -> actual.
fn manifest_to_estate(mut changes: Vec<AttrChange>) -> Vec<AttrChange> {
    for c in &mut changes {
        std::mem::swap(&mut c.before, &mut c.after);
    }
    changes
}
