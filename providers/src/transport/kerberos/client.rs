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
    /// A message: no KDC for the realm, an unknown principal, a wrong password (the KDC's
    /// error), or no ticket for the service.
    pub fn initiate(
        creds: &KerberosCredentials,
        host: &str,
        bindings: Option<Vec<u8>>,
    ) -> Result<(ClientContext, Vec<u8>), String> {
        let config = KerberosConfig {
            kdc_resolution: KdcResolution::KdcUrl(None),
            client_computer_name: hostname(),
        };
        let mut inner = Kerberos::new_client_from_config(config).map_err(|e| e.to_string())?;
        let username = Username::new_down_level_logon_name(&creds.user, &creds.realm)
            .map_err(|e| format!("Kerberos user name {}@{}: {e}", creds.user, creds.realm))?;
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
            .map_err(|e| e.to_string())?
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
            return Err(format!("Kerberos: unexpected status {status:?}"));
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
        let (status, _) =
            self.step(vec![SecurityBuffer::new(token.to_vec(), BufferType::Token)])?;
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
    ) -> Result<(SecurityStatus, Vec<u8>), String> {
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

/// The KDC's or the library's error, in words an administrator acts on.
fn describe(e: sspi::Error) -> String {
    use sspi::ErrorKind as K;
    match e.error_type {
        K::NoAuthenticatingAuthority => format!(
            "no Kerberos KDC answered for the realm (set [realms] REALM = {{ kdc = host:88 }} in KRB5_CONFIG or /etc/krb5.conf): {}",
            e.description
        ),
        _ => e.description,
    }
}

/// This machine's name, sent as the client's workstation.
fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "cmdeploy".to_string())
}
