//! Lab cmdlets for site settings: sites, accounts, client push (both components), fallback status
//! point, network access accounts, management points.

use serde_json::{json, Value};

use super::args::{Args, CmdError, CmdResult};
use super::model::{Account, Estate, FallbackStatusPoint, Site};

/// The site `code`, or ConfigMgr's "does not exist" error.
pub(crate) fn site_of<'e>(estate: &'e mut Estate, code: &str) -> Result<&'e mut Site, CmdError> {
    estate.site_mut(code).ok_or_else(|| {
        CmdError::new(
            "ObjectNotFound",
            format!("The site code '{code}' does not exist in the hierarchy."),
        )
    })
}

/// `-SiteCode`, defaulting to the site of the session's drive (upper case).
pub(crate) fn site_code(a: &Args, session_site: &str) -> Result<String, CmdError> {
    Ok(a.opt_str("SiteCode")?
        .unwrap_or_else(|| session_site.to_string())
        .to_uppercase())
}

/// Removes the items `matches` picks; false when there was none (the caller's ObjectNotFound).
pub(crate) fn remove_where<T>(items: &mut Vec<T>, matches: impl Fn(&T) -> bool) -> bool {
    let before = items.len();
    items.retain(|x| !matches(x));
    items.len() != before
}

/// One embedded property (SMS_EmbeddedProperty) of an SMS_SCI_* object.
pub(crate) fn prop(name: &str, value: i64, value1: &str) -> Value {
    json!({"PropertyName": name, "Value": value, "Value1": value1, "Value2": ""})
}

/// `Get-CMSite [-SiteCode]`: SMS_Site rows (Type 2 primary, 1 secondary, 4 CAS).
pub fn get_site(estate: &mut Estate, a: &Args) -> CmdResult {
    let code = a.opt_str("SiteCode")?;
    a.accept(&["Name"]);
    a.finish()?;
    Ok(Value::Array(
        estate
            .sites
            .iter()
            .filter(|s| code.as_ref().is_none_or(|c| s.code.eq_ignore_ascii_case(c)))
            .map(|s| {
                json!({
                    "SiteCode": s.code,
                    "SiteName": s.name,
                    "Type": match s.site_type.as_str() { "primary" => 2, "secondary" => 1, _ => 4 },
                    "ReportingSiteCode": s.parent.clone().unwrap_or_default(),
                    "ServerName": s.server,
                    "Version": s.version,
                })
            })
            .collect(),
    ))
}

fn usage(site: &Site, user: &str) -> Vec<&'static str> {
    let mut u = Vec::new();
    if site
        .push
        .accounts
        .iter()
        .any(|x| x.eq_ignore_ascii_case(user))
    {
        u.push("Client Push Installation");
    }
    if site
        .network_access_accounts
        .iter()
        .any(|x| x.eq_ignore_ascii_case(user))
    {
        u.push("Software Distribution");
    }
    u
}

/// `Get-CMAccount [-SiteCode] [-UserName]`: accounts with their usage; never the password.
pub fn get_account(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let code = site_code(a, session_site)?;
    let user = a.opt_str("UserName")?;
    a.finish()?;
    let site = site_of(estate, &code)?;
    Ok(Value::Array(
        site.accounts
            .iter()
            .filter(|x| user.as_ref().is_none_or(|u| x.user_name.eq_ignore_ascii_case(u)))
            .map(|x| json!({"UserName": x.user_name, "SiteCode": code, "AccountUsage": usage(site, &x.user_name)}))
            .collect(),
    ))
}

/// `New-CMAccount -UserName -Password [-SiteCode]`.
pub fn new_account(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let code = site_code(a, session_site)?;
    let user = a.str("UserName")?;
    let password = a.str("Password")?;
    a.finish()?;
    if !user.contains('\\') {
        return Err(CmdError::new(
            "InvalidArgument",
            format!("The user name '{user}' must be in the form DOMAIN\\user."),
        ));
    }
    let hash = estate.hash_password(&password);
    let site = site_of(estate, &code)?;
    if site
        .accounts
        .iter()
        .any(|x| x.user_name.eq_ignore_ascii_case(&user))
    {
        return Err(CmdError::new(
            "ResourceExists",
            format!("An account named '{user}' already exists."),
        ));
    }
    site.accounts.push(Account {
        user_name: user.clone(),
        password: None,
        password_hash: hash,
    });
    Ok(json!({"UserName": user, "SiteCode": code, "AccountUsage": []}))
}

