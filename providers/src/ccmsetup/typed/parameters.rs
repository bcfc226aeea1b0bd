//! [`CcmsetupParameters`]: typed ccmsetup `/` parameters.

use serde::{Deserialize, Serialize};

use super::{BitsPriority, ExcludeFeature};

/// ccmsetup `/` parameters (§1.2). `true` on a switch emits it; `false` or absent omits it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CcmsetupParameters {
    /// `/AllowMetered` (2006+): download, register and get policy over metered networks. Push from 2103.
    #[serde(
        rename = "AllowMetered",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub allow_metered: Option<bool>,
    /// `/AlwaysExcludeUpgrade:TRUE|FALSE`: the client won't auto-upgrade (default FALSE).
    #[serde(
        rename = "AlwaysExcludeUpgrade",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub always_exclude_upgrade: Option<bool>,
    /// `/BITSPriority`: BITS priority for HTTP download.
    #[serde(
        rename = "BITSPriority",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub bits_priority: Option<BitsPriority>,
    /// `/config:<file>`: text file with properties (tcf format).
    #[serde(rename = "config", default, skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    /// `/downloadtimeout:<minutes>` (default 1440).
    #[serde(
        rename = "downloadtimeout",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub download_timeout: Option<u32>,
    /// `/ExcludeFeatures:ClientUI`: don't install Software Center.
    #[serde(
        rename = "ExcludeFeatures",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub exclude_features: Option<ExcludeFeature>,
    /// `/forceinstall`: uninstall any existing client, then install.
    #[serde(
        rename = "forceinstall",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub force_install: Option<bool>,
    /// `/forcereboot`: restart if needed.
    #[serde(
        rename = "forcereboot",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub force_reboot: Option<bool>,
    /// `/IgnoreSkipUpgrade`: upgrade a client excluded from auto-upgrade.
    #[serde(
        rename = "IgnoreSkipUpgrade",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ignore_skip_upgrade: Option<bool>,
    /// `/logon`: stop if any client version is installed.
    #[serde(rename = "logon", default, skip_serializing_if = "Option::is_none")]
    pub logon: Option<bool>,
    /// `/mp:a;b`: initial MPs to find download sources; a CMG must start with `https://`.
    #[serde(rename = "mp", default, skip_serializing_if = "Option::is_none")]
    pub mp: Option<Vec<String>>,
    /// `/NoCRLCheck`: don't check the CRL for the PKI cert.
    #[serde(
        rename = "NoCRLCheck",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub no_crl_check: Option<bool>,
    /// `/noservice`: run in the calling user's context.
    #[serde(rename = "noservice", default, skip_serializing_if = "Option::is_none")]
    pub no_service: Option<bool>,
    /// `/regtoken:<token>` (2002+): CMG bulk registration token.
    #[serde(rename = "regtoken", default, skip_serializing_if = "Option::is_none")]
    pub regtoken: Option<String>,
    /// `/retry:<minutes>`: retry interval on download failure.
    #[serde(rename = "retry", default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<u32>,
    /// `/service`: run as a Local System service (hides the exit code).
    #[serde(rename = "service", default, skip_serializing_if = "Option::is_none")]
    pub service: Option<bool>,
    /// `/skipprereq:a.exe;b.exe`: prerequisites not to install.
    #[serde(
        rename = "skipprereq",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub skip_prereq: Option<Vec<String>>,
    /// `/source:<path>` (repeated): local or UNC download locations.
    #[serde(rename = "source", default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Vec<String>>,
    /// `/uninstall`: uninstall the client.
    #[serde(rename = "uninstall", default, skip_serializing_if = "Option::is_none")]
    pub uninstall: Option<bool>,
    /// `/UpgradeToLatest`: ask the MP for the latest client version.
    #[serde(
        rename = "UpgradeToLatest",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub upgrade_to_latest: Option<bool>,
    /// `/UsePKICert`: use a PKI client-authentication certificate.
    #[serde(
        rename = "UsePKICert",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub use_pki_cert: Option<bool>,
}
