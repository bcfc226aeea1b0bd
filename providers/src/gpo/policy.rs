//! The registry values behind the client-deployment policies (configmgr.md §3):
//!
//! * ConfigMgrInstallation.adm "Configure Configuration Manager Client Deployment Settings":
//!   `HKLM\Software\Policies\Microsoft\ccmsetup` — `SetupParameters` (REG_SZ, ADM MAXLEN 255)
//!   and `NoDefAutoAssign` (REG_DWORD 1, written when the policy is enabled);
//! * ConfigMgrAssignment.adm "Configure Configuration Manager Site Assignment":
//!   `HKLM\Software\Microsoft\SMS\Mobile Client` — `GPRequestedSiteAssignmentCode` (REG_SZ,
//!   MAXLEN 4), `GPSiteAssignmentRetryInterval(Min)` (1–1440, default 60),
//!   `GPSiteAssignmentRetryDuration(Hour)` (1–720, default 12); outside the Policies tree, so
//!   these values tattoo;
//! * WindowsUpdate.admx "Specify intranet Microsoft update service location":
//!   `...\Windows\WindowsUpdate` `WUServer`, `WUStatusServer` and `...\WindowsUpdate\AU`
//!   `UseWUServer` = 1.

use serde::Deserialize;
use serde_json::{json, Map, Value};

use cmdeploy_engine::spanned::Spanned;

use crate::ccmsetup::{CcmsetupParameters, ClientMsiProperties};

/// Key of ConfigMgrInstallation.adm.
pub const CCMSETUP_KEY: &str = "HKLM\\Software\\Policies\\Microsoft\\ccmsetup";
/// Key of ConfigMgrAssignment.adm.
pub const ASSIGNMENT_KEY: &str = "HKLM\\Software\\Microsoft\\SMS\\Mobile Client";
/// Key of the WSUS location policy.
pub const WU_KEY: &str = "HKLM\\Software\\Policies\\Microsoft\\Windows\\WindowsUpdate";
/// Key of `UseWUServer`.
pub const WU_AU_KEY: &str = "HKLM\\Software\\Policies\\Microsoft\\Windows\\WindowsUpdate\\AU";

/// Every key a `gpo` resource may write, in read order.
pub const KEYS: [&str; 4] = [CCMSETUP_KEY, ASSIGNMENT_KEY, WU_KEY, WU_AU_KEY];

/// `client_deployment`: ConfigMgrInstallation.adm. Give either `setup_parameters` or typed
/// `properties`/`ccmsetup`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ClientDeployment {
    /// The CCMSetup properties string as written in the policy (`SMSSITECODE=ABC FSP=...`).
    #[serde(default)]
    pub setup_parameters: Option<Spanned<String>>,
    /// Typed client.msi properties (rendered into `SetupParameters`).
    #[serde(default)]
    pub properties: Option<ClientMsiProperties>,
    /// Typed CCMSetup parameters (rendered first).
    #[serde(default)]
    pub ccmsetup: Option<CcmsetupParameters>,
}

/// `site_assignment`: ConfigMgrAssignment.adm.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteAssignment {
    /// Assigned site code (`GPRequestedSiteAssignmentCode`, 3 characters).
    pub site_code: Spanned<String>,
    /// Retry interval in minutes, 1–1440 (default 60).
    #[serde(default = "default_interval")]
    pub retry_interval_minutes: Spanned<u32>,
    /// Retry duration in hours, 1–720 (default 12).
    #[serde(default = "default_duration")]
    pub retry_duration_hours: Spanned<u32>,
}

fn default_interval() -> Spanned<u32> {
    Spanned::detached(60)
}

fn default_duration() -> Spanned<u32> {
    Spanned::detached(12)
}

/// `windows_update`: the intranet update service location for software update-based installs.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WindowsUpdate {
    /// `WUServer`: the software update point's WSUS URL, e.g. `http://server1.contoso.com:8530`.
    pub server: Spanned<String>,
    /// `WUStatusServer` (defaults to `server`).
    #[serde(default)]
    pub status_server: Option<String>,
}

/// One registry value: type and data.
pub fn value(kind: &str, data: Value) -> Value {
    json!({"type": kind, "value": data})
}

