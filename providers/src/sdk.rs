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

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use cmdeploy_engine::batch::{Described, WorkOutput};
use cmdeploy_engine::diagnostics::{Diagnostic, Diagnostics, SourceFile};
use cmdeploy_engine::import::Imported;
use cmdeploy_engine::provider::{
    to_attributes, Applied, Context, DecodeInput, Decoded, DeleteMode, Kind, Observed, OpAction,
    Operation, ReadOutcome, ReadRequest, ReadResult, RemoteError,
};
use cmdeploy_engine::resource::{
    Attributes, Connection, ConnectionRef, Reference, Resource, ResourceSet,
};
use cmdeploy_engine::secret::SecretRef;
use cmdeploy_engine::spanned::Spanned;

use crate::batch::ScriptWork;
use crate::ccmsetup_spans::ValueSpans;
use crate::kit;
use crate::powershell::{Call, Script, ScriptOutput, Target};

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

/// A kind whose object is a computer reached over its own connection (a client host, a
/// reference computer): what removing it means and what the plan shows for it (see
/// [`Kind::delete_mode_of`], [`Kind::target_host`], [`Kind::planned_commands`]).
pub trait OnHosts: Send + Sync {
    /// What happens when a resource whose state entry kept `meta` leaves the manifest (an empty
    /// `meta` asks for the kind's default).
    fn delete_mode_of(&self, meta: &Attributes) -> DeleteMode;

    /// Notes for the plan reader about deleting one such object. Default: none.
    fn delete_notes(&self, _meta: &Attributes) -> Vec<String> {
        Vec::new()
    }

    /// The host the object is (for the per-host apply recap).
    fn target_host(&self, desired: &Resource) -> Option<String>;

    /// The command lines a pending change runs on the host, secrets masked. Default: none.
    fn planned_commands(&self, _desired: &Resource, _observed: Option<&Observed>) -> Vec<String> {
        Vec::new()
    }
}

/// A kind whose change cannot be one batch of described calls: a later call takes an earlier
/// one's output as its input (`New-CMPackage`'s PackageID, where names are not unique), or the
/// host must be waited on between calls. It applies each change in its own Scripts; the engine
/// runs such an operation alone, never in a batch.
#[async_trait::async_trait]
pub trait ApplyInSteps<M: Send + Sync>: Send + Sync {
    /// Applies `change` and returns the object's ID and, unless it was deleted, its model as
    /// read back.
    ///
    /// # Errors
    /// The first remote failure (host, operation, Windows' message), or a read-back that does
    /// not show the object.
    async fn apply(
        &self,
        ctx: &Context,
        change: &Change<'_, M>,
    ) -> Result<(String, Option<M>), RemoteError>;
}

/// Reads the object of `op` again with the kind's own refresh read, after [`ApplyInSteps`]
/// changed it: its ID and model. `what` names it in the error.
///
/// # Errors
/// The read failed, the object is not there, or what was read does not fit the model.
pub async fn read_again<K: TypedKind>(
    kind: &K,
    ctx: &Context,
    op: &Operation,
    what: &str,
) -> Result<(String, K::Model), RemoteError> {
    let request = ReadRequest {
        address: op.address.clone(),
        desired: op.desired.clone(),
        prior: op.prior.clone(),
        connection: op.connection.clone(),
    };
    let host = || op.connection.host();
    let o = match kind.read(ctx, vec![request]).await.pop().map(|r| r.outcome) {
        Some(ReadOutcome::Present(o)) => o,
        Some(ReadOutcome::Failed(e)) => return Err(e),
        _ => {
            return Err(RemoteError::new(
                host(),
                format!("{what} is not found after apply"),
            ))
        }
    };
    let m = model(&o.attrs).ok_or_else(|| {
        RemoteError::new(
            host(),
            format!(
                "{what}: what was read back does not fit the {} model",
                K::KIND
            ),
        )
    })?;
    Ok((o.id, m))
}

fn in_steps_only(op: &Operation) -> RemoteError {
    RemoteError::new(
        op.connection.host(),
        format!(
            "{}: the kind applies in steps and describes no calls",
            op.address
        ),
    )
}

