//! The `Negotiate` (NTLM) acceptor of one TCP connection, as HTTP.sys runs it for WinRM.
//!
//! NTLM is connection-oriented: the CHALLENGE a server sends is only good for an AUTHENTICATE on
//! the same connection, and the established context (its sealing keys and sequence numbers)
//! belongs to that connection ([MS-NLMP] 1.3.1; winrm.md §2.2: "Handshake, bound to one TCP
//! connection"). So an AUTHENTICATE on a connection that was never challenged is refused with
//! 401, and a sealed body on a connection without a context cannot be opened.
//!
//! The proof is checked against the user's NT hash ([`keys::server_verify`]): the password
//! never travels and is never compared in plain text.

use std::sync::Mutex;

use base64::Engine as _;

use cmdeploy_providers::transport::ntlm::message::{self, av, Challenge};
use cmdeploy_providers::transport::ntlm::seal::{Role, Session};
use cmdeploy_providers::transport::ntlm::{flags, keys, wsmv, NtlmError};

/// Names the server puts in its CHALLENGE target information.
#[derive(Debug, Clone)]
pub struct ServerNames {
    /// NetBIOS domain (`CONTOSO`).
    pub netbios_domain: String,
    /// DNS domain (`contoso.com`).
    pub dns_domain: String,
    /// NetBIOS computer name (`CM01`).
    pub netbios_computer: String,
    /// DNS computer name (`cm01.contoso.com`).
    pub dns_computer: String,
}

enum State {
    Fresh,
    Challenged {
        negotiate: Vec<u8>,
        challenge_raw: Vec<u8>,
        challenge: Challenge,
    },
    Established {
        user: String,
        session: Box<Session>,
    },
}

/// The authentication state of one connection.
pub struct ConnectionAuth {
    state: Mutex<State>,
    /// The channel-binding hash of the TLS channel (HTTPS), checked when a client sends one.
    binding: Option<[u8; 16]>,
    /// `CbtHardeningLevel` Strict: over TLS a binding is required.
    require_binding: bool,
}

/// What to answer an `Authorization: Negotiate` header with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// HTTP 401 with `WWW-Authenticate: Negotiate <token>` (the CHALLENGE).
    Challenge(String),
    /// Authenticated as this `DOMAIN\user`: go on with the body.
    Authenticated(String),
    /// HTTP 401 without a token.
    Refused,
}

fn lock(m: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Now as a FILETIME (100 ns ticks since 1601-01-01).
fn filetime_now() -> u64 {
    let unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() / 100)
        .unwrap_or(0);
    u64::try_from(unix).unwrap_or(0) + 116_444_736_000_000_000
}

impl ConnectionAuth {
    /// A fresh connection; `binding` is the TLS channel-binding hash over HTTPS, required when
    /// `require_binding` (`CbtHardeningLevel` Strict).
    pub fn new(binding: Option<[u8; 16]>, require_binding: bool) -> ConnectionAuth {
        ConnectionAuth {
            state: Mutex::new(State::Fresh),
            binding,
            require_binding: require_binding && binding.is_some(),
        }
    }

    /// The user of the established context, if any.
    pub fn user(&self) -> Option<String> {
        match &*lock(&self.state) {
            State::Established { user, .. } => Some(user.clone()),
            _ => None,
        }
    }

    /// Takes a NEGOTIATE token and returns the CHALLENGE to send.
    pub fn negotiate(&self, token: &[u8], names: &ServerNames) -> Step {
        let Ok(neg) = message::parse_negotiate(token) else {
            *lock(&self.state) = State::Fresh;
            return Step::Refused;
        };
        let offered = flags::UNICODE
            | flags::REQUEST_TARGET
            | flags::NTLM
            | flags::ALWAYS_SIGN
            | flags::TARGET_TYPE_DOMAIN
            | flags::EXTENDED_SESSIONSECURITY
            | flags::NEGOTIATE_128;
        let optional = flags::SIGN | flags::SEAL | flags::KEY_EXCH | flags::NEGOTIATE_56;
        let chosen = offered | (neg.flags & optional);
        let info = message::encode_av_pairs(&[
            (av::NB_DOMAIN_NAME, message::utf16(&names.netbios_domain)),
            (
                av::NB_COMPUTER_NAME,
                message::utf16(&names.netbios_computer),
            ),
            (av::DNS_DOMAIN_NAME, message::utf16(&names.dns_domain)),
            (av::DNS_COMPUTER_NAME, message::utf16(&names.dns_computer)),
            (av::TIMESTAMP, filetime_now().to_le_bytes().to_vec()),
        ]);
        let raw = message::challenge(chosen, rand::random(), &names.netbios_domain, &info);
        let Ok(challenge) = message::parse_challenge(&raw) else {
            return Step::Refused;
        };
        let encoded = base64::engine::general_purpose::STANDARD.encode(&raw);
        *lock(&self.state) = State::Challenged {
            negotiate: token.to_vec(),
            challenge_raw: raw,
            challenge,
        };
        Step::Challenge(encoded)
    }

    /// Takes an AUTHENTICATE token: finds the user with `lookup` (`domain`, `user` as sent →
    /// `DOMAIN\user` and NT hash) and checks the proof, the MIC and the channel binding. Any
    /// failure, or an AUTHENTICATE on a connection that sent no CHALLENGE, is [`Step::Refused`].
    pub fn authenticate(
        &self,
        token: &[u8],
        lookup: impl FnOnce(&str, &str) -> Option<(String, [u8; 16])>,
    ) -> Step {
        let mut state = lock(&self.state);
        let State::Challenged {
            negotiate,
            challenge_raw,
            challenge,
        } = std::mem::replace(&mut *state, State::Fresh)
        else {
            return Step::Refused;
        };
        let verified = (|| -> Result<(String, Session), NtlmError> {
            let auth = message::parse_authenticate(token)?;
            let (name, nt_hash) = lookup(&auth.domain, &auth.user).ok_or(NtlmError::BadProof)?;
            let exported = keys::server_verify(
                &negotiate,
                &challenge_raw,
                &challenge,
                token,
                &auth,
                &nt_hash,
                match (self.binding, self.require_binding) {
                    (None, _) => keys::BindingCheck::Off,
                    (Some(h), false) => keys::BindingCheck::Relaxed(h),
                    (Some(h), true) => keys::BindingCheck::Strict(h),
                },
            )?;
            let session = Session::new(&exported, auth.flags & challenge.flags, Role::Server)?;
            Ok((name, session))
        })();
        match verified {
            Ok((user, session)) => {
                *state = State::Established {
                    user: user.clone(),
                    session: Box::new(session),
                };
                Step::Authenticated(user)
            }
            Err(_) => Step::Refused,
        }
    }

    /// Opens a sealed body with the connection's context.
    ///
    /// # Errors
    /// No context on this connection, or a body that does not unseal.
    pub fn unwrap(&self, body: &[u8]) -> Result<Vec<u8>, NtlmError> {
        match &mut *lock(&self.state) {
            State::Established { session, .. } => wsmv::unwrap(session, body),
            _ => Err(NtlmError::Malformed(
                "no security context on this connection",
            )),
        }
    }

    /// Seals a response body with the connection's context (`None` without one).
    pub fn wrap(&self, plain: &[u8]) -> Option<Vec<u8>> {
        match &mut *lock(&self.state) {
            State::Established { session, .. } => Some(wsmv::wrap(session, plain)),
            _ => None,
        }
    }

    /// Forgets the context (a new handshake starts).
    pub fn reset(&self) {
        *lock(&self.state) = State::Fresh;
    }
}
