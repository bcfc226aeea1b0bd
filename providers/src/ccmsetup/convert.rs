//! Conversion between the typed manifest structs and [`CommandLine`].

use super::catalog::{self, Push};
use super::model::{CommandLine, Parameter, Program, Property};
use super::typed::{
    BitsPriority, CacheFlag, CcmsetupParameters, ClientMsiProperties, ExcludeFeature,
};

impl BitsPriority {
    /// Documented spelling (`FOREGROUND`, `HIGH`, `NORMAL`, `LOW`).
    pub fn as_str(self) -> &'static str {
        match self {
            BitsPriority::Foreground => "FOREGROUND",
            BitsPriority::High => "HIGH",
            BitsPriority::Normal => "NORMAL",
            BitsPriority::Low => "LOW",
        }
    }

    /// Parse case-insensitively.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Foreground, Self::High, Self::Normal, Self::Low]
            .into_iter()
            .find(|b| b.as_str().eq_ignore_ascii_case(s))
    }
}

impl CacheFlag {
    /// Every flag, in documented order.
    pub const ALL: [CacheFlag; 7] = [
        CacheFlag::PercentDiskSpace,
        CacheFlag::PercentFreeDiskSpace,
        CacheFlag::MaxDrive,
        CacheFlag::MaxDriveSpace,
        CacheFlag::NtfsOnly,
        CacheFlag::Compress,
        CacheFlag::FailIfNoSpace,
    ];

    /// Documented spelling (`NTFSONLY`, ...).
    pub fn as_str(self) -> &'static str {
        catalog::CACHE_FLAGS[self as usize]
    }

    /// Parse case-insensitively.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s))
    }
}

fn switch(out: &mut Vec<Parameter>, name: &str, v: Option<bool>) {
    if v == Some(true) {
        out.push(Parameter::new(name, None));
    }
}

fn param(out: &mut Vec<Parameter>, name: &str, v: Option<String>) {
    if let Some(v) = v {
        out.push(Parameter::new(name, Some(v)));
    }
}

fn prop(out: &mut Vec<Property>, name: &str, v: Option<String>) {
    if let Some(v) = v {
        out.push(Property::new(name, v));
    }
}

fn when(v: Option<bool>, yes: &str) -> Option<String> {
    (v == Some(true)).then(|| yes.to_string())
}

fn both(v: Option<bool>, yes: &str, no: &str) -> Option<String> {
    v.map(|b| if b { yes } else { no }.to_string())
}

