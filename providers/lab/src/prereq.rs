//! Client push prerequisites as the site server sees them (`Test-CmdeployPushPrerequisites`), and
//! the SHA-2 code signing rule of the client deployment prerequisites (seed 002, "SHA-2 code
//! signing support": the client is SHA-2 signed; Windows 7 SP1 and Windows Server 2008 (R2) SP1/SP2
//! need KB4474419 to install it).

use serde_json::{json, Value};

use super::args::{Args, CmdResult};
use super::model::{Estate, Host};

/// The update that adds SHA-2 code signing support to Windows 7 SP1 / Server 2008 (R2).
pub const SHA2_UPDATE: &str = "KB4474419";

/// Whether the host's OS runs SHA-2-signed code: NT 6.0/6.1 only with [`SHA2_UPDATE`].
pub fn sha2_code_signing(h: &Host) -> bool {
    !needs_sha2_update(&h.os)
        || h.hotfixes
            .iter()
            .any(|k| k.eq_ignore_ascii_case(SHA2_UPDATE))
}

/// Windows versions 6.0 and 6.1 (Vista, 7, Server 2008, Server 2008 R2), by caption.
fn needs_sha2_update(os: &str) -> bool {
    let os = os.to_ascii_lowercase();
    os.contains("windows 7") || os.contains("windows vista") || os.contains("2008")
}

/// `Test-CmdeployPushPrerequisites -ComputerName a,b`, as the runner's function would answer from
/// a WinRM session on the site server. The session has no network credentials
/// (windows-runtime.md §6), so the lab reads which probes the runner's function uses:
///
/// * `Test-Path \\<name>\ADMIN$` returns `$false` for every computer (Test-Path reports the
///   refused UNC path as false, **inferred** in §6): `AdminShare = false`;
/// * `Get-CimInstance -ComputerName` fails with 0x8009030e (§6): `Wmi = false`, no OS, no
///   Administrators;
/// * a TCP connect (`Test-CmdeployTcpPort`) needs no credentials: `Smb` answers when File and
///   Printer Sharing is open (`admin_share` in the seed), `Rpc` when the host is reachable.
///
/// Unknown names are unreachable, as on a network.
pub fn push_prerequisites(estate: &Estate, a: &Args) -> CmdResult {
    let names = a.opt_strs("ComputerName")?.unwrap_or_default();
    a.finish()?;
    let body = super::runner_model::function_body("Test-CmdeployPushPrerequisites").unwrap_or("");
    let unc = body.contains("ADMIN$");
    let remote_cim = body.contains("Get-CimInstance -ComputerName");
    let tcp = body.contains("Test-CmdeployTcpPort");
    let out: Vec<Value> = names
        .iter()
        .map(|name| {
            let h = estate.host(name).filter(|h| h.reachable);
            let mut row = json!({"ComputerName": name, "Reachable": h.is_some()});
            if tcp {
                row["Smb"] = json!(h.is_some_and(|h| h.admin_share));
                row["Rpc"] = json!(h.is_some());
            }
            if unc {
                row["AdminShare"] = json!(false);
            }
            if remote_cim {
                row["Wmi"] = json!(false);
                row["OperatingSystem"] = Value::Null;
                row["Version"] = Value::Null;
                row["Sha2CodeSigning"] = Value::Null;
                row["Administrators"] = json!([]);
            }
            row
        })
        .collect();
    Ok(Value::Array(out))
}