/// `Set-CMAccount -UserName -Password [-SiteCode]` (changes the stored password).
pub fn set_account(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let code = site_code(a, session_site)?;
    let user = a.str("UserName")?;
    let password = a.opt_str("Password")?;
    a.finish()?;
    let hash = password.map(|p| estate.hash_password(&p));
    let site = site_of(estate, &code)?;
    let acc = site
        .accounts
        .iter_mut()
        .find(|x| x.user_name.eq_ignore_ascii_case(&user))
        .ok_or_else(|| {
            CmdError::new(
                "ObjectNotFound",
                format!("No object corresponds to the specified parameters: account '{user}'."),
            )
        })?;
    if let Some(h) = hash {
        acc.password_hash = h;
    }
    Ok(json!({"UserName": user, "SiteCode": code}))
}

/// `Remove-CMAccount -UserName -Force`.
pub fn remove_account(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let user = a.str("UserName")?;
    a.accept(&["Force"]);
    a.finish()?;
    let site = site_of(estate, session_site)?;
    if let Some(u) = usage(site, &user).first() {
        return Err(CmdError::new(
            "InvalidOperation",
            format!("The account '{user}' is in use ({u}) and cannot be deleted."),
        ));
    }
    if !remove_where(&mut site.accounts, |x| {
        x.user_name.eq_ignore_ascii_case(&user)
    }) {
        return Err(CmdError::new(
            "ObjectNotFound",
            format!("No object corresponds to the specified parameters: account '{user}'."),
        ));
    }
    Ok(Value::Null)
}

/// `Get-CMClientPushInstallation [-SiteCode]`: the SMS_CLIENT_CONFIG_MANAGER component.
pub fn get_push(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let code = site_code(a, session_site)?;
    a.finish()?;
    let site = site_of(estate, &code)?;
    Ok(json!({
        "ComponentName": "SMS_CLIENT_CONFIG_MANAGER",
        "SiteCode": site.code,
        "ItemName": format!("SMS_CLIENT_CONFIG_MANAGER|{}", site.server.to_uppercase()),
        "Props": [
            prop("Advanced Client Command Line", 0, &site.push.installation_properties),
            // The property's name is **unverified** (windows-runtime.md §9: no public source,
            // ConfigMgrCBDsc does not read it); the product names it when it is missing.
            prop("Enable NTLM Fallback", i64::from(site.push.ntlm_fallback), ""),
        ],
        "PropLists": [{"PropertyListName": "Reserved2", "Values": site.push.accounts}],
    }))
}

/// `Get-CMSiteComponent -SiteCode -ComponentName`: SMS_DISCOVERY_DATA_MANAGER (push switch and
/// filters) and SMS_CLIENT_CONFIG_MANAGER.
pub fn get_component(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let code = site_code(a, session_site)?;
    let name = a.str("ComponentName")?;
    a.accept(&["SiteSystemServerName"]);
    a.finish()?;
    if name.eq_ignore_ascii_case("SMS_CLIENT_CONFIG_MANAGER") {
        let empty = serde_json::Map::new();
        return get_push(
            estate,
            &Args::new("Get-CMClientPushInstallation", &empty),
            &code,
        );
    }
    if !name.eq_ignore_ascii_case("SMS_DISCOVERY_DATA_MANAGER") {
        return Err(CmdError::new(
            "ObjectNotFound",
            format!("The lab does not model site component {name}."),
        ));
    }
    let site = site_of(estate, &code)?;
    Ok(json!({
        "ComponentName": "SMS_DISCOVERY_DATA_MANAGER",
        "SiteCode": site.code,
        "ItemName": format!("SMS_DISCOVERY_DATA_MANAGER|{}", site.server.to_uppercase()),
        "Props": [
            prop("Settings", 0, if site.push.automatic { "Active" } else { "Inactive" }),
            prop("Filters", i64::from(site.push.filters), ""),
            prop("AutoInstallSiteSystem", i64::from(site.push.site_systems), ""),
        ],
    }))
}

