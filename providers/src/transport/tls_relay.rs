//! A loopback TLS relay for the `winrm` transport.
//!
//! winrm-rs 1.1.2 (the newest release whose declared rust-version this toolchain meets) verifies
//! HTTPS servers only against the compiled-in public roots, so a site's own CA cannot be trusted
//! through it. The relay closes that gap without turning verification off: winrm-rs speaks HTTP to
//! a listener on 127.0.0.1 that only this process uses, and the relay carries each connection to
//! the real endpoint over TLS verified with rustls — against the connection's `ca_file` when given,
//! else the public roots — for the connection's host name. The last TLS failure is kept so the
//! transport can report why a connection broke.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsConnector;

/// A running relay; stops when dropped.
pub struct TlsRelay {
    local: SocketAddr,
    last_error: Arc<Mutex<Option<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TlsRelay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The trust roots for a connection: the PEM certificates of `ca_file`, or the public roots.
///
/// # Errors
/// A message when the file cannot be read or holds no certificate.
pub fn roots(ca_file: Option<&Path>) -> Result<rustls::RootCertStore, String> {
    let mut store = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("CA file {}: {e}", path.display()))?
                .collect::<Result<_, _>>()
                .map_err(|e| format!("CA file {}: {e}", path.display()))?;
            if certs.is_empty() {
                return Err(format!("CA file {} holds no certificate", path.display()));
            }
            for c in certs {
                store
                    .add(c)
                    .map_err(|e| format!("CA file {}: {e}", path.display()))?;
            }
        }
        None => store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    Ok(store)
}

impl TlsRelay {
    /// Starts a relay to `target` (address and port), verifying the server as `server_name`.
    ///
    /// # Errors
    /// When the loopback listener cannot be bound or the server name is invalid.
    pub async fn start(
        target: (String, u16),
        server_name: &str,
        roots: rustls::RootCertStore,
    ) -> Result<TlsRelay, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = TlsConnector::from(Arc::new(config));
        let name = ServerName::try_from(server_name.to_string())
            .map_err(|e| format!("invalid TLS server name `{server_name}`: {e}"))?;
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("TLS relay: {e}"))?;
        let local = listener.local_addr().map_err(|e| e.to_string())?;
        let last_error = Arc::new(Mutex::new(None));
        let errors = last_error.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                let connector = connector.clone();
                let name = name.clone();
                let target = target.clone();
                let errors = errors.clone();
                tokio::spawn(async move {
                    let record = |e: String| {
                        if let Ok(mut g) = errors.lock() {
                            *g = Some(e);
                        }
                    };
                    let tcp = match TcpStream::connect((target.0.as_str(), target.1)).await {
                        Ok(t) => t,
                        Err(e) => {
                            return record(format!("connect to {}:{}: {e}", target.0, target.1))
                        }
                    };
                    let mut tls = match connector.connect(name, tcp).await {
                        Ok(t) => t,
                        Err(e) => {
                            return record(format!(
                                "TLS handshake with {}:{}: {e}",
                                target.0, target.1
                            ))
                        }
                    };
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut tls).await;
                });
            }
        });
        Ok(TlsRelay {
            local,
            last_error,
            task,
        })
    }

    /// The loopback port winrm-rs connects to.
    pub fn port(&self) -> u16 {
        self.local.port()
    }

    /// The last connect or TLS failure, if any (taken: reported once).
    pub fn take_error(&self) -> Option<String> {
        self.last_error.lock().ok().and_then(|mut g| g.take())
    }
}
