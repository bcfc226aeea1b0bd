//! The registry: every kind, data source kind, executor and connection check a program offers
//! a run, by name. The engine reads it; the program (the CLI, a test) fills it.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use crate::data::DataKind;
use crate::provider::{Executor, Kind};

/// All kinds known to a run, by name.
#[derive(Clone, Default)]
pub struct Registry {
    kinds: BTreeMap<&'static str, Arc<dyn Kind>>,
    data_kinds: BTreeMap<&'static str, Arc<dyn DataKind>>,
    connection_validator: Option<ConnectionValidator>,
    connection_schema: Option<fn(&mut schemars::SchemaGenerator) -> schemars::Schema>,
    ignored_files: Vec<String>,
    executor: Option<Arc<dyn Executor>>,
}

/// Checks one `[connection.NAME]` table and returns its problems.
pub type ConnectionValidator = Arc<dyn Fn(&Value) -> Vec<String> + Send + Sync>;

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a kind. A later registration of the same name replaces the earlier one.
    pub fn register(&mut self, kind: Arc<dyn Kind>) {
        self.kinds.insert(kind.name(), kind);
    }

    /// Registers a data source kind (`[data.KIND.NAME]`).
    pub fn register_data(&mut self, kind: Arc<dyn DataKind>) {
        self.data_kinds.insert(kind.name(), kind);
    }

    /// A data source kind by name.
    pub fn data_kind(&self, name: &str) -> Option<&Arc<dyn DataKind>> {
        self.data_kinds.get(name)
    }

    /// Every data source kind, by name.
    pub fn data_kinds(&self) -> &BTreeMap<&'static str, Arc<dyn DataKind>> {
        &self.data_kinds
    }

    /// Sets how connection tables are checked and described (they belong to the transports).
    pub fn set_connections(
        &mut self,
        validator: ConnectionValidator,
        schema: fn(&mut schemars::SchemaGenerator) -> schemars::Schema,
    ) {
        self.connection_validator = Some(validator);
        self.connection_schema = Some(schema);
    }

    /// Leaves the file `name` of a project directory out of the manifests by default (a file the
    /// program reads itself, such as a simulator's seed), unless the project's `[project] ignore`
    /// lists the files to leave out instead.
    pub fn ignore_file(&mut self, name: impl Into<String>) {
        let name = name.into();
        if !self.ignored_files.contains(&name) {
            self.ignored_files.push(name);
        }
    }

    /// The files left out of the manifests by default, in registration order, besides the
    /// engine's own `drift.ack.toml` (see [`Registry::ignore_file`]).
    pub fn ignored_files(&self) -> &[String] {
        &self.ignored_files
    }

    /// Sets what runs the work kinds describe ([`Kind::describe`]).
    pub fn set_executor(&mut self, executor: Arc<dyn Executor>) {
        self.executor = Some(executor);
    }

    /// The executor of described work, if a provider set one (without one, every operation goes
    /// through [`Kind::apply`]).
    pub fn executor(&self) -> Option<&Arc<dyn Executor>> {
        self.executor.as_ref()
    }

    /// The connection validator, if a provider set one.
    pub fn connection_validator(&self) -> Option<&ConnectionValidator> {
        self.connection_validator.as_ref()
    }

    /// The connection schema, if a provider set one.
    pub fn connection_schema(
        &self,
    ) -> Option<fn(&mut schemars::SchemaGenerator) -> schemars::Schema> {
        self.connection_schema
    }

    /// A kind by name.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn Kind>> {
        self.kinds.get(name)
    }

    /// Kind names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.kinds.keys().copied()
    }

    /// All kinds, by name.
    pub fn kinds(&self) -> impl Iterator<Item = &Arc<dyn Kind>> {
        self.kinds.values()
    }
}
