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

/// The `Win32_OperatingSystem.Version` of a lab caption.
fn version(os: &str) -> &'static str {
    let os = os.to_ascii_lowercase();
    if os.contains("windows 7") || os.contains("2008 r2") {
        "6.1.7601"
    } else if os.contains("vista") || os.contains("2008") {
        "6.0.6003"
    } else {
        "10.0.19045"
    }
}

/// `Test-CmdeployPushPrerequisites -ComputerName a,b`: per computer, what the site server reaches
/// (ping, ADMIN$, WMI), the OS, SHA-2 code signing support and the direct members of the local
/// Administrators group. Unknown names are unreachable, as on a network.
pub fn push_prerequisites(estate: &Estate, a: &Args) -> CmdResult {
    let names = a.opt_strs("ComputerName")?.unwrap_or_default();
    a.finish()?;
    let out: Vec<Value> = names
        .iter()
        .map(|name| match estate.host(name).filter(|h| h.reachable) {
            Some(h) => json!({
                "ComputerName": name,
                "Reachable": true,
                "AdminShare": h.admin_share,
                "Wmi": true,
                "OperatingSystem": h.os,
                "Version": version(&h.os),
                "Sha2CodeSigning": sha2_code_signing(h),
                "Administrators": h.local_admins,
            }),
            None => json!({
                "ComputerName": name, "Reachable": false, "AdminShare": false, "Wmi": false,
                "OperatingSystem": null, "Version": null, "Sha2CodeSigning": null,
                "Administrators": [],
            }),
        })
        .collect();
    Ok(Value::Array(out))
}
