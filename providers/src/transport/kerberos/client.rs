//! The Kerberos initiator of one connection: tickets from the KDC, the AP-REQ for
//! `HTTP/<host>` (with the TLS channel binding over HTTPS), then the service's AP-REP
//! (mutual authentication) before the context seals anything.

use sspi::{
    AuthIdentity, BufferType, ClientRequestFlags, CredentialUse, Credentials, CredentialsBuffers,
    DataRepresentation, KdcResolution, Kerberos, KerberosConfig, SecurityBuffer, SecurityStatus,
    Sspi, SspiImpl, Username,
};

use super::kdc::KdcClient;
use super::KerberosCredentials;

/// An initiator context: after [`ClientContext::initiate`] it has the AP-REQ to send; after
/// [`ClientContext::finish`] it seals ([`super::seal`]).
pub struct ClientContext {
    inner: Kerberos,
    handle: Option<CredentialsBuffers>,
    spn: String,
    established: bool,
}

/// Why an initiator got no token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitFailure {
    /// The KDC refused the logon (a wrong password, an unknown principal or service, a
    /// revoked account, clock skew): another try cannot help.
    pub refused: bool,
    /// What happened, in words an administrator acts on (never the password).
    pub message: String,
}

impl std::fmt::Display for InitFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// What an initiator asks for: mutual authentication, and integrity and confidentiality for
/// message encryption (GSS_C_MUTUAL_FLAG | CONF | INTEG | SEQUENCE | REPLAY).
fn requirements() -> ClientRequestFlags {
    ClientRequestFlags::MUTUAL_AUTH
        | ClientRequestFlags::CONFIDENTIALITY
        | ClientRequestFlags::INTEGRITY
        | ClientRequestFlags::SEQUENCE_DETECT
        | ClientRequestFlags::REPLAY_DETECT
}

impl ClientContext {
    /// Gets the tickets (AS and TGS exchanges with the realm's KDC: blocking network I/O, run it
    /// off the async runtime) and returns the context with the GSS token (an AP-REQ) for
    /// `HTTP/<host>`. `bindings` is a [`super::sec_channel_bindings`] over HTTPS.
    ///
    /// # Errors
    /// [`InitFailure`]: no KDC for the realm, an unknown principal, a wrong password (the KDC's
    /// error), or no ticket for the service.
    pub fn initiate(
        creds: &KerberosCredentials,
        host: &str,
        bindings: Option<Vec<u8>>,
    ) -> Result<(ClientContext, Vec<u8>), InitFailure> {
        let other = |message: String| InitFailure {
            refused: false,
            message,
        };
        let config = KerberosConfig {
            kdc_resolution: KdcResolution::KdcUrl(None),
            client_computer_name: hostname(),
        };
        let mut inner =
            Kerberos::new_client_from_config(config).map_err(|e| other(e.to_string()))?;
        let username =
            Username::new_down_level_logon_name(&creds.user, &creds.realm).map_err(|e| {
                other(format!(
                    "Kerberos user name {}@{}: {e}",
                    creds.user, creds.realm
                ))
            })?;
        let identity: Credentials = AuthIdentity {
            username,
            password: creds.password.to_string().into(),
        }
        .into();
        let handle = inner
            .acquire_credentials_handle()
            .with_credential_use(CredentialUse::Outbound)
            .with_auth_data(&identity)
            .execute(&mut inner)
            .map_err(|e| other(e.to_string()))?
            .credentials_handle;
        let mut ctx = ClientContext {
            inner,
            handle,
            spn: format!("HTTP/{host}"),
            established: false,
        };
        let mut input = vec![SecurityBuffer::new(Vec::new(), BufferType::Token)];
        if let Some(b) = bindings {
            input.push(SecurityBuffer::new(b, BufferType::ChannelBindings));
        }
        let (status, token) = ctx.step(input)?;
        if status != SecurityStatus::ContinueNeeded && status != SecurityStatus::Ok {
            return Err(other(format!("Kerberos: unexpected status {status:?}")));
        }
        ctx.established = status == SecurityStatus::Ok;
        Ok((ctx, token))
    }

