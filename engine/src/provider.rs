//! The provider boundary: what a resource kind must do for the engine, as request → response.
//!
//! A provider is a set of [`Kind`]s. Each kind decodes its manifest tables, validates rules that
//! span resources, reads the real objects (always in batches: one call per kind and connection) and
//! applies one operation at a time. The engine checks what a kind returns after apply against what
//! the plan promised (see [`crate::apply`]).

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;

pub use crate::decode::{decode_error, decode_table};

use crate::address::Address;
use crate::diagnostics::{Diagnostic, Diagnostics, SourceFile};
use crate::extensions::Extensions;
use crate::resource::{Attributes, Connection, ResourceSet};
use crate::secret::{FingerprintKey, SecretValue};
use crate::spanned::Spanned;
use crate::state::StateEntry;

/// What the engine hands a kind to decode one resource table.
pub struct DecodeInput<'a> {
    /// Address being decoded (with its instance key for expanded resources).
    pub address: Address,
    /// The file the table is in.
    pub file: &'a Arc<SourceFile>,
    /// Byte range of the table.
    pub span: Range<usize>,
    /// The table, templated, ready to deserialize into the kind's typed struct (with
    /// [`decode_table`], which reports every mistake in it). Errors carry spans.
    pub table: toml::Spanned<toml::de::DeValue<'a>>,
    /// Project variables (`[variables]`).
    pub variables: &'a BTreeMap<String, Value>,
    /// The project directory (secret files are relative to it).
    pub project_dir: &'a std::path::Path,
}

/// The decoded parts of a resource, returned by [`Kind::decode`]. The engine adds the address,
/// location and `depends_on` references.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// Normalised desired attributes.
    pub attrs: Attributes,
    /// Byte ranges of attributes.
    pub attr_spans: BTreeMap<String, Range<usize>>,
    /// Secret attributes.
    pub secrets: BTreeMap<String, Spanned<crate::secret::SecretRef>>,
    /// Typed references.
    pub references: Vec<crate::resource::Reference>,
    /// How to reach the object for writes.
    pub connection: crate::resource::ConnectionRef,
    /// How to read it, when different.
    pub read_connection: Option<crate::resource::ConnectionRef>,
    /// Additive list attributes.
    pub additive: std::collections::BTreeSet<String>,
    /// Attributes that force replacement.
    pub force_new: std::collections::BTreeSet<String>,
    /// Natural key (see [`crate::resource::Resource::natural_key`]).
    pub natural_key: String,
    /// Provider-private data (see [`crate::resource::Resource::meta`]).
    pub meta: Attributes,
    /// In-memory-only data (see [`crate::resource::Resource::private`]).
    pub private: Attributes,
    /// Warnings found while decoding (errors are returned as `Err`).
    pub warnings: Vec<Diagnostic>,
}

impl Decoded {
    /// A decoded resource with the given attributes and connection, and nothing else yet.
    pub fn new(
        attrs: Attributes,
        connection: crate::resource::ConnectionRef,
        natural_key: impl Into<String>,
    ) -> Self {
        Decoded {
            attrs,
            attr_spans: BTreeMap::new(),
            secrets: BTreeMap::new(),
            references: Vec::new(),
            connection,
            read_connection: None,
            additive: Default::default(),
            force_new: Default::default(),
            natural_key: natural_key.into(),
            meta: Attributes::new(),
            private: Attributes::new(),
            warnings: Vec::new(),
        }
    }
}

/// What happens to the remote object when its resource leaves the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteMode {
    /// The object is removed.
    Destroy,
    /// The object stays; cmdeploy stops managing it (an installed client is not uninstalled).
    Forget,
}

/// Shared context for reads and writes.
#[derive(Clone)]
pub struct Context {
    /// Project directory (secret files are relative to it).
    pub project_dir: PathBuf,
    /// Work directory for state and local data (`.cmdeploy`).
    pub work_dir: PathBuf,
    /// The desired resources (kinds look up what they reference, e.g. a site's code).
    pub resources: Arc<ResourceSet>,
    /// Key for secret fingerprints.
    pub fingerprints: FingerprintKey,
    /// How many remote operations a kind may keep in flight when one read fans out over many
    /// hosts (direct probes): the run's `--parallelism`, set by refresh (at least 1).
    pub parallelism: usize,
    /// What the program hands the providers (how they reach hosts), by type; the engine never
    /// reads it (see [`crate::extensions`]).
    pub extensions: Extensions,
}

