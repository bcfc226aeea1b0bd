//! `cmdeploy.toml`: `[project]`, `[state]`, `[connection.NAME]` and `[variables]`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;
use serde_json::Value;

use crate::diagnostics::Loc;
use crate::secret::SecretRef;

/// `[project]`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ProjectSection {
    /// Project name, shown in plans.
    #[serde(default)]
    pub name: Option<String>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// File names in the project directory that are not manifests (default: the files the
    /// program reads itself, cmdeploy's being `lab.toml`, the lab's seed, and
    /// `drift.ack.toml`, the acknowledged drift).
    #[serde(default)]
    pub ignore: Option<Vec<String>>,
}

/// Which state backend to use.
#[derive(Debug, Clone, Copy, Deserialize, schemars::JsonSchema, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// `.cmdeploy/state.json` in the project directory.
    #[default]
    Local,
    /// A PostgreSQL database shared by CI runners.
    Postgres,
}

/// `[state]`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct StateSection {
    /// `local` (default) or `postgres`.
    #[serde(default)]
    pub backend: BackendKind,
    /// Directory for local state, relative to the project (default `.cmdeploy`).
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// PostgreSQL connection URL (a secret reference) for the `postgres` backend.
    #[serde(default)]
    pub url: Option<SecretRef>,
    /// Name of this state inside the database (several states per database).
    #[serde(default)]
    pub name: Option<String>,
    /// PEM file of the CA that signed the PostgreSQL server's certificate (relative to the
    /// project): TLS is then verified against it, and used under the default `sslmode=prefer`.
    /// Without it, `sslmode=require` verifies against the public web roots.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

/// A `[[moved]]` table, as written: Terraform's `moved` block. The object known in state as
/// `from` is known as `to` from now on; the next apply records the new address, and nothing is
/// destroyed or created for the rename.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MovedSection {
    /// The old address, e.g. `boundary.hq_lan` (or `client_group.kiosks` for every instance).
    pub from: String,
    /// The new address, declared in the manifests, of the same kind.
    pub to: String,
}

/// A checked `[[moved]]` table.
#[derive(Debug, Clone)]
pub struct MovedBlock {
    /// The old address.
    pub from: crate::address::Address,
    /// The new address.
    pub to: crate::address::Address,
    /// Where `from` is written.
    pub from_loc: Loc,
    /// Where `to` is written.
    pub to_loc: Loc,
}

/// The merged project configuration.
#[derive(Debug, Clone, Default)]
pub struct ProjectConfig {
    /// `[project]`.
    pub project: ProjectSection,
    /// `[state]`.
    pub state: StateSection,
    /// `[connection.NAME]` tables as JSON (their fields belong to the transports), with locations.
    pub connections: BTreeMap<String, (Value, Loc)>,
    /// `[variables]`, available to templates as `var.NAME`.
    pub variables: BTreeMap<String, Value>,
    /// `[[moved]]` tables, in file order.
    pub moved: Vec<MovedBlock>,
}
