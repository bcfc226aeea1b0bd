//! The `winrm` transport: Scripts run on Windows over WS-Management with the winrm-rs crate.
//!
//! Only the bootstrap goes on the command line (`powershell.exe -NoProfile -NonInteractive
//! -EncodedCommand <bootstrap>`, far below cmd.exe's 8191 characters); the runner and the JSON
//! payload — secrets included — are sent on the command's stdin (WS-Man `Send`), so they appear
//! in no process-creation log. One client per connection is shared by all tasks.
//!
//! NTLM, Kerberos and certificate auth go through [`super::relay`] (one authenticated
//! connection per winrm-rs connection, every request sealed over HTTP or channel-bound inside
//! TLS over HTTPS; the client certificate presented in the TLS handshake), Basic over HTTPS
//! through [`super::tls_relay`]; both verify TLS against the connection's `ca_file`.
//!
//! Transient failures (refused or reset connections, HTTP 5xx, WS-Man timeouts) are retried with
//! exponential backoff and jitter within the connection's budget (see [`super::retry`]) — but a
//! Script that may already have run is retried only when it only reads. Authentication failures
//! are never retried. A connection that never ran a Script is reported once, with the likely
//! causes (see [`super::unreachable`] and [`super::gate`]). Errors name the host, the stage (connect,
//! auth, create shell, command, send, receive), the HTTP status and the WS-Man fault.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use backon::Retryable;
use cmdeploy_engine::provider::RemoteError;
use tokio::sync::OnceCell;
use winrm_rs::{
    AuthMethod, EncryptionMode, WinrmClient, WinrmConfig, WinrmCredentials, WinrmError,
};

use super::gate::Gate;
use super::kerberos::KerberosCredentials;
use super::relay::{AuthRelay, ClientIdentity, Logon, NtlmCredentials, Upstream};
use super::retry::{self, RetryPolicy};
use super::tls_relay::{self, TlsRelay};
use super::unreachable::Endpoint;
use super::winrm_failure::{classify, Failure, Relay, Stage};
use super::{AuthKind, ConnectionSpec, Transport, TransportKind, Transports};
use crate::powershell::runner::{document, BOOTSTRAP};
use crate::powershell::{Script, ScriptOutput};

/// Bytes of stdin per WS-Man `Send` (base64 grows it by a third; the envelope limit is 150 KiB).
const STDIN_CHUNK: usize = 48 * 1024;

/// The environment variable that tells the far side which host it is (`cmdeploy lab serve` acts
/// as that host; Windows ignores it).
pub const HOST_VARIABLE: &str = "CMDEPLOY_HOST";

/// A WinRM connection to one host.
pub struct WinrmTransport {
    host: String,
    /// Where winrm-rs connects: the host, its `address`, or the TLS relay on loopback.
    connect: Option<(String, u16)>,
    https_via_relay: bool,
    /// NTLM and Kerberos go through the [`AuthRelay`] (HTTP and HTTPS), logging on so.
    logon: Option<Logon>,
    config: WinrmConfig,
    credentials: WinrmCredentials,
    ca_file: Option<std::path::PathBuf>,
    policy: RetryPolicy,
    /// Where the connection goes, for its errors.
    endpoint: Endpoint,
    /// Whether the connection was reached in this run (one probe and one error per connection).
    gate: Gate,
    /// Shared by every connection to the same service as the same user: at most
    /// `max_concurrent_operations` Scripts (one request in flight each) at once.
    operations: Arc<tokio::sync::Semaphore>,
    /// Connections with the same settings (everything but the host) share one winrm-rs client:
    /// building one loads the system's root certificates (~5 ms of CPU), which made an apply
    /// over thousands of hosts CPU-bound. `None` through the TLS relay, which is per host.
    shared: Option<String>,
    state: OnceCell<Ready>,
}

/// winrm-rs clients by connection settings (see `WinrmTransport::shared`).
fn shared_clients() -> &'static std::sync::Mutex<HashMap<String, Arc<WinrmClient>>> {
    static CLIENTS: std::sync::OnceLock<std::sync::Mutex<HashMap<String, Arc<WinrmClient>>>> =
        std::sync::OnceLock::new();
    CLIENTS.get_or_init(Default::default)
}

