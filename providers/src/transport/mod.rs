//! Transports run Scripts on a connection. The program registers the ones it offers in a
//! [`Transports`] registry carried by the engine's context ([`run`] finds it there): `winrm` from
//! this crate, and the lab's, which runs Scripts in-process against a simulated estate. Every
//! transport receives the same stdin document (runner + payload), so the lab checks exactly what a
//! Windows host would receive.

pub mod gate;
pub mod kerberos;
pub mod no_proxy;
pub mod ntlm;
pub mod quota;
mod registry;
pub mod relay;
pub mod retry;
mod script_log;
pub mod tls_relay;
pub mod unreachable;
mod upstream;
pub mod winrm;
mod winrm_failure;

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use cmdeploy_engine::provider::{Context, RemoteError};
use cmdeploy_engine::resource::Connection;
use cmdeploy_engine::secret::SecretRef;

pub use registry::{Factory, Transports};

use crate::powershell::{Script, ScriptOutput};

/// Which transport a connection uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, schemars::JsonSchema, Default)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    /// The embedded lab (`.cmdeploy/lab/`): a simulated estate with ConfigMgr's rules.
    #[default]
    Lab,
    /// WinRM (WS-Management) through the winrm-rs crate: how production hosts are reached.
    Winrm,
}

impl TransportKind {
    /// The manifest's spelling: `lab` or `winrm`.
    pub fn name(self) -> &'static str {
        match self {
            TransportKind::Lab => "lab",
            TransportKind::Winrm => "winrm",
        }
    }
}

/// WinRM authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema, Default)]
#[serde(rename_all = "lowercase")]
pub enum AuthKind {
    /// NTLMv2 (the WinRM default for domain accounts).
    #[default]
    Ntlm,
    /// Kerberos: `user` and `password` get tickets from the realm's KDC (named in `KRB5_CONFIG`
    /// or /etc/krb5.conf); the service is `HTTP/<host>`, so `host` is the FQDN. Message
    /// encryption over HTTP, channel binding over HTTPS.
    Kerberos,
    /// Basic: the password on every request; only over HTTPS in production.
    Basic,
    /// A TLS client certificate (`cert_file`, `key_file`) that the service maps to an account
    /// by the UPN in its Subject Alternative Name (HTTPS only; `ca_file` verifies the service).
    Certificate,
}

impl AuthKind {
    /// The manifest's spelling: `ntlm`, `kerberos`, `basic` or `certificate`.
    pub fn name(self) -> &'static str {
        match self {
            AuthKind::Ntlm => "ntlm",
            AuthKind::Kerberos => "kerberos",
            AuthKind::Basic => "basic",
            AuthKind::Certificate => "certificate",
        }
    }
}

/// A `[connection.NAME]` table (or an inline `connection = { host = ... }`).
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectionSpec {
    /// `lab` (default) or `winrm`.
    #[serde(default)]
    pub transport: TransportKind,
    /// Host name (FQDN) of the site server, domain controller or client: the identity of the
    /// machine, and the name its HTTPS certificate must carry.
    pub host: String,
    /// Where to connect when it differs from `host` (an IP address, a load balancer, a tunnel).
    #[serde(default)]
    pub address: Option<String>,
    /// WinRM port (default 5985 for HTTP, 5986 for HTTPS).
    #[serde(default)]
    pub port: Option<u16>,
    /// Use HTTPS (certificate verification is always on).
    #[serde(default)]
    pub https: bool,
    /// `ntlm` (default), `kerberos`, `basic` or `certificate`.
    #[serde(default)]
    pub auth: AuthKind,
    /// User name for the connection (`DOMAIN\user`).
    #[serde(default)]
    pub user: Option<String>,
    /// Password for the connection (a secret reference).
    #[serde(default)]
    pub password: Option<SecretRef>,
    /// PEM file of the CA that issued the WinRM HTTPS certificate (default: the public roots).
    #[serde(default)]
    pub ca_file: Option<std::path::PathBuf>,
    /// Client certificate (PEM) for `auth = "certificate"`.
    #[serde(default)]
    pub cert_file: Option<std::path::PathBuf>,
    /// Client certificate key (PEM) for `auth = "certificate"`.
    #[serde(default)]
    pub key_file: Option<std::path::PathBuf>,
    /// TCP connect timeout in seconds (default 30).
    #[serde(default)]
    pub connect_timeout_seconds: Option<u64>,
    /// WS-Management operation timeout in seconds (default 60).
    #[serde(default)]
    pub operation_timeout_seconds: Option<u64>,
    /// At most this many retries of transient failures (refused or reset connections, HTTP 5xx,
    /// WS-Man timeouts) within `retry_budget_seconds` (default: as many as the budget allows).
    /// Authentication failures are never retried, nor a write that may have run.
    #[serde(default)]
    pub retries: Option<u32>,
    /// Requests in flight at once to one WinRM service as this user: at most the service's
    /// MaxConcurrentOperationsPerUser, over which Windows answers with the `w:QuotaLimit` fault
    /// 2150859174. Each running Script keeps one request in flight. Default 15, the lowest value
    /// Windows ships (2008 R2; 2012 and later: 1500).
    #[serde(default)]
    pub max_concurrent_operations: Option<usize>,
    /// Seconds, from the first attempt of a Script, during which transient failures are retried
    /// with exponential backoff and jitter (default 60: a WinRM service restart fits in it).
    /// Once spent, the connection is reported unreachable and not tried again in this run.
    #[serde(default)]
    pub retry_budget_seconds: Option<u64>,
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
        Ok(spec) => spec.problems(),
        Err(e) => vec![e.to_string()],
    }
}

