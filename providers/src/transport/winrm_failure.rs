//! How a WinRM exchange failed: the stage, whether it is worth retrying, and whether the Script
//! may have run (writes are never re-run), from winrm-rs's error and the loopback relay's.

use winrm_rs::WinrmError;

use super::relay::{AuthRelay, RelayFailure};
use super::tls_relay::TlsRelay;

/// The loopback relay a connection goes through, if any.
pub(super) enum Relay {
    /// Basic over HTTPS: TLS verified against the connection's CA.
    Tls(TlsRelay),
    /// NTLM with message encryption (HTTP) or inside verified TLS with channel binding (HTTPS).
    Ntlm(AuthRelay),
}

impl Relay {
    pub(super) fn take_error(&self) -> Option<RelayFailure> {
        match self {
            Relay::Tls(r) => r.take_error().map(|message| RelayFailure {
                message,
                before_send: true,
            }),
            Relay::Ntlm(r) => r.take_error(),
        }
    }
}

/// The stage a failure happened in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stage {
    CreateShell,
    Command,
    Send,
    Receive,
}

impl Stage {
    pub(super) fn name(self) -> &'static str {
        match self {
            Stage::CreateShell => "create shell",
            Stage::Command => "command",
            Stage::Send => "send",
            Stage::Receive => "receive",
        }
    }
}

/// A classified failure.
pub(super) struct Failure {
    pub(super) stage: &'static str,
    pub(super) message: String,
    pub(super) transient: bool,
    /// The remote side may have started running the script.
    pub(super) ran: bool,
}

/// Classifies a winrm-rs error at `stage`: whether it is transient and whether the Script may
/// have run, with the relay's own account of the failure when it has one.
pub(super) fn classify(stage: Stage, e: WinrmError, ran: bool, relay: Option<&Relay>) -> Failure {
    let relay_failure = relay.and_then(Relay::take_error);
    // The NTLM relay answers 502 when it could not reach or log on to the service (before
    // anything was sent: a connect failure) or lost the connection mid-request.
    if let (Some(f), WinrmError::AuthFailed(m)) = (&relay_failure, &e) {
        if m.contains("HTTP 502") {
            return Failure {
                stage: if f.before_send {
                    "connect"
                } else {
                    stage.name()
                },
                message: f.message.clone(),
                transient: true,
                ran: ran && !f.before_send,
            };
        }
    }
    let relay_detail = relay_failure.map(|f| f.message);
    match e {
        WinrmError::Http(err) => {
            let status = err.status().map(|s| s.as_u16());
            let connect = err.is_connect() || relay_detail.is_some() && err.status().is_none();
            let mut message = match status {
                Some(s) => format!("HTTP {s}: {err}"),
                None => err.to_string(),
            };
            // reqwest's message hides the cause ("connection refused", "reset by peer").
            let mut source = std::error::Error::source(&err);
            while let Some(cause) = source {
                let text = cause.to_string();
                if !message.contains(&text) {
                    message.push_str(&format!(": {text}"));
                }
                source = cause.source();
            }
            if let Some(d) = relay_detail {
                message = format!("{message}: {d}");
            }
            Failure {
                stage: if connect { "connect" } else { stage.name() },
                message,
                transient: status.is_none_or(|s| s >= 500),
                ran: ran && !connect,
            }
        }
        WinrmError::AuthFailed(m) if !m.contains("HTTP 401") && m.contains("HTTP 4") => Failure {
            // 413 (envelope too large) and other refusals of the request, not of the login.
            stage: stage.name(),
            message: m,
            transient: false,
            ran,
        },
        WinrmError::AuthFailed(m) => {
            let server_error = m.contains("HTTP 5");
            Failure {
                stage: if server_error { stage.name() } else { "auth" },
                // The relay's own words (a Kerberos refusal names the principal, the SPN and
                // the KDC's reason) say more than winrm-rs's 401.
                message: match (server_error, relay_detail) {
                    (true, _) => m,
                    (false, Some(d)) => format!("authentication failed: {d}"),
                    (false, None) => format!("authentication failed: {m}"),
                },
                transient: server_error,
                ran,
            }
        }
        WinrmError::Ntlm(n) => Failure {
            stage: "auth",
            message: format!("authentication failed: {n}"),
            transient: false,
            ran: false,
        },
        WinrmError::Soap(winrm_rs::SoapError::Fault { code, reason }) => Failure {
            stage: stage.name(),
            // A quota fault (another client of the same user holds the operations or shells)
            // is worth a later try; the run loop re-runs only what did not run, or reads.
            transient: code.contains("TimedOut")
                || code.contains("InternalError")
                || code.contains("QuotaLimit"),
            message: format!("HTTP 500: WS-Man fault {code}: {reason}"),
            ran,
        },
        WinrmError::Timeout(s) => Failure {
            stage: stage.name(),
            message: format!("timed out after {s} s"),
            transient: true,
            ran,
        },
        other => Failure {
            stage: stage.name(),
            message: other.to_string(),
            transient: false,
            ran,
        },
    }
}
