//! Units of execution within one graph level: a batch of described operations that share a
//! connection and a batch key (one remote unit, e.g. one Script), or one resource's operations
//! run on their own.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::address::Address;
use crate::batch::{balanced_chunks, Work};
use crate::plan::Action;
use crate::provider::{Applied, Context, Executor, Kind, OpAction, Operation, RemoteError};
use crate::resource::Connection;
use crate::state::State;

use super::ApplyInput;

/// What running one resource's change produced.
pub(super) struct Finished {
    pub address: Address,
    pub action: Action,
    /// The first failure, if any.
    pub result: Result<(), RemoteError>,
    /// The last operation that reached the remote side, with the object as read back.
    pub last: Option<(OpAction, Applied)>,
}

/// One operation of a batch.
pub(super) struct Item {
    address: Address,
    action: Action,
    op: Operation,
    kind: Arc<dyn Kind>,
    work: Work,
}

/// What runs as one task.
pub(super) enum Unit {
    /// One resource's operations, one after another.
    Single {
        address: Address,
        action: Action,
        ops: Vec<Operation>,
        kind: Option<Arc<dyn Kind>>,
        executor: Option<Arc<dyn Executor>>,
    },
    /// Described operations of several resources, run together.
    Batch {
        connection: Connection,
        key: String,
        items: Vec<Item>,
        executor: Arc<dyn Executor>,
    },
}

/// Turns the runnable changes of one level into units: described single-operation changes are
/// grouped per connection and batch key, each group split into at most `parallelism` chunks of
/// similar cost. Changes whose work cannot be described fail at once (second value).
pub(super) fn plan_units(
    input: &ApplyInput<'_>,
    state: &State,
    changes: &BTreeMap<Address, Action>,
    runnable: Vec<Address>,
    parallelism: usize,
) -> (Vec<Unit>, Vec<Finished>) {
    let executor = input.registry.executor().cloned();
    let mut units = Vec::new();
    let mut refused = Vec::new();
    let mut groups: BTreeMap<(String, String), (Vec<usize>, Vec<Item>)> = BTreeMap::new();
    for address in runnable {
        let action = changes[&address];
        let mut ops = super::record::operations(input, &address, action, state);
        let kind = input.registry.get(&address.kind).cloned();
        let describable = executor.is_some() && ops.len() == 1 && action != Action::Forget;
        if let (true, Some(k)) = (describable, &kind) {
            match k.describe(input.ctx, &ops[0]) {
                Some(Ok(d)) => {
                    let op = ops.pop().expect("one operation");
                    let group = groups
                        .entry((op.connection.key.clone(), d.batch_key))
                        .or_default();
                    group.0.push(d.cost);
                    group.1.push(Item {
                        address,
                        action,
                        op,
                        kind: k.clone(),
                        work: d.work,
                    });
                    continue;
                }
                Some(Err(e)) => {
                    refused.push(Finished {
                        address,
                        action,
                        result: Err(e),
                        last: None,
                    });
                    continue;
                }
                None => {}
            }
        }
        units.push(Unit::Single {
            address,
            action,
            ops,
            kind,
            executor: executor.clone(),
        });
    }
    let executor_of_batches = executor;
    for ((_, key), (costs, items)) in groups {
        let executor = executor_of_batches
            .clone()
            .expect("only described operations are grouped");
        let mut items = items.into_iter();
        for len in balanced_chunks(&costs, parallelism) {
            let chunk: Vec<Item> = items.by_ref().take(len).collect();
            units.push(Unit::Batch {
                connection: chunk[0].op.connection.clone(),
                key: key.clone(),
                items: chunk,
                executor: executor.clone(),
            });
        }
    }
    (units, refused)
}

impl Unit {
    /// The changes this unit carries out.
    pub(super) fn addresses(&self) -> Box<dyn Iterator<Item = (&Address, &Action)> + '_> {
        match self {
            Unit::Single {
                address, action, ..
            } => Box::new(std::iter::once((address, action))),
            Unit::Batch { items, .. } => Box::new(items.iter().map(|i| (&i.address, &i.action))),
        }
    }

    /// Runs the unit; one [`Finished`] per change, whatever happens.
    pub(super) async fn run(self, ctx: Context) -> Vec<Finished> {
        match self {
            Unit::Single {
                address,
                action,
                ops,
                kind,
                executor,
            } => {
                let Some(kind) = kind else {
                    let e =
                        RemoteError::new("cmdeploy", format!("unknown kind `{}`", address.kind));
                    return vec![Finished {
                        address,
                        action,
                        result: Err(e),
                        last: None,
                    }];
                };
                let mut last = None;
                for op in ops {
                    if op.action == OpAction::Delete && action == Action::Forget {
                        continue;
                    }
                    let op_action = op.action;
                    match run_one(kind.as_ref(), executor.as_deref(), &ctx, op).await {
                        Ok(applied) => last = Some((op_action, applied)),
                        Err(e) => {
                            return vec![Finished {
                                address,
                                action,
                                result: Err(e),
                                last,
                            }]
                        }
                    }
                }
                vec![Finished {
                    address,
                    action,
                    result: Ok(()),
                    last,
                }]
            }
            Unit::Batch {
                connection,
                key,
                items,
                executor,
            } => {
                let (rest, works): (Vec<_>, Vec<_>) = items
                    .into_iter()
                    .map(|i| ((i.address, i.action, i.op, i.kind), i.work))
                    .unzip();
                let mut outcomes = executor
                    .execute(&ctx, &connection, &key, works)
                    .await
                    .into_iter();
                rest.into_iter()
                    .map(|(address, action, op, kind)| {
                        let outcome = outcomes.next().unwrap_or_else(|| {
                            Err(RemoteError::new(
                                connection.host(),
                                "the executor returned fewer outcomes than operations",
                            ))
                        });
                        let op_action = op.action;
                        match outcome.and_then(|out| kind.finish(&ctx, &op, out)) {
                            Ok(applied) => Finished {
                                address,
                                action,
                                result: Ok(()),
                                last: Some((op_action, applied)),
                            },
                            Err(e) => Finished {
                                address,
                                action,
                                result: Err(e),
                                last: None,
                            },
                        }
                    })
                    .collect()
            }
        }
    }
}

/// One operation on its own: described and executed alone when the kind describes it, else the
/// kind's own [`Kind::apply`].
async fn run_one(
    kind: &dyn Kind,
    executor: Option<&dyn Executor>,
    ctx: &Context,
    op: Operation,
) -> Result<Applied, RemoteError> {
    if let Some(executor) = executor {
        if let Some(described) = kind.describe(ctx, &op) {
            let d = described?;
            let out = executor
                .execute(ctx, &op.connection, &d.batch_key, vec![d.work])
                .await
                .pop()
                .unwrap_or_else(|| {
                    Err(RemoteError::new(
                        op.connection.host(),
                        "the executor returned no outcome",
                    ))
                })?;
            return kind.finish(ctx, &op, out);
        }
    }
    kind.apply(ctx, op).await
}
