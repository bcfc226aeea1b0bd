//! Prerequisite probes for client push targets, shown in the plan before anything is pushed:
//! one Script on the site server for all targets without a client (`Test-CmdeployPushPrerequisites`),
//! because the site server is what must reach them.
//!
//! The rules: the site server reaches the target (ping, SMB 445, RPC 135), the `ADMIN$` share, WMI,
//! a client push installation account in the local Administrators group (configmgr.md §6 rule 9;
//! deploy-clients-to-windows-computers.md), and SHA-2 code signing support on Windows 7 SP1 and
//! Server 2008 (R2) (seed 002, "SHA-2 code signing support", KB4474419).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use cmdeploy_engine::provider::{Context, RemoteError};
use cmdeploy_engine::resource::Connection;

use crate::kit;
use crate::powershell::{Call, Script, Target};

/// What `Test-CmdeployPushPrerequisites` reports for one computer. It runs in a WinRM session on
/// the site server, which has no network credentials (the double hop, windows-runtime.md §6): the
/// runner checks only what needs none (ping, TCP 445 and 135). The other fields stay `None`
/// ("not checked") unless a runner reports them.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct PushTarget {
    /// The name asked for.
    pub computer_name: String,
    /// Answers ping from the site server.
    pub reachable: bool,
    /// SMB (TCP 445, File and Printer Sharing) answers the site server.
    #[serde(default)]
    pub smb: Option<bool>,
    /// RPC (TCP 135) answers the site server.
    #[serde(default)]
    pub rpc: Option<bool>,
    /// `\\name\ADMIN$` is reachable from the site server.
    #[serde(default)]
    pub admin_share: Option<bool>,
    /// WMI (`Win32_OperatingSystem`) answers from the site server.
    #[serde(default)]
    pub wmi: Option<bool>,
    /// `Win32_OperatingSystem.Caption`.
    #[serde(default)]
    pub operating_system: Option<String>,
    /// `Win32_OperatingSystem.Version`.
    #[serde(default)]
    pub version: Option<String>,
    /// The OS runs SHA-2-signed code (unknown when WMI did not answer).
    #[serde(default)]
    pub sha2_code_signing: Option<bool>,
    /// Direct members of the local Administrators group (`DOMAIN\name`).
    #[serde(default)]
    pub administrators: Option<Vec<String>>,
}

/// Probes push targets from the site server, keyed by the lower-case name asked for.
///
/// # Errors
/// The transport failure or the failed call, naming the site server.
pub async fn probe(
    ctx: &Context,
    site_connection: &Connection,
    site_code: &str,
    hosts: &[String],
) -> Result<BTreeMap<String, PushTarget>, RemoteError> {
    let mut script = Script::new(Target::SiteServer {
        site_code: site_code.to_string(),
    });
    script.push(Call::new("Test-CmdeployPushPrerequisites").arg("ComputerName", hosts.to_vec()));
    let out = kit::run(ctx, site_connection, &script).await?;
    let v = kit::value_of(site_connection, &script, &out, 0)?;
    kit::items(v)
        .into_iter()
        .map(|t| {
            serde_json::from_value::<PushTarget>(t.clone())
                .map(|t| (t.computer_name.to_lowercase(), t))
                .map_err(|e| {
                    RemoteError::new(
                        site_connection.host(),
                        format!(
                            "Test-CmdeployPushPrerequisites returned an unexpected result: {e}"
                        ),
                    )
                })
        })
        .collect()
}