struct Ready {
    client: Arc<WinrmClient>,
    connect_host: String,
    relay: Option<Relay>,
}

/// Registers the `winrm` transport: one [`WinrmTransport`] per connection, its secrets resolved
/// from the project directory.
pub fn register(transports: &mut Transports) {
    transports.register(TransportKind::Winrm, |ctx, spec| {
        Ok(Arc::new(WinrmTransport::new(spec, &ctx.project_dir)?))
    });
}

impl WinrmTransport {
    /// Builds the transport for a connection; secrets are read now and kept in memory only.
    ///
    /// # Errors
    /// Invalid settings or an unreadable password, naming the host.
    pub fn new(spec: &ConnectionSpec, project_dir: &Path) -> Result<WinrmTransport, RemoteError> {
        let host = spec.host.clone();
        let problems = spec.problems();
        if let Some(p) = problems.first() {
            return Err(RemoteError::new(host, p.clone()));
        }
        let password = match &spec.password {
            Some(r) => r
                .resolve(project_dir)
                .map_err(|e| RemoteError::new(host.clone(), e.to_string()))?,
            None => cmdeploy_engine::secret::SecretValue::new(String::new()),
        };
        let user = spec.user.clone().unwrap_or_default();
        let logon = match spec.auth {
            AuthKind::Ntlm => {
                let (domain, name) = user.split_once('\\').unwrap_or(("", user.as_str()));
                Some(Logon::Ntlm(NtlmCredentials {
                    user: name.to_string(),
                    domain: domain.to_string(),
                    password: zeroize::Zeroizing::new(password.expose().to_string()),
                }))
            }
            AuthKind::Kerberos => Some(Logon::Kerberos(KerberosCredentials::new(
                &user,
                &host,
                password.expose(),
            ))),
            AuthKind::Certificate => {
                let (Some(cert), Some(key)) = (&spec.cert_file, &spec.key_file) else {
                    return Err(RemoteError::new(
                        host,
                        "auth = \"certificate\" needs cert_file and key_file",
                    ));
                };
                let identity =
                    ClientIdentity::from_pem_files(&project_dir.join(cert), &project_dir.join(key))
                        .map_err(|e| RemoteError::new(host.clone(), e))?;
                Some(Logon::Certificate(identity))
            }
            AuthKind::Basic => None,
        };
        let credentials = match spec.auth {
            AuthKind::Ntlm | AuthKind::Kerberos => match user.split_once('\\') {
                Some((domain, name)) => WinrmCredentials::new(name, password.expose(), domain),
                None => WinrmCredentials::new(user.as_str(), password.expose(), ""),
            },
            _ => WinrmCredentials::new(user.as_str(), password.expose(), ""),
        };
        let port = spec.port.unwrap_or(if spec.https { 5986 } else { 5985 });
        if spec.auth == AuthKind::Basic && !spec.https {
            // winrm-rs's own warning also fires for the loopback relays, so it is dropped (see
            // the CLI's logging module) and said here, where it is true.
            tracing::warn!(
                "connection to {host}: auth = \"basic\" over HTTP sends the password unencrypted (base64) on every request; use https = true"
            );
        }
        // NTLM, Kerberos and certificate auth go through the relay (see relay: winrm-rs
        // 1.1.2's own NTLM sends its first body unencrypted and may switch connections, its
        // Kerberos neither seals nor binds, and its TLS trusts only the public roots); Basic
        // over HTTPS through the verifying TLS relay (see tls_relay).
        let https_via_relay = spec.https && spec.auth == AuthKind::Basic;
        let via_relay = https_via_relay || logon.is_some();
        let mut config = WinrmConfig {
            port,
            use_tls: spec.https && !https_via_relay,
            auth_method: match spec.auth {
                AuthKind::Ntlm => AuthMethod::Ntlm,
                AuthKind::Kerberos => AuthMethod::Kerberos,
                AuthKind::Basic => AuthMethod::Basic,
                AuthKind::Certificate => AuthMethod::Certificate,
            },
            connect_timeout_secs: spec.connect_timeout_seconds.unwrap_or(30),
            operation_timeout_secs: spec.operation_timeout_seconds.unwrap_or(60),
            env_vars: vec![(HOST_VARIABLE.to_string(), host.clone())],
            ..WinrmConfig::default()
        };
        if spec.auth == AuthKind::Basic {
            config.encryption = EncryptionMode::Never;
        }
        let connect = (spec.address.clone().unwrap_or_else(|| host.clone()), port);
        let operations = super::quota::operations(
            &format!("{}:{port}|{user}", connect.0),
            spec.max_concurrent_operations
                .unwrap_or(super::quota::DEFAULT_OPERATIONS),
        );
        // A shared client names no host in its shells' environment: each Script's payload says
        // which host it is for (Windows ignores both).
        let shared = (!via_relay).then(|| {
            config.env_vars.clear();
            use sha2::Digest;
            let secret = sha2::Sha256::digest(password.expose().as_bytes());
            format!(
                "{port}|{}|{:?}|{user}|{}|{}|{}",
                config.use_tls,
                spec.auth,
                hex::encode(secret),
                config.connect_timeout_secs,
                config.operation_timeout_secs,
            )
        });
        Ok(WinrmTransport {
            connect: Some(connect),
            host,
            https_via_relay,
            logon,
            config,
            credentials,
            ca_file: spec.ca_file.as_ref().map(|p| project_dir.join(p)),
            policy: RetryPolicy::of(spec),
            endpoint: Endpoint::of(spec),
            gate: Gate::default(),
            operations,
            shared,
            state: OnceCell::new(),
        })
    }

