//! Probing a host for its client state, and installing with CCMSetup, over the host's connection.

use serde::Deserialize;

use cmdeploy_engine::provider::{Context, RemoteError};
use cmdeploy_engine::resource::Connection;

use crate::kit;
use crate::powershell::{Call, Script, Target};

/// What `Get-CmdeployClientState` reports.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct ClientState {
    /// `root\ccm` SMS_Client exists.
    pub installed: bool,
    /// SMS_Client.ClientVersion.
    pub client_version: Option<String>,
    /// Assigned site (`GetAssignedSite`).
    pub site_code: Option<String>,
    /// CcmExec running.
    pub ccm_exec_running: bool,
    /// `%WinDir%\SMSCFG.INI` exists.
    pub sms_cfg_ini: bool,
    /// Certificates in the machine's SMS store.
    pub sms_certificates: u32,
    /// Client-authentication certificates in the machine's Personal store.
    pub pki_certificates: u32,
    /// TrustedRootKey present.
    pub trusted_root_key: bool,
    /// Internet MP FQDN.
    pub internet_management_point: Option<String>,
    /// `LastSuccessfulInstallParams`.
    pub last_install_parameters: Option<String>,
    /// The client reached its management point.
    pub management_point_reachable: bool,
    /// Domain-joined.
    pub domain_joined: bool,
    /// A restart is pending (Component Based Servicing `RebootPending` or Windows Update
    /// `RebootRequired`): installing may restart the computer (configmgr.md §6 rule 14).
    pub pending_reboot: bool,
}

/// Probes one host.
///
/// # Errors
/// Transport failures and a failed probe, naming the host.
pub async fn probe(ctx: &Context, connection: &Connection) -> Result<ClientState, RemoteError> {
    let mut script = Script::new(Target::Host);
    script.push(Call::new("Get-CmdeployClientState"));
    let out = kit::run(ctx, connection, &script).await?;
    let v = kit::value_of(connection, &script, &out, 0)?;
    client_state(connection, v)
}

/// Runs CCMSetup on the host (as [`install`]) and reads the client state back in the same
/// Script: one WinRM shell per host instead of two.
///
/// # Errors
/// The failed call (the probe does not run when CCMSetup failed), naming the host.
pub async fn install_and_probe(
    ctx: &Context,
    connection: &Connection,
    source: &str,
    command_line: &str,
) -> Result<(String, ClientState), RemoteError> {
    let calls = vec![
        install_call(source, command_line),
        Call::new("Get-CmdeployClientState"),
    ];
    let out = kit::run_writes(ctx, connection, Target::Host, calls).await?;
    let log = install_log(connection, &out)?;
    let v = out
        .get(1)
        .map(|r| &r.value)
        .unwrap_or(&serde_json::Value::Null);
    Ok((log, client_state(connection, v)?))
}

/// The first item of a `Get-CmdeployClientState` result.
fn client_state(
    connection: &Connection,
    v: &serde_json::Value,
) -> Result<ClientState, RemoteError> {
    let first = kit::items(v)
        .into_iter()
        .next()
        .cloned()
        .unwrap_or_default();
    // Every property is required: a missing one is an error naming it, never a default that
    // would read as "in sync".
    serde_json::from_value(first).map_err(|e| {
        RemoteError::new(
            connection.host(),
            format!("Get-CmdeployClientState returned an unexpected client state: {e}"),
        )
    })
}

/// Runs CCMSetup on the host from a local copy of the client source, then the given calls.
///
/// # Errors
/// The failed call, with CCMSetup's exit code and the last line of ccmsetup.log.
pub async fn install(
    ctx: &Context,
    connection: &Connection,
    source: &str,
    command_line: &str,
) -> Result<String, RemoteError> {
    let call = install_call(source, command_line);
    let out = kit::run_writes(ctx, connection, Target::Host, vec![call]).await?;
    install_log(connection, &out)
}

fn install_call(source: &str, command_line: &str) -> Call {
    Call::new("Install-CmdeployClient")
        .arg("SourcePath", source)
        .arg("CommandLine", command_line)
}

/// The `LogTail` (last lines of ccmsetup.log) of the first result.
///
/// # Errors
/// The result has no `LogTail` string (e.g. a `Get-Content` line serialised with its note
/// properties), naming the host and the property.
fn install_log(
    connection: &Connection,
    out: &crate::powershell::ScriptOutput,
) -> Result<String, RemoteError> {
    let first = out
        .results
        .first()
        .and_then(|r| kit::items(&r.value).into_iter().next());
    match first.and_then(|v| v.get("LogTail")) {
        Some(serde_json::Value::String(s)) => Ok(s.clone()),
        Some(serde_json::Value::Null) => Ok(String::new()),
        other => Err(RemoteError::new(
            connection.host(),
            format!(
                "Install-CmdeployClient returned no LogTail string (got {}): expected the last line of ccmsetup.log",
                other.map_or_else(|| "nothing".to_string(), |v| v.to_string())
            ),
        )),
    }
}

/// Points an installed internet-based client at another internet management point:
/// `Microsoft.SMS.Client` `SetInternetManagementPointFQDN`, then a CcmExec restart so the client
/// uses it (the documented route for clients installed before the internet MP changed).
///
/// # Errors
/// The failed call, naming the host.
pub async fn set_internet_management_point(
    ctx: &Context,
    connection: &Connection,
    fqdn: &str,
) -> Result<(), RemoteError> {
    let call = Call::new("Set-CmdeployInternetManagementPoint").arg("Fqdn", fqdn);
    kit::run_writes(ctx, connection, Target::Host, vec![call]).await?;
    Ok(())
}
