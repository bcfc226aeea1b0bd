//! The relay's Kerberos logon on one connection ([MS-WSMV] 2.2.9.1.2): an empty POST with
//! `Authorization: Kerberos <AP-REQ>`, a 200 whose `WWW-Authenticate: Kerberos <AP-REP>` proves
//! the service (mutual authentication), then every body sealed with the context over HTTP, or
//! plain inside TLS with the channel binding in the AP-REQ's checksum.

use base64::Engine as _;
use http_body_util::BodyExt;
use hyper::StatusCode;

use super::client::ClientContext;
use super::{sec_channel_bindings, KerberosCredentials};
use crate::transport::upstream::{post, target, Refusal, Sender, Upstream};

const SOAP: &str = "application/soap+xml;charset=UTF-8";

/// Logons talking to a KDC at once, per process. Each logon opens two TCP connections to the KDC
/// (AS and TGS exchanges); MIT's krb5kdc listens with a small backlog, and a burst of ten
/// parallel Scripts overflowed it: the dropped connections waited out TCP's 1-second SYN
/// retransmission.
const KDC_EXCHANGES: usize = 4;

fn kdc_exchanges() -> &'static tokio::sync::Semaphore {
    static EXCHANGES: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    EXCHANGES.get_or_init(|| tokio::sync::Semaphore::new(KDC_EXCHANGES))
}

/// Logs on; returns the sealing context over HTTP (`None` inside TLS). `leaf` is the service's
/// TLS certificate over HTTPS.
///
/// # Errors
/// [`Refusal::Kerberos`] when the KDC or the service refuses the logon, naming the principal,
/// the SPN and the cause; [`Refusal::Other`] for connection and protocol failures.
pub(crate) async fn run(
    sender: &mut Sender,
    u: &Upstream,
    creds: &KerberosCredentials,
    leaf: Option<&[u8]>,
) -> Result<Option<ClientContext>, Refusal> {
    let where_ = target(u);
    let spn = format!("HTTP/{}", u.host);
    let who = format!("{}@{}", creds.user, creds.realm);
    let bindings = leaf.map(sec_channel_bindings);
    let (c, host) = (creds.clone(), u.host.clone());
    let started = {
        let _kdc = kdc_exchanges()
            .acquire()
            .await
            .map_err(|e| Refusal::Other(format!("Kerberos: {e}")))?;
        tokio::task::spawn_blocking(move || ClientContext::initiate(&c, &host, bindings))
            .await
            .map_err(|e| Refusal::Other(format!("Kerberos: {e}")))?
    };
    let (mut ctx, token) = started.map_err(|f| {
        let message = format!("Kerberos logon as {who} for {spn}: {}", f.message);
        if f.refused {
            Refusal::Kerberos(message)
        } else {
            Refusal::Other(message)
        }
    })?;
    let header = format!(
        "Kerberos {}",
        base64::engine::general_purpose::STANDARD.encode(&token)
    );
    let req = post(u, SOAP, Some(&header), Vec::new()).map_err(Refusal::Other)?;
    let resp = tokio::time::timeout(u.connect_timeout, sender.send_request(req))
        .await
        .map_err(|_| Refusal::Other(format!("{where_}: no answer to the Kerberos AP-REQ")))?
        .map_err(|e| Refusal::Other(format!("{where_}: {e}")))?;
    let status = resp.status();
    let answer = resp
        .headers()
        .get_all(hyper::header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            v.strip_prefix("Kerberos ")
                .or_else(|| v.strip_prefix("Negotiate "))
                .map(|t| t.trim().to_string())
        });
    let _ = resp.into_body().collect().await;
    match status {
        s if s.is_success() => {}
        StatusCode::UNAUTHORIZED => {
            return Err(Refusal::Kerberos(format!(
                "{where_}: the service refused the Kerberos ticket of {who} for {spn} (HTTP 401): the service holds no key for {spn}, the clocks differ by more than 5 minutes, the channel binding does not match, or {who} may not use WinRM there"
            )))
        }
        s => {
            return Err(Refusal::Other(format!(
                "{where_}: HTTP {s} to the Kerberos AP-REQ"
            )))
        }
    }
    let answer = answer.ok_or_else(|| {
        Refusal::Kerberos(format!(
            "{where_}: the service accepted the ticket for {spn} without proving itself (no AP-REP): mutual authentication failed"
        ))
    })?;
    let answer = base64::engine::general_purpose::STANDARD
        .decode(answer)
        .map_err(|_| Refusal::Other(format!("{where_}: the AP-REP is not base64")))?;
    ctx.finish(&answer).map_err(|m| {
        Refusal::Kerberos(format!(
            "{where_}: the service's AP-REP does not verify for {spn}: {m}"
        ))
    })?;
    Ok(u.tls.is_none().then_some(ctx))
}
