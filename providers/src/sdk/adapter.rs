//! [`Typed`]: the engine's [`Kind`] for a [`TypedKind`]: attributes from the model, attribute
//! spans from the table, the batching hooks and the read-back, and the capabilities passed on.

use std::collections::BTreeMap;
use std::ops::Range;

use serde_json::Value;

use cmdeploy_engine::batch::{Described, WorkOutput};
use cmdeploy_engine::diagnostics::{Diagnostic, Diagnostics};
use cmdeploy_engine::import::Imported;
use cmdeploy_engine::provider::{
    to_attributes, Applied, Context, DecodeInput, Decoded, DeleteMode, Kind, Observed, OpAction,
    Operation, ReadRequest, ReadResult, RemoteError,
};
use cmdeploy_engine::resource::{Attributes, Connection, Resource, ResourceSet};

use crate::batch::ScriptWork;
use crate::ccmsetup_spans::ValueSpans;
use crate::kit;

use super::{Change, DecodeCx, TypedKind};

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
