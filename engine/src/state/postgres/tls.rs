//! TLS to the PostgreSQL state database, with rustls (tokio-postgres-rustls).
//!
//! The URL's `sslmode` decides: `disable` never encrypts; `require` always does and verifies the
//! server's certificate and name against `[state] ca_file` (PEM, the CA that signed it) or the
//! public web roots — stricter than libpq's `require`, like its `verify-full`; `prefer` (the
//! default) encrypts and verifies when a `ca_file` is given and the server offers TLS, else it
//! connects in plain text as before. The URL, with its password, goes only over such a
//! connection.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use tokio_postgres::config::SslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

/// How connections are made.
#[derive(Clone)]
pub enum Tls {
    /// Plain TCP (`sslmode=disable`, or `prefer` without a CA file).
    Off,
    /// TLS with the server's certificate verified.
    Verified(MakeRustlsConnect),
}

impl Tls {
    /// The TLS setting for `mode` and an optional CA file.
    ///
    /// # Errors
    /// The CA file cannot be read or holds no PEM certificate (message names the file).
    pub fn for_mode(mode: SslMode, ca_file: Option<&Path>) -> Result<Tls, String> {
        let verify = match mode {
            SslMode::Disable => false,
            SslMode::Require => true,
            _ => ca_file.is_some(),
        };
        if !verify {
            return Ok(Tls::Off);
        }
        let mut roots = rustls::RootCertStore::empty();
        match ca_file {
            Some(path) => {
                let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                    .and_then(|it| it.collect::<Result<_, _>>())
                    .map_err(|e| format!("cannot read [state] ca_file {}: {e}", path.display()))?;
                if certs.is_empty() {
                    return Err(format!(
                        "[state] ca_file {} holds no PEM certificate",
                        path.display()
                    ));
                }
                for c in certs {
                    roots.add(c).map_err(|e| {
                        format!(
                            "[state] ca_file {}: unusable certificate: {e}",
                            path.display()
                        )
                    })?;
                }
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        Ok(Tls::Verified(MakeRustlsConnect::new(config)))
    }
}
