//! What `site_settings` does with conflicting records waiting for an administrator (seed 003
//! "Conflicting Records"; PSRef Get-/Merge-/Block-CMConflictingRecord): with
//! `conflicting_record_action = "merge"` or `"block"` the desired state is that none is pending
//! (attribute `conflicting_records_pending = []`), and apply merges (`Merge-CMConflictingRecord
//! -Name`) or blocks (`Block-CMConflictingRecord -Name`) each one the refresh found. With `"new"`
//! no cmdlet can act (the console's *Create new record* has none: cmdlets.json `not_found`
//! Resolve-CMConflictingRecord), so the plan names each pending record and the console step, and
//! apply stops with the same words until an administrator has done it.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::kit;
use crate::powershell::Call;

/// What to do with a pending conflicting record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConflictAction {
    /// Merge the new record into the existing client record (`Merge-CMConflictingRecord`).
    Merge,
    /// Create a blocked record for the client (`Block-CMConflictingRecord`).
    Block,
    /// Create a new record: a console step, named by the plan.
    New,
}

/// The read: every pending record (`Get-CMConflictingRecord`, set SearchByName without a name).
pub fn read_call() -> Call {
    Call::new("Get-CMConflictingRecord")
}

/// The pending records' names from the read (`AgentName`).
pub fn pending(v: &Value) -> Value {
    kit::sorted(
        kit::items(v)
            .into_iter()
            .map(|r| kit::s(r, "AgentName").to_uppercase())
            .filter(|n| !n.is_empty()),
    )
}

/// The plan notes for `action` and the pending records: with `new`, the console step per record.
pub fn notes(action: ConflictAction, pending: &Value) -> Vec<String> {
    if action != ConflictAction::New {
        return Vec::new();
    }
    pending
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|n| format!("conflicting record {n} is pending: no cmdlet creates a new record, so in the console open Assets and Compliance > Devices > Conflicting Records, select {n} and choose Create New Record"))
        .collect()
}

/// The calls that clear the pending records `have` with `action` (none for `new`).
pub fn calls(action: ConflictAction, have: &Value) -> Vec<Call> {
    let cmdlet = match action {
        ConflictAction::Merge => "Merge-CMConflictingRecord",
        ConflictAction::Block => "Block-CMConflictingRecord",
        ConflictAction::New => return Vec::new(),
    };
    have.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|n| Call::new(cmdlet).arg("Name", n))
        .collect()
}

/// The action a resource's `meta` records.
pub fn action_of(meta: &serde_json::Map<String, Value>) -> Option<ConflictAction> {
    meta.get("conflicting_record_action")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
}

/// `meta` value of an action.
pub fn meta_value(action: ConflictAction) -> Value {
    json!(action)
}
