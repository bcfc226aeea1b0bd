//! `cmdeploy lab serve`: the lab behind a real WS-Management (WinRS) endpoint on loopback.
//!
//! It answers as a WinRM service configured as Windows ships it ([`config`]): Negotiate (NTLMv2,
//! verified against the lab users' NT hashes) and, with a keytab, Kerberos, each with MS-WSMV
//! message encryption over HTTP, or over
//! HTTPS with `--https`; Basic refused unless switched on; per-user shell quotas, an idle
//! timeout, the envelope size limit, and the OEM code page of a WinRS shell ([`codepage`]). Any
//! WinRM client (cmdeploy's own transport, pywinrm, pypsrp's WinRS layer) can talk to it as one of
//! the lab's domain users. It implements the cmd-shell resource only (Create, Command, Send,
//! Receive, Signal, Delete), which is what `powershell.exe -EncodedCommand` needs; PSRP is out of
//! scope.
//!
//! * [`soap`] reads requests, [`response`] writes them, over a small tree ([`xml`]);
//! * [`shells`] keeps shell and command state, [`program`] decides what a command line runs:
//!   cmdeploy's bootstrap (the stdin document goes to [`Lab::run_document`]) or one console
//!   statement ([`Lab::console`]);
//! * [`negotiate`] runs the NTLM acceptor of a connection, [`kerberos`] the Kerberos acceptor
//!   (with `--keytab`), [`auth`] checks Basic credentials,
//!   [`tls`] makes the certificates, [`faults`] holds the WS-Man faults and the injected ones;
//! * [`handler`] answers one HTTP request; [`serve`] runs the listener.
//!
//! Which lab host a shell acts as: the Create request's `CMDEPLOY_HOST` environment variable
//! (cmdeploy's transport sets it to the connection's host), else [`ServeOptions::default_host`],
//! else the first site's server.

pub mod auth;
pub mod certmap;
pub mod codepage;
pub mod config;
pub mod faults;
pub mod handler;
pub mod kerberos;
pub mod negotiate;
pub mod program;
mod reply;
pub mod response;
pub mod shells;
pub mod soap;
pub mod spnego;
pub mod tls;
pub mod xml;

#[cfg(test)]
mod tests;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;

use super::cost::CostModel;
use super::Lab;
pub use config::ServiceConfig;
use faults::FaultInjection;
use handler::Conn;
use negotiate::{ConnectionAuth, ServerNames};
use shells::{Limits, Shells};

/// File name of the CA certificate written under the lab directory with `--https`.
pub const CA_FILE: &str = "serve-ca.pem";

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Where to listen; must be a loopback address (127.0.0.0/8 or ::1). Port 0 picks one.
    pub listen: SocketAddr,
    /// Serve HTTPS with a generated CA and leaf certificate.
    pub https: bool,
    /// Injected latency and failures.
    pub faults: FaultInjection,
    /// What each Script and each cmdlet costs ([`super::cost`]); zero by default.
    pub cost: CostModel,
    /// The host a shell acts as when its Create names none (FQDN); default: the first site's
    /// server.
    pub default_host: Option<String>,
    /// The WinRM service configuration (Windows' defaults unless changed).
    pub service: ServiceConfig,
    /// A keytab with the `HTTP/<host>` keys of the lab's hosts: the service then accepts
    /// Kerberos, as a domain member does ([`kerberos`]). Without one, only Negotiate (NTLM).
    pub keytab: Option<PathBuf>,
    /// With `https`: the CA (PEM) whose client certificates the service maps to users by the
    /// UPN in their Subject Alternative Name, as `Certificate=true` with a client-certificate
    /// mapping does ([`certmap`]). Without one, certificate authentication is refused
    /// (Windows' default `Certificate=false`).
    pub client_ca: Option<PathBuf>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 5985)),
            https: false,
            faults: FaultInjection::default(),
            cost: CostModel::default(),
            default_host: None,
            service: ServiceConfig::default(),
            keytab: None,
            client_ca: None,
        }
    }
}

