//! Changes to a host's installed client that are not installs: the imaging preparation steps
//! (stop CcmExec, delete SMSCFG.INI, remove the SMS and PKI certificates and the trusted root
//! key; configmgr.md §4) and an internet client's management point
//! (`SetInternetManagementPointFQDN`). Installs and probes are in `host.rs`.

use serde_json::Value;

use super::args::{Args, CmdError, CmdResult};
use super::host::host_of;
use super::model::{Client, Estate};

fn client_of<'e>(estate: &'e mut Estate, host: &str) -> Result<&'e mut Client, CmdError> {
    host_of(estate, host)?.client.as_mut().ok_or_else(|| {
        CmdError::new(
            "ObjectNotFound",
            "Cannot find any service with service name 'CcmExec' (the client is not installed).",
        )
    })
}

/// `Stop-CmdeployClientService`: stops CcmExec (SMS Agent Host). A `Set-Service -StartupType`
/// in the runner's function changes the start type as Windows would (the lab reads the
/// function's body: it models the runner, it does not assume it).
pub fn stop_service(estate: &mut Estate, host: &str, a: &Args) -> CmdResult {
    a.finish()?;
    let start_type = super::runner_model::function_body("Stop-CmdeployClientService")
        .and_then(|b| b.split("-StartupType ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .map(str::to_string);
    let c = client_of(estate, host)?;
    c.ccmexec_running = false;
    if let Some(t) = start_type {
        c.ccmexec_start_type = t;
    }
    Ok(Value::Null)
}

/// `Remove-CmdeploySmsCfg`: deletes `%WinDir%\SMSCFG.INI`.
pub fn remove_smscfg(estate: &mut Estate, host: &str, a: &Args) -> CmdResult {
    a.finish()?;
    if let Some(c) = host_of(estate, host)?.client.as_mut() {
        c.smscfg_ini = false;
    }
    Ok(Value::Null)
}

/// `Remove-CmdeployCertificates -Store SMS|My`.
pub fn remove_certificates(estate: &mut Estate, host: &str, a: &Args) -> CmdResult {
    let store = a.str("Store")?;
    a.finish()?;
    let h = host_of(estate, host)?;
    match store.to_ascii_uppercase().as_str() {
        "SMS" => {
            if let Some(c) = h.client.as_mut() {
                c.sms_certificates = 0;
            }
        }
        "MY" => h.pki_certificate = false,
        _ => return Err(CmdError::new("InvalidArgument", format!("Cannot validate argument on parameter 'Store'. The argument \"{store}\" does not belong to the set \"SMS,My\"."))),
    }
    Ok(Value::Null)
}

/// `Remove-CmdeployTrustedRootKey`: removes the TrustedRootKey instance.
pub fn remove_trusted_root_key(estate: &mut Estate, host: &str, a: &Args) -> CmdResult {
    a.finish()?;
    client_of(estate, host)?.trusted_root_key = false;
    Ok(Value::Null)
}

/// `Set-CmdeployInternetManagementPoint -Fqdn`: `SetInternetManagementPointFQDN`, then CcmExec
/// restarts.
pub fn set_internet_mp(estate: &mut Estate, host: &str, a: &Args) -> CmdResult {
    let fqdn = a.str("Fqdn")?;
    a.finish()?;
    let c = client_of(estate, host)?;
    c.internet_management_point = fqdn.to_lowercase();
    c.ccmexec_running = true;
    Ok(Value::Null)
}