impl Context {
    /// The context of a project: its directories, desired resources and fingerprint key, with no
    /// extensions and a parallelism of 1 (refresh sets the run's).
    pub fn new(
        project_dir: PathBuf,
        work_dir: PathBuf,
        resources: Arc<ResourceSet>,
        fingerprints: FingerprintKey,
    ) -> Context {
        Context {
            project_dir,
            work_dir,
            resources,
            fingerprints,
            parallelism: 1,
            extensions: Extensions::new(),
        }
    }

    /// This context with `extensions`.
    #[must_use]
    pub fn with_extensions(self, extensions: Extensions) -> Context {
        Context { extensions, ..self }
    }
}

/// One resource to read: desired, previously applied, or both.
#[derive(Debug, Clone)]
pub struct ReadRequest {
    /// Address.
    pub address: Address,
    /// The desired resource, if it is in the manifest.
    pub desired: Option<Arc<crate::resource::Resource>>,
    /// The state entry, if cmdeploy has applied it before.
    pub prior: Option<StateEntry>,
    /// The connection to read through.
    pub connection: Connection,
}

/// What the remote side holds for a resource.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Observed {
    /// Remote identifier (a numeric ID, a GUID, a host name).
    pub id: String,
    /// Normalised attributes, in the same shape as the desired ones.
    pub attrs: Attributes,
    /// Facts for the plan reader that are not attributes (e.g. "push retries hourly for 7 days").
    /// A note that starts with [`WARNING`] is a warning: the plan lists it whatever the action,
    /// a no-op included.
    pub notes: Vec<String>,
    /// What the read found that only the kind needs later, in memory only (never in plans or
    /// state): e.g. the remote IDs of a boundary group's members, so that removing one needs no
    /// second read.
    #[serde(skip)]
    pub private: Attributes,
}

/// The prefix of a read note that is a plan-time warning (`"warning: "`): something the reader
/// should act on even when the resource itself is unchanged (a managed object overlapping one
/// that exists remotely but is in no manifest). Put it on [`Observed::notes`] or on the
/// notes of [`ReadOutcome::AbsentWith`]; the plan moves it to [`crate::plan::Plan::warnings`].
pub const WARNING: &str = "warning: ";

/// The outcome of reading one resource. A failure is never treated as absence.
#[derive(Debug, Clone)]
pub enum ReadOutcome {
    /// The object exists.
    Present(Observed),
    /// The object does not exist.
    Absent,
    /// The object does not exist; with facts for the plan reader about creating it (e.g. a client
    /// push target whose ADMIN$ share the site server cannot reach).
    AbsentWith(Vec<String>),
    /// It could not be read.
    Failed(RemoteError),
}

impl crate::reach::Unreachability for ReadOutcome {
    fn unreachable(&self) -> Option<(&str, &str, &crate::reach::Unreachable)> {
        match self {
            ReadOutcome::Failed(e) => Some((&e.host, &e.message, e.unreachable.as_deref()?)),
            _ => None,
        }
    }
}

impl ReadOutcome {
    /// Whether the object does not exist (with or without notes).
    pub fn is_absent(&self) -> bool {
        matches!(self, ReadOutcome::Absent | ReadOutcome::AbsentWith(_))
    }
}

/// One read result, matched to its request by address.
#[derive(Debug, Clone)]
pub struct ReadResult {
    /// Address of the request.
    pub address: Address,
    /// What was found.
    pub outcome: ReadOutcome,
}

/// What apply asks a kind to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OpAction {
    /// Create the object.
    Create,
    /// Change the listed attributes.
    Update,
    /// Delete the object.
    Delete,
}

/// One operation for [`Kind::apply`].
#[derive(Debug, Clone)]
pub struct Operation {
    /// Address.
    pub address: Address,
    /// Create, update or delete.
    pub action: OpAction,
    /// Desired resource (absent for delete).
    pub desired: Option<Arc<crate::resource::Resource>>,
    /// State entry (absent for a first create).
    pub prior: Option<StateEntry>,
    /// What refresh found (absent for create).
    pub observed: Option<Observed>,
    /// Attributes (and secret attributes) that change.
    pub changed: Vec<String>,
    /// Resolved secrets of the desired resource, by attribute.
    pub secrets: BTreeMap<String, SecretValue>,
    /// Connection to write through.
    pub connection: Connection,
    /// Remote IDs of the resources this one references, as known when the operation starts:
    /// from state (including what earlier graph levels of this apply created) or else from the
    /// refresh. A kind that describes its writes ([`Kind::describe`]) uses them instead of a
    /// lookup of its own (a boundary group adds members by `BoundaryId`).
    pub reference_ids: BTreeMap<Address, String>,
}

/// What a kind reports after a successful operation: the object as read back.
#[derive(Debug, Clone)]
pub struct Applied {
    /// Remote identifier.
    pub id: String,
    /// Attributes read back after the write.
    pub attrs: Attributes,
}

