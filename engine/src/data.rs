//! Data sources: objects read from the estate that resource tables expand over, as Terraform's
//! `data` blocks and `for_each`.
//!
//! A manifest declares a source as `[data.KIND.NAME]` (its kind, a provider's [`DataKind`], says
//! what it reads and which filters it takes) and a resource table expands over the source's items
//! with `for_each = "data.KIND.NAME"`: one instance per item, addressed `kind.name["item key"]`,
//! its strings templated with `{{ each.key }}` and the item's fields (`{{ each.site }}`).
//!
//! Loading stays offline: [`crate::manifest::load`] expands such a table over the kind's
//! [`DataKind::sample`] items only to check its templates and fields, and declares no instance.
//! Plan, apply and drift [`read`] every source first, then load again with the items
//! ([`crate::manifest::load_with`]), so an item that appears is a planned create and one that
//! disappears a planned delete (it is in state and no longer declared). A source that cannot be
//! read stops the run: a failed read is never "no items", which would plan the deletion of every
//! instance.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::diagnostics::{Diagnostic, Loc};
use crate::provider::{Context, DecodeInput, RemoteError};
use crate::resource::{Connection, ConnectionRef};

/// The top-level table that declares data sources (`[data.KIND.NAME]`).
pub const TABLE: &str = "data";

/// The meta-field of a resource table that expands it over a data source's items.
pub const FOR_EACH: &str = "for_each";

/// One object a data source read: its key (unique in the source, the instance key of the
/// resources that expand over it) and its fields, visible to templates as `each.<field>`
/// (`each.key` is the key).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Item {
    /// The instance key (`10.1.0.0/16`).
    pub key: String,
    /// Fields (`name`, `site`, `location`...), JSON values.
    pub fields: Map<String, Value>,
}

impl Item {
    /// The template context value `each`: the fields with `key` added.
    pub fn each(&self) -> Value {
        let mut m = self.fields.clone();
        m.insert("key".into(), Value::String(self.key.clone()));
        Value::Object(m)
    }
}

/// What a data kind decoded from one `[data.KIND.NAME]` table.
#[derive(Debug, Clone)]
pub struct DecodedSource {
    /// The kind's settings (filters), normalised; handed back to [`DataKind::read`].
    pub settings: Map<String, Value>,
    /// The connection to read through.
    pub connection: ConnectionRef,
}

/// A declared data source, resolved.
#[derive(Debug, Clone)]
pub struct DataSource {
    /// The data kind (`ad_subnets`).
    pub kind: String,
    /// The table key (`corp`).
    pub name: String,
    /// Where the table is.
    pub loc: Loc,
    /// What [`DataKind::decode`] returned.
    pub settings: Map<String, Value>,
    /// The resolved connection.
    pub connection: Connection,
}

impl DataSource {
    /// The reference text resources use: `data.KIND.NAME`.
    pub fn reference(&self) -> String {
        reference(&self.kind, &self.name)
    }
}

/// `data.KIND.NAME`.
pub fn reference(kind: &str, name: &str) -> String {
    format!("{TABLE}.{kind}.{name}")
}

/// A kind of data source, registered by a provider: `ad_subnets`, `ad_sites`...
#[async_trait::async_trait]
pub trait DataKind: Send + Sync {
    /// The kind's name, the second part of `data.KIND.NAME`.
    fn name(&self) -> &'static str;

    /// One-line description for the schema.
    fn description(&self) -> &'static str;

    /// JSON Schema of one `[data.KIND.NAME]` table.
    fn schema(&self, generator: &mut schemars::SchemaGenerator) -> schemars::Schema;

    /// Decodes one table (its `address` is `KIND.NAME`).
    ///
    /// # Errors
    /// Every problem in the table, each with a span.
    fn decode(&self, input: DecodeInput<'_>) -> Result<DecodedSource, Vec<Diagnostic>>;

    /// Items shaped as [`DataKind::read`] returns them, with made-up values: what `validate`
    /// expands a `for_each` table over to check it offline. At least one.
    fn sample(&self) -> Vec<Item>;

    /// Reads the source's items through its connection (one Script), filtered by its settings,
    /// with unique keys.
    ///
    /// # Errors
    /// The remote failure, naming host, cmdlet and message: the run stops, no item is assumed.
    async fn read(&self, ctx: &Context, source: &DataSource) -> Result<Vec<Item>, RemoteError>;
}

/// The items of every data source, by [`DataSource::reference`].
pub type DataItems = BTreeMap<String, Vec<Item>>;

/// A source that could not be read.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{reference} could not be read: {error}")]
pub struct ReadFailure {
    /// `data.KIND.NAME`.
    pub reference: String,
    /// Why.
    pub error: RemoteError,
}

/// Reads every source, in parallel.
///
/// # Errors
/// Every source that could not be read (the others' items are dropped: nothing is planned from
/// a partial read).
pub async fn read(
    kinds: &BTreeMap<&'static str, Arc<dyn DataKind>>,
    ctx: &Context,
    sources: &[DataSource],
) -> Result<DataItems, Vec<ReadFailure>> {
    let mut tasks = tokio::task::JoinSet::new();
    for source in sources {
        let Some(kind) = kinds.get(source.kind.as_str()).cloned() else {
            continue;
        };
        let ctx = ctx.clone();
        let source = source.clone();
        tasks.spawn(async move {
            let items = kind.read(&ctx, &source).await;
            (source, items)
        });
    }
    let mut items = DataItems::new();
    let mut failures = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((source, Ok(read))) => {
                items.insert(source.reference(), read);
            }
            Ok((source, Err(error))) => failures.push(ReadFailure {
                reference: source.reference(),
                error,
            }),
            Err(e) => failures.push(ReadFailure {
                reference: "data".into(),
                error: RemoteError::new("cmdeploy", format!("a data source read panicked: {e}")),
            }),
        }
    }
    if failures.is_empty() {
        Ok(items)
    } else {
        failures.sort_by(|a, b| a.reference.cmp(&b.reference));
        Err(failures)
    }
}
