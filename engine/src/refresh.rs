//! Batched refresh: every resource (desired or in state) is read through its kind, one batch per
//! kind and read connection, batches in parallel. A kind that fails to answer for a resource is a
//! read failure for that resource, never an absence.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::address::Address;
use crate::provider::{Context, ReadOutcome, ReadRequest, RemoteError};
use crate::registry::Registry;
use crate::resource::ResourceSet;
use crate::state::State;

/// The outcome of a refresh.
#[derive(Debug, Default)]
pub struct Refreshed {
    /// Outcome per address.
    pub outcomes: BTreeMap<Address, ReadOutcome>,
    /// Number of batches (one remote Script each, for remote kinds).
    pub batches: usize,
}

/// What a refresh reports while it reads, for a progress display. Connections are named by
/// their label: the `[connection.NAME]` name, or the host of an inline connection.
pub trait RefreshObserver: Send + Sync {
    /// Before the first read: how many resources will be read through each connection.
    fn planned(&self, _per_connection: &[(String, usize)]) {}
    /// A batch of `resources` resources of `kind` is being read through `connection`.
    fn batch_started(&self, _connection: &str, _kind: &str, _resources: usize) {}
    /// That batch is done (read or failed).
    fn batch_finished(&self, _connection: &str, _kind: &str, _resources: usize) {}
}

/// An observer that shows nothing.
pub struct Quiet;

impl RefreshObserver for Quiet {}

/// The label of a connection key: `cm01` for a named connection, the host for an inline one.
fn label(key: &str) -> String {
    key.strip_prefix("host:").unwrap_or(key).to_string()
}

/// Reads every desired and every state resource (restricted to `only` when given).
pub async fn refresh(
    registry: &Registry,
    ctx: &Context,
    resources: &ResourceSet,
    state: &State,
    only: Option<&dyn Fn(&Address) -> bool>,
    parallelism: usize,
) -> Refreshed {
    refresh_observed(
        registry,
        ctx,
        resources,
        state,
        only,
        parallelism,
        Arc::new(Quiet),
    )
    .await
}

/// [`refresh`], telling `observer` what it reads as it goes.
pub async fn refresh_observed(
    registry: &Registry,
    ctx: &Context,
    resources: &ResourceSet,
    state: &State,
    only: Option<&dyn Fn(&Address) -> bool>,
    parallelism: usize,
    observer: Arc<dyn RefreshObserver>,
) -> Refreshed {
    let mut batches: BTreeMap<(String, String), Vec<ReadRequest>> = BTreeMap::new();
    let mut outcomes = BTreeMap::new();
    let wanted = |a: &Address| only.is_none_or(|f| f(a));
    for (address, r) in &resources.by_address {
        if !wanted(address) {
            continue;
        }
        let Some(connection) = resources.read_connections.get(address).cloned() else {
            continue;
        };
        let prior = state.resources.get(&address.to_string()).cloned();
        batches
            .entry((address.kind.clone(), connection.key.clone()))
            .or_default()
            .push(ReadRequest {
                address: address.clone(),
                desired: Some(r.clone()),
                prior,
                connection,
            });
    }
    for (text, entry) in &state.resources {
        let Ok(address) = Address::parse(text) else {
            continue;
        };
        if resources.by_address.contains_key(&address) || !wanted(&address) {
            continue;
        }
        batches
            .entry((entry.kind.clone(), entry.read_connection.key.clone()))
            .or_default()
            .push(ReadRequest {
                address,
                desired: None,
                prior: Some(entry.clone()),
                connection: entry.read_connection.clone(),
            });
    }
    let count = batches.len();
    let mut per_connection: BTreeMap<String, usize> = BTreeMap::new();
    for ((_, connection), requests) in &batches {
        *per_connection.entry(label(connection)).or_default() += requests.len();
    }
    observer.planned(&per_connection.into_iter().collect::<Vec<_>>());
    let sem = Arc::new(Semaphore::new(parallelism.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for ((kind_name, connection_key), requests) in batches {
        let Some(kind) = registry.get(&kind_name).cloned() else {
            for r in requests {
                outcomes.insert(
                    r.address.clone(),
                    ReadOutcome::Failed(RemoteError::new(
                        "cmdeploy",
                        format!("unknown kind `{kind_name}` in state"),
                    )),
                );
            }
            continue;
        };
        let ctx = Context {
            parallelism: parallelism.max(1),
            ..ctx.clone()
        };
        let sem = sem.clone();
        let observer = observer.clone();
        tasks.spawn(async move {
            let _permit = sem.acquire_owned().await.expect("semaphore open");
            // One connection key per batch, so one host names every request's failure.
            let host = requests
                .first()
                .map(|r| r.connection.host())
                .unwrap_or_default();
            let addresses: Vec<Address> = requests.iter().map(|r| r.address.clone()).collect();
            let connection = label(&connection_key);
            observer.batch_started(&connection, &kind_name, addresses.len());
            let results = kind.read(&ctx, requests).await;
            observer.batch_finished(&connection, &kind_name, addresses.len());
            (addresses, host, results)
        });
    }
    while let Some(joined) = tasks.join_next().await {
        let Ok((addresses, host, results)) = joined else {
            continue;
        };
        let mut by_addr: BTreeMap<Address, ReadOutcome> = results
            .into_iter()
            .map(|r| (r.address, r.outcome))
            .collect();
        for a in addresses {
            let outcome = by_addr.remove(&a).unwrap_or_else(|| {
                ReadOutcome::Failed(RemoteError::new(
                    host.clone(),
                    format!("provider bug: no read result for {a}"),
                ))
            });
            outcomes.insert(a, outcome);
        }
    }
    Refreshed {
        outcomes,
        batches: count,
    }
}