/// Notes for the plan reader about a pending change (see [`Kind::plan_notes`]).
pub trait PlanNotes: Send + Sync {
    /// The notes for `desired` (absent for a delete) given what the refresh found (absent for a
    /// create).
    fn notes(&self, desired: Option<&Resource>, observed: Option<&Observed>) -> Vec<String>;
}

/// Rules that involve several resources (overlapping boundaries, duplicate names).
pub trait CrossValidate: Send + Sync {
    /// Adds a diagnostic per problem.
    fn validate(&self, resources: &ResourceSet, out: &mut Diagnostics);
}

/// Listing existing objects as manifest tables (see [`Kind::list`]).
#[async_trait::async_trait]
pub trait Import: Send + Sync {
    /// True when objects are listed through `connection`.
    ///
    /// # Errors
    /// The remote failure of asking the host.
    async fn imports_from(
        &self,
        ctx: &Context,
        connection: &Connection,
    ) -> Result<bool, RemoteError>;

    /// Every object `connection` holds, as manifest tables.
    ///
    /// # Errors
    /// The remote failure.
    async fn list(
        &self,
        ctx: &Context,
        connection: &Connection,
    ) -> Result<Vec<Imported>, RemoteError>;
}

/// The values of one request's read calls, by position among them: from a refresh Script's
/// output (a failed call gives its error) or from the end of an apply's values, where a change
/// puts the same reads to verify its writes.
pub struct ReadValues<'a> {
    connection: &'a Connection,
    source: ReadSource<'a>,
}

enum ReadSource<'a> {
    Output {
        script: &'a Script,
        out: &'a ScriptOutput,
        start: usize,
    },
    Values(&'a [Value]),
}

impl<'a> ReadValues<'a> {
    /// The values of a Script's calls from call `start` on (a listing that reads several objects).
    pub fn output(
        connection: &'a Connection,
        script: &'a Script,
        out: &'a ScriptOutput,
        start: usize,
    ) -> Self {
        ReadValues {
            connection,
            source: ReadSource::Output { script, out, start },
        }
    }

    /// The last `n` of an apply's `values` (the reads a change appended to its writes).
    pub fn tail(connection: &'a Connection, values: &'a [Value], n: usize) -> Self {
        ReadValues {
            connection,
            source: ReadSource::Values(&values[values.len().saturating_sub(n)..]),
        }
    }

    /// The value of read call `i`.
    ///
    /// # Errors
    /// When the call failed or did not run (naming host, cmdlet and message).
    pub fn get(&self, i: usize) -> Result<&'a Value, RemoteError> {
        match &self.source {
            ReadSource::Output { script, out, start } => {
                kit::value_of(self.connection, script, out, start + i)
            }
            ReadSource::Values(v) => v
                .get(i)
                .ok_or_else(|| RemoteError::new(self.connection.host(), "a read call did not run")),
        }
    }

    /// The connection the reads ran on.
    pub fn connection(&self) -> &'a Connection {
        self.connection
    }
}

