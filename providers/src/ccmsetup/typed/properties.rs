//! [`ClientMsiProperties`]: typed client.msi properties.

use serde::{Deserialize, Serialize};

use super::CacheFlag;

/// client.msi properties (§1.3). Boolean flags render the documented value
/// (`1` or `TRUE`); `false` omits them unless noted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientMsiProperties {
    /// `AADCLIENTAPPID`: Entra native client app ID (GUID).
    #[serde(
        rename = "AADCLIENTAPPID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub aad_client_app_id: Option<String>,
    /// `AADRESOURCEURI`: Entra server app ID URI.
    #[serde(
        rename = "AADRESOURCEURI",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub aad_resource_uri: Option<String>,
    /// `AADTENANTID`: Entra tenant ID (GUID).
    #[serde(
        rename = "AADTENANTID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub aad_tenant_id: Option<String>,
    /// `CCMADMINS`: accounts given access to client settings (rendered `;`-joined).
    #[serde(rename = "CCMADMINS", default, skip_serializing_if = "Option::is_none")]
    pub ccm_admins: Option<Vec<String>>,
    /// `CCMALLOWSILENTREBOOT`: restart without warning (renders `1`).
    #[serde(
        rename = "CCMALLOWSILENTREBOOT",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ccm_allow_silent_reboot: Option<bool>,
    /// `CCMALWAYSINF=1`: internet-only client.
    #[serde(
        rename = "CCMALWAYSINF",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ccm_always_inf: Option<bool>,
    /// `CCMCERTISSUERS`: trusted root CA issuers (`;` between attributes, `|` between CAs).
    #[serde(
        rename = "CCMCERTISSUERS",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ccm_cert_issuers: Option<String>,
    /// `CCMCERTNAMECHECK` (2207+): `false` renders `0` (skip the subject-name check); `true` omits it.
    #[serde(
        rename = "CCMCERTNAMECHECK",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ccm_cert_name_check: Option<bool>,
    /// `CCMCERTSEL`: certificate selection criteria.
    #[serde(
        rename = "CCMCERTSEL",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ccm_cert_sel: Option<String>,
    /// `CCMCERTSTORE`: alternate computer certificate store.
    #[serde(
        rename = "CCMCERTSTORE",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ccm_cert_store: Option<String>,
    /// `CCMDEBUGLOGGING`: debug logging (renders `1`/`0`).
    #[serde(
        rename = "CCMDEBUGLOGGING",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ccm_debug_logging: Option<bool>,
    /// `CCMENABLELOGGING`: logging on/off (renders `TRUE`/`FALSE`).
    #[serde(
        rename = "CCMENABLELOGGING",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ccm_enable_logging: Option<bool>,
    /// `CCMEVALINTERVAL`: ccmeval frequency, 1–1440 minutes.
    #[serde(
        rename = "CCMEVALINTERVAL",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ccm_eval_interval: Option<u32>,
    /// `CCMEVALHOUR`: ccmeval hour, 0–23.
    #[serde(
        rename = "CCMEVALHOUR",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ccm_eval_hour: Option<u32>,
    /// `CCMFIRSTCERT=1`: pick the matching cert with the longest validity.
    #[serde(
        rename = "CCMFIRSTCERT",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ccm_first_cert: Option<bool>,
    /// `CCMHOSTNAME`: internet MP FQDN or CMG address, without `https://`.
    #[serde(
        rename = "CCMHOSTNAME",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ccm_host_name: Option<String>,
    /// `CCMHTTPPORT` (default 80).
    #[serde(
        rename = "CCMHTTPPORT",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ccm_http_port: Option<u16>,
    /// `CCMHTTPSPORT` (default 443).
    #[serde(
        rename = "CCMHTTPSPORT",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ccm_https_port: Option<u16>,
    /// `CCMINSTALLDIR` (default `%WinDir%\CCM`).
    #[serde(
        rename = "CCMINSTALLDIR",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ccm_install_dir: Option<String>,
    /// `CCMLOGLEVEL`: 0 verbose, 1 default, 2 warnings and errors, 3 errors only.
    #[serde(
        rename = "CCMLOGLEVEL",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ccm_log_level: Option<u32>,
    /// `CCMLOGMAXHISTORY`: rolled log copies kept (default 1).
    #[serde(
        rename = "CCMLOGMAXHISTORY",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ccm_log_max_history: Option<u32>,
    /// `CCMLOGMAXSIZE`: bytes, minimum 10000 (default 250000).
    #[serde(
        rename = "CCMLOGMAXSIZE",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ccm_log_max_size: Option<u64>,
    /// `DISABLESITEOPT=TRUE`: admins can't change the assigned site.
    #[serde(
        rename = "DISABLESITEOPT",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub disable_site_opt: Option<bool>,
    /// `DISABLECACHEOPT=TRUE`: admins can't change cache settings.
    #[serde(
        rename = "DISABLECACHEOPT",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub disable_cache_opt: Option<bool>,
    /// `DNSSUFFIX`: DNS domain used to find published MPs.
    #[serde(rename = "DNSSUFFIX", default, skip_serializing_if = "Option::is_none")]
    pub dns_suffix: Option<String>,
    /// `FSP`: fallback status point.
    #[serde(rename = "FSP", default, skip_serializing_if = "Option::is_none")]
    pub fsp: Option<String>,
    /// `IGNOREAPPVVERSIONCHECK=TRUE`: skip the App-V version check.
    #[serde(
        rename = "IGNOREAPPVVERSIONCHECK",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ignore_appv_version_check: Option<bool>,
    /// `MANAGEDINSTALLER=1`: WDAC managed installer.
    #[serde(
        rename = "MANAGEDINSTALLER",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub managed_installer: Option<bool>,
    /// `NOTIFYONLY=TRUE`: client status reports but doesn't remediate.
    #[serde(
        rename = "NOTIFYONLY",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub notify_only: Option<bool>,
    /// `PROVISIONTS`: task sequence deployment ID to run after registration (ccmsetup.msi only).
    #[serde(
        rename = "PROVISIONTS",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub provision_ts: Option<String>,
    /// `RESETKEYINFORMATION=TRUE`: remove the old trusted root key.
    #[serde(
        rename = "RESETKEYINFORMATION",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub reset_key_information: Option<bool>,
    /// `SITEREASSIGN=TRUE`: re-run auto assignment on upgrade.
    #[serde(
        rename = "SITEREASSIGN",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub site_reassign: Option<bool>,
    /// `SMSCACHEDIR` (default `%WinDir%\ccmcache`).
    #[serde(
        rename = "SMSCACHEDIR",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub sms_cache_dir: Option<String>,
    /// `SMSCACHEFLAGS` (rendered `;`-joined).
    #[serde(
        rename = "SMSCACHEFLAGS",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub sms_cache_flags: Option<Vec<CacheFlag>>,
    /// `SMSCACHESIZE`: MB, or percent with a PERCENT flag.
    #[serde(
        rename = "SMSCACHESIZE",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub sms_cache_size: Option<u32>,
    /// `SMSCONFIGSOURCE`: letters from R, P, M, U (default PU).
    #[serde(
        rename = "SMSCONFIGSOURCE",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub sms_config_source: Option<String>,
    /// `SMSDIRECTORYLOOKUP`: obsolete (WINS); kept so read-back is faithful; `check` rejects it.
    #[serde(
        rename = "SMSDIRECTORYLOOKUP",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub sms_directory_lookup: Option<String>,
    /// `SMSMP`: initial MP (`https://` prefix for HTTPS-only MPs).
    #[serde(rename = "SMSMP", default, skip_serializing_if = "Option::is_none")]
    pub sms_mp: Option<String>,
    /// `SMSMPLIST`: MPs (rendered `;`-joined).
    #[serde(rename = "SMSMPLIST", default, skip_serializing_if = "Option::is_none")]
    pub sms_mp_list: Option<Vec<String>>,
    /// `SMSPUBLICROOTKEY`: trusted root key; needs SMSSITECODE.
    #[serde(
        rename = "SMSPUBLICROOTKEY",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub sms_public_root_key: Option<String>,
    /// `SMSROOTKEYPATH`: file holding the trusted root key; needs SMSSITECODE.
    #[serde(
        rename = "SMSROOTKEYPATH",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub sms_root_key_path: Option<String>,
    /// `SMSSIGNCERT`: path to the exported site server signing certificate.
    #[serde(
        rename = "SMSSIGNCERT",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub sms_sign_cert: Option<String>,
    /// `SMSSITECODE`: 3-character site code or `AUTO`.
    #[serde(
        rename = "SMSSITECODE",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub sms_site_code: Option<String>,
}