/// `Set-CMClientPushInstallation -SiteCode ...` with DSC's rules: automatic push needs a
/// management point; system types are set only while push is enabled; accounts must exist.
pub fn set_push(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let code = site_code(a, session_site)?;
    let automatic = a.opt_bool("EnableAutomaticClientPushInstallation")?;
    let servers = a.opt_bool("EnableSystemTypeServer")?;
    let workstations = a.opt_bool("EnableSystemTypeWorkstation")?;
    let site_systems = a.opt_bool("EnableSystemTypeConfigurationManager")?;
    let dcs = a.opt_bool("InstallClientToDomainController")?;
    let props = a.opt_str("InstallationProperty")?;
    let add = a.opt_strs("AddAccount")?.unwrap_or_default();
    let remove = a.opt_strs("RemoveAccount")?.unwrap_or_default();
    let clear = a.opt_bool("ClearAccount")?.unwrap_or(false);
    let ntlm = a.opt_bool("AllownNTLMFallback")?;
    a.finish()?;
    let site = site_of(estate, &code)?;
    if automatic == Some(true) && site.management_points.is_empty() {
        return Err(CmdError::new(
            "InvalidOperation",
            format!("Automatic site-wide client push installation cannot be enabled: site {code} has no management point."),
        ));
    }
    let enabled_after = automatic.unwrap_or(site.push.automatic);
    if !enabled_after && (servers.is_some() || workstations.is_some() || site_systems.is_some()) {
        return Err(CmdError::new(
            "InvalidOperation",
            "System types can be set only while automatic site-wide client push installation is enabled.",
        ));
    }
    for acc in &add {
        if !site
            .accounts
            .iter()
            .any(|x| x.user_name.eq_ignore_ascii_case(acc))
        {
            return Err(CmdError::new(
                "ObjectNotFound",
                format!("The account '{acc}' does not exist. Create it with New-CMAccount before adding it to client push."),
            ));
        }
    }
    let p = &mut site.push;
    if let Some(v) = automatic {
        p.automatic = v;
    }
    let mut set_bit = |bit: u32, include: Option<bool>| {
        if let Some(inc) = include {
            if inc {
                p.filters &= !bit;
            } else {
                p.filters |= bit;
            }
        }
    };
    set_bit(1, workstations);
    set_bit(4, servers);
    set_bit(2, dcs);
    if let Some(v) = site_systems {
        p.site_systems = v;
    }
    if let Some(v) = props {
        p.installation_properties = v;
    }
    if let Some(v) = ntlm {
        p.ntlm_fallback = v;
    }
    if clear {
        p.accounts.clear();
    }
    p.accounts
        .retain(|x| !remove.iter().any(|r| r.eq_ignore_ascii_case(x)));
    for acc in add {
        if !p.accounts.iter().any(|x| x.eq_ignore_ascii_case(&acc)) {
            p.accounts.push(acc);
        }
    }
    Ok(Value::Null)
}

fn fsp_json(site: &Site, f: &FallbackStatusPoint) -> Value {
    json!({
        "NetworkOSPath": format!("\\\\{}", f.server),
        "RoleName": "SMS Fallback Status Point",
        "SiteCode": site.code,
        "Props": [
            prop("Throttle Count", i64::from(f.state_message_count), ""),
            prop("Throttle Interval", f.throttle_interval_ms as i64, ""),
        ],
    })
}

/// `Get-CMFallbackStatusPoint [-SiteCode]`.
pub fn get_fsp(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let code = site_code(a, session_site)?;
    a.accept(&["SiteSystemServerName", "AllSite"]);
    a.finish()?;
    let site = site_of(estate, &code)?;
    Ok(Value::Array(
        site.fallback_status_point
            .iter()
            .map(|f| fsp_json(site, f))
            .collect(),
    ))
}

fn throttle_ms(a: &Args) -> Result<Option<u64>, CmdError> {
    if let Some(s) = a.opt_int("ThrottleSec")? {
        return Ok(Some(s.max(0) as u64 * 1000));
    }
    Ok(a.opt_int("ThrottleMins")?.map(|m| m.max(0) as u64 * 60_000))
}

/// `Add-CMFallbackStatusPoint -SiteSystemServerName [-SiteCode] [-StateMessageCount] [-ThrottleSec]`:
/// primary sites only; the server must be a known site system.
pub fn add_fsp(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let code = site_code(a, session_site)?;
    let server = a.str("SiteSystemServerName")?;
    let count = a.opt_int("StateMessageCount")?;
    let throttle = throttle_ms(a)?;
    a.finish()?;
    if estate.host(&server).is_none() {
        return Err(CmdError::new(
            "ObjectNotFound",
            format!(
                "'{server}' is not a site system server. Add it with New-CMSiteSystemServer first."
            ),
        ));
    }
    let site = site_of(estate, &code)?;
    if site.site_type != "primary" {
        return Err(CmdError::new(
            "InvalidOperation",
            "The fallback status point role is supported only on primary sites.",
        ));
    }
    if site.fallback_status_point.is_some() {
        return Err(CmdError::new(
            "ResourceExists",
            format!("Site {code} already has a fallback status point."),
        ));
    }
    let f = FallbackStatusPoint {
        server: server.to_lowercase(),
        state_message_count: count.unwrap_or(10_000) as u32,
        throttle_interval_ms: throttle.unwrap_or(3_600_000),
    };
    let out = fsp_json(site, &f);
    site.fallback_status_point = Some(f);
    Ok(out)
}