    /// The error of a Script that did not succeed. A failure before anything ran on the
    /// connection (connect, logon, shell creation) marks the connection unreachable: the error
    /// names the endpoint and the likely causes, and later Scripts get it at once.
    fn failed(&self, f: &Failure, attempts: u32, elapsed: Duration) -> (RemoteError, bool) {
        let mut message = format!("{}: {}", f.stage, f.message);
        if attempts > 1 {
            message.push_str(&format!(
                " (after {attempts} attempts in {:.1} s)",
                elapsed.as_secs_f64()
            ));
        }
        let connection_level =
            matches!(f.stage, "connect" | "auth") || (f.stage == "create shell" && f.transient);
        let error = RemoteError {
            host: self.host.clone(),
            operation: None,
            message,
            // Not connected or not logged on: the host was never reached (the apply recap
            // counts it as unreachable, not failed).
            category: Some(if matches!(f.stage, "connect" | "auth") {
                RemoteError::UNREACHABLE.into()
            } else {
                "winrm".into()
            }),
            unreachable: connection_level
                .then(|| Box::new(self.endpoint.unreachable(f.stage, &f.message))),
        };
        (error, connection_level)
    }

    async fn ready(&self) -> Result<&Ready, RemoteError> {
        self.state
            .get_or_try_init(|| async {
                let (address, port) = self
                    .connect
                    .clone()
                    .unwrap_or((self.host.clone(), self.config.port));
                let mut config = self.config.clone();
                let mut credentials = self.credentials.clone();
                let fail = |m: String| RemoteError::new(self.host.clone(), m);
                let (connect_host, relay) = if let Some(logon) = &self.logon {
                    // For NTLM and Kerberos, `use_tls` says the connection is HTTPS (winrm-rs
                    // itself then speaks plain HTTP to the relay).
                    let tls = if self.config.use_tls {
                        Some(tls_relay::roots(self.ca_file.as_deref()).map_err(fail)?)
                    } else {
                        None
                    };
                    let relay = AuthRelay::start(
                        Upstream {
                            address,
                            port,
                            host: self.host.clone(),
                            tls,
                            connect_timeout: Duration::from_secs(self.config.connect_timeout_secs),
                        },
                        logon.clone(),
                    )
                    .await
                    .map_err(fail)?;
                    config = to_relay(config, relay.port());
                    config.auth_method = AuthMethod::Basic;
                    config.encryption = EncryptionMode::Never;
                    let (user, pass) = relay.basic_credentials();
                    credentials = WinrmCredentials::new(user, pass, "");
                    ("127.0.0.1".to_string(), Some(Relay::Ntlm(relay)))
                } else if self.https_via_relay {
                    let roots = tls_relay::roots(self.ca_file.as_deref()).map_err(fail)?;
                    let relay = TlsRelay::start((address, port), &self.host, roots)
                        .await
                        .map_err(fail)?;
                    config = to_relay(config, relay.port());
                    ("127.0.0.1".to_string(), Some(Relay::Tls(relay)))
                } else {
                    (address, None)
                };
                let build = || {
                    WinrmClient::new(config, credentials.clone())
                        .map(Arc::new)
                        .map_err(|e| RemoteError::new(self.host.clone(), format!("connect: {e}")))
                };
                let client = match &self.shared {
                    Some(key) => {
                        let mut clients =
                            shared_clients().lock().unwrap_or_else(|p| p.into_inner());
                        match clients.get(key) {
                            Some(c) => c.clone(),
                            None => {
                                let c = build()?;
                                clients.insert(key.clone(), c.clone());
                                c
                            }
                        }
                    }
                    None => build()?,
                };
                Ok(Ready {
                    client,
                    connect_host,
                    relay,
                })
            })
            .await
    }

