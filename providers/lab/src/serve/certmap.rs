//! Certificate authentication, as a WinRM service does it once `winrm set
//! winrm/config/service/auth @{Certificate="true"}` and a client-certificate mapping exist
//! (MicrosoftDocs win32 `authentication-for-remote-connections.md`; ansible
//! `windows_winrm.rst` "Certificate"): over HTTPS only, the client presents a TLS certificate
//! issued by the mapping's CA with the Client Authentication usage and its user's UPN in the
//! Subject Alternative Name (otherName 1.3.6.1.4.1.311.20.2.3), and sends
//! `Authorization: http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual`.
//!
//! `lab serve --https --client-ca FILE` models it: FILE is the issuer of the mapping, the UPN
//! names a lab user. (Windows maps certificates to local accounts only; the lab maps the UPN to
//! its domain user, since its estate has no local accounts.)

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::server::danger::ClientCertVerifier;
use rustls::server::WebPkiClientVerifier;

/// The `Authorization` value of certificate authentication.
pub use cmdeploy_providers::transport::relay::CERTIFICATE_AUTHORIZATION as MUTUAL;

/// The OID of the Microsoft UPN otherName.
const UPN_OID: &str = "1.3.6.1.4.1.311.20.2.3";

/// A verifier that accepts clients with a certificate from `ca_file`'s CAs and clients without
/// one (they log on with Negotiate or Kerberos inside TLS); a certificate from another issuer,
/// or without the Client Authentication usage, fails the TLS handshake.
///
/// # Errors
/// A message naming the file.
pub fn client_verifier(ca_file: &Path) -> Result<Arc<dyn ClientCertVerifier>, String> {
    let name = ca_file.display();
    let mut roots = rustls::RootCertStore::empty();
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(ca_file)
        .map_err(|e| format!("--client-ca {name}: {e}"))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("--client-ca {name}: {e}"))?;
    if certs.is_empty() {
        return Err(format!("--client-ca {name}: holds no certificate"));
    }
    for c in certs {
        roots
            .add(c)
            .map_err(|e| format!("--client-ca {name}: {e}"))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
        .allow_unauthenticated()
        .build()
        .map_err(|e| format!("--client-ca {name}: {e}"))
}

/// The lab user a request with the mutual security profile logs on as: `upn`, the UPN of the
/// connection's verified client certificate (the caller passes it over HTTPS only); `None`
/// (answer 401) without one, or when no lab user has that UPN.
pub(super) async fn logon(server: &Arc<super::Server>, upn: Option<String>) -> Option<String> {
    let upn = upn?;
    let lab = server.lab.clone();
    tokio::task::spawn_blocking(move || {
        lab.read(|estate| super::auth::find_user(estate, &upn).map(|u| u.name.clone()))
            .ok()
            .flatten()
    })
    .await
    .ok()
    .flatten()
}

/// Reads a DER length at `at`; returns it and where the content starts.
fn der_length(bytes: &[u8], at: usize) -> Option<(usize, usize)> {
    let first = *bytes.get(at)?;
    if first < 0x80 {
        return Some((usize::from(first), at + 1));
    }
    let n = usize::from(first & 0x7f);
    if n == 0 || n > 4 {
        return None;
    }
    let len = bytes
        .get(at + 1..at + 1 + n)?
        .iter()
        .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
    Some((len, at + 1 + n))
}

/// The UPN a client certificate names in its Subject Alternative Name, if any.
pub fn upn(leaf_der: &[u8]) -> Option<String> {
    use x509_parser::extensions::GeneralName;
    let (_, cert) = x509_parser::parse_x509_certificate(leaf_der).ok()?;
    let san = cert.subject_alternative_name().ok()??;
    san.value.general_names.iter().find_map(|name| {
        let GeneralName::OtherName(oid, value) = name else {
            return None;
        };
        if oid.to_id_string() != UPN_OID {
            return None;
        }
        // value = [0] EXPLICIT UTF8String (x509-parser hands over the tagged bytes).
        let mut at = 0;
        if value.first() == Some(&0xa0) {
            at = der_length(value, 1)?.1;
        }
        if value.get(at) != Some(&0x0c) {
            return None;
        }
        let (len, start) = der_length(value, at + 1)?;
        String::from_utf8(value.get(start..start + len)?.to_vec()).ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, KeyPair, OtherNameValue, SanType};

    #[test]
    fn the_upn_is_read_from_the_subject_alternative_name() {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.subject_alt_names = vec![SanType::OtherName((
            vec![1, 3, 6, 1, 4, 1, 311, 20, 2, 3],
            OtherNameValue::Utf8String("cmadmin@contoso.com".into()),
        ))];
        let cert = params.self_signed(&KeyPair::generate().unwrap()).unwrap();
        assert_eq!(upn(cert.der()).as_deref(), Some("cmadmin@contoso.com"));
        let plain = CertificateParams::new(vec!["cm01.contoso.com".to_string()])
            .unwrap()
            .self_signed(&KeyPair::generate().unwrap())
            .unwrap();
        assert_eq!(upn(plain.der()), None);
        assert_eq!(upn(b"not a certificate"), None);
    }
}
