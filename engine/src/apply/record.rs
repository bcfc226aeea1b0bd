//! What one finished operation leaves in state (the read-back object, checked against the plan),
//! adoption of unmanaged objects that already match, and the operations a planned change runs.

use std::collections::{BTreeMap, BTreeSet};

use crate::address::Address;
use crate::diff::diff_attrs;
use crate::plan::{Action, Plan};
use crate::provider::{Applied, Observed, OpAction, Operation, ReadOutcome, RemoteError};
use crate::resource::{Attributes, ResourceSet};
use crate::secret::SecretValue;
use crate::state::{State, StateEntry};

use super::ApplyInput;

/// Records in state the desired resources that already exist exactly as declared but are not in
/// state yet (found by their natural key): they are adopted without any remote change, so that
/// drift watches them and removing them from the manifest deletes them. Returns how many.
pub fn adopt(
    plan: &Plan,
    resources: &ResourceSet,
    observed: &BTreeMap<Address, ReadOutcome>,
    state: &mut State,
    fingerprints: &crate::secret::FingerprintKey,
    secrets: &BTreeMap<Address, BTreeMap<String, SecretValue>>,
) -> usize {
    let mut adopted = 0;
    for c in plan
        .resource_changes
        .iter()
        .filter(|c| c.action() == Action::NoOp)
    {
        if state.resources.contains_key(&c.address) {
            continue;
        }
        let Ok(address) = Address::parse(&c.address) else {
            continue;
        };
        let (Some(desired), Some(ReadOutcome::Present(obs))) =
            (resources.get(&address), observed.get(&address))
        else {
            continue;
        };
        let secret_fingerprints = secrets
            .get(&address)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), fingerprints.fingerprint(&c.address, k, v)))
                    .collect()
            })
            .unwrap_or_default();
        state.resources.insert(
            c.address.clone(),
            StateEntry {
                kind: address.kind.clone(),
                id: obs.id.clone(),
                attributes: obs.attrs.clone().into(),
                secret_fingerprints,
                depends_on: desired
                    .references
                    .iter()
                    .map(|r| r.target.to_string())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect(),
                natural_key: desired.natural_key.clone(),
                meta: Attributes::clone(&desired.meta),
                connection: resources
                    .connections
                    .get(&address)
                    .cloned()
                    .unwrap_or_else(null_connection),
                read_connection: resources
                    .read_connections
                    .get(&address)
                    .cloned()
                    .unwrap_or_else(null_connection),
                updated_at: chrono::Utc::now().to_rfc3339(),
            },
        );
        adopted += 1;
    }
    if adopted > 0 {
        state.ensure_lineage();
        state.serial += 1;
    }
    adopted
}

pub(super) fn operations(
    input: &ApplyInput<'_>,
    a: &Address,
    action: Action,
    state: &State,
) -> Vec<Operation> {
    let desired = input.resources.get(a).cloned();
    let prior = state.resources.get(&a.to_string()).cloned();
    let observed: Option<Observed> = match input.observed.get(a) {
        Some(ReadOutcome::Present(o)) => Some(o.clone()),
        _ => None,
    };
    let connection = input
        .resources
        .connections
        .get(a)
        .cloned()
        .or_else(|| prior.as_ref().map(|p| p.connection.clone()))
        .unwrap_or_else(null_connection);
    let text = a.to_string();
    let changed: Vec<String> = input
        .plan
        .resource_changes
        .iter()
        .find(|c| c.address == text)
        .map(|c| c.changes.iter().map(|ch| ch.name.clone()).collect())
        .unwrap_or_default();
    let secrets = input.secrets.get(a).cloned().unwrap_or_default();
    let reference_ids = reference_ids(input, desired.as_deref(), state);
    let op = |op_action: OpAction, observed: Option<Observed>| Operation {
        address: a.clone(),
        action: op_action,
        desired: desired.clone(),
        prior: prior.clone(),
        observed,
        changed: changed.clone(),
        secrets: secrets.clone(),
        connection: connection.clone(),
        reference_ids: reference_ids.clone(),
    };
    match action {
        Action::Create => vec![op(OpAction::Create, None)],
        Action::Update => vec![op(OpAction::Update, observed)],
        Action::Replace => vec![op(OpAction::Delete, observed), op(OpAction::Create, None)],
        Action::Delete | Action::Forget => vec![op(OpAction::Delete, observed)],
        Action::NoOp | Action::ReadFailed => Vec::new(),
    }
}

