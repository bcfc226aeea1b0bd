//! HTTPS for `lab serve`: a throwaway certificate authority and one leaf certificate, made with
//! rcgen at start-up, served with rustls (ring provider).
//!
//! The leaf's subject alternative names are `127.0.0.1`, `::1`, `localhost` and every host of
//! the lab estate by FQDN and short name, so a client that connects to 127.0.0.1 but verifies
//! the server name `cm01.contoso.com` against the CA succeeds, as it would against a real
//! site server enrolled in the domain's PKI. Only the CA certificate is written to disk (for
//! clients to trust); the keys live in memory for the life of the process.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::model::{short, Estate};

/// The certificates of one `lab serve` run.
pub struct ServerCertificates {
    /// The CA certificate, PEM: what clients add to their trust roots.
    pub ca_pem: String,
    /// The leaf certificate chain (leaf, then CA), DER.
    pub chain: Vec<CertificateDer<'static>>,
    /// The leaf's private key, PKCS#8 DER.
    key: PrivatePkcs8KeyDer<'static>,
    /// The names the leaf certifies.
    pub names: Vec<String>,
}

/// The names a leaf certificate must carry for `estate`: loopback addresses, `localhost`, and
/// each host's FQDN and short name (lower case, without duplicates, in estate order).
pub fn subject_names(estate: &Estate) -> Vec<String> {
    let mut names: Vec<String> = vec!["127.0.0.1".into(), "::1".into(), "localhost".into()];
    let fqdns = estate
        .hosts
        .iter()
        .map(|h| h.fqdn.clone())
        .chain(estate.sites.iter().map(|s| s.server.clone()));
    for fqdn in fqdns {
        for name in [fqdn.to_ascii_lowercase(), short(&fqdn).to_ascii_lowercase()] {
            if is_dns_name(&name) && !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names
}

/// A name rcgen and rustls will accept as a DNS SAN (letters, digits, `-`, `.`).
fn is_dns_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// Generates a CA ("cmdeploy lab CA") and a leaf for `names`, signed by it.
///
/// # Errors
/// rcgen's message when a name or a key cannot be used.
pub fn generate(names: Vec<String>) -> Result<ServerCertificates, String> {
    let err = |e: rcgen::Error| format!("cannot make the lab certificates: {e}");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name = DistinguishedName::new();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "cmdeploy lab CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca =
        CertifiedIssuer::self_signed(ca_params, KeyPair::generate().map_err(err)?).map_err(err)?;

    let mut leaf_params = CertificateParams::new(names.clone()).map_err(err)?;
    leaf_params.distinguished_name = DistinguishedName::new();
    leaf_params.distinguished_name.push(
        DnType::CommonName,
        names.get(3).cloned().unwrap_or_else(|| "localhost".into()),
    );
    leaf_params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf_params.use_authority_key_identifier_extension = true;
    let leaf_key = KeyPair::generate().map_err(err)?;
    let leaf = leaf_params.signed_by(&leaf_key, &ca).map_err(err)?;
    Ok(ServerCertificates {
        ca_pem: ca.pem(),
        chain: vec![leaf.der().clone(), ca.der().clone()],
        key: PrivatePkcs8KeyDer::from(leaf_key.serialize_der()),
        names,
    })
}

/// A rustls server configuration (ring provider, TLS 1.2 and 1.3, HTTP/1.1 by ALPN) for `certs`;
/// with `clients`, client certificates are asked for and verified ([`super::certmap`]).
///
/// # Errors
/// rustls's message when the key or the chain is refused.
pub fn server_config(
    certs: &ServerCertificates,
    clients: Option<Arc<dyn rustls::server::danger::ClientCertVerifier>>,
) -> Result<Arc<rustls::ServerConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?;
    let builder = match clients {
        Some(v) => builder.with_client_cert_verifier(v),
        None => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(
            certs.chain.clone(),
            PrivateKeyDer::Pkcs8(certs.key.clone_key()),
        )
        .map_err(|e| format!("TLS: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