/// The plan notes for one target: each unmet prerequisite, in the order push would hit it.
/// `push_accounts` are the site's client push installation accounts (`DOMAIN\user`).
pub fn notes(host: &str, t: &PushTarget, push_accounts: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let fails = "the push will fail and ConfigMgr retries it hourly for up to 7 days";
    if !t.reachable {
        out.push(format!("prerequisite: the site server cannot reach {host} (allow ping, SMB 445 and RPC 135 from the site server); {fails}"));
        return out;
    }
    if t.smb == Some(false) {
        out.push(format!("prerequisite: SMB (TCP 445) on {host} does not answer the site server, so push cannot use its ADMIN$ share (allow File and Printer Sharing); {fails}"));
    }
    if t.rpc == Some(false) {
        out.push(format!("prerequisite: RPC (TCP 135) on {host} does not answer the site server (allow Windows Management Instrumentation (WMI-In)); {fails}"));
    }
    if t.admin_share == Some(false) {
        out.push(format!("prerequisite: the ADMIN$ share of {host} is not reachable from the site server (File and Printer Sharing in the firewall); {fails}"));
    }
    if t.wmi == Some(false) {
        out.push(format!("prerequisite: WMI on {host} does not answer the site server (allow Windows Management Instrumentation (WMI-In)); {fails}"));
        return out;
    }
    let mut unchecked = Vec::new();
    if t.admin_share.is_none() {
        unchecked.push("the ADMIN$ share");
    }
    match &t.administrators {
        None => unchecked.push("the push accounts' membership of Administrators"),
        Some(members) => {
            let admin = push_accounts
                .iter()
                .any(|a| members.iter().any(|m| m.eq_ignore_ascii_case(a)));
            if push_accounts.is_empty() {
                out.push(format!("prerequisite: the site has no client push installation account, so the site server's computer account is used on {host}; it must be a local administrator there"));
            } else if !admin {
                out.push(format!(
                    "prerequisite: no client push installation account ({}) is a direct member of Administrators on {host} (members of nested groups are not checked); otherwise {fails}",
                    push_accounts.join(", ")
                ));
            }
        }
    }
    match t.sha2_code_signing {
        Some(false) => out.push(format!(
            "prerequisite: {} on {host} lacks SHA-2 code signing support (KB4474419), which the client needs to install",
            t.operating_system.as_deref().unwrap_or("the OS")
        )),
        Some(true) => {}
        None => unchecked.push("SHA-2 code signing support (KB4474419)"),
    }
    if !unchecked.is_empty() {
        out.push(format!(
            "not checked from the site server's WinRM session, which has no network credentials (the double hop): {} on {host}; the push checks them with its accounts and apply names what fails",
            unchecked.join(", ")
        ));
    }
    out
}

/// Why a push to `host` cannot succeed, when the site server's own probe proves it: the target
/// does not answer ping, SMB (TCP 445, for `ADMIN$`) or RPC (TCP 135) from the site server, all
/// of which push needs (configmgr.md §6 rule 9). These checks need no network credentials, so a
/// `false` is an answer, not the double hop. `None` when nothing the probe saw rules the push out
/// (the push may still be running, or fail on what the probe cannot see).
pub fn blocker(host: &str, t: &PushTarget) -> Option<String> {
    if !t.reachable {
        Some(format!(
            "{host} does not answer the site server (ping, SMB 445 and RPC 135)"
        ))
    } else if t.smb == Some(false) {
        Some(format!("SMB (TCP 445) on {host} does not answer the site server, so push cannot use its ADMIN$ share (File and Printer Sharing)"))
    } else if t.rpc == Some(false) {
        Some(format!(
            "RPC (TCP 135) on {host} does not answer the site server (WMI-In)"
        ))
    } else {
        None
    }
}

/// The client push installation accounts of the site `site` in the manifests (`DOMAIN\user`).
pub fn push_accounts(ctx: &Context, site: &str) -> Vec<String> {
    ctx.resources
        .of_kind("client_push")
        .filter(|p| {
            p.meta
                .get("site")
                .and_then(Value::as_str)
                .is_some_and(|s| s.eq_ignore_ascii_case(site))
        })
        .filter_map(|p| {
            crate::sdk::model::<crate::configmgr::client_push::ClientPushModel>(&p.attrs)
        })
        .flat_map(|m| m.accounts)
        .map(|k| kit::account_user(ctx, &k))
        .collect()
}