/// Build a command line (program [`Program::Bare`]; set `program` for manual installs) from
/// typed structs. Parameters and properties come out in catalog (documentation) order.
pub fn to_command_line(params: &CcmsetupParameters, props: &ClientMsiProperties) -> CommandLine {
    let p = params;
    let mut ps = Vec::new();
    switch(&mut ps, "AllowMetered", p.allow_metered);
    param(
        &mut ps,
        "AlwaysExcludeUpgrade",
        both(p.always_exclude_upgrade, "TRUE", "FALSE"),
    );
    param(
        &mut ps,
        "BITSPriority",
        p.bits_priority.map(|b| b.as_str().to_string()),
    );
    param(&mut ps, "config", p.config.clone());
    param(
        &mut ps,
        "downloadtimeout",
        p.download_timeout.map(|n| n.to_string()),
    );
    param(
        &mut ps,
        "ExcludeFeatures",
        p.exclude_features.map(|_| "ClientUI".to_string()),
    );
    switch(&mut ps, "forceinstall", p.force_install);
    switch(&mut ps, "forcereboot", p.force_reboot);
    switch(&mut ps, "IgnoreSkipUpgrade", p.ignore_skip_upgrade);
    switch(&mut ps, "logon", p.logon);
    param(&mut ps, "mp", p.mp.as_ref().map(|v| v.join(";")));
    switch(&mut ps, "NoCRLCheck", p.no_crl_check);
    switch(&mut ps, "noservice", p.no_service);
    param(&mut ps, "regtoken", p.regtoken.clone());
    param(&mut ps, "retry", p.retry.map(|n| n.to_string()));
    switch(&mut ps, "service", p.service);
    param(
        &mut ps,
        "skipprereq",
        p.skip_prereq.as_ref().map(|v| v.join(";")),
    );
    for s in p.source.iter().flatten() {
        ps.push(Parameter::new("source", Some(s.clone())));
    }
    switch(&mut ps, "uninstall", p.uninstall);
    switch(&mut ps, "UpgradeToLatest", p.upgrade_to_latest);
    switch(&mut ps, "UsePKICert", p.use_pki_cert);

    let q = props;
    let n = |v: Option<u32>| v.map(|n| n.to_string());
    let mut qs = Vec::new();
    prop(&mut qs, "AADCLIENTAPPID", q.aad_client_app_id.clone());
    prop(&mut qs, "AADRESOURCEURI", q.aad_resource_uri.clone());
    prop(&mut qs, "AADTENANTID", q.aad_tenant_id.clone());
    prop(
        &mut qs,
        "CCMADMINS",
        q.ccm_admins.as_ref().map(|v| v.join(";")),
    );
    prop(
        &mut qs,
        "CCMALLOWSILENTREBOOT",
        when(q.ccm_allow_silent_reboot, "1"),
    );
    prop(&mut qs, "CCMALWAYSINF", when(q.ccm_always_inf, "1"));
    prop(&mut qs, "CCMCERTISSUERS", q.ccm_cert_issuers.clone());
    prop(
        &mut qs,
        "CCMCERTNAMECHECK",
        (q.ccm_cert_name_check == Some(false)).then(|| "0".into()),
    );
    prop(&mut qs, "CCMCERTSEL", q.ccm_cert_sel.clone());
    prop(&mut qs, "CCMCERTSTORE", q.ccm_cert_store.clone());
    prop(
        &mut qs,
        "CCMDEBUGLOGGING",
        both(q.ccm_debug_logging, "1", "0"),
    );
    prop(
        &mut qs,
        "CCMENABLELOGGING",
        both(q.ccm_enable_logging, "TRUE", "FALSE"),
    );
    prop(&mut qs, "CCMEVALINTERVAL", n(q.ccm_eval_interval));
    prop(&mut qs, "CCMEVALHOUR", n(q.ccm_eval_hour));
    prop(&mut qs, "CCMFIRSTCERT", when(q.ccm_first_cert, "1"));
    prop(&mut qs, "CCMHOSTNAME", q.ccm_host_name.clone());
    prop(
        &mut qs,
        "CCMHTTPPORT",
        q.ccm_http_port.map(|n| n.to_string()),
    );
    prop(
        &mut qs,
        "CCMHTTPSPORT",
        q.ccm_https_port.map(|n| n.to_string()),
    );
    prop(&mut qs, "CCMINSTALLDIR", q.ccm_install_dir.clone());
    prop(&mut qs, "CCMLOGLEVEL", n(q.ccm_log_level));
    prop(&mut qs, "CCMLOGMAXHISTORY", n(q.ccm_log_max_history));
    prop(
        &mut qs,
        "CCMLOGMAXSIZE",
        q.ccm_log_max_size.map(|n| n.to_string()),
    );
    prop(&mut qs, "DISABLESITEOPT", when(q.disable_site_opt, "TRUE"));
    prop(
        &mut qs,
        "DISABLECACHEOPT",
        when(q.disable_cache_opt, "TRUE"),
    );
    prop(&mut qs, "DNSSUFFIX", q.dns_suffix.clone());
    prop(&mut qs, "FSP", q.fsp.clone());
    prop(
        &mut qs,
        "IGNOREAPPVVERSIONCHECK",
        when(q.ignore_appv_version_check, "TRUE"),
    );
    prop(&mut qs, "MANAGEDINSTALLER", when(q.managed_installer, "1"));
    prop(&mut qs, "NOTIFYONLY", when(q.notify_only, "TRUE"));
    prop(&mut qs, "PROVISIONTS", q.provision_ts.clone());
    prop(
        &mut qs,
        "RESETKEYINFORMATION",
        when(q.reset_key_information, "TRUE"),
    );
    prop(&mut qs, "SITEREASSIGN", when(q.site_reassign, "TRUE"));
    prop(&mut qs, "SMSCACHEDIR", q.sms_cache_dir.clone());
    let flags = q.sms_cache_flags.as_ref();
    prop(
        &mut qs,
        "SMSCACHEFLAGS",
        flags.map(|v| v.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(";")),
    );
    prop(&mut qs, "SMSCACHESIZE", n(q.sms_cache_size));
    prop(&mut qs, "SMSCONFIGSOURCE", q.sms_config_source.clone());
    prop(
        &mut qs,
        "SMSDIRECTORYLOOKUP",
        q.sms_directory_lookup.clone(),
    );
    prop(&mut qs, "SMSMP", q.sms_mp.clone());
    prop(
        &mut qs,
        "SMSMPLIST",
        q.sms_mp_list.as_ref().map(|v| v.join(";")),
    );
    prop(&mut qs, "SMSPUBLICROOTKEY", q.sms_public_root_key.clone());
    prop(&mut qs, "SMSROOTKEYPATH", q.sms_root_key_path.clone());
    prop(&mut qs, "SMSSIGNCERT", q.sms_sign_cert.clone());
    prop(&mut qs, "SMSSITECODE", q.sms_site_code.clone());
    CommandLine {
        program: Program::Bare,
        parameters: ps,
        properties: qs,
    }
}

