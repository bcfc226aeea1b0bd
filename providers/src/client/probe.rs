//! Probing a host for its client state, and installing with CCMSetup, over the host's connection.

use std::time::{Duration, Instant};

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

/// Runs CCMSetup on the host (as [`install`]), waits for the ccmsetup service, and reads the
/// client state back.
///
/// # Errors
/// As [`install`], and a failed probe, naming the host.
pub async fn install_and_probe(
    ctx: &Context,
    connection: &Connection,
    source: &str,
    command_line: &str,
) -> Result<(String, ClientState), RemoteError> {
    let log = install(ctx, connection, source, command_line).await?;
    Ok((log, probe(ctx, connection).await?))
}

/// The first item of a `Get-CmdeployClientState` result.
fn client_state(
    connection: &Connection,
    v: &serde_json::Value,
) -> Result<ClientState, RemoteError> {
    first_as(connection, v, "Get-CmdeployClientState")
}

/// The first item of `cmdlet`'s result as `T`. Every property of `T` is required: a missing one
/// is an error naming it and the cmdlet, never a default that would read as "in sync".
fn first_as<T: serde::de::DeserializeOwned>(
    connection: &Connection,
    v: &serde_json::Value,
    cmdlet: &str,
) -> Result<T, RemoteError> {
    let first = kit::items(v)
        .into_iter()
        .next()
        .cloned()
        .unwrap_or_default();
    serde_json::from_value(first).map_err(|e| {
        RemoteError::new(
            connection.host(),
            format!("{cmdlet} returned an unexpected result: {e}"),
        )
    })
}

/// How long an install may take before cmdeploy gives up waiting (CCMSetup's own download
/// timeout is 1440 minutes; a typical install takes minutes: durations are not documented).
pub const INSTALL_TIMEOUT: Duration = Duration::from_secs(60 * 60);

/// Time between two reads of ccmsetup.log while the service installs.
const POLL: Duration = Duration::from_secs(2);

/// Runs CCMSetup on the host from a local copy of the client source and waits for the ccmsetup
/// service to finish: the `ccmsetup.exe` started is a bootstrap that exits within seconds, and
/// the install's result is the line "CcmSetup is exiting with return code N" that ccmsetup.log
/// gains later (windows-runtime.md §8). Returns the log's last lines.
///
/// # Errors
/// The failed start; a return code other than 0 (success) and 7 (reboot required), with its
/// meaning and the log's last lines; no return code within [`INSTALL_TIMEOUT`]. Each names the
/// host.
pub async fn install(
    ctx: &Context,
    connection: &Connection,
    source: &str,
    command_line: &str,
) -> Result<String, RemoteError> {
    let call = install_call(source, command_line);
    let out = kit::run_writes(ctx, connection, Target::Host, vec![call]).await?;
    let offset = log_offset(connection, &out)?;
    let deadline = Instant::now() + INSTALL_TIMEOUT;
    loop {
        let result = install_result(ctx, connection, offset).await?;
        if let Some(code) = result.return_code.filter(|_| !result.running) {
            return match code {
                0 | 7 => Ok(result.log_tail),
                _ => Err(RemoteError {
                    host: connection.host(),
                    operation: Some("Install-CmdeployClient".into()),
                    message: format!(
                        "CCMSetup ended with return code {code} ({}); ccmsetup.log: {}",
                        return_code_meaning(code),
                        result.log_tail
                    ),
                    category: None,
                    unreachable: None,
                }),
            };
        }
        if Instant::now() >= deadline {
            return Err(RemoteError {
                host: connection.host(),
                operation: Some("Install-CmdeployClient".into()),
                message: format!(
                    "the ccmsetup service wrote no return code to ccmsetup.log within {} minutes (still running: {}); ccmsetup.log: {}",
                    INSTALL_TIMEOUT.as_secs() / 60,
                    if result.running { "yes" } else { "no" },
                    result.log_tail
                ),
                category: None,
                unreachable: None,
            });
        }
        tokio::time::sleep(POLL).await;
    }
}

/// CCMSetup's return codes (about-client-installation-properties.md, "CCMSetup.exe return
/// codes").
pub fn return_code_meaning(code: i64) -> &'static str {
    match code {
        0 => "success",
        6 => "error",
        7 => "reboot required",
        8 => "setup already running",
        9 => "prerequisite evaluation failure",
        10 => "setup manifest hash validation failure",
        _ => "undocumented return code",
    }
}

/// What `Get-CmdeployInstallResult` reports.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
struct InstallResult {
    /// A `ccmsetup` process (the service) still runs.
    running: bool,
    /// The return code of the last "CcmSetup is exiting with return code N" line since the
    /// install started.
    return_code: Option<i64>,
    /// The last lines ccmsetup.log gained since the install started.
    log_tail: String,
}

async fn install_result(
    ctx: &Context,
    connection: &Connection,
    offset: u64,
) -> Result<InstallResult, RemoteError> {
    let mut script = Script::new(Target::Host);
    script.push(Call::new("Get-CmdeployInstallResult").arg("LogOffset", offset));
    let out = kit::run(ctx, connection, &script).await?;
    let v = kit::value_of(connection, &script, &out, 0)?;
    first_as(connection, v, "Get-CmdeployInstallResult")
}

fn install_call(source: &str, command_line: &str) -> Call {
    Call::new("Install-CmdeployClient")
        .arg("SourcePath", source)
        .arg("CommandLine", command_line)
}

/// The `LogOffset` (bytes of ccmsetup.log before the install) of the first result.
///
/// # Errors
/// The result has no numeric `LogOffset`, naming the host and the property.
fn log_offset(
    connection: &Connection,
    out: &crate::powershell::ScriptOutput,
) -> Result<u64, RemoteError> {
    out.results
        .first()
        .and_then(|r| kit::items(&r.value).into_iter().next())
        .and_then(|v| v.get("LogOffset"))
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| {
            RemoteError::new(
                connection.host(),
                "Install-CmdeployClient returned no LogOffset (the size of ccmsetup.log before the install)",
            )
        })
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
