//! The JSON Schema of a whole project directory's merged manifest, generated from the kinds'
//! typed structs (schemars). `cmdeploy schema` prints it; `schemas/cmdeploy.schema.json` is it.

use schemars::{json_schema, Schema, SchemaGenerator};
use serde_json::{Map, Value};

use super::config::{ProjectSection, StateSection};
use crate::provider::Registry;

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
        "variables".into(),
        serde_json::json!({"description": "Values for templates, as `{{ var.NAME }}`.", "type": "object"}),
    );
    for kind in registry.kinds() {
        let mut schema = kind.schema(&mut generator).to_value();
        if let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) {
            props.insert(
                "depends_on".into(),
                serde_json::json!({"description": "Extra dependencies, as addresses (`boundary.hq`).", "type": "array", "items": {"type": "string"}}),
            );
            if kind.expandable() {
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
        properties.insert(
            kind.name().into(),
            serde_json::json!({
                "description": kind.description(),
                "type": "object",
                "additionalProperties": schema,
            }),
        );
    }
    let mut root = serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "cmdeploy project manifest",
        "description": "The merged content of a cmdeploy project directory (all *.toml files).",
        "type": "object",
        "properties": properties,
        "additionalProperties": false,
    });
    let defs = generator.take_definitions(true);
    if !defs.is_empty() {
        root["$defs"] = Value::Object(defs.into_iter().collect());
    }
    root
}