impl ConnectionSpec {
    /// Settings that cannot work together.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.transport != TransportKind::Winrm {
            return out;
        }
        match self.auth {
            AuthKind::Certificate => {
                if !self.https {
                    out.push("auth = \"certificate\" needs https = true".into());
                }
                if self.cert_file.is_none() || self.key_file.is_none() {
                    out.push("auth = \"certificate\" needs cert_file and key_file".into());
                }
            }
            _ => {
                if self.user.is_none() || self.password.is_none() {
                    out.push(format!(
                        "auth = \"{}\" needs user and password (a secret reference)",
                        self.auth_name()
                    ));
                }
            }
        }
        if self.max_concurrent_operations == Some(0) {
            out.push("max_concurrent_operations must be at least 1".into());
        }
        if self.auth == AuthKind::Kerberos {
            let user = self.user.as_deref().unwrap_or_default();
            let creds = kerberos::KerberosCredentials::new(user, &self.host, "");
            if creds.realm.is_empty() {
                out.push(format!(
                    "auth = \"kerberos\" needs a realm: host `{}` has no DNS domain and user `{user}` names none; write the host's FQDN (Kerberos asks for HTTP/<FQDN>) or the user as user@REALM",
                    self.host
                ));
            }
        }
        out
    }

    fn auth_name(&self) -> &'static str {
        self.auth.name()
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

    /// Runs a script whose payload, serialized once by the caller, is `payload`
    /// ([`Script::payload`]), and returns the runner's results.
    ///
    /// # Errors
    /// Connection, authentication or protocol failures (not cmdlet failures, which are results).
    async fn run(&self, script: &Script, payload: &str) -> Result<ScriptOutput, RemoteError>;
}

/// The transport for a connection, shared across tasks (one client per connection), from the
/// [`Transports`] in the context's extensions.
///
/// # Errors
/// When the context carries no [`Transports`], the connection table is invalid, or its transport
/// is not registered.
pub fn for_connection(
    ctx: &Context,
    connection: &Connection,
) -> Result<Arc<dyn Transport>, RemoteError> {
    let Some(transports) = ctx.extensions.get::<Transports>() else {
        return Err(RemoteError::new(
            connection.host(),
            format!(
                "connection `{}`: this program registered no transports in its context",
                connection.key
            ),
        ));
    };
    transports.for_connection(ctx, connection)
}

/// Largest payload one run carries (bytes of JSON). Larger Scripts are split into consecutive
/// runs, never truncated.
pub const MAX_PAYLOAD_BYTES: usize = 1024 * 1024;

/// Runs a script on a connection, split into several runs when its payload is too large.
///
/// # Errors
/// Transport failures, naming the host.
pub async fn run(
    ctx: &Context,
    connection: &Connection,
    script: &Script,
) -> Result<ScriptOutput, RemoteError> {
    let started = std::time::Instant::now();
    let result = match for_connection(ctx, connection) {
        Ok(t) => {
            let script = Script {
                host: Some(connection.host()),
                ..script.clone()
            };
            run_split(t.as_ref(), &script, MAX_PAYLOAD_BYTES).await
        }
        Err(e) => Err(e),
    };
    script_log::finished(connection, script, started.elapsed(), &result);
    result
}