/// A batched read on one site server through described read calls: `reads` gives a request's
/// calls (from its site code) and what `observe` needs to find their values; `observe` turns
/// them into `Some(Observed)` or `None` (absent). The same two functions verify an apply: the
/// change appends `reads` to its writes and reads back from [`ReadValues::tail`].
pub async fn read_by_site<T>(
    ctx: &Context,
    requests: Vec<ReadRequest>,
    reads: impl Fn(&str, &ReadRequest) -> (Vec<Call>, T),
    observe: impl Fn(&ReadValues<'_>, &T, &ReadRequest) -> Result<Option<Observed>, RemoteError>,
) -> Vec<ReadResult> {
    kit::read_by_site(
        ctx,
        requests,
        |script, code, r| {
            let (calls, layout) = reads(code, r);
            let start = script.calls.len();
            script.calls.extend(calls);
            (start, layout)
        },
        |connection, script, out, (start, layout), r| {
            let values = ReadValues {
                connection,
                source: ReadSource::Output {
                    script,
                    out,
                    start: *start,
                },
            };
            observe(&values, layout, r)
        },
    )
    .await
}

/// The ID and model of an observed object (`None` when its attributes do not fit the model).
pub fn observed_model<M: DeserializeOwned>(o: Observed) -> Option<(String, M)> {
    Some((o.id, model(&o.attrs)?))
}

/// A present object with its model as attributes.
pub fn observed<M: Serialize>(id: impl Into<String>, model: &M) -> Observed {
    Observed {
        id: id.into(),
        attrs: to_attributes(model),
        notes: Vec::new(),
        private: Attributes::new(),
    }
}

/// A model from attributes (a resource's, a state entry's or an observed object's), or `None` when
/// they do not fit it.
pub fn model<M: DeserializeOwned>(attrs: &Attributes) -> Option<M> {
    serde_json::from_value(Value::Object(attrs.clone())).ok()
}

/// The desired resources of `kind` with their models, for rules over several resources.
pub fn models<'a, M: DeserializeOwned + 'a>(
    resources: &'a ResourceSet,
    kind: &'a str,
) -> impl Iterator<Item = (&'a Arc<Resource>, M)> + 'a {
    resources
        .of_kind(kind)
        .filter_map(|r| Some((r, model::<M>(&r.attrs)?)))
}

/// The engine's [`Kind`] for a [`TypedKind`].
pub struct Typed<K>(pub K);

impl<K: TypedKind> Typed<K> {
    fn change<'a>(&self, op: &'a Operation) -> Result<Change<'a, K::Model>, RemoteError> {
        let model = |attrs: &Attributes| {
            serde_json::from_value::<K::Model>(Value::Object(attrs.clone())).map_err(|e| {
                RemoteError::new(
                    op.connection.host(),
                    format!(
                        "{}: attributes do not fit the {} model: {e}",
                        op.address,
                        K::KIND
                    ),
                )
            })
        };
        Ok(Change {
            op,
            desired: op.desired.as_ref().map(|d| model(&d.attrs)).transpose()?,
            observed: op.observed.as_ref().map(|o| model(&o.attrs)).transpose()?,
        })
    }
}

