//! The Kerberos acceptor of `lab serve`, as a domain member's WinRM service runs it: the service
//! keys of `HTTP/<host>` come from a keytab (`--keytab`, what `kadmin ktadd` writes for a host's
//! SPNs), a client's AP-REQ (`Authorization: Kerberos <token>`, or a raw Kerberos token under
//! `Negotiate`) is verified with them (ticket, authenticator, clock skew, replay), the AP-REP of
//! mutual authentication goes back in `WWW-Authenticate: Kerberos <token>`, and the context then
//! seals and opens the connection's bodies ([`cmdeploy_providers::transport::kerberos::seal`]).
//!
//! Over HTTPS the channel binding is the checksum's `Bnd` field (RFC 4121 §4.1.1.2: the MD5 of
//! the `gss_channel_bindings_struct`, here `tls-server-end-point`): with `CbtHardeningLevel`
//! Strict a client must send the TLS channel's; with Relaxed a binding that is sent must match.
//!
//! The client principal `cmadmin@CONTOSO.COM` is the lab's domain user `CONTOSO\cmadmin`
//! (the realm is the domain's DNS name in capitals).

use std::path::Path;
use std::time::Duration;

use picky_krb::constants::key_usages::{AP_REQ_AUTHENTICATOR, TICKET_REP};
use picky_krb::crypto::CipherSuite;
use picky_krb::data_types::{Authenticator, EncTicketPart};
use picky_krb::gss_api::KrbMessage;
use picky_krb::messages::ApReq;
use sspi::kerberos::ServerProperties;
use sspi::{
    BufferType, CredentialsBuffers, DataRepresentation, KdcResolution, Kerberos, KerberosConfig,
    Secret, SecurityBuffer, SecurityStatus, ServerRequestFlags, Sspi, SspiImpl,
};

use cmdeploy_providers::transport::kerberos::kdc::KdcClient;
use cmdeploy_providers::transport::kerberos::keytab;

/// The Kerberos context of one connection, once a client logged on with an AP-REQ.
#[derive(Default)]
pub struct KerberosAuth {
    state: std::sync::Mutex<Option<(String, Kerberos)>>,
}

impl KerberosAuth {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(String, Kerberos)>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps an accepted context for `user` (`DOMAIN\user`), replacing any earlier one.
    pub fn establish(&self, user: String, context: Kerberos) {
        *self.lock() = Some((user, context));
    }

    /// The user of the established context, if any.
    pub fn user(&self) -> Option<String> {
        self.lock().as_ref().map(|(u, _)| u.clone())
    }

    /// Opens a body sealed under `Kerberos` with this connection's context.
    ///
    /// # Errors
    /// No context on this connection, or a body that does not verify.
    pub fn unwrap(&self, body: &[u8]) -> Result<Vec<u8>, String> {
        match &mut *self.lock() {
            Some((_, ctx)) => cmdeploy_providers::transport::kerberos::seal::unwrap(ctx, body),
            None => Err("no Kerberos context on this connection".into()),
        }
    }

    /// Seals an answer with this connection's context (`None` without one).
    pub fn wrap(&self, plain: &[u8]) -> Option<Vec<u8>> {
        match &mut *self.lock() {
            Some((_, ctx)) => cmdeploy_providers::transport::kerberos::seal::wrap(ctx, plain).ok(),
            None => None,
        }
    }
}

/// Whether a token under `Negotiate` is a raw Kerberos one (a GSS-API initial context token,
/// RFC 2743 §3.1: tag 0x60, then the krb5 mechanism OID 1.2.840.113554.1.2.2), not NTLM.
pub fn is_kerberos_token(token: &[u8]) -> bool {
    const KRB5_OID: &[u8] = &[
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02,
    ];
    token.first() == Some(&0x60) && token.windows(KRB5_OID.len()).take(8).any(|w| w == KRB5_OID)
}

/// The allowed clock skew between client and service (Kerberos' default, 5 minutes).
pub const MAX_SKEW: Duration = Duration::from_secs(300);

