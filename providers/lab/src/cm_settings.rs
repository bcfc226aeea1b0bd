//! Lab cmdlets for hierarchy-wide client settings and the discovery automatic push relies on:
//! `Get-/Set-CMHierarchySetting` (automatic client upgrade, pre-production client, approval,
//! conflicting records), `Get-/Set-CMDiscoveryMethod -ActiveDirectorySystemDiscovery`, and
//! `Block-/Unblock-CMDevice` and `Approve-CMDevice` (PSRef of each; configmgr.md §2.10; seed 003
//! "Blocking Clients", "Approval").

use serde_json::{json, Value};

use super::args::{Args, CmdError, CmdResult};
use super::cm_site::{prop, site_code, site_of};
use super::device_state::is_approved;
use super::model::{short, Estate};

/// The `ApprovalMethod` values `Set-CMHierarchySetting` accepts.
pub const APPROVAL_METHODS: [&str; 3] = [
    "AutomaticallyApproveComputersInTrustedDomains",
    "ManuallyApproveEachComputer",
    "AutomaticallyApproveAllComputers",
];

/// `Get-CMHierarchySetting [-SiteCode]`: the lab returns one object whose property names are the
/// `Set-CMHierarchySetting` parameters (the real object's shape is undocumented; verify on a site).
pub fn get_hierarchy(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let code = site_code(a, session_site)?;
    a.finish()?;
    let collection_id = {
        let site = site_of(estate, &code)?;
        let name = site.hierarchy.pre_production_collection.clone();
        super::collection::collection_ids(estate, &code)
            .into_iter()
            .find(|(n, _)| !name.is_empty() && n.eq_ignore_ascii_case(&name))
            .map(|(_, id)| id)
            .unwrap_or_default()
    };
    let site = site_of(estate, &code)?;
    let h = &site.hierarchy;
    // Several objects, told apart by their PropertyNames, as ConfigMgrCBDsc reads them
    // (dsccommunity/ConfigMgrCBDsc@28f681daaa9c source/DSCResources/DSC_CMHierarchySetting/
    // DSC_CMHierarchySetting.psm1:31-64; windows-runtime.md §9): automatic client upgrade
    // (`AdvertisementDuration`, `IsProgramEnabled`, `ExcludeServers`, ...) and pre-production
    // (`TargetCollectionID`, `IsAccepted`, `IsEnabled`). Approval and conflicting records are
    // not here: they are SMS_SCI_SCProperty values ([`site_control_properties`]).
    let upgrade = [
        "AdvertisementDuration",
        "AllowPrestage",
        "ExcludedCollectionID",
        "ExcludeServers",
        "IsProgramEnabled",
        "IsUpgradeExclusionEnabled",
    ];
    let pre = ["IsAccepted", "IsEnabled", "TargetCollectionID"];
    Ok(json!([
        {
            "PropertyNames": upgrade,
            "SiteCode": site.code,
            "AdvertisementDuration": h.auto_upgrade_days,
            "AllowPrestage": false,
            "ExcludedCollectionID": "",
            "ExcludeServers": h.exclude_servers,
            "IsProgramEnabled": h.auto_upgrade,
            "IsUpgradeExclusionEnabled": false,
        },
        {
            "PropertyNames": pre,
            "SiteCode": site.code,
            "IsAccepted": h.pre_production,
            "IsEnabled": h.pre_production,
            "TargetCollectionID": collection_id,
        },
    ]))
}

/// `Get-CmdeploySiteControlProperty -SiteCode -PropertyName`: the runner's read of
/// `root\SMS\site_<code>` `SMS_SCI_SCProperty` (PropertyName, Value, Value1, Value2), as
/// ConfigMgrCBDsc reads hierarchy settings (same file as [`get_hierarchy`]): `Auto Approval`
/// Value 0 manual / 1 trusted domains / 2 all computers; `Registration HardwareID Conflict
/// Resolution` Value 0 resolves conflicting records automatically (CBDsc:
/// `AutoResolveClientConflict = -not (Value -as [bool])`).
pub fn site_control_properties(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let code = site_code(a, session_site)?;
    let names = a.opt_strs("PropertyName")?.unwrap_or_default();
    a.finish()?;
    let site = site_of(estate, &code)?;
    let h = &site.hierarchy;
    let approval = APPROVAL_METHODS
        .iter()
        .position(|m| m.eq_ignore_ascii_case(&h.approval_method))
        .map_or(1, |i| match i {
            0 => 1,
            1 => 0,
            _ => 2,
        });
    let all = [
        ("Auto Approval", approval),
        (
            "Registration HardwareID Conflict Resolution",
            i64::from(!h.auto_resolve_conflicts),
        ),
    ];
    Ok(Value::Array(
        all.into_iter()
            .filter(|(n, _)| names.iter().any(|x| x.eq_ignore_ascii_case(n)))
            .map(|(n, v)| json!({"PropertyName": n, "SiteCode": site.code, "Value": v, "Value1": "", "Value2": ""}))
            .collect(),
    ))
}

