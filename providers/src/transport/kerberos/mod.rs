//! Kerberos as WinRM uses it, for both sides: the `winrm` transport's relay logs on as a client
//! (a password → AS and TGS exchanges with the realm's KDC → an AP-REQ for `HTTP/<host>`), and
//! `cmdeploy lab serve` accepts with the service key of its keytab.
//!
//! The mechanism is the pure-Rust `sspi` crate (Devolutions): no MIT headers, no libclang, no C
//! toolchain, so cmdeploy builds the same on a fresh Linux machine and for Windows. Its wrap
//! tokens are Windows' own layout ([MS-KILE] 3.4.5.4.1: RFC 4121 wrap token with RRC 28, the
//! header part first), which is what [MS-WSMV] 2.2.9.1.2 frames as
//! `application/HTTP-Kerberos-session-encrypted` ([`seal`]).
//!
//! * [`client`] runs the initiator: tickets, the AP-REQ (with the TLS channel binding over
//!   HTTPS), the AP-REP check;
//! * [`kdc`] carries the initiator's KDC messages over TCP (RFC 4120 §7.2.2);
//! * [`keytab`] reads MIT keytab files (the acceptor's service keys);
//! * [`seal`] seals and opens SOAP bodies with an established context.
//!
//! The KDC of a realm comes from `KRB5_CONFIG` (`[realms] REALM = { kdc = host:port }`, default
//! `/etc/krb5.conf`), or `SSPI_KDC_URL` (`tcp://host:88`), as MIT's tools read them. Passwords
//! and keys live in memory only and are never printed.

pub mod client;
pub mod handshake;
pub mod kdc;
pub mod keytab;
pub mod seal;

/// Who to log on as with Kerberos.
#[derive(Clone)]
pub struct KerberosCredentials {
    /// The account name (`cmadmin`).
    pub user: String,
    /// The realm (`CONTOSO.COM`): the user's `@REALM`, else the host's DNS domain in capitals,
    /// as Active Directory names its realm.
    pub realm: String,
    /// Password; kept in memory only.
    pub password: zeroize::Zeroizing<String>,
}

impl KerberosCredentials {
    /// Credentials from a connection's `user` (`DOMAIN\user`, `user@realm` or `user`) and the
    /// host name: a NetBIOS domain (no dot) or no domain means the realm of the host's DNS
    /// domain (`cm01.contoso.com` → `CONTOSO.COM`).
    pub fn new(user: &str, host: &str, password: &str) -> KerberosCredentials {
        let host_realm = host
            .split_once('.')
            .map(|(_, d)| d.to_ascii_uppercase())
            .unwrap_or_default();
        let (name, realm) = if let Some((name, realm)) = user.rsplit_once('@') {
            (name, realm.to_ascii_uppercase())
        } else if let Some((domain, name)) = user.split_once('\\') {
            if domain.contains('.') {
                (name, domain.to_ascii_uppercase())
            } else {
                (name, host_realm)
            }
        } else {
            (user, host_realm)
        };
        KerberosCredentials {
            user: name.to_string(),
            realm,
            password: zeroize::Zeroizing::new(password.to_string()),
        }
    }
}

/// The GSS channel bindings of a TLS channel (RFC 5929 `tls-server-end-point`: the SHA-256 of
/// the server's certificate), as a Windows `SEC_CHANNEL_BINDINGS` structure: eight 32-bit
/// little-endian fields (addresses empty), then the application data at offset 32.
pub fn sec_channel_bindings(server_cert_der: &[u8]) -> Vec<u8> {
    let mut data = b"tls-server-end-point:".to_vec();
    data.extend_from_slice(&<sha2::Sha256 as sha2::Digest>::digest(server_cert_der));
    let mut out = Vec::with_capacity(32 + data.len());
    for field in [0u32, 0, 0, 0, 0, 0] {
        out.extend_from_slice(&field.to_le_bytes());
    }
    out.extend_from_slice(&u32::try_from(data.len()).unwrap_or(0).to_le_bytes());
    out.extend_from_slice(&32u32.to_le_bytes());
    out.extend_from_slice(&data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_realm_comes_from_the_user_or_the_host_domain() {
        let c = KerberosCredentials::new("CONTOSO\\cmadmin", "cm01.contoso.com", "p");
        assert_eq!(
            (c.user.as_str(), c.realm.as_str()),
            ("cmadmin", "CONTOSO.COM")
        );
        let c = KerberosCredentials::new("cmadmin@corp.contoso.com", "cm01.contoso.com", "p");
        assert_eq!(
            (c.user.as_str(), c.realm.as_str()),
            ("cmadmin", "CORP.CONTOSO.COM")
        );
        let c = KerberosCredentials::new("contoso.com\\cmadmin", "x", "p");
        assert_eq!(c.realm, "CONTOSO.COM");
    }
}