/// RFC 4121 §4.1.1 authenticator checksum type.
const GSS_CHECKSUM: u8 = 0x80;

/// The service keys of a keytab: one per `HTTP/<host>` principal (the strongest enctype).
pub struct ServiceKeys {
    keys: Vec<(Vec<String>, u16, Secret<Vec<u8>>)>,
    /// Authenticators seen (client, ctime, cusec) and when, for twice the allowed skew.
    replays: std::sync::Mutex<std::collections::HashMap<String, std::time::Instant>>,
}

impl std::fmt::Debug for ServiceKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self.keys.iter().map(|k| k.0.join("/")).collect();
        f.debug_struct("ServiceKeys")
            .field("principals", &names)
            .finish()
    }
}

/// How a Kerberos logon went.
pub struct Accepted {
    /// The context, which seals the connection's bodies.
    pub context: Kerberos,
    /// The AP-REP to send back.
    pub token: Vec<u8>,
    /// The client principal, `user@REALM`.
    pub principal: String,
}

impl ServiceKeys {
    /// Reads the `HTTP/...` keys of a keytab file, preferring aes256 over aes128 per principal.
    ///
    /// # Errors
    /// A message naming the file: unreadable, malformed, or without an `HTTP/` key.
    pub fn load(path: &Path) -> Result<ServiceKeys, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("--keytab {}: {e}", path.display()))?;
        let entries =
            keytab::parse(&bytes).map_err(|e| format!("--keytab {}: {e}", path.display()))?;
        let mut keys: Vec<(Vec<String>, u16, Secret<Vec<u8>>)> = Vec::new();
        for e in entries {
            if e.components.first().map(String::as_str) != Some("HTTP") {
                continue;
            }
            let rank = |t: u16| if t == 18 { 2 } else { u8::from(t == 17) };
            match keys.iter_mut().find(|k| k.0 == e.components) {
                Some(k) if rank(e.enctype) > rank(k.1) => {
                    k.1 = e.enctype;
                    k.2 = Secret::new(e.key.to_vec());
                }
                Some(_) => {}
                None => keys.push((e.components.clone(), e.enctype, Secret::new(e.key.to_vec()))),
            }
        }
        if keys.is_empty() {
            return Err(format!(
                "--keytab {}: no HTTP/<host> key (kadmin: ktadd -k FILE HTTP/<host>)",
                path.display()
            ));
        }
        Ok(ServiceKeys {
            keys,
            replays: Default::default(),
        })
    }

    /// Whether the keytab holds `HTTP/<host>`.
    pub fn has_host(&self, host: &str) -> bool {
        self.keys
            .iter()
            .any(|k| k.0.get(1).is_some_and(|h| h.eq_ignore_ascii_case(host)))
    }

    /// Verifies an AP-REQ token (the GSS-API krb5 initial context token). `binding` is the TLS
    /// channel-binding hash over HTTPS; `strict` requires the client to have sent it.
    ///
    /// # Errors
    /// A message (logged nowhere: the client gets 401): a ticket for a principal the keytab does
    /// not hold, a ticket or authenticator that does not decrypt, skew, replay, a wrong or
    /// missing channel binding.
    pub fn accept(
        &self,
        token: &[u8],
        binding: Option<[u8; 16]>,
        strict: bool,
    ) -> Result<Accepted, String> {
        // The token is a client's; picky-krb unwraps some inner ASN.1 decodes, so a malformed
        // one must not panic the service.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.accept_token(token, binding, strict)
        }))
        .map_err(|_| "a malformed Kerberos token".to_string())?
    }

    fn accept_token(
        &self,
        token: &[u8],
        binding: Option<[u8; 16]>,
        strict: bool,
    ) -> Result<Accepted, String> {
        let (first, rest) = self.keys.split_first().ok_or("no service keys")?;
        let names: Vec<&str> = first.0.iter().map(String::as_str).collect();
        let mut props = ServerProperties::new(&names, None, MAX_SKEW, Some(first.2.clone()))
            .map_err(|e| e.description)?;
        for k in rest {
            let names: Vec<&str> = k.0.iter().map(String::as_str).collect();
            props
                .add_service_key(&names, k.2.clone())
                .map_err(|e| e.description)?;
        }
        let config = KerberosConfig {
            kdc_resolution: KdcResolution::KdcUrl(None),
            client_computer_name: names.get(1).copied().unwrap_or_default().to_string(),
        };
        let mut context =
            Kerberos::new_server_from_config(config, props).map_err(|e| e.description)?;
        let mut handle: Option<CredentialsBuffers> = None;
        let mut input = vec![SecurityBuffer::new(token.to_vec(), BufferType::Token)];
        let mut output = vec![SecurityBuffer::new(Vec::new(), BufferType::Token)];
        let builder = context
            .accept_security_context()
            .with_credentials_handle(&mut handle)
            .with_context_requirements(ServerRequestFlags::empty())
            .with_target_data_representation(DataRepresentation::Native)
            .with_input(&mut input)
            .with_output(&mut output);
        let result = context
            .accept_security_context_impl(builder)
            .map_err(|e| e.description)?
            .resolve_with_client(&KdcClient)
            .map_err(|e| e.description)?;
        if result.status != SecurityStatus::Ok {
            return Err(format!("Kerberos: status {:?}", result.status));
        }
        self.check_authenticator(token, binding, strict)?;
        let principal = context
            .query_context_names()
            .map_err(|e| e.description)?
            .username
            .inner()
            .to_string();
        Ok(Accepted {
            context,
            token: output.remove(0).buffer,
            principal,
        })
    }

    /// Checks the authenticator against the service-wide replay cache (RFC 4120 §3.2.3: the
    /// client, `ctime` and `cusec` of every authenticator within the allowed skew; `sspi`'s own
    /// cache lives in one context, one connection here), then compares its GSS checksum's `Bnd`
    /// with the TLS channel's.
    fn check_authenticator(
        &self,
        token: &[u8],
        binding: Option<[u8; 16]>,
        strict: bool,
    ) -> Result<(), String> {
        let auth = self.authenticator(token)?;
        let seen = format!(
            "{:?}|{:?}|{:?}",
            auth.0.cname.0, auth.0.ctime.0, auth.0.cusec.0
        );
        {
            let now = std::time::Instant::now();
            let mut replays = self.replays.lock().unwrap_or_else(|p| p.into_inner());
            replays.retain(|_, at| now.duration_since(*at) < MAX_SKEW * 2);
            if replays.insert(seen, now).is_some() {
                return Err("a replayed Kerberos authenticator".into());
            }
        }
        let Some(expected) = binding else {
            return Ok(());
        };
        let sent = auth.0.cksum.0.as_ref().and_then(|c| {
            let kind = &c.0.cksumtype.0 .0;
            let bytes = &c.0.checksum.0 .0;
            let gss = kind.len() >= 2 && kind[kind.len() - 2] == GSS_CHECKSUM;
            (gss && bytes.len() >= 20).then(|| bytes[4..20].to_vec())
        });
        match sent {
            Some(b) if b.iter().any(|&x| x != 0) => {
                if b == expected {
                    Ok(())
                } else {
                    Err("the Kerberos channel binding does not match the TLS channel".into())
                }
            }
            _ if strict => {
                Err("CbtHardeningLevel is Strict and the AP-REQ has no channel binding".into())
            }
            _ => Ok(()),
        }
    }

    /// The AP-REQ's authenticator, decrypted with the key of the ticket it came with.
    fn authenticator(&self, token: &[u8]) -> Result<Authenticator, String> {
        let ap_req: ApReq = KrbMessage::<ApReq>::decode_application_krb_message(token)
            .map_err(|e| e.to_string())?
            .0
            .krb_msg;
        let ticket = &ap_req.0.ticket.0 .0;
        let sname: Vec<String> = ticket
            .sname
            .0
            .name_string
            .0
             .0
            .iter()
            .map(|s| s.to_string())
            .collect();
        let key = self
            .keys
            .iter()
            .find(|k| k.0 == sname)
            .ok_or("no key for the ticket's service")?;
        let decrypt = |key: &[u8], usage: i32, data: &picky_krb::data_types::EncryptedData| {
            CipherSuite::try_from(data.etype.0 .0.as_slice())
                .map_err(|e| e.to_string())?
                .cipher()
                .decrypt(key, usage, &data.cipher.0 .0)
                .map_err(|e| e.to_string())
        };
        let part: EncTicketPart =
            picky_asn1_der::from_bytes(&decrypt(key.2.as_ref(), TICKET_REP, &ticket.enc_part.0)?)
                .map_err(|e| e.to_string())?;
        let ticket_key = part.0.key.0.key_value.0 .0.clone();
        let auth: Authenticator = picky_asn1_der::from_bytes(&decrypt(
            &ticket_key,
            AP_REQ_AUTHENTICATOR,
            &ap_req.0.authenticator.0,
        )?)
        .map_err(|e| e.to_string())?;
        Ok(auth)
    }
}