/// A failure on the remote side: the host, the operation that failed and the remote system's own
/// message.
#[derive(Debug, Clone, thiserror::Error, serde::Serialize)]
pub struct RemoteError {
    /// Host the script ran on.
    pub host: String,
    /// What failed on the host, when known, in the provider's words (the command it ran).
    pub operation: Option<String>,
    /// The remote message, verbatim.
    pub message: String,
    /// The remote error's category (an exception category, a transport stage), when known.
    pub category: Option<String>,
    /// Set when the connection itself could not be used (no Script ran on it): the plan then
    /// reports it once for the connection instead of once per resource.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unreachable: Option<Box<crate::reach::Unreachable>>,
}

impl RemoteError {
    /// The [`RemoteError::category`] of a failure to reach the host at all: its name did not
    /// resolve, the connection was refused or timed out, or the logon was refused. Apply recaps
    /// count such a host as unreachable, not failed (Ansible's distinction).
    pub const UNREACHABLE: &'static str = "unreachable";

    /// A failure to reach `host` ([`RemoteError::UNREACHABLE`]).
    pub fn unreachable(host: impl Into<String>, message: impl Into<String>) -> Self {
        RemoteError {
            category: Some(Self::UNREACHABLE.into()),
            ..RemoteError::new(host, message)
        }
    }

    /// True when the host could not be reached ([`RemoteError::UNREACHABLE`]).
    /// Also true for a connection-level failure ([`RemoteError::unreachable`] field set).
    pub fn is_unreachable(&self) -> bool {
        self.category.as_deref() == Some(Self::UNREACHABLE) || self.unreachable.is_some()
    }

    /// A remote error without an operation.
    pub fn new(host: impl Into<String>, message: impl Into<String>) -> Self {
        RemoteError {
            host: host.into(),
            operation: None,
            message: message.into(),
            category: None,
            unreachable: None,
        }
    }
}

impl fmt::Display for RemoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.host)?;
        if let Some(c) = &self.operation {
            write!(f, ": {c}")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(cat) = &self.category {
            write!(f, " ({cat})")?;
        }
        Ok(())
    }
}

/// A resource kind: `boundary`, `gpo`, `client_group`...
#[async_trait::async_trait]
pub trait Kind: Send + Sync {
    /// The kind's name, the first part of addresses and the TOML top-level key.
    fn name(&self) -> &'static str;

    /// One-line description for the schema and `--help`.
    fn description(&self) -> &'static str;

    /// JSON Schema of one resource table.
    fn schema(&self, generator: &mut schemars::SchemaGenerator) -> schemars::Schema;

    /// True when tables of this kind expand into one instance per host (`hosts` / `hosts_file`).
    fn expandable(&self) -> bool {
        false
    }

    /// What happens when a resource of this kind leaves the manifest.
    fn delete_mode(&self) -> DeleteMode {
        DeleteMode::Destroy
    }

    /// What happens to one object of this kind when its resource leaves the manifest, from the
    /// provider-private data its state entry kept (`meta`), e.g. a client target's `on_destroy`.
    /// Default: [`Kind::delete_mode`].
    fn delete_mode_of(&self, _meta: &Attributes) -> DeleteMode {
        self.delete_mode()
    }

    /// Notes for the plan reader about deleting one object whose state entry kept `meta`
    /// (what the delete runs). Default: none.
    fn delete_notes(&self, _meta: &Attributes) -> Vec<String> {
        Vec::new()
    }