/// Where the server listens, reported once it accepts connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listening {
    /// The bound address (with the real port).
    pub addr: SocketAddr,
    /// The endpoint URL, `http(s)://ADDR/wsman`.
    pub url: String,
    /// With HTTPS: the CA certificate (PEM) clients should trust.
    pub ca_file: Option<PathBuf>,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The listen address is not loopback.
    #[error("refusing to listen on {0}: `lab serve` only listens on loopback (127.0.0.0/8 or ::1), it is a test endpoint with lab credentials")]
    NotLoopback(SocketAddr),
    /// An option is out of range.
    #[error("{0}")]
    Options(String),
    /// The lab cannot be read.
    #[error(transparent)]
    Lab(#[from] super::LabError),
    /// The address cannot be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// Certificates or TLS configuration.
    #[error("{0}")]
    Tls(String),
}

/// Shared state of a running server.
pub struct Server {
    lab: Lab,
    shells: Shells,
    faults: FaultInjection,
    cost: CostModel,
    default_host: String,
    address: String,
    config: ServiceConfig,
    names: ServerNames,
    kerberos: Option<kerberos::ServiceKeys>,
    /// Requests being processed, per user (MaxConcurrentOperationsPerUser).
    operations: std::sync::Mutex<std::collections::HashMap<String, usize>>,
}

/// One request counted against its user's MaxConcurrentOperationsPerUser; uncounted on drop.
pub struct Operation<'a> {
    server: &'a Server,
    user: String,
}

impl Server {
    /// Counts a request of `user`; `None` when the user is at the quota already.
    pub fn begin_operation(&self, user: &str) -> Option<Operation<'_>> {
        let mut ops = self.operations.lock().unwrap_or_else(|p| p.into_inner());
        let n = ops.entry(user.to_string()).or_insert(0);
        if *n >= self.config.max_concurrent_operations_per_user {
            return None;
        }
        *n += 1;
        Some(Operation {
            server: self,
            user: user.to_string(),
        })
    }
}

impl Drop for Operation<'_> {
    fn drop(&mut self) {
        let mut ops = self
            .server
            .operations
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(n) = ops.get_mut(&self.user) {
            *n = n.saturating_sub(1);
        }
    }
}