    async fn attempt(&self, ready: &Ready, document: &str) -> Result<Vec<u8>, Failure> {
        let fail =
            |stage: Stage, e: WinrmError, ran: bool| classify(stage, e, ran, ready.relay.as_ref());
        let shell = ready
            .client
            .open_shell(&ready.connect_host)
            .await
            .map_err(|e| fail(Stage::CreateShell, e, false))?;
        self.gate.reached();
        let encoded = winrm_rs::encode_powershell_command(BOOTSTRAP);
        let result = async {
            let id = shell
                .start_command(
                    "powershell.exe",
                    &["-NoProfile", "-NonInteractive", "-EncodedCommand", &encoded],
                )
                .await
                .map_err(|e| fail(Stage::Command, e, false))?;
            let bytes = document.as_bytes();
            let chunks: Vec<&[u8]> = if bytes.is_empty() {
                vec![&[][..]]
            } else {
                bytes.chunks(STDIN_CHUNK).collect()
            };
            let last = chunks.len() - 1;
            for (i, chunk) in chunks.into_iter().enumerate() {
                // The runner waits for the whole document: it has not run before the last chunk.
                shell
                    .send_input(&id, chunk, i == last)
                    .await
                    .map_err(|e| fail(Stage::Send, e, i == last))?;
            }
            let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
            let exit = loop {
                // A lost Receive is asked again: the command keeps running on the far side, and a
                // result document that came back incomplete fails to parse. An OperationTimeout
                // fault only means "nothing yet": asked again without counting.
                let next = (|| async {
                    match shell.receive_next(&id).await {
                        Ok(chunk) => Ok(Some(chunk)),
                        Err(WinrmError::Soap(winrm_rs::SoapError::Fault { code, .. }))
                            if code.contains("TimedOut") =>
                        {
                            Ok(None)
                        }
                        Err(e) => Err(fail(Stage::Receive, e, true)),
                    }
                })
                .retry(retry::receive_backoff())
                .sleep(tokio::time::sleep)
                .when(|f: &Failure| f.transient)
                .await?;
                if let Some(chunk) = next {
                    stdout.extend_from_slice(&chunk.stdout);
                    stderr.extend_from_slice(&chunk.stderr);
                    if chunk.done {
                        break chunk.exit_code.unwrap_or(-1);
                    }
                }
            };
            if exit != 0 {
                return Err(Failure {
                    stage: Stage::Command.name(),
                    message: format!("the runner exited with {exit}: {}", decode_clixml(&stderr)),
                    transient: false,
                    ran: true,
                });
            }
            Ok(stdout)
        }
        .await;
        let _ = shell.close().await;
        result
    }
}

/// The winrm-rs settings of a client that speaks to a loopback relay on `port`: plain HTTP,
/// never TLS (the relay makes the connection to the service and verifies it against the
/// connection's CA file or the public roots). Certificate verification is off only because that
/// client never makes a TLS connection: with it on, building the client loads the system's
/// root certificates for a verifier nothing would use (rustls' platform verifier reads every
/// file of the certificate directory, and there is one client per host: an apply over 1,000
/// NTLM hosts took 4.1 s of CPU with it, 1.6 s without). Redirects are off in winrm-rs, so no
/// request leaves the relay's URL.
fn to_relay(mut config: WinrmConfig, port: u16) -> WinrmConfig {
    config.port = port;
    config.use_tls = false;
    config.accept_invalid_certs = true;
    config
}

