//! Drift: what changed behind cmdeploy's back. Compares the refreshed estate with the state (as
//! last applied) and with the manifests. Never writes.

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
}

impl DriftReport {
    /// Exit code: 0 in sync, 2 drift, 3 some reads failed.
    pub fn exit_code(&self) -> i32 {
        if self
            .entries
            .iter()
            .any(|e| e.drift == DriftKind::ReadFailed)
        {
            3
        } else if self.entries.is_empty() {
            0
        } else {
            2
        }
    }
}

/// Computes drift.
pub fn detect(
    resources: &ResourceSet,
    state: &State,
    observed: &BTreeMap<Address, ReadOutcome>,
) -> DriftReport {
    let mut entries = Vec::new();
    let mut checked = 0;
    for (address, outcome) in observed {
        checked += 1;
        let key = address.to_string();
        let prior = state.resources.get(&key);
        let desired = resources.get(address);
        let entry = |drift, changes, error| DriftEntry {
            address: key.clone(),
            kind: address.kind.clone(),
            drift,
            changes,
            error,
        };
        match (outcome, prior, desired) {
            (ReadOutcome::Failed(e), _, _) => entries.push(entry(
                DriftKind::ReadFailed,
                Vec::new(),
                Some(e.to_string()),
            )),
            (ReadOutcome::Absent, Some(_), _) => {
                entries.push(entry(DriftKind::DeletedOutside, Vec::new(), None))
            }
            (ReadOutcome::Absent, None, Some(_)) => {
                entries.push(entry(DriftKind::NotApplied, Vec::new(), None))
            }
            (ReadOutcome::Present(obs), Some(p), d) => {
                let outside = diff_observed(&p.attributes, &obs.attrs);
                if !outside.is_empty() {
                    entries.push(entry(DriftKind::ChangedOutside, outside, None));
                } else if let Some(d) = d {
                    let pending = diff_attrs(d, &obs.attrs);
                    if !pending.is_empty() {
                        entries.push(entry(DriftKind::NotApplied, pending, None));
                    }
                }
            }
            (ReadOutcome::Present(obs), None, Some(d)) => {
                let pending = diff_attrs(d, &obs.attrs);
                if !pending.is_empty() {
                    entries.push(entry(DriftKind::NotApplied, pending, None));
                }
            }
            _ => {}
        }
    }
    DriftReport {
        format_version: "1.0".into(),
        checked,
        entries,
    }
}
