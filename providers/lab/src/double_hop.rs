//! The double hop: a WinRM session (Kerberos or Negotiate, no CredSSP, no delegation) has no
//! network credentials, so whatever the session reaches on *another* computer is refused
//! (windows-runtime.md §6; MicrosoftDocs/PowerShell-Docs@27138b21b41d
//! `reference/docs-conceptual/security/remoting/PS-remoting-second-hop.md`).
//!
//! Modelled: GroupPolicy cmdlets that reach a domain controller other than the session's host
//! (without `-Server` they go to the PDC emulator) and UNC paths; `Get-CimInstance -ComputerName`
//! to another host is modelled where the runner uses it, in the push prerequisites (`prereq`).

use super::args::{Args, CmdError};
use super::model::{short, Estate};

/// The message of a call refused for lack of network credentials. The exact Windows wording of
/// an SMB or RPC refusal is **unverified** (windows-runtime.md §6: "expect Access is denied").
pub fn refused(what: &str) -> CmdError {
    CmdError::new(
        "PermissionDenied",
        format!("Access is denied. (Exception from HRESULT: 0x80070005 (E_ACCESSDENIED)) {what}: a WinRM session has no network credentials to pass to another computer (the double hop)."),
    )
}

fn same_host(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b) || short(a).eq_ignore_ascii_case(short(b))
}

/// Checks where a GroupPolicy cmdlet run on `session_host` goes: to `-Server` (alias `DC`)
/// when given, else to the domain's PDC emulator, the first of its `controllers`
/// (Get-GPRegistryValue.md: "If you do not specify the name … the primary domain controller (PDC)
/// emulator is contacted"; windows-runtime.md §6 "GroupPolicy").
///
/// # Errors
/// [`refused`] when that is another computer.
pub fn group_policy_server(
    estate: &Estate,
    session_host: &str,
    domain: &str,
    a: &Args,
) -> Result<(), CmdError> {
    let server = match a.opt_str("Server")? {
        Some(s) => Some(s),
        None => a.opt_str("DC")?,
    };
    let contacted = match server {
        Some(s) => s,
        None => estate
            .domains
            .iter()
            .find(|d| d.name.eq_ignore_ascii_case(domain))
            .and_then(|d| d.controllers.first().cloned())
            .unwrap_or_default(),
    };
    if contacted.is_empty() || same_host(&contacted, session_host) {
        Ok(())
    } else {
        Err(refused(&format!(
            "Contacting the domain controller {contacted} from {session_host}"
        )))
    }
}