#[async_trait::async_trait]
impl Transport for WinrmTransport {
    fn host(&self) -> &str {
        &self.host
    }

    async fn run(&self, script: &Script, payload: &str) -> Result<ScriptOutput, RemoteError> {
        let ready = self.ready().await?;
        let prober = self.gate.admit().await?;
        // Held for every attempt (shell to close): one request in flight per Script.
        let _operation =
            self.operations.acquire().await.map_err(|_| {
                RemoteError::new(self.host.clone(), "the operations quota was closed")
            })?;
        let document = document(payload);
        let read_only = !script.stop_on_error;
        let started = std::time::Instant::now();
        let mut attempts = 1u32;
        let result = (|| self.attempt(ready, &document))
            .retry(self.policy.backoff())
            .sleep(tokio::time::sleep)
            .when(|f: &Failure| {
                f.transient && (!f.ran || read_only) && !retry::is_permanent(&f.message)
            })
            .adjust(|_, wait| self.policy.within_budget(started, wait))
            .notify(|f: &Failure, wait: Duration| {
                attempts += 1;
                tracing::info!(
                    target: "cmdeploy::retry",
                    host = %self.host,
                    stage = f.stage,
                    error = %f.message,
                    wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                    "retrying"
                );
            })
            .await;
        let stdout = match result {
            Ok(out) => out,
            Err(f) => {
                let (error, connection_level) = self.failed(&f, attempts, started.elapsed());
                if connection_level {
                    self.gate.dead(error.clone());
                } else if prober {
                    self.gate.give_up_probe();
                }
                return Err(error);
            }
        };
        let text = String::from_utf8_lossy(&stdout);
        let json = text
            .lines()
            .rev()
            .find(|l| l.trim_start().starts_with('{'))
            .unwrap_or("")
            .trim();
        serde_json::from_str(json).map_err(|e| {
            RemoteError::new(
                self.host.clone(),
                format!(
                    "the runner's output is not its JSON result document ({e}): {}",
                    text.chars().take(200).collect::<String>()
                ),
            )
        })
    }
}

/// Turns a CLIXML error stream (`#< CLIXML` + `<S S="Error">...</S>`) into plain text.
pub fn decode_clixml(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    if !text.trim_start().starts_with("#< CLIXML") {
        return text.trim().to_string();
    }
    let mut out = String::new();
    for part in text.split("<S S=\"Error\">").skip(1) {
        if let Some(body) = part.split("</S>").next() {
            out.push_str(body);
        }
    }
    let decoded = out
        .replace("_x000D_", "\r")
        .replace("_x000A_", "\n")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&");
    decoded.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clixml_errors_decode_to_text() {
        let clixml = b"#< CLIXML\r\n<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\"><S S=\"Error\">boom &amp; bust_x000D__x000A_</S></Objs>";
        assert_eq!(decode_clixml(clixml), "boom & bust");
        assert_eq!(decode_clixml(b"plain\r\n"), "plain");
    }

    #[test]
    fn a_client_of_a_relay_speaks_plain_http_to_loopback_whatever_the_connection_uses() {
        let https = WinrmConfig {
            port: 5986,
            use_tls: true,
            ..WinrmConfig::default()
        };
        let c = to_relay(https, 41234);
        assert!(!c.use_tls, "TLS is the relay's, never the client's");
        assert_eq!(c.port, 41234);
        let client = WinrmClient::new(c, WinrmCredentials::new("u", "p", "")).unwrap();
        drop(client);
    }

    #[test]
    fn the_bootstrap_command_line_stays_far_below_cmd_limits() {
        let encoded = winrm_rs::encode_powershell_command(BOOTSTRAP);
        let line = format!("powershell.exe -NoProfile -NonInteractive -EncodedCommand {encoded}");
        assert!(line.len() < 8191 / 4, "{} characters", line.len());
    }
}
