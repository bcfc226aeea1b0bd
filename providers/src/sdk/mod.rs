//! The typed provider SDK: a kind declares its manifest table ([`TypedKind::Spec`]) and its
//! normalised attributes ([`TypedKind::Model`]) as Rust types, and works on them in decode, read,
//! describe and read-back; the adapter [`Typed`] turns them into the engine's attribute form and
//! back, collects attribute spans from the table, and owns the read-back. A kind describes its
//! calls and never runs a write itself: the engine batches them ([`crate::batch`]).
//!
//! Optional capabilities are separate traits the kind hands out, as terraform-plugin-framework's
//! `ResourceWith*` interfaces: [`CrossValidate`] (rules over several resources), [`Import`]
//! (listing existing objects) and [`PlanNotes`] (notes for the plan reader). Adding an attribute is adding a field to `Model` (and reading and
//! writing it); its name is spelled once.
//!
//! Files: this one holds what a kind writes (`TypedKind`, `DecodeCx`, `Declared`, `Change`);
//! [`capabilities`] the optional traits, [`read`] the batched reads and model conversions, and
//! `adapter` the engine's `Kind` for a typed kind ([`Typed`]).

mod adapter;
pub mod capabilities;
pub mod read;

pub use adapter::Typed;
use capabilities::in_steps_only;
pub use capabilities::{read_again, ApplyInSteps, CrossValidate, Import, OnHosts, PlanNotes};
#[cfg(doc)]
use cmdeploy_engine::provider::{Kind, Observed};
pub use read::{model, models, observed, observed_model, read_by_site, ReadValues};

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use cmdeploy_engine::diagnostics::{Diagnostic, SourceFile};
use cmdeploy_engine::provider::{Context, Operation, ReadRequest, ReadResult, RemoteError};
use cmdeploy_engine::resource::{Attributes, ConnectionRef, Reference};
use cmdeploy_engine::secret::SecretRef;
use cmdeploy_engine::spanned::Spanned;

use crate::ccmsetup_spans::ValueSpans;
use crate::kit;
use crate::powershell::{Call, Target};

/// What [`TypedKind::decode`] sees besides the typed table.
pub struct DecodeCx {
    /// The file the table is in (for diagnostics at a span).
    pub file: Arc<SourceFile>,
    /// The table's key (`hq` in `[boundary_group.hq]`), the default display name of most kinds.
    pub key: String,
    /// The instance key of a table expanded into instances (`ws01` in
    /// `client_group.lab["ws01"]`, see [`TypedKind::EXPANDABLE`]).
    pub instance: Option<String>,
    /// The table's span (for diagnostics about the table as a whole).
    pub span: Range<usize>,
    /// Spans of the values of the CCMSetup sub-tables named by [`TypedKind::VALUE_TABLES`].
    pub values: ValueSpans,
}

/// A decoded resource: its model and how the engine handles it.
pub struct Declared<M> {
    /// Desired attributes.
    pub model: M,
    /// How to reach the object.
    pub connection: ConnectionRef,
    /// How to read it, when different (a client read through its site's device records).
    pub read_connection: Option<ConnectionRef>,
    /// The object's natural key in the remote system.
    pub natural_key: String,
    /// References to other resources (graph edges).
    pub references: Vec<Reference>,
    /// Provider-private data kept with the resource and its state entry (never diffed).
    pub meta: Attributes,
    /// In-memory-only data: never in plans or state (a command line with its credentials).
    pub private: Attributes,
    /// List attributes under `additive` ownership.
    pub additive: BTreeSet<String>,
    /// Every list attribute is under `additive` ownership (`members = "additive"`).
    pub additive_lists: bool,
    /// Spans the kind sets itself (a list's first item); the others come from the table.
    pub spans: BTreeMap<String, Range<usize>>,
    /// Attributes whose change replaces the object (the object's identity in ConfigMgr).
    pub force_new: BTreeSet<String>,
    /// Secret attributes, by name: never in the model, only their references (the engine
    /// resolves them for apply and keeps a keyed fingerprint in state).
    pub secrets: BTreeMap<String, Spanned<SecretRef>>,
    /// Warnings found while decoding.
    pub warnings: Vec<Diagnostic>,
}

impl<M> Declared<M> {
    /// A declared resource with nothing else yet.
    pub fn new(model: M, connection: ConnectionRef, natural_key: impl Into<String>) -> Self {
        Declared {
            model,
            connection,
            read_connection: None,
            natural_key: natural_key.into(),
            references: Vec::new(),
            meta: Attributes::new(),
            private: Attributes::new(),
            additive: BTreeSet::new(),
            additive_lists: false,
            spans: BTreeMap::new(),
            force_new: BTreeSet::new(),
            secrets: BTreeMap::new(),
            warnings: Vec::new(),
        }
    }
}

/// One operation, typed: what the manifest wants and what the refresh found.
pub struct Change<'a, M> {
    /// The engine's operation (action, prior state entry, connection, reference IDs).
    pub op: &'a Operation,
    /// The desired model (absent for a delete).
    pub desired: Option<M>,
    /// The observed model (absent for a create).
    pub observed: Option<M>,
}