#[async_trait::async_trait]
impl<K: TypedKind> Kind for Typed<K> {
    fn name(&self) -> &'static str {
        K::KIND
    }

    fn description(&self) -> &'static str {
        K::DESCRIPTION
    }

    fn expandable(&self) -> bool {
        K::EXPANDABLE
    }

    fn schema(&self, generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        generator.subschema_for::<K::Spec>()
    }

    fn decode(&self, input: DecodeInput<'_>) -> Result<Decoded, Vec<Diagnostic>> {
        let cx = DecodeCx {
            file: input.file.clone(),
            key: input.address.name.clone(),
            instance: input.address.key.clone(),
            span: input.span.clone(),
            values: ValueSpans::within(&input.table, K::VALUE_PARENT, K::VALUE_TABLES),
        };
        let table_spans = top_level_spans(&input.table);
        let spec: K::Spec = kit::decode_typed(input, K::KIND)?;
        let declared = self.0.decode(spec, &cx)?;
        let attrs = if K::NONE_REMOVES {
            match serde_json::to_value(&declared.model) {
                Ok(Value::Object(all)) => all,
                _ => Attributes::new(),
            }
        } else {
            to_attributes(&declared.model)
        };
        let mut d = Decoded::new(attrs, declared.connection, declared.natural_key);
        d.attr_spans = table_spans;
        d.attr_spans.extend(declared.spans);
        d.references = declared.references;
        d.read_connection = declared.read_connection;
        d.meta = declared.meta;
        d.private = declared.private;
        d.additive = declared.additive;
        if declared.additive_lists {
            let lists = d.attrs.iter().filter(|(_, v)| v.is_array());
            d.additive.extend(lists.map(|(k, _)| k.clone()));
        }
        d.force_new = declared.force_new;
        d.secrets = declared.secrets;
        d.warnings = declared.warnings;
        Ok(d)
    }

    fn validate(&self, resources: &ResourceSet, out: &mut Diagnostics) {
        if let Some(v) = self.0.cross_validate() {
            v.validate(resources, out);
        }
    }

    fn instances_resolved(
        &self,
        resource: &mut cmdeploy_engine::resource::Resource,
        expanded: &std::collections::BTreeMap<
            cmdeploy_engine::Address,
            Vec<cmdeploy_engine::Address>,
        >,
    ) {
        self.0.instances_resolved(resource, expanded);
    }

    async fn read(&self, ctx: &Context, requests: Vec<ReadRequest>) -> Vec<ReadResult> {
        self.0.read(ctx, requests).await
    }

    async fn apply(&self, ctx: &Context, op: Operation) -> Result<Applied, RemoteError> {
        let Some(steps) = self.0.in_steps() else {
            return crate::batch::apply_alone(self, ctx, op).await;
        };
        let change = self.change(&op)?;
        let (id, model) = steps.apply(ctx, &change).await?;
        Ok(Applied {
            id,
            attrs: model.as_ref().map(to_attributes).unwrap_or_default(),
        })
    }

    fn describe(&self, ctx: &Context, op: &Operation) -> Option<Result<Described, RemoteError>> {
        if self.0.in_steps().is_some() {
            return None;
        }
        let described = self.change(op).and_then(|change| {
            let calls = self.0.calls(ctx, &change)?;
            Ok(ScriptWork::described(self.0.target(ctx, op), calls))
        });
        Some(described)
    }

    fn finish(
        &self,
        ctx: &Context,
        op: &Operation,
        output: WorkOutput,
    ) -> Result<Applied, RemoteError> {
        let values = crate::batch::values_of(&op.connection, output)?;
        let change = self.change(op)?;
        if op.action == OpAction::Delete {
            return Ok(Applied {
                id: change.id(),
                attrs: Attributes::new(),
            });
        }
        let (id, model) = self.0.read_back(ctx, &change, &values)?;
        Ok(Applied {
            id,
            attrs: to_attributes(&model),
        })
    }

    fn delete_mode(&self) -> DeleteMode {
        self.delete_mode_of(&Attributes::new())
    }

    fn delete_mode_of(&self, meta: &Attributes) -> DeleteMode {
        self.0
            .on_hosts()
            .map_or(DeleteMode::Destroy, |h| h.delete_mode_of(meta))
    }

    fn delete_notes(&self, meta: &Attributes) -> Vec<String> {
        self.0
            .on_hosts()
            .map(|h| h.delete_notes(meta))
            .unwrap_or_default()
    }

    fn target_host(&self, desired: &Resource) -> Option<String> {
        self.0.on_hosts().and_then(|h| h.target_host(desired))
    }

    fn planned_commands(&self, desired: &Resource, observed: Option<&Observed>) -> Vec<String> {
        self.0
            .on_hosts()
            .map(|h| h.planned_commands(desired, observed))
            .unwrap_or_default()
    }

    fn plan_notes(&self, desired: Option<&Resource>, observed: Option<&Observed>) -> Vec<String> {
        self.0
            .plan_notes()
            .map(|n| n.notes(desired, observed))
            .unwrap_or_default()
    }

    fn importable(&self) -> bool {
        self.0.import().is_some()
    }

    async fn imports_from(
        &self,
        ctx: &Context,
        connection: &Connection,
    ) -> Result<bool, RemoteError> {
        match self.0.import() {
            Some(i) => i.imports_from(ctx, connection).await,
            None => Ok(false),
        }
    }

    async fn list(
        &self,
        ctx: &Context,
        connection: &Connection,
    ) -> Result<Vec<Imported>, RemoteError> {
        match self.0.import() {
            Some(i) => i.list(ctx, connection).await,
            None => Ok(Vec::new()),
        }
    }
}

/// The span of each top-level value of a table, by key.
fn top_level_spans(table: &toml::Spanned<toml::de::DeValue<'_>>) -> BTreeMap<String, Range<usize>> {
    match table.get_ref() {
        toml::de::DeValue::Table(fields) => fields
            .iter()
            .map(|(k, v)| (k.get_ref().to_string(), v.span()))
            .collect(),
        _ => BTreeMap::new(),
    }
}
