//! The relay's NTLM logon on one connection, as WinRM clients do it under the HTTP scheme
//! `Negotiate`: NEGOTIATE → CHALLENGE → AUTHENTICATE with empty bodies, then every body sealed
//! with the negotiated keys over HTTP ([`super::wsmv`]), or plain inside TLS with the channel binding in
//! the proof (MsvAvChannelBindings).

use base64::Engine as _;
use http_body_util::BodyExt;
use hyper::StatusCode;

use super::keys::{self, ClientInput};
use super::seal::{Role, Session};
use super::{flags, message};
use crate::transport::upstream::{post, target, NtlmCredentials, Refusal, Sender, Upstream};

/// Runs NEGOTIATE → CHALLENGE → AUTHENTICATE with empty bodies on one connection; returns the
/// sealing context over HTTP (`None` inside TLS, where the proof carries the channel binding).
pub(crate) async fn run(
    sender: &mut Sender,
    u: &Upstream,
    creds: &NtlmCredentials,
    leaf: Option<&[u8]>,
) -> Result<Option<Session>, Refusal> {
    let where_ = target(u);
    let other = |m: String| Refusal::Other(m);
    let want = flags::CLIENT;
    let negotiate = message::negotiate(want);
    let step = |token: &[u8]| {
        format!(
            "Negotiate {}",
            base64::engine::general_purpose::STANDARD.encode(token)
        )
    };
    let soap = "application/soap+xml;charset=UTF-8";
    let first = post(u, soap, Some(&step(&negotiate)), Vec::new()).map_err(other)?;
    let resp = tokio::time::timeout(u.connect_timeout, sender.send_request(first))
        .await
        .map_err(|_| other(format!("{where_}: no answer to the NTLM NEGOTIATE")))?
        .map_err(|e| other(format!("{where_}: {e}")))?;
    let status = resp.status();
    let token = resp
        .headers()
        .get_all(hyper::header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("Negotiate ").map(|t| t.trim().to_string()));
    let _ = resp.into_body().collect().await;
    let challenge_raw = match (status, token) {
        (StatusCode::UNAUTHORIZED, Some(t)) => base64::engine::general_purpose::STANDARD
            .decode(t)
            .map_err(|_| other(format!("{where_}: the NTLM CHALLENGE is not base64")))?,
        (StatusCode::UNAUTHORIZED, None) => {
            return Err(other(format!(
                "{where_}: HTTP 401 without a Negotiate challenge: the service does not offer Negotiate"
            )))
        }
        (s, _) => return Err(other(format!("{where_}: HTTP {s} to the NTLM NEGOTIATE"))),
    };
    let challenge =
        message::parse_challenge(&challenge_raw).map_err(|e| other(format!("{where_}: {e}")))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos() / 100).unwrap_or(0) + 116_444_736_000_000_000)
        .unwrap_or(0);
    let auth = keys::client_authenticate(
        &negotiate,
        &challenge_raw,
        &challenge,
        &ClientInput {
            user: &creds.user,
            domain: &creds.domain,
            password: &creds.password,
            target_name: &format!("HTTP/{}", u.host),
            channel_binding: leaf.map(keys::channel_binding_hash),
            client_challenge: rand::random(),
            random_session_key: rand::random(),
            now_filetime: now,
        },
    )
    .map_err(|e| other(format!("{where_}: {e}")))?;
    let second = post(u, soap, Some(&step(&auth.message)), Vec::new()).map_err(other)?;
    let resp = tokio::time::timeout(u.connect_timeout, sender.send_request(second))
        .await
        .map_err(|_| other(format!("{where_}: no answer to the NTLM AUTHENTICATE")))?
        .map_err(|e| other(format!("{where_}: {e}")))?;
    let status = resp.status();
    let _ = resp.into_body().collect().await;
    match status {
        s if s.is_success() => {}
        StatusCode::UNAUTHORIZED => return Err(Refusal::Credentials),
        s => {
            return Err(other(format!(
                "{where_}: HTTP {s} to the NTLM AUTHENTICATE"
            )))
        }
    }
    match u.tls {
        Some(_) => Ok(None),
        None => Ok(Some(
            Session::new(&auth.exported, auth.flags, Role::Client)
                .map_err(|e| other(format!("{where_}: {e}")))?,
        )),
    }
}
