//! The WinRM service a relay speaks to, and the pieces of talking to it that the relay and the
//! NTLM and Kerberos handshakes share: who to log on as, where the service is, one connection's
//! HTTP sender, a refused handshake, and a WS-Man `POST` request.

use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::Request;
use zeroize::Zeroizing;

/// Who to log on as.
#[derive(Clone)]
pub struct NtlmCredentials {
    /// User name without domain.
    pub user: String,
    /// Domain as typed (`CONTOSO`), or empty.
    pub domain: String,
    /// Password; kept in memory only.
    pub password: Zeroizing<String>,
}

/// Where the service is.
#[derive(Clone)]
pub struct Upstream {
    /// Address to connect to (host name or IP).
    pub address: String,
    /// Port.
    pub port: u16,
    /// The host name: the TLS server name and the SPN `HTTP/<host>` in the NTLM proof.
    pub host: String,
    /// With HTTPS: the trust roots to verify the service against.
    pub tls: Option<rustls::RootCertStore>,
    /// How long to wait for a TCP connection and each handshake step.
    pub connect_timeout: Duration,
}

/// The HTTP/1.1 sender of one upstream connection.
pub(crate) type Sender = SendRequest<Full<Bytes>>;

/// Why a handshake did not give a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The service refused the credentials (401 to the AUTHENTICATE).
    Credentials,
    /// The realm's KDC or the service refused a Kerberos logon: why (a wrong password, an
    /// unknown principal, no ticket for the service's SPN), never worth another try.
    Kerberos(String),
    /// Anything else (connect, TLS, protocol): worth one more try.
    Other(String),
}

pub(crate) fn target(u: &Upstream) -> String {
    format!("{}:{}", u.address, u.port)
}

pub(crate) fn post(
    u: &Upstream,
    content_type: &str,
    authorization: Option<&str>,
    body: Vec<u8>,
) -> Result<Request<Full<Bytes>>, String> {
    let host = if u.port == 80 || u.port == 443 {
        u.address.clone()
    } else {
        format!("{}:{}", u.address, u.port)
    };
    let mut b = Request::post("/wsman")
        .header(hyper::header::HOST, host)
        .header(hyper::header::CONTENT_TYPE, content_type)
        .header(hyper::header::CONTENT_LENGTH, body.len());
    if let Some(a) = authorization {
        b = b.header(hyper::header::AUTHORIZATION, a);
    }
    b.body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())
}