/// The client push installation property string (`Set-CMClientPushInstallation
/// -InstallationProperty`): the documented push subset of `/` parameters (§1.2), then every
/// property. Parameters outside the subset (including `/forceinstall`, only in the older
/// doc) are left out; run `check_command_line(&to_command_line(..), Some(Context::Push))`
/// to be told about them.
pub fn push_installation_property(
    props: &ClientMsiProperties,
    params: &CcmsetupParameters,
) -> String {
    let mut cmd = to_command_line(params, props);
    cmd.parameters
        .retain(|p| catalog::parameter(&p.name).is_some_and(|s| s.push == Push::Allowed));
    cmd.render_args()
}

fn split(v: &str) -> Vec<String> {
    v.split(';')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Read typed structs back from a command line (what a host, GPO or push setting has).
///
/// Lossy by design: unknown, undocumented and legacy names, `/?`, and values that don't
/// parse (e.g. `CCMEVALHOUR=abc`) are skipped; use [`crate::ccmsetup::check`] to see them.
/// Switches present become `Some(true)`; for repeated single-valued names the last wins.
pub fn from_command_line(cmd: &CommandLine) -> (CcmsetupParameters, ClientMsiProperties) {
    let mut p = CcmsetupParameters::default();
    for x in &cmd.parameters {
        let v = x.value.as_deref().unwrap_or("");
        let s = || Some(v.to_string());
        match x.name.as_str() {
            "AllowMetered" => p.allow_metered = Some(true),
            "AlwaysExcludeUpgrade" => p.always_exclude_upgrade = tf(v),
            "BITSPriority" => p.bits_priority = BitsPriority::parse(v),
            "config" => p.config = s(),
            "downloadtimeout" => p.download_timeout = v.parse().ok(),
            "ExcludeFeatures" => {
                p.exclude_features = v
                    .eq_ignore_ascii_case("ClientUI")
                    .then_some(ExcludeFeature::ClientUI)
            }
            "forceinstall" => p.force_install = Some(true),
            "forcereboot" => p.force_reboot = Some(true),
            "IgnoreSkipUpgrade" => p.ignore_skip_upgrade = Some(true),
            "logon" => p.logon = Some(true),
            "mp" => p.mp = Some(split(v)),
            "NoCRLCheck" => p.no_crl_check = Some(true),
            "noservice" => p.no_service = Some(true),
            "regtoken" => p.regtoken = s(),
            "retry" => p.retry = v.parse().ok(),
            "service" => p.service = Some(true),
            "skipprereq" => p.skip_prereq = Some(split(v)),
            "source" => p.source.get_or_insert_with(Vec::new).push(v.to_string()),
            "uninstall" => p.uninstall = Some(true),
            "UpgradeToLatest" => p.upgrade_to_latest = Some(true),
            "UsePKICert" => p.use_pki_cert = Some(true),
            _ => {}
        }
    }
    let mut q = ClientMsiProperties::default();
    for x in &cmd.properties {
        let v = x.value.as_str();
        let s = || Some(v.to_string());
        let one = || match v {
            "1" => Some(true),
            "0" => Some(false),
            _ => None,
        };
        match x.name.as_str() {
            "AADCLIENTAPPID" => q.aad_client_app_id = s(),
            "AADRESOURCEURI" => q.aad_resource_uri = s(),
            "AADTENANTID" => q.aad_tenant_id = s(),
            "CCMADMINS" => q.ccm_admins = Some(split(v)),
            "CCMALLOWSILENTREBOOT" => {
                q.ccm_allow_silent_reboot = if v.is_empty() {
                    Some(true)
                } else {
                    one().or(tf(v))
                }
            }
            "CCMALWAYSINF" => q.ccm_always_inf = one(),
            "CCMCERTISSUERS" => q.ccm_cert_issuers = s(),
            "CCMCERTNAMECHECK" => q.ccm_cert_name_check = one(),
            "CCMCERTSEL" => q.ccm_cert_sel = s(),
            "CCMCERTSTORE" => q.ccm_cert_store = s(),
            "CCMDEBUGLOGGING" => q.ccm_debug_logging = one(),
            "CCMENABLELOGGING" => q.ccm_enable_logging = tf(v),
            "CCMEVALINTERVAL" => q.ccm_eval_interval = v.parse().ok(),
            "CCMEVALHOUR" => q.ccm_eval_hour = v.parse().ok(),
            "CCMFIRSTCERT" => q.ccm_first_cert = one(),
            "CCMHOSTNAME" => q.ccm_host_name = s(),
            "CCMHTTPPORT" => q.ccm_http_port = v.parse().ok(),
            "CCMHTTPSPORT" => q.ccm_https_port = v.parse().ok(),
            "CCMINSTALLDIR" => q.ccm_install_dir = s(),
            "CCMLOGLEVEL" => q.ccm_log_level = v.parse().ok(),
            "CCMLOGMAXHISTORY" => q.ccm_log_max_history = v.parse().ok(),
            "CCMLOGMAXSIZE" => q.ccm_log_max_size = v.parse().ok(),
            "DISABLESITEOPT" => q.disable_site_opt = tf(v),
            "DISABLECACHEOPT" => q.disable_cache_opt = tf(v),
            "DNSSUFFIX" => q.dns_suffix = s(),
            "FSP" => q.fsp = s(),
            "IGNOREAPPVVERSIONCHECK" => q.ignore_appv_version_check = tf(v),
            "MANAGEDINSTALLER" => q.managed_installer = one(),
            "NOTIFYONLY" => q.notify_only = tf(v),
            "PROVISIONTS" => q.provision_ts = s(),
            "RESETKEYINFORMATION" => q.reset_key_information = tf(v),
            "SITEREASSIGN" => q.site_reassign = tf(v),
            "SMSCACHEDIR" => q.sms_cache_dir = s(),
            "SMSCACHEFLAGS" => {
                q.sms_cache_flags = Some(v.split(';').filter_map(CacheFlag::parse).collect())
            }
            "SMSCACHESIZE" => q.sms_cache_size = v.parse().ok(),
            "SMSCONFIGSOURCE" => q.sms_config_source = s(),
            "SMSDIRECTORYLOOKUP" => q.sms_directory_lookup = s(),
            "SMSMP" => q.sms_mp = s(),
            "SMSMPLIST" => q.sms_mp_list = Some(split(v)),
            "SMSPUBLICROOTKEY" => q.sms_public_root_key = s(),
            "SMSROOTKEYPATH" => q.sms_root_key_path = s(),
            "SMSSIGNCERT" => q.sms_sign_cert = s(),
            "SMSSITECODE" => q.sms_site_code = s(),
            _ => {}
        }
    }
    (p, q)
}

fn tf(v: &str) -> Option<bool> {
    if v.eq_ignore_ascii_case("TRUE") {
        Some(true)
    } else if v.eq_ignore_ascii_case("FALSE") {
        Some(false)
    } else {
        None
    }
}