/// Serves the lab until `shutdown` completes. `ready` is called once, when the listener is
/// bound (and the CA file written, with HTTPS).
///
/// # Errors
/// [`ServeError`] when the options are invalid or the server cannot start; once serving,
/// connection errors only end that connection.
pub async fn serve(
    lab: Lab,
    opts: ServeOptions,
    shutdown: impl Future<Output = ()>,
    ready: impl FnOnce(&Listening),
) -> Result<(), ServeError> {
    if !opts.listen.ip().is_loopback() {
        return Err(ServeError::NotLoopback(opts.listen));
    }
    opts.faults.validate().map_err(ServeError::Options)?;
    opts.service.validate().map_err(ServeError::Options)?;
    let snapshot = lab.clone();
    let estate = tokio::task::spawn_blocking(move || snapshot.snapshot())
        .await
        .map_err(|e| ServeError::Options(format!("the lab failed to load: {e}")))??;
    let default_host = match &opts.default_host {
        Some(h) if estate.host(h).is_some() || estate.site_of_server(h).is_some() => h.clone(),
        Some(h) => {
            return Err(ServeError::Options(format!(
                "--default-host {h}: no such host in the lab estate"
            )))
        }
        None => estate
            .sites
            .first()
            .map(|s| s.server.clone())
            .or_else(|| estate.hosts.first().map(|h| h.fqdn.clone()))
            .ok_or_else(|| {
                ServeError::Options("the lab estate has no site and no host to act as".into())
            })?,
    };
    let names = server_names(&estate, &default_host);
    let service_keys = match &opts.keytab {
        Some(path) => Some(kerberos::ServiceKeys::load(path).map_err(ServeError::Options)?),
        None => None,
    };
    let mut ca_file = None;
    let mut binding = None;
    let acceptor = if opts.https {
        let certs = tls::generate(tls::subject_names(&estate)).map_err(ServeError::Tls)?;
        let path = lab.dir().join(CA_FILE);
        std::fs::create_dir_all(lab.dir())
            .and_then(|()| std::fs::write(&path, &certs.ca_pem))
            .map_err(|e| ServeError::Tls(format!("cannot write {}: {e}", path.display())))?;
        ca_file = Some(path);
        binding = certs
            .chain
            .first()
            .map(|leaf| cmdeploy_providers::transport::ntlm::keys::channel_binding_hash(leaf));
        let clients = match &opts.client_ca {
            Some(ca) => Some(certmap::client_verifier(ca).map_err(ServeError::Options)?),
            None => None,
        };
        Some(tokio_rustls::TlsAcceptor::from(
            tls::server_config(&certs, clients).map_err(ServeError::Tls)?,
        ))
    } else {
        if opts.client_ca.is_some() {
            return Err(ServeError::Options(
                "--client-ca needs --https: certificate authentication is TLS client authentication".into(),
            ));
        }
        None
    };
    let listener = TcpListener::bind(opts.listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: opts.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Bind {
        addr: opts.listen,
        source,
    })?;
    let scheme = if opts.https { "https" } else { "http" };
    let url = format!("{scheme}://{addr}/wsman");
    let server = Arc::new(Server {
        lab,
        shells: Shells::new(Limits {
            per_user: opts.service.max_shells_per_user,
            idle: opts.service.idle_timeout,
        }),
        faults: opts.faults,
        cost: opts.cost,
        default_host,
        address: url.clone(),
        config: opts.service,
        names,
        kerberos: service_keys,
        operations: Default::default(),
    });
    ready(&Listening { addr, url, ca_file });
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            () = &mut shutdown => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(_) => {
                    // Out of descriptors or a reset during accept: pause, keep serving.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let server = server.clone();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            match acceptor {
                Some(acceptor) => {
                    let handshake =
                        tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream));
                    if let Ok(Ok(tls)) = handshake.await {
                        let upn = tls
                            .get_ref()
                            .1
                            .peer_certificates()
                            .and_then(|c| c.first())
                            .and_then(|leaf| certmap::upn(leaf));
                        connection(server, tls, binding, upn).await;
                    }
                }
                None => connection(server, stream, None, None).await,
            }
        });
    }
}

/// Serves HTTP/1.1 (keep-alive) on one connection until it closes; the connection has its own
/// Negotiate context (`binding`: the TLS channel-binding hash with HTTPS) and, with a verified
/// client certificate, that certificate's UPN.
async fn connection<S>(
    server: Arc<Server>,
    stream: S,
    binding: Option<[u8; 16]>,
    certificate: Option<String>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let conn = Arc::new(Conn {
        auth: ConnectionAuth::new(binding, server.config.cbt_strict),
        kerberos: kerberos::KerberosAuth::default(),
        binding,
        certificate,
        tls: binding.is_some(),
    });
    let service = service_fn(move |req| handler::handle(server.clone(), conn.clone(), req));
    let _ = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(60))
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

/// The names of the server in its NTLM CHALLENGE: the domain of `host` (else the first domain)
/// and the host itself.
fn server_names(estate: &super::model::Estate, host: &str) -> ServerNames {
    let short = host.split('.').next().unwrap_or(host).to_ascii_uppercase();
    let suffix = host.split_once('.').map(|(_, d)| d).unwrap_or("");
    let domain = estate
        .domains
        .iter()
        .find(|d| d.name.eq_ignore_ascii_case(suffix))
        .or_else(|| estate.domains.first());
    ServerNames {
        netbios_domain: domain
            .map(|d| d.netbios.clone())
            .unwrap_or_else(|| "WORKGROUP".into()),
        dns_domain: domain.map(|d| d.name.clone()).unwrap_or_default(),
        netbios_computer: short,
        dns_computer: host.to_string(),
    }
}