/// `Set-CMHierarchySetting`: automatic upgrade within 1–31 days; pre-production testing needs an
/// existing pre-production collection; `ApprovalMethod` one of [`APPROVAL_METHODS`].
pub fn set_hierarchy(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let auto = a.opt_bool("EnableAutoClientUpgrade")?;
    let days = a.opt_int("AutoUpgradeDays")?;
    let exclude = a.opt_bool("ExcludeServer")?;
    let pre = a.opt_bool("EnablePreProduction")?;
    let collection = a.opt_str("TargetCollectionName")?;
    let approval = a.opt_str("ApprovalMethod")?;
    let conflicts = a.opt_bool("AutoResolveClientConflict")?;
    a.accept(&["Force", "PassThru"]);
    a.finish()?;
    // Approval is decided when a client registers: a new method applies to clients that register
    // later, so the clients approved now stay approved (seed 003 "Approval").
    let frozen: Vec<String> = if approval.is_some() {
        estate
            .hosts
            .iter()
            .filter(|h| {
                h.client
                    .as_ref()
                    .is_some_and(|c| c.registered && c.site_code.eq_ignore_ascii_case(session_site))
            })
            .filter(|h| is_approved(estate, session_site, &h.fqdn, h.domain.is_some()))
            .map(|h| short(&h.fqdn).to_uppercase())
            .collect()
    } else {
        Vec::new()
    };
    let site = site_of(estate, session_site)?;
    for name in frozen {
        if !site
            .approved_devices
            .iter()
            .any(|d| d.eq_ignore_ascii_case(&name))
        {
            site.approved_devices.push(name);
        }
    }
    if let Some(d) = days.filter(|d| !(1..=31).contains(d)) {
        return Err(CmdError::new(
            "InvalidArgument",
            format!("Cannot validate argument on parameter 'AutoUpgradeDays'. The {d} argument is greater than the maximum allowed range of 31 or less than the minimum of 1."),
        ));
    }
    if let Some(m) = approval
        .as_ref()
        .filter(|m| !APPROVAL_METHODS.iter().any(|x| x.eq_ignore_ascii_case(m)))
    {
        return Err(CmdError::new(
            "InvalidArgument",
            format!("Cannot convert value \"{m}\" to type \"ApprovalMethodType\". Specify one of the following enumerator names and try again: {}", APPROVAL_METHODS.join(", ")),
        ));
    }
    if let Some(c) = &collection {
        if !site.collections.iter().any(|x| x.eq_ignore_ascii_case(c)) {
            return Err(CmdError::new(
                "ObjectNotFound",
                format!("No object corresponds to the specified parameters: collection '{c}'."),
            ));
        }
    }
    let h = &mut site.hierarchy;
    let pre_after = pre.unwrap_or(h.pre_production);
    let collection_after = collection
        .clone()
        .unwrap_or_else(|| h.pre_production_collection.clone());
    if pre_after && collection_after.is_empty() {
        return Err(CmdError::new(
            "InvalidOperation",
            "Automatic client upgrade with a pre-production client needs a pre-production collection.",
        ));
    }
    if let Some(v) = auto {
        h.auto_upgrade = v;
    }
    if let Some(v) = days {
        h.auto_upgrade_days = v;
    }
    if let Some(v) = exclude {
        h.exclude_servers = v;
    }
    h.pre_production = pre_after;
    h.pre_production_collection = collection_after;
    if let Some(m) = approval {
        h.approval_method = APPROVAL_METHODS
            .iter()
            .find(|x| x.eq_ignore_ascii_case(&m))
            .map(|x| x.to_string())
            .unwrap_or(m);
    }
    if let Some(v) = conflicts {
        h.auto_resolve_conflicts = v;
    }
    Ok(Value::Null)
}

const SYSTEM_DISCOVERY: &str = "ActiveDirectorySystemDiscovery";

