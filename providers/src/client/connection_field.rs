//! The `connection` field of a host kind's table (`imaging`, `client_group`): a
//! `[connection.NAME]` by name, or an inline table such as `{ host = "ref01.contoso.com" }`.

use serde::Deserialize;
use serde_json::{Map, Value};

use cmdeploy_engine::resource::ConnectionRef;
use cmdeploy_engine::spanned::Spanned;

/// A connection given by name or inline.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum ConnectionField {
    /// A `[connection.NAME]`.
    Named(Spanned<String>),
    /// An inline table, e.g. `{ host = "ref01.contoso.com" }`.
    Inline(Map<String, Value>),
}

impl ConnectionField {
    /// The engine's connection reference.
    pub fn to_ref(&self) -> ConnectionRef {
        match self {
            ConnectionField::Named(n) => ConnectionRef::Named(n.clone()),
            ConnectionField::Inline(m) => ConnectionRef::Inline(Value::Object(m.clone())),
        }
    }
}