    /// Checks the service's answer (the AP-REP of mutual authentication, from
    /// `WWW-Authenticate: Kerberos <token>`); the context can seal afterwards.
    ///
    /// # Errors
    /// The AP-REP does not verify (not the service the ticket was for).
    pub fn finish(&mut self, token: &[u8]) -> Result<(), String> {
        if self.established {
            return Ok(());
        }
        // The token comes from the network; a decoder that panics on malformed ASN.1 (picky-krb
        // unwraps some inner decodes) must not take the relay down.
        let step = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.step(vec![SecurityBuffer::new(token.to_vec(), BufferType::Token)])
        }))
        .map_err(|_| "Kerberos: the service's answer is not a valid AP-REP".to_string())?;
        let (status, _) = step.map_err(|f| f.message)?;
        if status != SecurityStatus::Ok {
            return Err(format!(
                "Kerberos: the service's answer did not complete the context ({status:?})"
            ));
        }
        self.established = true;
        Ok(())
    }

    /// Seals a SOAP body ([`super::seal::wrap`]).
    ///
    /// # Errors
    /// The context is not established.
    pub fn wrap(&mut self, plain: &[u8]) -> Result<Vec<u8>, String> {
        super::seal::wrap(&mut self.inner, plain)
    }

    /// Opens a sealed answer ([`super::seal::unwrap`]).
    ///
    /// # Errors
    /// A body that is not sealed with this context.
    pub fn unwrap(&mut self, body: &[u8]) -> Result<Vec<u8>, String> {
        super::seal::unwrap(&mut self.inner, body)
    }

    /// Whether mutual authentication completed.
    pub fn is_established(&self) -> bool {
        self.established
    }

    fn step(
        &mut self,
        mut input: Vec<SecurityBuffer>,
    ) -> Result<(SecurityStatus, Vec<u8>), InitFailure> {
        let mut output = vec![SecurityBuffer::new(Vec::new(), BufferType::Token)];
        let spn = self.spn.clone();
        let mut builder = self
            .inner
            .initialize_security_context()
            .with_credentials_handle(&mut self.handle)
            .with_context_requirements(requirements())
            .with_target_data_representation(DataRepresentation::Native)
            .with_target_name(&spn)
            .with_input(&mut input)
            .with_output(&mut output);
        let result = self
            .inner
            .initialize_security_context_impl(&mut builder)
            .map_err(describe)?
            .resolve_with_client(&KdcClient)
            .map_err(describe)?;
        Ok((result.status, output.remove(0).buffer))
    }
}

/// The KDC's words without the library's dump of its error data: `pre-authentication
/// information was invalid (PREAUTH_FAILED)`.
fn kdc_words(description: &str) -> String {
    let text = description
        .split(". Additional error data:")
        .next()
        .unwrap_or(description);
    match text.split_once(". Additional error text: ") {
        Some((words, code)) => match code.split('"').nth(1) {
            Some(code) => format!("{words} ({code})"),
            None => words.to_string(),
        },
        None => text.to_string(),
    }
}

/// The KDC's or the library's error, in words an administrator acts on.
fn describe(mut e: sspi::Error) -> InitFailure {
    use sspi::ErrorKind as K;
    e.description = kdc_words(&e.description);
    match e.error_type {
        K::NoAuthenticatingAuthority => InitFailure {
            refused: false,
            message: format!(
                "no Kerberos KDC answered for the realm (name it in KRB5_CONFIG or /etc/krb5.conf: [realms] REALM = {{ kdc = host:88 }}): {}",
                e.description
            ),
        },
        K::KdcInvalidRequest if e.description.contains("pre-authentication") => InitFailure {
            refused: true,
            message: format!("the KDC refused the password ({})", e.description),
        },
        K::UnknownCredentials | K::KdcInvalidRequest | K::LogonDenied | K::TimeSkew
        | K::InvalidParameter => InitFailure {
            refused: true,
            message: format!("the KDC refused the logon: {}", e.description),
        },
        _ => InitFailure {
            refused: false,
            message: e.description,
        },
    }
}

/// This machine's name, sent as the client's workstation.
fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "cmdeploy".to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn kdc_errors_read_as_words_and_a_code() {
        let raw = "pre-authentication information was invalid. Additional error text: GeneralStringAsn1(IA5(\"PREAUTH_FAILED\")). Additional error data: OctetString(0x3050)";
        assert_eq!(
            super::kdc_words(raw),
            "pre-authentication information was invalid (PREAUTH_FAILED)"
        );
        assert_eq!(
            super::kdc_words("clock skew too great"),
            "clock skew too great"
        );
    }
}
