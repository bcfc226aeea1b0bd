//! The apply executor: walks the planned changes level by level of the dependency graph
//! ([`walk`]) with bounded parallelism. In each level, the operations that kinds describe
//! ([`crate::provider::Kind::describe`]) are grouped per connection and batch key and split into at
//! most `--parallelism` chunks, each run as one unit by the provider's executor
//! ([`crate::batch`]); the others run one by one ([`crate::provider::Kind::apply`]). Every completed
//! operation is journaled at once (one record per operation appended to the backend's journal,
//! operations that finish together in one flush; the whole state is written once at the end).
//! A failure skips its dependents, not its independent siblings; on interruption apply finishes
//! in-flight work, saves, and stops.

mod record;
mod unit;
pub mod walk;

pub use record::adopt;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::address::Address;
use crate::plan::{Action, Plan};
use crate::provider::{Context, ReadOutcome};
use crate::registry::Registry;
use crate::resource::ResourceSet;
use crate::secret::SecretValue;
use crate::state::{Backend, JournalRecord, State, StateError};

use unit::Finished;

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
    let deps = walk::dependencies(&changes, input.resources, state);
    let levels = walk::levels(&deps);
    let parallelism = input.parallelism.max(1);
    let mut report = Report::default();
    let mut failed: BTreeMap<Address, Address> = BTreeMap::new();
    let mut levels = levels.into_iter();
    while let Some(level) = levels.next() {
        if input.interrupt.load(Ordering::SeqCst) {
            report.not_started.extend(level);
            report.not_started.extend(levels.by_ref().flatten());
            break;
        }
        let mut runnable = Vec::new();
        for a in level {
            match walk::blocked_by(&a, &deps, &failed).cloned() {
                Some(root) => {
                    observer.finished(&a, changes[&a], Err("skipped: a dependency failed"));
                    failed.insert(a.clone(), root.clone());
                    report.skipped.push((a, root));
                }
                None => runnable.push(a),
            }
        }
        let (mut queue, refused) = unit::plan_units(&input, state, &changes, runnable, parallelism);
        settle(
            &input,
            backend,
            state,
            observer,
            &mut report,
            &mut failed,
            refused,
        )?;
        queue.reverse();
        let mut running = tokio::task::JoinSet::new();
        loop {
            while running.len() < parallelism && !input.interrupt.load(Ordering::SeqCst) {
                let Some(u) = queue.pop() else { break };
                for (a, action) in u.addresses() {
                    observer.started(a, *action);
                }
                running.spawn(u.run(input.ctx.clone()));
            }
            let Some(first) = running.join_next().await else {
                break;
            };
            // Units that finished meanwhile are journaled with this one: one flush per batch
            // (group commit) instead of one per operation, which serialized a wide apply.
            let mut done: Vec<Finished> = first.into_iter().flatten().collect();
            while let Some(more) = running.try_join_next() {
                done.extend(more.into_iter().flatten());
            }
            settle(
                &input,
                backend,
                state,
                observer,
                &mut report,
                &mut failed,
                done,
            )?;
        }
        if input.interrupt.load(Ordering::SeqCst) {
            report.not_started.extend(
                queue
                    .iter()
                    .flat_map(|u| u.addresses().map(|(a, _)| a.clone())),
            );
            report.not_started.extend(levels.by_ref().flatten());
            break;
        }
    }
    // Fold the journal into one full write (compaction), once per apply.
    backend.persist(state)?;
    if input.interrupt.load(Ordering::SeqCst) {
        report.interrupted = true;
    }
    Ok(report)
}

/// Records finished operations in state and the journal (one flush), then reports them.
fn settle(
    input: &ApplyInput<'_>,
    backend: &dyn Backend,
    state: &mut State,
    observer: &dyn Observer,
    report: &mut Report,
    failed: &mut BTreeMap<Address, Address>,
    done: Vec<Finished>,
) -> Result<(), StateError> {
    let mut records = Vec::new();
    let mut verdicts = Vec::new();
    for f in done {
        if matches!(&f.result, Err(e) if e.is_unreachable()) {
            report.unreachable.insert(f.address.clone());
        }
        // Journal whatever reached the remote side, even when a later step failed.
        let verdict = record::record(input, state, &f.address, f.action, f.result, f.last);
        state.ensure_lineage();
        state.serial += 1;
        records.push(JournalRecord::of(state, &f.address.to_string()));
        verdicts.push((f.address, f.action, verdict));
    }
    if !records.is_empty() {
        backend.record(state, &records)?;
    }
    for (address, action, verdict) in verdicts {
        match verdict {
            Ok(()) => {
                observer.finished(&address, action, Ok(()));
                report.succeeded.push(address);
            }
            Err(message) => {
                observer.finished(&address, action, Err(&message));
                failed.insert(address.clone(), address.clone());
                report.failed.push((address, message));
            }
        }
    }
    Ok(())
}