/// Runs `script` on `t` in parts whose payloads stay under `limit` bytes, renumbering results
/// so they match the calls of the whole script. A write script stops at its first failure.
///
/// # Errors
/// Transport failures; a single call larger than `limit`.
pub async fn run_split(
    t: &dyn Transport,
    script: &Script,
    limit: usize,
) -> Result<ScriptOutput, RemoteError> {
    let too_big = |cmdlet: &str| {
        RemoteError::new(
            t.host(),
            format!("one {cmdlet} call is larger than a run's {limit}-byte payload"),
        )
    };
    let whole = script.payload();
    if whole.len() <= limit {
        let out = t.run(script, &whole).await?;
        if out.results.len() > script.calls.len() {
            return Err(more_results(t));
        }
        return Ok(out);
    }
    let mut parts: Vec<Script> = Vec::new();
    let mut current = Script {
        calls: Vec::new(),
        ..script.clone()
    };
    // Sizes are summed per call (its entry plus a comma), each serialized once: re-serializing the
    // growing part after every call made splitting a big write Script quadratic. An entry's id in
    // a part is never longer than in the whole Script, so the sum never underestimates.
    let empty = current.payload().len();
    let mut size = empty;
    for (id, call) in script.calls.iter().enumerate() {
        let entry = call.payload_len(id) + 1;
        if empty + entry > limit {
            return Err(too_big(&call.cmdlet));
        }
        if size + entry > limit && !current.calls.is_empty() {
            parts.push(std::mem::replace(
                &mut current,
                Script {
                    calls: Vec::new(),
                    ..script.clone()
                },
            ));
            size = empty;
        }
        current.calls.push(call.clone());
        size += entry;
    }
    parts.push(current);
    let mut results = Vec::new();
    let mut offset = 0;
    for part in parts {
        let n = part.calls.len();
        let out = t.run(&part, &part.payload()).await?;
        if out.results.len() > n {
            return Err(more_results(t));
        }
        // A failed call of a group (one operation of a batch) stops only its group.
        let failed = out
            .results
            .iter()
            .any(|r| !r.ok && part.calls.get(r.id).is_some_and(|c| c.group.is_none()));
        results.extend(out.results.into_iter().map(|mut r| {
            r.id += offset;
            r
        }));
        offset += n;
        if failed && script.stop_on_error {
            break;
        }
    }
    Ok(ScriptOutput { results })
}

fn more_results(t: &dyn Transport) -> RemoteError {
    RemoteError::new(t.host(), "the runner returned more results than calls")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::powershell::{Call, CallResult, Target};
    use std::sync::Mutex;

    struct Echo(Mutex<usize>);

    #[async_trait::async_trait]
    impl Transport for Echo {
        fn host(&self) -> &str {
            "echo"
        }
        async fn run(&self, script: &Script, _: &str) -> Result<ScriptOutput, RemoteError> {
            *self.0.lock().unwrap() += 1;
            Ok(ScriptOutput {
                results: (0..script.calls.len())
                    .map(|id| CallResult {
                        id,
                        ok: true,
                        value: script.calls[id].args["I"].clone(),
                        error: None,
                        category: None,
                    })
                    .collect(),
            })
        }
    }

    #[tokio::test]
    async fn large_scripts_are_split_and_renumbered_never_truncated() {
        let mut s = Script::new(Target::Host);
        for i in 0..50 {
            s.push(
                Call::new("Get-CMBoundary")
                    .arg("I", i)
                    .arg("Pad", "x".repeat(100)),
            );
        }
        let t = Echo(Mutex::new(0));
        let out = run_split(&t, &s, 2_000).await.unwrap();
        assert!(*t.0.lock().unwrap() > 1, "split into several runs");
        assert_eq!(out.results.len(), 50);
        for (i, r) in out.results.iter().enumerate() {
            assert_eq!(r.id, i);
            assert_eq!(r.value, serde_json::json!(i));
        }
        let mut huge = Script::new(Target::Host);
        huge.push(Call::new("Get-CMBoundary").arg("Pad", "x".repeat(5_000)));
        assert!(run_split(&t, &huge, 2_000).await.is_err());
    }
}