impl<M> Change<'_, M> {
    /// The refresh's request for the same object, for a kind whose verifying reads are its
    /// refresh reads ([`read_by_site`]).
    pub fn request(&self) -> ReadRequest {
        ReadRequest {
            address: self.op.address.clone(),
            desired: self.op.desired.clone(),
            prior: self.op.prior.clone(),
            connection: self.op.connection.clone(),
        }
    }

    /// The remote ID of the object an update or delete changes: as the refresh found it, else
    /// as state recorded it (empty for a create).
    pub fn id(&self) -> String {
        self.op
            .observed
            .as_ref()
            .map(|o| o.id.clone())
            .or_else(|| self.op.prior.as_ref().map(|p| p.id.clone()))
            .unwrap_or_default()
    }

    /// What the refresh read that only the kind needs ([`Observed::private`]).
    pub fn private(&self, key: &str) -> Option<&Value> {
        self.op.observed.as_ref()?.private.get(key)
    }
}

/// A resource kind written against typed Spec and Model (see the module docs).
#[async_trait::async_trait]
pub trait TypedKind: Send + Sync + Sized + 'static {
    /// The manifest table, `[KIND.NAME]`, as serde decodes it (with its JSON Schema).
    type Spec: DeserializeOwned + schemars::JsonSchema;
    /// The normalised attributes: the desired side and the observed side share this shape, and
    /// the plan compares them field by field (serialised; `None` fields are left out).
    type Model: Serialize + DeserializeOwned + Clone + Send + Sync;

    /// The kind's name: the TOML top-level key and the first part of addresses.
    const KIND: &'static str;
    /// One line for the schema and `--help`.
    const DESCRIPTION: &'static str;
    /// Sub-tables holding CCMSetup properties and parameters (`["properties", "ccmsetup"]`),
    /// whose value spans [`DecodeCx::values`] records. Default: none.
    const VALUE_TABLES: &'static [&'static str] = &[];
    /// The path of the table holding [`TypedKind::VALUE_TABLES`] when they are not the kind's own
    /// sub-tables (`["client_deployment"]` for a `gpo`'s `client_deployment.properties`).
    /// Default: the kind's table.
    const VALUE_PARENT: &'static [&'static str] = &[];
    /// What a `None` field of the desired Model means. `false` (default): the manifest leaves the
    /// attribute unmanaged, whatever the object holds. `true`: the object must not hold it (a
    /// `gpo` policy the manifest leaves out is removed from the GPO), so the attribute stays in
    /// the desired attributes as `null` and the plan shows what the refresh found being removed.
    const NONE_REMOVES: bool = false;
    /// True when a table expands into one instance per host (`hosts` / `hosts_file`, see
    /// [`Kind::expandable`]). Default: false.
    const EXPANDABLE: bool = false;

    /// Checks and normalises one table.
    ///
    /// # Errors
    /// Every problem in it, each at its span.
    fn decode(
        &self,
        spec: Self::Spec,
        cx: &DecodeCx,
    ) -> Result<Declared<Self::Model>, Vec<Diagnostic>>;

    /// Reads every requested object in one Script (see [`Kind::read`]); build each present one
    /// with [`observed`].
    async fn read(&self, ctx: &Context, requests: Vec<ReadRequest>) -> Vec<ReadResult>;

    /// Where a change's calls run.
    fn target(&self, ctx: &Context, op: &Operation) -> Target {
        Target::SiteServer {
            site_code: kit::site_code(ctx, &kit::meta_of(op.desired.as_ref(), op.prior.as_ref())),
        }
    }

    /// The calls a change needs: the writes, then (unless it deletes) the reads that verify
    /// them, all run in one batched Script. A kind that [`TypedKind::in_steps`] never describes
    /// calls (the default says so).
    ///
    /// # Errors
    /// When the change cannot be expressed (a reference without a remote ID): nothing runs.
    fn calls(
        &self,
        _ctx: &Context,
        change: &Change<'_, Self::Model>,
    ) -> Result<Vec<Call>, RemoteError> {
        Err(in_steps_only(change.op))
    }

    /// The object's ID and model as read back, from the values of [`TypedKind::calls`] (in the
    /// same order). Not called for deletes.
    ///
    /// # Errors
    /// When the values do not show the object.
    fn read_back(
        &self,
        _ctx: &Context,
        change: &Change<'_, Self::Model>,
        _values: &[Value],
    ) -> Result<(String, Self::Model), RemoteError> {
        Err(in_steps_only(change.op))
    }

    /// How the kind applies a change itself, when its calls cannot be one batch (see
    /// [`ApplyInSteps`]). Default: `None`, the change is described with [`TypedKind::calls`].
    fn in_steps(&self) -> Option<&dyn ApplyInSteps<Self::Model>> {
        None
    }

    /// Rules over several resources, when the kind has any.
    fn cross_validate(&self) -> Option<&dyn CrossValidate> {
        None
    }

    /// See [`Kind::instances_resolved`]: rewrites attributes that name a resource expanded into
    /// instances (a `for_each` table) to name its instances. Default: nothing.
    fn instances_resolved(
        &self,
        _resource: &mut cmdeploy_engine::resource::Resource,
        _expanded: &std::collections::BTreeMap<
            cmdeploy_engine::Address,
            Vec<cmdeploy_engine::Address>,
        >,
    ) {
    }

    /// Listing of existing objects for `cmdeploy import`, when the kind is importable.
    fn import(&self) -> Option<&dyn Import> {
        None
    }

    /// Notes for the plan reader, when the kind has any.
    fn plan_notes(&self) -> Option<&dyn PlanNotes> {
        None
    }

    /// What a kind whose objects are computers adds to the plan, when it is one.
    fn on_hosts(&self) -> Option<&dyn OnHosts> {
        None
    }
}