/// The remote IDs of what `desired` references: from state (what earlier levels of this apply
/// wrote included), else from the refresh.
fn reference_ids(
    input: &ApplyInput<'_>,
    desired: Option<&crate::resource::Resource>,
    state: &State,
) -> BTreeMap<Address, String> {
    let Some(desired) = desired else {
        return BTreeMap::new();
    };
    desired
        .references
        .iter()
        .filter_map(|r| {
            let from_state = state
                .resources
                .get(&r.target.to_string())
                .map(|e| e.id.clone())
                .filter(|id| !id.is_empty());
            let id = from_state.or_else(|| match input.observed.get(&r.target) {
                Some(ReadOutcome::Present(o)) if !o.id.is_empty() => Some(o.id.clone()),
                _ => None,
            })?;
            Some((r.target.clone(), id))
        })
        .collect()
}

/// Writes the outcome of one resource's operations into state and checks the provider's answer
/// against the plan. Returns the message of a failure.
pub(super) fn record(
    input: &ApplyInput<'_>,
    state: &mut State,
    address: &Address,
    action: Action,
    result: Result<(), RemoteError>,
    last: Option<(OpAction, Applied)>,
) -> Result<(), String> {
    let key = address.to_string();
    match &last {
        Some((OpAction::Delete, _)) | None
            if matches!(action, Action::Delete | Action::Forget) && result.is_ok() =>
        {
            state.resources.remove(&key);
        }
        Some((OpAction::Delete, _)) => {
            // A replace whose create failed: the old object is gone.
            state.resources.remove(&key);
        }
        Some((_, applied)) => {
            if let Some(desired) = input.resources.get(address) {
                let fingerprints = input
                    .secrets
                    .get(address)
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| {
                                (k.clone(), input.ctx.fingerprints.fingerprint(&key, k, v))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let entry = StateEntry {
                    kind: address.kind.clone(),
                    id: applied.id.clone(),
                    attributes: applied.attrs.clone().into(),
                    secret_fingerprints: fingerprints,
                    depends_on: desired
                        .references
                        .iter()
                        .map(|r| r.target.to_string())
                        .collect::<BTreeSet<_>>()
                        .into_iter()
                        .collect(),
                    natural_key: desired.natural_key.clone(),
                    meta: Attributes::clone(&desired.meta),
                    connection: input
                        .resources
                        .connections
                        .get(address)
                        .cloned()
                        .unwrap_or_else(null_connection),
                    read_connection: input
                        .resources
                        .read_connections
                        .get(address)
                        .cloned()
                        .unwrap_or_else(null_connection),
                    updated_at: chrono::Utc::now().to_rfc3339(),
                };
                state.resources.insert(key.clone(), entry);
                if result.is_ok() {
                    let mismatch = diff_attrs(desired, &applied.attrs);
                    if !mismatch.is_empty() {
                        let detail: Vec<String> = mismatch
                            .iter()
                            .map(|m| {
                                format!(
                                    "{} is {} after apply, the plan promised {}",
                                    m.name,
                                    m.before
                                        .as_ref()
                                        .map(ToString::to_string)
                                        .unwrap_or_else(|| "unset".into()),
                                    m.after
                                        .as_ref()
                                        .map(ToString::to_string)
                                        .unwrap_or_else(|| "unset".into())
                                )
                            })
                            .collect();
                        return Err(format!("{address} did not converge: {}", detail.join("; ")));
                    }
                }
            }
        }
        None => {}
    }
    result.map_err(|e| format!("{address}: {e}"))
}

pub(super) fn null_connection() -> crate::resource::Connection {
    crate::resource::Connection::new("unknown", serde_json::Value::Null)
}