/// `Get-CMDiscoveryMethod -Name ActiveDirectorySystemDiscovery [-SiteCode]`: the
/// SMS_AD_SYSTEM_DISCOVERY_AGENT component, `Settings` `Value1` Active/Inactive (configmgr.md §2.10).
pub fn get_discovery(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let code = site_code(a, session_site)?;
    let name = a.opt_str("Name")?.unwrap_or_default();
    a.finish()?;
    if !name.eq_ignore_ascii_case(SYSTEM_DISCOVERY) {
        return Err(CmdError::new(
            "ObjectNotFound",
            format!("The lab does not model discovery method '{name}'."),
        ));
    }
    let site = site_of(estate, &code)?;
    Ok(json!({
        "ComponentName": "SMS_AD_SYSTEM_DISCOVERY_AGENT",
        "SiteCode": site.code,
        "ItemName": format!("SMS_AD_SYSTEM_DISCOVERY_AGENT|{}", site.server.to_uppercase()),
        "Props": [prop("Settings", 0, if site.system_discovery { "Active" } else { "Inactive" })],
    }))
}

/// `Set-CMDiscoveryMethod -ActiveDirectorySystemDiscovery [-SiteCode] -Enabled`.
pub fn set_discovery(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let code = site_code(a, session_site)?;
    let system = a.opt_bool(SYSTEM_DISCOVERY)?.unwrap_or(false);
    let enabled = a.opt_bool("Enabled")?;
    a.accept(&["PassThru"]);
    a.finish()?;
    if !system {
        return Err(CmdError::new(
            "InvalidArgument",
            "Parameter set cannot be resolved using the specified named parameters (the lab models -ActiveDirectorySystemDiscovery only).",
        ));
    }
    let site = site_of(estate, &code)?;
    if let Some(e) = enabled {
        site.system_discovery = e;
    }
    Ok(Value::Null)
}

/// A device record of the site, by name, as `Get-CMDevice -Name` would find it: a host with a
/// client assigned to the site, or a domain computer of the site's domain (a discovered record).
fn device_name(estate: &Estate, site: &str, name: &str) -> Option<String> {
    let s = estate.site(site)?;
    let domain = s.server.split_once('.').map(|x| x.1).unwrap_or("");
    let h = estate.host(name)?;
    let assigned = h
        .client
        .as_ref()
        .is_some_and(|c| c.site_code.eq_ignore_ascii_case(site));
    let discovered = h
        .domain
        .as_deref()
        .is_some_and(|d| d.eq_ignore_ascii_case(domain));
    (assigned || discovered).then(|| short(&h.fqdn).to_uppercase())
}

fn device_arg(estate: &Estate, a: &Args, site: &str) -> Result<String, CmdError> {
    let name = a.str("DeviceName")?;
    a.finish()?;
    device_name(estate, site, &name).ok_or_else(|| {
        CmdError::new(
            "ObjectNotFound",
            format!("No object corresponds to the specified parameters: device '{name}'."),
        )
    })
}

/// `Block-CMDevice -DeviceName`: a blocked client is rejected by the site's systems (it gets no
/// policy and its data is refused) until unblocked (seed 003 "Blocking Clients").
pub fn block_device(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let name = device_arg(estate, a, session_site)?;
    let site = site_of(estate, session_site)?;
    if !site
        .blocked_devices
        .iter()
        .any(|d| d.eq_ignore_ascii_case(&name))
    {
        site.blocked_devices.push(name);
    }
    Ok(Value::Null)
}

/// `Unblock-CMDevice -DeviceName`.
pub fn unblock_device(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let name = device_arg(estate, a, session_site)?;
    let site = site_of(estate, session_site)?;
    site.blocked_devices
        .retain(|d| !d.eq_ignore_ascii_case(&name));
    Ok(Value::Null)
}

/// `Approve-CMDevice -DeviceName`: approval applies to a client record of the site; a device
/// without a client is refused, as the console offers Approve only on clients (seed 003
/// "Approval"; PSRef Approve-CMDevice).
pub fn approve_device(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let name = device_arg(estate, a, session_site)?;
    let client = estate.host(&name).is_some_and(|h| {
        h.client
            .as_ref()
            .is_some_and(|c| c.site_code.eq_ignore_ascii_case(session_site))
    });
    if !client {
        return Err(CmdError::new(
            "InvalidOperation",
            format!("{name} is not a client of site {session_site}: only client records can be approved."),
        ));
    }
    let site = site_of(estate, session_site)?;
    if !site
        .approved_devices
        .iter()
        .any(|d| d.eq_ignore_ascii_case(&name))
    {
        site.approved_devices.push(name);
    }
    Ok(Value::Null)
}
