//! The apply executor: walks the planned changes in dependency order with bounded parallelism,
//! journals every completed operation at once (one record per operation appended to the
//! backend's journal, operations that finish together in one flush; the whole state is written
//! once at the end), skips the dependents of a failure (not its independent siblings), and on
//! interruption finishes in-flight work, saves, and stops.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::address::Address;
use crate::diff::diff_attrs;
use crate::plan::{Action, Plan};
use crate::provider::{
    Applied, Context, Observed, OpAction, Operation, ReadOutcome, Registry, RemoteError,
};
use crate::resource::ResourceSet;
use crate::secret::SecretValue;
use crate::state::{Backend, JournalRecord, State, StateEntry, StateError};

/// Receives progress events (the CLI draws progress bars or prints lines).
pub trait Observer: Send + Sync {
    /// An operation starts.
    fn started(&self, address: &Address, action: Action);
    /// An operation ended (`Err` holds the message).
    fn finished(&self, address: &Address, action: Action, result: Result<(), &str>);
}

/// An observer that ignores everything.
pub struct Silent;

impl Observer for Silent {
    fn started(&self, _: &Address, _: Action) {}
    fn finished(&self, _: &Address, _: Action, _: Result<(), &str>) {}
}

/// What apply did.
#[derive(Debug, Default)]
pub struct Report {
    /// Addresses changed successfully.
    pub succeeded: Vec<Address>,
    /// Failures with their messages.
    pub failed: Vec<(Address, String)>,
    /// Skipped because a dependency failed (address, failed dependency).
    pub skipped: Vec<(Address, Address)>,
    /// Not started because the run was interrupted.
    pub not_started: Vec<Address>,
    /// True when interrupted (Ctrl-C).
    pub interrupted: bool,
    /// The failed addresses whose host could not be reached ([`RemoteError::is_unreachable`]).
    pub unreachable: BTreeSet<Address>,
}

/// Everything apply needs.
pub struct ApplyInput<'a> {
    /// The plan to carry out.
    pub plan: &'a Plan,
    /// Desired resources.
    pub resources: &'a Arc<ResourceSet>,
    /// Kinds.
    pub registry: &'a Registry,
    /// Provider context.
    pub ctx: &'a Context,
    /// Refresh outcomes the plan was built from (for the observed side of updates).
    pub observed: &'a BTreeMap<Address, ReadOutcome>,
    /// Resolved secrets.
    pub secrets: &'a BTreeMap<Address, BTreeMap<String, SecretValue>>,
    /// Maximum operations in flight.
    pub parallelism: usize,
    /// Set to stop starting new operations.
    pub interrupt: Arc<AtomicBool>,
}

/// Applies the plan, recording every operation in the state's journal as it completes and
/// writing the whole state once at the end.
///
/// # Errors
/// Only state persistence errors; remote failures are in the [`Report`].
pub async fn apply(
    input: ApplyInput<'_>,
    backend: &dyn Backend,
    state: &mut State,
    observer: &dyn Observer,
) -> Result<Report, StateError> {
    let changes: BTreeMap<Address, Action> = input
        .plan
        .resource_changes
        .iter()
        .filter(|c| c.action().is_change())
        .filter_map(|c| Address::parse(&c.address).ok().map(|a| (a, c.action())))
        .collect();
    let deps = dependencies(&changes, input.resources, state);
    let mut report = Report::default();
    let mut done: BTreeSet<Address> = BTreeSet::new();
    let mut failed: BTreeMap<Address, Address> = BTreeMap::new();
    let mut pending: BTreeSet<Address> = changes.keys().cloned().collect();
    let mut running = tokio::task::JoinSet::new();
    let mut in_flight = 0usize;
    loop {
        if !input.interrupt.load(Ordering::SeqCst) {
            // Skip whatever depends on a failure.
            let blocked: Vec<(Address, Address)> = pending
                .iter()
                .filter_map(|a| {
                    deps.get(a).and_then(|ds| {
                        ds.iter()
                            .find_map(|d| failed.get(d).map(|root| (a.clone(), root.clone())))
                    })
                })
                .collect();
            for (a, root) in blocked {
                pending.remove(&a);
                observer.finished(&a, changes[&a], Err("skipped: a dependency failed"));
                failed.insert(a.clone(), root.clone());
                report.skipped.push((a, root));
            }
            let ready: Vec<Address> = pending
                .iter()
                .filter(|a| {
                    deps.get(*a)
                        .is_none_or(|ds| ds.iter().all(|d| done.contains(d)))
                })
                .take(input.parallelism.max(1).saturating_sub(in_flight))
                .cloned()
                .collect();
            for a in ready {
                pending.remove(&a);
                let action = changes[&a];
                observer.started(&a, action);
                let ops = operations(&input, &a, action, state);
                let kind = input.registry.get(&a.kind).cloned();
                let ctx = input.ctx.clone();
                in_flight += 1;
                running.spawn(async move {
                    let Some(kind) = kind else {
                        return (
                            a.clone(),
                            action,
                            Err(RemoteError::new(
                                "cmdeploy",
                                format!("unknown kind `{}`", a.kind),
                            )),
                            None,
                        );
                    };
                    let mut last = None;
                    for op in ops {
                        let op_action = op.action;
                        match op_action {
                            OpAction::Delete if action == Action::Forget => {}
                            _ => match kind.apply(&ctx, op).await {
                                Ok(applied) => last = Some((op_action, applied)),
                                Err(e) => return (a, action, Err(e), last),
                            },
                        }
                    }
                    (a, action, Ok(()), last)
                });
            }
        }
        let Some(first) = running.join_next().await else {
            break;
        };
        // Operations that finished meanwhile are journaled with this one: one flush per batch
        // (group commit) instead of one per operation, which serialized a wide apply.
        let mut batch = vec![first];
        while let Some(more) = running.try_join_next() {
            batch.push(more);
        }
        in_flight -= batch.len();
        let mut records = Vec::new();
        let mut verdicts = Vec::new();
        for joined in batch {
            let Ok((address, action, result, last)) = joined else {
                continue;
            };
            if matches!(&result, Err(e) if e.is_unreachable()) {
                report.unreachable.insert(address.clone());
            }
            // Journal whatever reached the remote side, even when a later step failed.
            let verdict = record(&input, state, &address, action, result, last);
            state.ensure_lineage();
            state.serial += 1;
            records.push(JournalRecord::of(state, &address.to_string()));
            verdicts.push((address, action, verdict));
        }
        if !records.is_empty() {
            backend.record(state, &records)?;
        }
        for (address, action, verdict) in verdicts {
            match verdict {
                Ok(()) => {
                    observer.finished(&address, action, Ok(()));
                    done.insert(address.clone());
                    report.succeeded.push(address);
                }
                Err(message) => {
                    observer.finished(&address, action, Err(&message));
                    failed.insert(address.clone(), address.clone());
                    report.failed.push((address, message));
                }
            }
        }
    }
    // Fold the journal into one full write (compaction), once per apply.
    backend.persist(state)?;
    if input.interrupt.load(Ordering::SeqCst) {
        report.interrupted = true;
        report.not_started = pending.into_iter().collect();
    }
    Ok(report)
}

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
                attributes: obs.attrs.clone(),
                secret_fingerprints,
                depends_on: desired
                    .references
                    .iter()
                    .map(|r| r.target.to_string())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect(),
                natural_key: desired.natural_key.clone(),
                meta: desired.meta.clone(),
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

