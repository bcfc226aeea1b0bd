//! The JSON Schema of a whole project directory's merged manifest, generated from the kinds'
//! typed structs (schemars). `cmdeploy schema` prints it; `schemas/cmdeploy.schema.json` is it.

use schemars::{json_schema, Schema, SchemaGenerator};
use serde_json::{Map, Value};

use super::config::{MovedSection, ProjectSection, StateSection};
use crate::registry::Registry;

/// The schema's `$id`: where editors and validators know it by (the file in the repository).
pub const SCHEMA_ID: &str =
    "https://raw.githubusercontent.com/cmdeploy/cmdeploy/main/schemas/cmdeploy.schema.json";

/// Builds the schema.
pub fn project_schema(registry: &Registry) -> Value {
    let mut generator = SchemaGenerator::default();
    let mut properties = Map::new();
    properties.insert(
        "project".into(),
        generator.subschema_for::<ProjectSection>().to_value(),
    );
    properties.insert(
        "state".into(),
        generator.subschema_for::<StateSection>().to_value(),
    );
    let connection: Schema = match registry.connection_schema() {
        Some(f) => f(&mut generator),
        None => json_schema!({"type": "object"}),
    };
    properties.insert(
        "connection".into(),
        serde_json::json!({
            "description": "Named connections: how cmdeploy reaches site servers, domain controllers and hosts.",
            "type": "object",
            "additionalProperties": connection.to_value(),
        }),
    );
    properties.insert(
        "moved".into(),
        serde_json::json!({
            "description": "[[moved]] tables: addresses renamed in state before planning (Terraform's moved blocks), so a rename neither destroys nor creates.",
            "type": "array",
            "items": generator.subschema_for::<MovedSection>().to_value(),
        }),
    );
    properties.insert(
        "variables".into(),
        serde_json::json!({"description": "Values for templates, as `{{ var.NAME }}`.", "type": "object"}),
    );
    // The meta fields go into each kind's own definition (its properties end in
    // `additionalProperties: false`), after the definitions are collected below.
    let mut meta = Vec::new();
    for kind in registry.kinds() {
        let mut schema = kind.schema(&mut generator).to_value();
        match schema.get_mut("properties").and_then(Value::as_object_mut) {
            Some(inline) => add_meta_fields(inline, kind.expandable()),
            None => meta.push((schema.clone(), kind.expandable())),
        }
        properties.insert(
            kind.name().into(),
            serde_json::json!({
                "description": kind.description(),
                "type": "object",
                "additionalProperties": schema,
            }),
        );
    }
    let mut sources = Map::new();
    for (name, kind) in registry.data_kinds() {
        sources.insert(
            (*name).into(),
            serde_json::json!({
                "description": kind.description(),
                "type": "object",
                "additionalProperties": kind.schema(&mut generator).to_value(),
            }),
        );
    }
    properties.insert(
        crate::data::TABLE.into(),
        serde_json::json!({
            "description": "Data sources, [data.KIND.NAME]: objects read from the estate at each plan, which resource tables expand over with `for_each = \"data.KIND.NAME\"`.",
            "type": "object",
            "properties": sources,
            "additionalProperties": false,
        }),
    );
    let mut defs: Map<String, Value> = generator.take_definitions(true).into_iter().collect();
    for (schema, expandable) in meta {
        let referred = schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/$defs/"))
            .and_then(|name| defs.get_mut(name))
            .and_then(|d| d.get_mut("properties"))
            .and_then(Value::as_object_mut);
        if let Some(props) = referred {
            add_meta_fields(props, expandable);
        }
    }
    let mut root = serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "cmdeploy project manifest",
        "description": "The merged content of a cmdeploy project directory (all *.toml files).",
        "type": "object",
        "properties": properties,
        "additionalProperties": false,
    });
    if !defs.is_empty() {
        root["$defs"] = Value::Object(defs);
    }
    root
}

/// Adds the fields every resource table may hold beside its kind's own ([`META_FIELDS`]) to the
/// properties of the kind's definition (the one its `{"$ref": "#/$defs/BoundarySpec"}` names). A
/// sibling of the `$ref` would not do: the definition's `additionalProperties: false` refuses
/// every property it does not list itself.
///
/// [`META_FIELDS`]: super::META_FIELDS
fn add_meta_fields(props: &mut Map<String, Value>, expandable: bool) {
    props.insert(
        "depends_on".into(),
        serde_json::json!({"description": "Extra dependencies, as addresses (`boundary.hq`).", "type": "array", "items": {"type": "string"}}),
    );
    props.insert(
        crate::data::FOR_EACH.into(),
        serde_json::json!({"description": "A data source (`data.ad_subnets.corp`): one instance per item, addressed kind.name[\"item key\"], templated with `{{ each.key }}` and the item's fields (`{{ each.site }}`).", "type": "string"}),
    );
    if expandable {
        props.insert(
            "hosts".into(),
            serde_json::json!({"description": "Hosts: one instance per host, addressed kind.name[\"host\"].", "type": "array", "items": {"type": "string"}}),
        );
        props.insert(
            "hosts_file".into(),
            serde_json::json!({"description": "CSV file with a `host` column (other columns are `row.COLUMN` in templates).", "type": "string"}),
        );
    }
}
