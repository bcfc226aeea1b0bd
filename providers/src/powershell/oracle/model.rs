//! The data model of `cmdlets.json`: a cmdlet's parameter sets and their
//! parameters.

use serde::{Deserialize, Serialize};

/// One parameter of one parameter set, as in `cmdlets.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Parameter {
    /// The parameter name without the dash, e.g. `SiteCode`.
    pub name: String,
    /// The type as written in the doc's SYNTAX block: `String`, `String[]`,
    /// `Boolean`, `SwitchParameter`, `Int32`, `UInt32`, `SecureString`,
    /// `Guid`, `IResultObject`, or an enum name such as `BoundaryTypes`.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Whether the parameter is required in this set.
    #[serde(default)]
    pub mandatory: bool,
    /// Alternative names (`Get-Help -Parameter` "Aliases").
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Accepted values for enum-like types (compared case-insensitively);
    /// empty when any value of the type is accepted.
    #[serde(default)]
    pub valid_values: Vec<String>,
    /// Positional index, or `None` for a named-only parameter.
    #[serde(default)]
    pub position: Option<u32>,
}

impl Parameter {
    /// An optional, named-only parameter of type `type_name` with no aliases.
    pub fn new(name: impl Into<String>, type_name: impl Into<String>) -> Self {
        Parameter {
            name: name.into(),
            type_name: type_name.into(),
            mandatory: false,
            aliases: Vec::new(),
            valid_values: Vec::new(),
            position: None,
        }
    }

    /// The same parameter, marked mandatory.
    pub fn mandatory(mut self) -> Self {
        self.mandatory = true;
        self
    }

    /// The same parameter with an extra alias.
    pub fn alias(mut self, alias: impl Into<String>) -> Self {
        self.aliases.push(alias.into());
        self
    }

    /// The same parameter, restricted to `values` (an enum).
    pub fn valid_values<I, S>(mut self, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.valid_values = values.into_iter().map(Into::into).collect();
        self
    }
}

/// One parameter set of a cmdlet, as in `cmdlets.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParameterSet {
    /// The set name; `__AllParameterSets` when the cmdlet has a single set.
    pub name: String,
    /// Whether this is the cmdlet's default parameter set.
    #[serde(default)]
    pub is_default: bool,
    /// Every parameter of the set (including `WhatIf`/`Confirm` if listed).
    pub parameters: Vec<Parameter>,
}

impl ParameterSet {
    /// A non-default set named `name` with `parameters`.
    pub fn new(name: impl Into<String>, parameters: Vec<Parameter>) -> Self {
        ParameterSet {
            name: name.into(),
            is_default: false,
            parameters,
        }
    }
}
