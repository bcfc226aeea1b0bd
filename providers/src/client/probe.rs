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

/// Runs CCMSetup on the host from a local copy of the client source, waits for the ccmsetup
/// service to finish, and reads the client state back. Returns the log's last lines and the
/// state.
///
/// The `ccmsetup.exe` started is a bootstrap that exits within seconds; the install's result is
/// the line "CcmSetup is exiting with return code N" that ccmsetup.log gains when the service
/// ends (windows-runtime.md §8). The Script that starts the install also waits for the service's
/// process to end (`Wait-Process`, [`wait_per_script`]), reads the log and the client
/// state: an install that ends within that wait costs one Script. A longer one is waited for by
/// Scripts that each wait again as long and read the log and the state when the service ends,
/// instead of reads of the log on a fixed interval.
///
/// # Errors
/// The failed start; a return code other than 0 (success) and 7 (reboot required), with its
/// meaning and the log's last lines; no return code within [`INSTALL_TIMEOUT`]; a failed probe.
/// Each names the host.
pub async fn install_and_probe(
    ctx: &Context,
    connection: &Connection,
    source: &str,
    command_line: &str,
) -> Result<(String, ClientState), RemoteError> {
    let deadline = Instant::now() + INSTALL_TIMEOUT;
    let wait = wait_per_script(connection);
    let calls = vec![
        install_call(source, command_line).arg("WaitSeconds", wait.as_secs()),
        Call::new("Get-CmdeployClientState"),
    ];
    let out = kit::run_writes(ctx, connection, Target::Host, calls).await?;
    let offset = log_offset(connection, &out)?;
    let value = |id: usize| out.get(id).map_or(&serde_json::Value::Null, |r| &r.value);
    let mut result: InstallResult = first_as(connection, value(0), "Install-CmdeployClient")?;
    let mut state = client_state(connection, value(1))?;
    loop {
        if let Some(code) = result.return_code.filter(|_| !result.running) {
            return match code {
                0 | 7 => Ok((result.log_tail, state)),
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
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
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
        (result, state) = wait_for_install(ctx, connection, offset, left.min(wait)).await?;
    }
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

/// The longest one Script waits for the ccmsetup service before it answers (see
/// [`wait_per_script`]).
pub const WAIT_PER_SCRIPT: Duration = Duration::from_secs(30);

/// How long one Script on `connection` waits for the ccmsetup service: half the connection's
/// WS-Management OperationTimeout (`operation_timeout_seconds`, default 60), at least 1 s and at
/// most [`WAIT_PER_SCRIPT`]. The Receive that waits for the Script's output is then answered by
/// the output, not by a `w:TimedOut` fault and another Receive.
pub fn wait_per_script(connection: &Connection) -> Duration {
    let timeout = connection
        .spec
        .get("operation_timeout_seconds")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(60);
    Duration::from_secs((timeout / 2).clamp(1, WAIT_PER_SCRIPT.as_secs()))
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

/// One Script that waits up to `wait` (whole seconds, at least 1) for the ccmsetup service to
/// end, then reads what ccmsetup.log gained after `offset` and the client state.
async fn wait_for_install(
    ctx: &Context,
    connection: &Connection,
    offset: u64,
    wait: Duration,
) -> Result<(InstallResult, ClientState), RemoteError> {
    let mut script = Script::new(Target::Host);
    script.push(
        Call::new("Get-CmdeployInstallResult")
            .arg("LogOffset", offset)
            .arg("WaitSeconds", wait.as_secs().max(1)),
    );
    script.push(Call::new("Get-CmdeployClientState"));
    let out = kit::run(ctx, connection, &script).await?;
    let result = first_as(
        connection,
        kit::value_of(connection, &script, &out, 0)?,
        "Get-CmdeployInstallResult",
    )?;
    let state = client_state(connection, kit::value_of(connection, &script, &out, 1)?)?;
    Ok((result, state))
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