/// Accepts a Kerberos AP-REQ with the keytab's keys (checking the connection's TLS channel
/// `binding`) and maps its client principal (`cmadmin@CONTOSO.COM`) to the lab's domain user.
/// Returns the user, the AP-REP and the context the connection keeps
/// ([`KerberosAuth::establish`]); `Err` is a 401 (no keytab, a bad ticket, an unknown user).
pub(super) async fn logon(
    server: &std::sync::Arc<super::Server>,
    binding: Option<[u8; 16]>,
    token: Vec<u8>,
) -> Result<(String, Vec<u8>, Kerberos), ()> {
    if server.kerberos.is_none() {
        return Err(());
    }
    let server = server.clone();
    tokio::task::spawn_blocking(move || {
        let keys = server.kerberos.as_ref().ok_or(())?;
        let accepted = keys
            .accept(&token, binding, server.config.cbt_strict)
            .map_err(|_| ())?;
        let user = server
            .lab
            .read(|estate| {
                super::auth::find_user(estate, &accepted.principal).map(|u| u.name.clone())
            })
            .ok()
            .flatten()
            .ok_or(())?;
        Ok((user, accepted.token, accepted.context))
    })
    .await
    .unwrap_or(Err(()))
}

/// The Kerberos token an `Authorization` header offers: under `Kerberos`, a raw Kerberos token
/// under `Negotiate` (pywinrm), or one inside SPNEGO under `Negotiate` (Windows, pyspnego; with
/// the mechanism to name in the answer). `None` for NTLM and anything else.
pub(super) fn offered(
    scheme: &str,
    token: &[u8],
) -> Option<(Vec<u8>, Option<picky_asn1::wrapper::ObjectIdentifierAsn1>)> {
    if scheme.eq_ignore_ascii_case("kerberos") {
        return Some((token.to_vec(), None));
    }
    if !scheme.eq_ignore_ascii_case("negotiate") {
        return None;
    }
    if is_kerberos_token(token) {
        return Some((token.to_vec(), None));
    }
    super::spnego::kerberos_mech_token(token).map(|(t, mech)| (t, Some(mech)))
}

/// The `WWW-Authenticate` value that carries the AP-REP back, in the scheme (and, for SPNEGO,
/// the framing) the client used.
pub(super) fn answer(
    scheme: &str,
    spnego_mech: Option<picky_asn1::wrapper::ObjectIdentifierAsn1>,
    ap_rep: Vec<u8>,
) -> String {
    use base64::Engine as _;
    let token = match spnego_mech {
        Some(mech) => super::spnego::accept_completed(mech, ap_rep),
        None => ap_rep,
    };
    let scheme = if scheme.eq_ignore_ascii_case("negotiate") {
        "Negotiate"
    } else {
        "Kerberos"
    };
    format!(
        "{scheme} {}",
        base64::engine::general_purpose::STANDARD.encode(token)
    )
}
