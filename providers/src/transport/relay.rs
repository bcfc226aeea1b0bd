//! A loopback relay that carries the `winrm` transport's requests to a WinRM service with NTLM,
//! Kerberos or a client certificate, one authenticated TCP connection per client connection.
//!
//! winrm-rs 1.1.2 (the newest release whose declared rust-version this toolchain meets) cannot
//! talk to a WinRM service configured as Windows ships it:
//! * in sealed mode its NTLM sends the first SOAP body *unencrypted* on the AUTHENTICATE
//!   request (`src/transport.rs` `send_ntlm_sealed` → `handshake_and_send`), which a service
//!   with `AllowUnencrypted=false` answers with HTTP 500 (diyan/pywinrm#129);
//! * it sends sealed requests through a shared connection pool, so the AUTHENTICATE or a sealed
//!   request can leave on another TCP connection than the one the context was made on, which a
//!   service binds NTLM to (winrm.md §2.1: 11 of 30 clients failed);
//! * its Kerberos (a C library through cross-krb5) has neither message encryption nor channel
//!   binding (windows-runtime.md §3);
//! * over HTTPS it verifies only against the public roots, so no private CA.
//!
//! So winrm-rs speaks Basic over plain HTTP to this relay on 127.0.0.1, with credentials made up
//! per relay (nothing else can use it), and the relay speaks to the service as Windows expects:
//! for each client connection it opens one connection ([`connect`]: TLS verified against the
//! connection's CA file or the public roots, presenting the client certificate with certificate
//! auth) and logs on with an empty body — NTLM ([`super::ntlm::handshake`]: NEGOTIATE →
//! CHALLENGE → AUTHENTICATE → 200, the channel binding in the proof) or Kerberos
//! ([`super::kerberos::handshake`]: AP-REQ → 200 with the AP-REP, the channel binding in the
//! authenticator) — then sends each request on that same connection, sealed ([MS-WSMV] 2.2.9.1)
//! over HTTP, plain inside TLS, and hands the unsealed answer back with the service's status.
//!
//! A handshake that fails is retried once on a fresh connection: it carried no body, so nothing
//! ran. A request already sent is never re-sent by the relay; the transport above decides, and it
//! re-runs only reads.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use zeroize::Zeroizing;

use super::kerberos::client::ClientContext;
use super::kerberos::KerberosCredentials;
use super::ntlm::keys;
use super::ntlm::seal::Session;
use super::ntlm::wsmv;
pub(crate) use super::upstream::{post, target, Sender};
pub use super::upstream::{NtlmCredentials, Refusal, Upstream};

/// The largest answer the relay reads from the service, in bytes (winrm-rs caps its own at
/// the envelope size; Receive answers are a few hundred KiB at most).
const MAX_ANSWER: usize = 64 * 1024 * 1024;

/// A failure the relay met, for the transport's error message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayFailure {
    /// What happened, naming the service's address and port.
    pub message: String,
    /// It happened before any request body was sent (connect, TLS or NTLM handshake).
    pub before_send: bool,
}

