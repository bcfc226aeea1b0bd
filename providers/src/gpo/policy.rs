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

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

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

/// `SetupParameters` (ConfigMgrInstallation.adm).
pub const SETUP_PARAMETERS: &str = "SetupParameters";
/// `NoDefAutoAssign` (ConfigMgrInstallation.adm, 1 when the policy is enabled).
pub const NO_DEF_AUTO_ASSIGN: &str = "NoDefAutoAssign";
/// `GPRequestedSiteAssignmentCode` (ConfigMgrAssignment.adm).
pub const ASSIGNED_SITE: &str = "GPRequestedSiteAssignmentCode";
/// `GPSiteAssignmentRetryInterval(Min)` (ConfigMgrAssignment.adm).
pub const RETRY_INTERVAL: &str = "GPSiteAssignmentRetryInterval(Min)";
/// `GPSiteAssignmentRetryDuration(Hour)` (ConfigMgrAssignment.adm).
pub const RETRY_DURATION: &str = "GPSiteAssignmentRetryDuration(Hour)";
/// `WUServer` (WindowsUpdate.admx).
pub const WU_SERVER: &str = "WUServer";
/// `WUStatusServer` (WindowsUpdate.admx).
pub const WU_STATUS_SERVER: &str = "WUStatusServer";
/// `AU\UseWUServer` (WindowsUpdate.admx), named with its subkey.
pub const USE_WU_SERVER: &str = "AU\\UseWUServer";

/// One of the three policies a `gpo` manages, each a block of registry values: the
/// `client_deployment`, `site_assignment` and `windows_update` attributes of the `gpo` kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// ConfigMgrInstallation.adm.
    ClientDeployment,
    /// ConfigMgrAssignment.adm.
    SiteAssignment,
    /// The intranet Microsoft update service location.
    WindowsUpdate,
}

impl Policy {
    /// The three, in attribute order.
    pub const ALL: [Policy; 3] = [
        Policy::ClientDeployment,
        Policy::SiteAssignment,
        Policy::WindowsUpdate,
    ];

    /// The attribute (and manifest sub-table) holding the policy's values.
    pub const fn name(self) -> &'static str {
        match self {
            Policy::ClientDeployment => "client_deployment",
            Policy::SiteAssignment => "site_assignment",
            Policy::WindowsUpdate => "windows_update",
        }
    }

    /// The policy whose values live under `key` (one of [`KEYS`], exact spelling).
    pub fn of_key(key: &str) -> Option<Policy> {
        match key {
            CCMSETUP_KEY => Some(Policy::ClientDeployment),
            ASSIGNMENT_KEY => Some(Policy::SiteAssignment),
            WU_KEY | WU_AU_KEY => Some(Policy::WindowsUpdate),
            _ => None,
        }
    }

    /// The key and value name of one of the policy's values (`AU\UseWUServer` lives in the AU
    /// subkey).
    pub fn location(self, name: &str) -> (&'static str, String) {
        match self {
            Policy::ClientDeployment => (CCMSETUP_KEY, name.to_string()),
            Policy::SiteAssignment => (ASSIGNMENT_KEY, name.to_string()),
            Policy::WindowsUpdate => match name.strip_prefix("AU\\") {
                Some(n) => (WU_AU_KEY, n.to_string()),
                None => (WU_KEY, name.to_string()),
            },
        }
    }

    /// The value names the policy owns, for reading them back.
    pub fn value_names(self) -> &'static [&'static str] {
        match self {
            Policy::ClientDeployment => &[NO_DEF_AUTO_ASSIGN, SETUP_PARAMETERS],
            Policy::SiteAssignment => &[ASSIGNED_SITE, RETRY_INTERVAL, RETRY_DURATION],
            Policy::WindowsUpdate => &[WU_SERVER, WU_STATUS_SERVER, USE_WU_SERVER],
        }
    }
}

/// One registry value of a policy: its type as `Set-GPRegistryValue -Type` takes it (`String`,
/// `DWord`) and its data; `{"type": ..., "value": ...}` in the attributes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegistryValue {
    /// Registry value type (Microsoft.Win32.RegistryValueKind name).
    #[serde(rename = "type")]
    pub kind: String,
    /// The data (a string or a number).
    #[serde(default)]
    pub value: Value,
}

/// A policy's values by value name (`AU\UseWUServer` with its subkey).
pub type PolicyValues = BTreeMap<String, RegistryValue>;

/// One registry value: type and data, as JSON (`{"type": ..., "value": ...}`).
pub fn value(kind: &str, data: Value) -> Value {
    json!({"type": kind, "value": data})
}

fn typed(kind: &str, data: Value) -> RegistryValue {
    RegistryValue {
        kind: kind.to_string(),
        value: data,
    }
}

/// Registry values of `client_deployment` (value name → {type, value}).
pub fn client_deployment_values(setup_parameters: &str) -> PolicyValues {
    PolicyValues::from([
        (NO_DEF_AUTO_ASSIGN.into(), typed("DWord", json!(1))),
        (
            SETUP_PARAMETERS.into(),
            typed("String", json!(setup_parameters)),
        ),
    ])
}

/// Registry values of `site_assignment`.
pub fn site_assignment_values(a: &SiteAssignment) -> PolicyValues {
    PolicyValues::from([
        (
            ASSIGNED_SITE.into(),
            typed("String", json!(a.site_code.value.to_uppercase())),
        ),
        (
            RETRY_INTERVAL.into(),
            typed("DWord", json!(a.retry_interval_minutes.value)),
        ),
        (
            RETRY_DURATION.into(),
            typed("DWord", json!(a.retry_duration_hours.value)),
        ),
    ])
}

/// Registry values of `windows_update` (`AU\UseWUServer` is keyed with its subkey).
pub fn windows_update_values(w: &WindowsUpdate) -> PolicyValues {
    let status = w
        .status_server
        .clone()
        .unwrap_or_else(|| w.server.value.clone());
    PolicyValues::from([
        (WU_SERVER.into(), typed("String", json!(w.server.value))),
        (WU_STATUS_SERVER.into(), typed("String", json!(status))),
        (USE_WU_SERVER.into(), typed("DWord", json!(1))),
    ])
}

/// True for a key outside `Software\Policies`, whose values stay on a computer after the setting
/// leaves the GPO (they "tattoo"; configmgr.md §3.2): ConfigMgrAssignment.adm's
/// `Software\Microsoft\SMS\Mobile Client`.
pub fn tattoos(key: &str) -> bool {
    !key.to_ascii_lowercase().contains("\\software\\policies\\")
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