/// Registry values of `client_deployment` (value name → {type, value}).
pub fn client_deployment_values(setup_parameters: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("NoDefAutoAssign".into(), value("DWord", json!(1)));
    m.insert(
        "SetupParameters".into(),
        value("String", json!(setup_parameters)),
    );
    m
}

/// Registry values of `site_assignment`.
pub fn site_assignment_values(a: &SiteAssignment) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "GPRequestedSiteAssignmentCode".into(),
        value("String", json!(a.site_code.value.to_uppercase())),
    );
    m.insert(
        "GPSiteAssignmentRetryInterval(Min)".into(),
        value("DWord", json!(a.retry_interval_minutes.value)),
    );
    m.insert(
        "GPSiteAssignmentRetryDuration(Hour)".into(),
        value("DWord", json!(a.retry_duration_hours.value)),
    );
    m
}

/// Registry values of `windows_update` (`AU\UseWUServer` is keyed with its subkey).
pub fn windows_update_values(w: &WindowsUpdate) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("WUServer".into(), value("String", json!(w.server.value)));
    m.insert(
        "WUStatusServer".into(),
        value(
            "String",
            json!(w
                .status_server
                .clone()
                .unwrap_or_else(|| w.server.value.clone())),
        ),
    );
    m.insert("AU\\UseWUServer".into(), value("DWord", json!(1)));
    m
}

/// The key and value name of an attribute's value (`AU\UseWUServer` lives in the AU subkey).
pub fn location(block: &str, name: &str) -> (&'static str, String) {
    match block {
        "client_deployment" => (CCMSETUP_KEY, name.to_string()),
        "site_assignment" => (ASSIGNMENT_KEY, name.to_string()),
        _ => match name.strip_prefix("AU\\") {
            Some(n) => (WU_AU_KEY, n.to_string()),
            None => (WU_KEY, name.to_string()),
        },
    }
}

/// True for a key outside `Software\Policies`, whose values stay on a computer after the setting
/// leaves the GPO (they "tattoo"; configmgr.md §3.2): ConfigMgrAssignment.adm's
/// `Software\Microsoft\SMS\Mobile Client`.
pub fn tattoos(key: &str) -> bool {
    !key.to_ascii_lowercase().contains("\\software\\policies\\")
}

/// The value names a block owns, for reading them back.
pub fn block_names(block: &str) -> &'static [&'static str] {
    match block {
        "client_deployment" => &["NoDefAutoAssign", "SetupParameters"],
        "site_assignment" => &[
            "GPRequestedSiteAssignmentCode",
            "GPSiteAssignmentRetryInterval(Min)",
            "GPSiteAssignmentRetryDuration(Hour)",
        ],
        _ => &["WUServer", "WUStatusServer", "AU\\UseWUServer"],
    }
}

/// Checks a WSUS URL: scheme, host, and the port rules (80/443 or 8530/8531).
pub fn wsus_url_problem(url: &str) -> Option<(String, String)> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Some((format!("`{url}` is not a URL"), "WUServer is the software update point's WSUS URL, e.g. http://server1.contoso.com:8530".into()));
    };
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Some((format!("`{url}` must start with http:// or https://"), "WUServer is the software update point's WSUS URL, e.g. http://server1.contoso.com:8530".into()));
    }
    let authority = rest.split('/').next().unwrap_or("");
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().ok()),
        None => (authority, Some(if scheme == "http" { 80 } else { 443 })),
    };
    if host.is_empty() {
        return Some((
            format!("`{url}` has no host"),
            "give the software update point's name as it is configured (FQDN or short name)".into(),
        ));
    }
    let ok = matches!(
        (scheme.as_str(), port),
        ("http", Some(80)) | ("http", Some(8530)) | ("https", Some(443)) | ("https", Some(8531))
    );
    if !ok {
        return Some((
            format!("`{url}` uses a port WSUS does not listen on by default"),
            "WSUS uses 80/443 (default web site) or 8530/8531 (custom site); HTTPS is 443 with HTTP 80, otherwise HTTP+1 (configmgr.md §3.3)".into(),
        ));
    }
    None
}