fn dependencies(
    changes: &BTreeMap<Address, Action>,
    resources: &ResourceSet,
    state: &State,
) -> BTreeMap<Address, BTreeSet<Address>> {
    let mut deps: BTreeMap<Address, BTreeSet<Address>> = changes
        .keys()
        .map(|a| (a.clone(), BTreeSet::new()))
        .collect();
    for (a, action) in changes {
        match action {
            Action::Delete | Action::Forget => {
                // Whatever depended on `a` in state changes first (drops its reference or goes).
                for (text, entry) in &state.resources {
                    if entry.depends_on.iter().any(|d| d == &a.to_string()) {
                        if let Ok(other) = Address::parse(text) {
                            if changes.contains_key(&other) {
                                deps.get_mut(a).expect("present").insert(other);
                            }
                        }
                    }
                }
            }
            _ => {
                if let Some(r) = resources.get(a) {
                    for reference in &r.references {
                        if changes.contains_key(&reference.target)
                            && changes[&reference.target] != Action::Delete
                        {
                            deps.get_mut(a)
                                .expect("present")
                                .insert(reference.target.clone());
                        }
                    }
                }
            }
        }
    }
    deps
}

fn operations(
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
        .unwrap_or_else(|| crate::resource::Connection {
            key: "unknown".into(),
            spec: serde_json::Value::Null,
        });
    let text = a.to_string();
    let changed: Vec<String> = input
        .plan
        .resource_changes
        .iter()
        .find(|c| c.address == text)
        .map(|c| c.changes.iter().map(|ch| ch.name.clone()).collect())
        .unwrap_or_default();
    let secrets = input.secrets.get(a).cloned().unwrap_or_default();
    let op = |op_action: OpAction, observed: Option<Observed>| Operation {
        address: a.clone(),
        action: op_action,
        desired: desired.clone(),
        prior: prior.clone(),
        observed,
        changed: changed.clone(),
        secrets: secrets.clone(),
        connection: connection.clone(),
    };
    match action {
        Action::Create => vec![op(OpAction::Create, None)],
        Action::Update => vec![op(OpAction::Update, observed)],
        Action::Replace => vec![op(OpAction::Delete, observed), op(OpAction::Create, None)],
        Action::Delete | Action::Forget => vec![op(OpAction::Delete, observed)],
        Action::NoOp | Action::ReadFailed => Vec::new(),
    }
}

/// Writes the outcome of one resource's operations into state and checks the provider's answer
/// against the plan. Returns the message of a failure.
fn record(
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
                    attributes: applied.attrs.clone(),
                    secret_fingerprints: fingerprints,
                    depends_on: desired
                        .references
                        .iter()
                        .map(|r| r.target.to_string())
                        .collect::<BTreeSet<_>>()
                        .into_iter()
                        .collect(),
                    natural_key: desired.natural_key.clone(),
                    meta: desired.meta.clone(),
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

fn null_connection() -> crate::resource::Connection {
    crate::resource::Connection {
        key: "unknown".into(),
        spec: serde_json::Value::Null,
    }
}