/// A running relay; stops when dropped.
pub struct AuthRelay {
    local: SocketAddr,
    basic: (String, Zeroizing<String>),
    last_error: Arc<Mutex<Option<RelayFailure>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for AuthRelay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// The `Authorization` value of certificate authentication ([MS-WSMV] 2.2.4.1 security
/// profiles: `wsman:secprofile/https/mutual`), sent with every request; the TLS client
/// certificate is the credential.
pub const CERTIFICATE_AUTHORIZATION: &str =
    "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual";

/// A TLS client certificate chain and its key, for certificate authentication.
#[derive(Clone)]
pub struct ClientIdentity {
    /// The client certificate, then any intermediates (DER).
    pub chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    /// The certificate's private key; kept in memory only.
    pub key: Arc<rustls::pki_types::PrivateKeyDer<'static>>,
}

impl ClientIdentity {
    /// Reads a PEM certificate file and a PEM key file (PKCS#8, PKCS#1 or SEC1).
    ///
    /// # Errors
    /// A message naming the file that cannot be read or holds no certificate or key.
    pub fn from_pem_files(
        cert: &std::path::Path,
        key: &std::path::Path,
    ) -> Result<ClientIdentity, String> {
        use rustls::pki_types::pem::PemObject;
        let chain: Vec<rustls::pki_types::CertificateDer<'static>> =
            rustls::pki_types::CertificateDer::pem_file_iter(cert)
                .map_err(|e| format!("cert_file {}: {e}", cert.display()))?
                .collect::<Result<_, _>>()
                .map_err(|e| format!("cert_file {}: {e}", cert.display()))?;
        if chain.is_empty() {
            return Err(format!("cert_file {} holds no certificate", cert.display()));
        }
        let key = rustls::pki_types::PrivateKeyDer::from_pem_file(key)
            .map_err(|e| format!("key_file {}: {e}", key.display()))?;
        Ok(ClientIdentity {
            chain,
            key: Arc::new(key),
        })
    }
}

/// How the relay logs on to the service.
#[derive(Clone)]
pub enum Logon {
    /// NTLMv2 under `Negotiate` ([`super::ntlm`]).
    Ntlm(NtlmCredentials),
    /// Kerberos under `Kerberos` ([`super::kerberos`]).
    Kerberos(KerberosCredentials),
    /// A TLS client certificate (HTTPS only), mapped to a user by the service.
    Certificate(ClientIdentity),
}

impl From<&NtlmCredentials> for Logon {
    fn from(c: &NtlmCredentials) -> Logon {
        Logon::Ntlm(c.clone())
    }
}

impl From<&KerberosCredentials> for Logon {
    fn from(c: &KerberosCredentials) -> Logon {
        Logon::Kerberos(c.clone())
    }
}

/// The sealing context of a connection over HTTP.
enum Sealing {
    Ntlm(Box<Session>),
    Kerberos(Box<ClientContext>),
}

impl Sealing {
    fn wrap(&mut self, body: &[u8]) -> Result<(&'static str, Vec<u8>), String> {
        match self {
            Sealing::Ntlm(s) => Ok((wsmv::CONTENT_TYPE, wsmv::wrap(s, body))),
            Sealing::Kerberos(c) => Ok((wsmv::KERBEROS_CONTENT_TYPE, c.wrap(body)?)),
        }
    }

    fn unwrap(&mut self, body: &[u8]) -> Result<Vec<u8>, String> {
        match self {
            Sealing::Ntlm(s) => wsmv::unwrap(s, body).map_err(|e| e.to_string()),
            Sealing::Kerberos(c) => c.unwrap(body),
        }
    }
}

/// One TCP (or TLS) connection to a WinRM service, authenticated with NTLM or Kerberos: what the
/// relay keeps per client connection, and what tests use to speak to `lab serve` as Windows
/// clients do.
pub struct RelayConnection {
    sender: Sender,
    /// The sealing context over HTTP; `None` inside TLS.
    session: Option<Sealing>,
    /// Sent with every request (certificate authentication).
    authorization: Option<&'static str>,
    upstream: Upstream,
}

struct Shared {
    upstream: Upstream,
    logon: Logon,
    expected_basic: String,
    last_error: Arc<Mutex<Option<RelayFailure>>>,
}

impl Shared {
    fn record(&self, message: String, before_send: bool) {
        if let Ok(mut g) = self.last_error.lock() {
            *g = Some(RelayFailure {
                message,
                before_send,
            });
        }
    }
}

impl AuthRelay {
    /// Starts a relay to `upstream` that logs on as `logon` says.
    ///
    /// # Errors
    /// When the loopback listener cannot be bound.
    pub async fn start(upstream: Upstream, logon: Logon) -> Result<AuthRelay, String> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("NTLM relay: {e}"))?;
        let local = listener.local_addr().map_err(|e| e.to_string())?;
        let user = "cmdeploy-relay".to_string();
        let password = Zeroizing::new(format!("{:032x}", rand::random::<u128>()));
        let expected_basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD
                .encode(format!("{user}:{}", password.as_str()))
        );
        let last_error = Arc::new(Mutex::new(None));
        let shared = Arc::new(Shared {
            upstream,
            logon,
            expected_basic,
            last_error: last_error.clone(),
        });
        let task = tokio::spawn(async move {
            loop {
                let Ok((inbound, _)) = listener.accept().await else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let _ = inbound.set_nodelay(true);
                let shared = shared.clone();
                tokio::spawn(async move {
                    let channel: Arc<tokio::sync::Mutex<Option<RelayConnection>>> = Arc::default();
                    let service = hyper::service::service_fn(move |req| {
                        let shared = shared.clone();
                        let channel = channel.clone();
                        async move {
                            Ok::<_, std::convert::Infallible>(relay(&shared, &channel, req).await)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .keep_alive(true)
                        .serve_connection(TokioIo::new(inbound), service)
                        .await;
                });
            }
        });
        Ok(AuthRelay {
            local,
            basic: (user, password),
            last_error,
            task,
        })
    }

    /// The loopback port winrm-rs connects to.
    pub fn port(&self) -> u16 {
        self.local.port()
    }

    /// The Basic user name and password winrm-rs must send to the relay.
    pub fn basic_credentials(&self) -> (&str, &str) {
        (&self.basic.0, self.basic.1.as_str())
    }

    /// The last failure, if any (taken: reported once).
    pub fn take_error(&self) -> Option<RelayFailure> {
        self.last_error.lock().ok().and_then(|mut g| g.take())
    }
}

fn answer(status: StatusCode, body: Bytes) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/soap+xml;charset=UTF-8"),
    );
    r
}