/// `Set-CMFallbackStatusPoint -SiteSystemServerName [-SiteCode] [-StateMessageCount] [-ThrottleSec]`.
pub fn set_fsp(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let code = site_code(a, session_site)?;
    let server = a.str("SiteSystemServerName")?;
    let count = a.opt_int("StateMessageCount")?;
    let throttle = throttle_ms(a)?;
    a.accept(&["PassThru"]);
    a.finish()?;
    let site = site_of(estate, &code)?;
    let f = site
        .fallback_status_point
        .as_mut()
        .filter(|f| f.server.eq_ignore_ascii_case(&server))
        .ok_or_else(|| {
            CmdError::new(
                "ObjectNotFound",
                format!("No fallback status point on '{server}' in site {code}."),
            )
        })?;
    if let Some(c) = count {
        f.state_message_count = c as u32;
    }
    if let Some(t) = throttle {
        f.throttle_interval_ms = t;
    }
    Ok(Value::Null)
}

/// `Remove-CMFallbackStatusPoint -SiteSystemServerName [-SiteCode] -Force`.
pub fn remove_fsp(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let code = site_code(a, session_site)?;
    let server = a.str("SiteSystemServerName")?;
    a.accept(&["Force"]);
    a.finish()?;
    let site = site_of(estate, &code)?;
    if !site
        .fallback_status_point
        .as_ref()
        .is_some_and(|f| f.server.eq_ignore_ascii_case(&server))
    {
        return Err(CmdError::new(
            "ObjectNotFound",
            format!("No fallback status point on '{server}' in site {code}."),
        ));
    }
    site.fallback_status_point = None;
    Ok(Value::Null)
}

/// `Set-CMSoftwareDistributionComponent -SiteCode -NetworkAccessAccountName [..]`.
pub fn set_distribution(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let code = site_code(a, session_site)?;
    let exact = a.opt_strs("NetworkAccessAccountName")?;
    let add = a
        .opt_strs("AddNetworkAccessAccountName")?
        .unwrap_or_default();
    let remove = a
        .opt_strs("RemoveNetworkAccessAccountName")?
        .unwrap_or_default();
    let clean = a
        .opt_bool("CleanNetworkAccessAccountName")?
        .unwrap_or(false);
    a.finish()?;
    let site = site_of(estate, &code)?;
    for acc in exact.iter().flatten().chain(add.iter()) {
        if !site
            .accounts
            .iter()
            .any(|x| x.user_name.eq_ignore_ascii_case(acc))
        {
            return Err(CmdError::new(
                "ObjectNotFound",
                format!("The account '{acc}' does not exist. Create it with New-CMAccount first."),
            ));
        }
    }
    if clean {
        site.network_access_accounts.clear();
    }
    if let Some(list) = exact {
        site.network_access_accounts = list;
    }
    site.network_access_accounts
        .retain(|x| !remove.iter().any(|r| r.eq_ignore_ascii_case(x)));
    for acc in add {
        if !site
            .network_access_accounts
            .iter()
            .any(|x| x.eq_ignore_ascii_case(&acc))
        {
            site.network_access_accounts.push(acc);
        }
    }
    Ok(Value::Null)
}

/// `Get-CMManagementPoint [-SiteCode]`.
pub fn get_mp(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let code = site_code(a, session_site)?;
    a.accept(&["SiteSystemServerName", "AllSite"]);
    a.finish()?;
    let site = site_of(estate, &code)?;
    Ok(Value::Array(
        site.management_points
            .iter()
            .map(|m| json!({"NetworkOSPath": format!("\\\\{m}"), "SiteCode": site.code, "RoleName": "SMS Management Point"}))
            .collect(),
    ))
}

/// The runner's `Get-CmdeployProviderSite` on `host`: the `root\sms` `SMS_ProviderLocation`
/// instance whose ProviderForLocalSite is true (memdocs
/// `configmgr/develop/reference/misc/sms_providerlocation-server-wmi-class.md`; "only one
/// instance is set to TRUE"), projected to SiteCode, Machine and NamespacePath. The SMS Provider
/// sits on the server of a primary site or a CAS; any other server (a secondary site's, a domain
/// controller, a client) has no `root\sms` namespace, and Get-CimInstance fails with WMI's
/// "Invalid namespace" (WBEM_E_INVALID_NAMESPACE, 0x8004100E), category MetadataError.
pub fn provider_site(estate: &Estate, host: &str, a: &Args) -> CmdResult {
    a.finish()?;
    match estate.site_of_server(host) {
        Some(site) if site.site_type != "secondary" => {
            let machine = site.server.to_lowercase();
            Ok(json!([{
                "SiteCode": site.code,
                "Machine": machine,
                "NamespacePath": format!("\\\\{machine}\\root\\sms\\site_{}", site.code),
            }]))
        }
        _ => Err(CmdError::new("MetadataError", "Invalid namespace ")),
    }
}
