//! Transports run Scripts on a connection. The `lab` transport runs them in-process against the
//! lab; every transport receives the same stdin document (runner + payload), so the lab checks
//! exactly what a Windows host would receive.

mod lab;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use serde::Deserialize;
use serde_json::Value;

use cmdeploy_engine::provider::{Context, RemoteError};
use cmdeploy_engine::resource::Connection;
use cmdeploy_engine::secret::SecretRef;

pub use lab::LabTransport;

use crate::powershell::{Script, ScriptOutput};

/// Which transport a connection uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema, Default)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    /// The embedded lab (`.cmdeploy/lab/`): a simulated estate with ConfigMgr's rules.
    #[default]
    Lab,
}

/// A `[connection.NAME]` table (or an inline `connection = { host = ... }`).
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectionSpec {
    /// `lab` (default).
    #[serde(default)]
    pub transport: TransportKind,
    /// Host name (FQDN) of the site server, domain controller or client.
    pub host: String,
    /// User name for the connection (`DOMAIN\user`).
    #[serde(default)]
    pub user: Option<String>,
    /// Password for the connection (a secret reference).
    #[serde(default)]
    pub password: Option<SecretRef>,
    /// Name of a `[connection.NAME]` whose fields fill those an inline connection leaves out.
    #[serde(default)]
    pub base: Option<String>,
    /// Set by cmdeploy: the connection's name.
    #[serde(default)]
    pub name: Option<String>,
}

/// Checks a connection table (for `validate`).
pub fn validate_connection(value: &Value) -> Vec<String> {
    match ConnectionSpec::deserialize(value) {
        Ok(_) => Vec::new(),
        Err(e) => vec![e.to_string()],
    }
}

/// JSON Schema of a connection table.
pub fn connection_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    generator.subschema_for::<ConnectionSpec>()
}

/// Something that runs Scripts on one host.
#[async_trait::async_trait]
pub trait Transport: Send + Sync {
    /// Host name, for errors.
    fn host(&self) -> &str;

    /// Runs a script and returns the runner's results.
    ///
    /// # Errors
    /// Connection, authentication or protocol failures (not cmdlet failures, which are results).
    async fn run(&self, script: &Script) -> Result<ScriptOutput, RemoteError>;
}

type Cache = Mutex<HashMap<(PathBuf, String), Arc<dyn Transport>>>;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The transport for a connection, shared across tasks (one client per connection).
///
/// # Errors
/// When the connection table is invalid.
pub fn for_connection(
    ctx: &Context,
    connection: &Connection,
) -> Result<Arc<dyn Transport>, RemoteError> {
    let spec = ConnectionSpec::deserialize(&connection.spec).map_err(|e| {
        RemoteError::new(
            connection.host(),
            format!("invalid connection `{}`: {e}", connection.key),
        )
    })?;
    let key = (ctx.work_dir.clone(), connection.key.clone());
    let mut guard = cache().lock().unwrap_or_else(|p| p.into_inner());
    if let Some(t) = guard.get(&key) {
        return Ok(t.clone());
    }
    let t: Arc<dyn Transport> = match spec.transport {
        TransportKind::Lab => Arc::new(LabTransport::new(
            crate::lab::Lab::open(&ctx.project_dir, &ctx.work_dir),
            spec.host.clone(),
        )),
    };
    guard.insert(key, t.clone());
    Ok(t)
}

/// Runs a script on a connection.
///
/// # Errors
/// Transport failures, naming the host.
pub async fn run(
    ctx: &Context,
    connection: &Connection,
    script: &Script,
) -> Result<ScriptOutput, RemoteError> {
    let t = for_connection(ctx, connection)?;
    let out = t.run(script).await?;
    if out.results.len() > script.calls.len() {
        return Err(RemoteError::new(
            t.host(),
            "the runner returned more results than calls",
        ));
    }
    Ok(out)
}