/// Relays one request of winrm-rs.
async fn relay(
    shared: &Shared,
    channel: &tokio::sync::Mutex<Option<RelayConnection>>,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let authorized = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .is_some_and(|v| keys::same(v.as_bytes(), shared.expected_basic.as_bytes()));
    if !authorized {
        return answer(StatusCode::UNAUTHORIZED, Bytes::new());
    }
    // winrm-rs sends envelopes of at most its MaxEnvelopeSize (150 KiB); bound what is read anyway.
    let Ok(body) = http_body_util::Limited::new(req.into_body(), MAX_ANSWER)
        .collect()
        .await
        .map(|c| c.to_bytes())
    else {
        return answer(StatusCode::BAD_REQUEST, Bytes::new());
    };
    let mut guard = channel.lock().await;
    // A channel the service closed while idle is replaced before anything is sent on it.
    if let Some(c) = guard.as_mut() {
        if c.sender.ready().await.is_err() {
            *guard = None;
        }
    }
    if guard.is_none() {
        match establish_with_retry(&shared.upstream, &shared.logon).await {
            Ok(c) => *guard = Some(c),
            Err(Refusal::Credentials) => return answer(StatusCode::UNAUTHORIZED, Bytes::new()),
            Err(Refusal::Kerberos(message)) => {
                shared.record(message, true);
                return answer(StatusCode::UNAUTHORIZED, Bytes::new());
            }
            Err(Refusal::Other(message)) => {
                shared.record(message.clone(), true);
                return answer(StatusCode::BAD_GATEWAY, Bytes::from(message));
            }
        }
    }
    let Some(c) = guard.as_mut() else {
        return answer(StatusCode::BAD_GATEWAY, Bytes::new());
    };
    match c.send(&body).await {
        Ok((status, plain)) => answer(status, plain),
        Err(message) => {
            *guard = None;
            shared.record(message.clone(), false);
            answer(StatusCode::BAD_GATEWAY, Bytes::from(message))
        }
    }
}

impl RelayConnection {
    /// Connects and logs on, trying once more on a fresh connection when the handshake fails
    /// for another reason than refused credentials (it carried no body: nothing ran).
    ///
    /// # Errors
    /// [`Refusal`].
    pub async fn open(
        upstream: &Upstream,
        logon: impl Into<Logon>,
    ) -> Result<RelayConnection, Refusal> {
        establish_with_retry(upstream, &logon.into()).await
    }

    /// Sends one SOAP body (sealed over HTTP, plain inside TLS) and returns the status and the
    /// unsealed answer.
    ///
    /// # Errors
    /// A message naming the service when the connection fails or the answer does not unseal.
    pub async fn send(&mut self, body: &[u8]) -> Result<(StatusCode, Bytes), String> {
        let (content_type, payload) = match self.session.as_mut() {
            Some(session) => session.wrap(body)?,
            None => ("application/soap+xml;charset=UTF-8", body.to_vec()),
        };
        self.exchange(content_type, payload).await
    }

    /// Sends one SOAP body without sealing, as a client that ignores `AllowUnencrypted` does
    /// (for tests of the service's refusal).
    ///
    /// # Errors
    /// As [`RelayConnection::send`].
    pub async fn send_unsealed(&mut self, body: &[u8]) -> Result<(StatusCode, Bytes), String> {
        self.exchange("application/soap+xml;charset=UTF-8", body.to_vec())
            .await
    }