    /// Decodes and normalises one table.
    ///
    /// # Errors
    /// All problems found in the table, each with a span.
    fn decode(&self, input: DecodeInput<'_>) -> Result<Decoded, Vec<Diagnostic>>;

    /// Called once references are resolved, for each resource of this kind: `expanded` maps every
    /// resource that expands into instances (`hosts`, `for_each`) to its instances' addresses
    /// (none when its data source has no item). A kind whose attributes name other resources by
    /// key (a boundary group's `boundaries = ["ad"]`) rewrites them here to name the instances.
    /// Default: nothing.
    fn instances_resolved(
        &self,
        _resource: &mut crate::resource::Resource,
        _expanded: &BTreeMap<Address, Vec<Address>>,
    ) {
    }

    /// Rules that involve several resources (overlapping boundaries, one push setting per site).
    fn validate(&self, _resources: &ResourceSet, _out: &mut Diagnostics) {}

    /// Reads every requested object. All requests share one connection: implementations send one
    /// script for the whole batch.
    async fn read(&self, ctx: &Context, requests: Vec<ReadRequest>) -> Vec<ReadResult>;

    /// Applies one operation and reads the object back. Used for the operations a kind does not
    /// [`Kind::describe`].
    ///
    /// # Errors
    /// The remote failure, naming host, operation and message.
    async fn apply(&self, ctx: &Context, op: Operation) -> Result<Applied, RemoteError>;

    /// The remote work `op` needs, writes and the read that verifies them, for the registry's
    /// [`Executor`] to run together with the other operations of the same graph
    /// level on the same connection; `None` when the kind runs `op` itself ([`Kind::apply`]).
    /// Default: `None`.
    ///
    /// # Errors
    /// When the work cannot be described (a reference without a remote ID): the operation fails
    /// without running anything.
    fn describe(
        &self,
        _ctx: &Context,
        _op: &Operation,
    ) -> Option<Result<crate::batch::Described, RemoteError>> {
        None
    }

    /// The object as read back, from the output of the work [`Kind::describe`] gave for `op`.
    ///
    /// # Errors
    /// When the output does not show the promised object (the engine then reports the failure,
    /// and the next refresh reads the truth).
    fn finish(
        &self,
        _ctx: &Context,
        op: &Operation,
        _output: crate::batch::WorkOutput,
    ) -> Result<Applied, RemoteError> {
        Err(RemoteError::new(
            op.connection.host(),
            format!("{}: the kind described work it cannot finish", op.address),
        ))
    }

    /// True when `cmdeploy import` can list objects of this kind at all (see [`Kind::list`]).
    /// Default: not importable.
    fn importable(&self) -> bool {
        false
    }

    /// True when objects of this kind are listed through `connection` (a named connection,
    /// resolved): a site server for site-side kinds, a domain controller for GPOs. A kind may ask
    /// the host (a site server's SMS Provider names its site). Default: the kind is
    /// [`Kind::importable`] through any connection.
    ///
    /// # Errors
    /// The remote failure of asking the host.
    async fn imports_from(
        &self,
        _ctx: &Context,
        _connection: &Connection,
    ) -> Result<bool, RemoteError> {
        Ok(self.importable())
    }

    /// Lists every object of this kind that `connection` holds, managed or not, as manifest
    /// tables (one batched Script). The engine filters out what is already managed, names the
    /// tables and resolves references (see [`crate::import::select`]). Each object's
    /// `natural_key` and `id` must be what [`Kind::decode`] and [`Kind::read`] give for the table
    /// it is written as, so that the next plan finds it unchanged.
    ///
    /// # Errors
    /// The remote failure, naming host, operation and message. Default: no objects.
    async fn list(
        &self,
        _ctx: &Context,
        _connection: &Connection,
    ) -> Result<Vec<crate::import::Imported>, RemoteError> {
        Ok(Vec::new())
    }

    /// The host this resource manages itself (a client computer, as the manifest names it), for
    /// the per-host apply recap; `None` (the default) for objects held by a server (a boundary
    /// on the site server, a GPO on a domain controller).
    fn target_host(&self, _desired: &crate::resource::Resource) -> Option<String> {
        None
    }

    /// The command lines a pending create, update or replace of `desired` runs on its target,
    /// for the plan reader (`observed` is what the refresh read, `None` when absent). Secrets are
    /// masked as `(sensitive)`: the lines go into plans, saved plan files and logs. Default: none.
    fn planned_commands(
        &self,
        _desired: &crate::resource::Resource,
        _observed: Option<&Observed>,
    ) -> Vec<String> {
        Vec::new()
    }

    /// Notes for the plan reader about a pending change (manual steps, retries, side effects).
    fn plan_notes(
        &self,
        _desired: Option<&crate::resource::Resource>,
        _observed: Option<&Observed>,
    ) -> Vec<String> {
        Vec::new()
    }
}

/// Runs batches of described work on a connection.
#[async_trait::async_trait]
pub trait Executor: Send + Sync {
    /// Runs `work` (of operations with the same `batch_key`, in order) as one unit on
    /// `connection`, and returns exactly one outcome per item, in the same order. A failure of
    /// one item never stops the others; a failure of the unit as a whole (the host could not be
    /// reached) is every item's outcome.
    async fn execute(
        &self,
        ctx: &Context,
        connection: &Connection,
        batch_key: &str,
        work: Vec<crate::batch::Work>,
    ) -> Vec<Result<crate::batch::WorkOutput, RemoteError>>;
}

/// Serializes a typed value into normalised attributes (a JSON object without nulls).
pub fn to_attributes<T: serde::Serialize>(value: &T) -> Attributes {
    match serde_json::to_value(value) {
        Ok(Value::Object(map)) => map.into_iter().filter(|(_, v)| !v.is_null()).collect(),
        _ => Attributes::new(),
    }
}