    async fn exchange(
        &mut self,
        content_type: &str,
        payload: Vec<u8>,
    ) -> Result<(StatusCode, Bytes), String> {
        let req = post(&self.upstream, content_type, self.authorization, payload)?;
        let where_ = target(&self.upstream);
        let resp = self
            .sender
            .send_request(req)
            .await
            .map_err(|e| format!("{where_}: {}", with_causes(&e)))?;
        let status = resp.status();
        let encrypted = resp
            .headers()
            .get(hyper::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(wsmv::is_encrypted);
        let bytes = http_body_util::Limited::new(resp.into_body(), MAX_ANSWER)
            .collect()
            .await
            .map_err(|e| format!("{where_}: reading the answer: {e}"))?
            .to_bytes();
        if !encrypted {
            return Ok((status, bytes));
        }
        let session = self
            .session
            .as_mut()
            .ok_or_else(|| format!("{where_}: an encrypted answer inside TLS"))?;
        let plain = session
            .unwrap(&bytes)
            .map_err(|e| format!("{where_}: {e}"))?;
        Ok((status, Bytes::from(plain)))
    }
}

/// An error and its causes (hyper's "connection error" hides a TLS alert such as a refused
/// client certificate).
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(&format!(": {more}"));
        }
        source = cause.source();
    }
    text
}

/// Establishes a channel; a failure other than refused credentials is tried once more on a
/// fresh connection (the handshake carries no body: nothing ran).
async fn establish_with_retry(u: &Upstream, logon: &Logon) -> Result<RelayConnection, Refusal> {
    match establish(u, logon).await {
        Err(Refusal::Other(_)) => establish(u, logon).await,
        other => other,
    }
}

/// Connects (TLS when configured, verified against the upstream's roots) and returns the HTTP
/// sender and, over TLS, the service's leaf certificate (for the channel binding).
///
/// # Errors
/// [`Refusal::Other`] naming the address: connect, TLS or HTTP handshake failures.
pub(crate) async fn connect(
    u: &Upstream,
    identity: Option<&ClientIdentity>,
) -> Result<(Sender, Option<Vec<u8>>), Refusal> {
    let where_ = target(u);
    let other = |m: String| Refusal::Other(m);
    let tcp = tokio::time::timeout(
        u.connect_timeout,
        TcpStream::connect((u.address.as_str(), u.port)),
    )
    .await
    .map_err(|_| other(format!("connect to {where_}: timed out")))?
    .map_err(|e| other(format!("connect to {where_}: {e}")))?;
    let _ = tcp.set_nodelay(true);
    let (io, leaf): (Box<dyn Io>, Option<Vec<u8>>) = match &u.tls {
        Some(roots) => {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let builder = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| other(e.to_string()))?
                .with_root_certificates(roots.clone());
            let config = match identity {
                Some(id) => builder
                    .with_client_auth_cert(id.chain.clone(), id.key.clone_key())
                    .map_err(|e| other(format!("the client certificate: {e}")))?,
                None => builder.with_no_client_auth(),
            };
            let name = ServerName::try_from(u.host.clone())
                .map_err(|e| other(format!("invalid TLS server name `{}`: {e}", u.host)))?;
            let tls = tokio::time::timeout(
                u.connect_timeout,
                tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp),
            )
            .await
            .map_err(|_| other(format!("TLS handshake with {where_}: timed out")))?
            .map_err(|e| other(format!("TLS handshake with {where_}: {e}")))?;
            let leaf = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|c| c.first())
                .map(|leaf| leaf.to_vec());
            (Box::new(tls), leaf)
        }
        None => (Box::new(tcp), None),
    };
    let (sender, conn) = hyper::client::conn::http1::handshake::<_, Full<Bytes>>(TokioIo::new(io))
        .await
        .map_err(|e| other(format!("{where_}: {e}")))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok((sender, leaf))
}

/// Connects and logs on with the connection's mechanism.
async fn establish(u: &Upstream, logon: &Logon) -> Result<RelayConnection, Refusal> {
    let identity = match logon {
        Logon::Certificate(id) => Some(id),
        _ => None,
    };
    let (mut sender, leaf) = connect(u, identity).await?;
    let session = match logon {
        Logon::Certificate(_) if u.tls.is_none() => {
            return Err(Refusal::Other(
                "certificate authentication needs HTTPS".to_string(),
            ))
        }
        Logon::Certificate(_) => None,
        Logon::Ntlm(creds) => super::ntlm::handshake::run(&mut sender, u, creds, leaf.as_deref())
            .await?
            .map(|s| Sealing::Ntlm(Box::new(s))),
        Logon::Kerberos(creds) => {
            super::kerberos::handshake::run(&mut sender, u, creds, leaf.as_deref())
                .await?
                .map(|c| Sealing::Kerberos(Box::new(c)))
        }
    };
    Ok(RelayConnection {
        sender,
        session,
        authorization: identity.map(|_| CERTIFICATE_AUTHORIZATION),
        upstream: u.clone(),
    })
}
