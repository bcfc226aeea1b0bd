//! The `site_settings` kind's read side: its model from the hierarchy objects and site control
//! properties a refresh, an apply's verifying reads or an import reads.

use serde_json::{json, Value};

use cmdeploy_engine::provider::{Observed, ReadRequest, RemoteError};

use super::conflicts::{self, ConflictAction};
use super::hierarchy_read;
use super::site_settings_model::{Approval, ConflictingRecords, SiteSettingsModel, UpgradeModel};
use crate::kit;
use crate::powershell::Call;
use crate::sdk::{self, ReadValues};

/// The site code the hierarchy objects carry.
pub(super) fn code_of(hierarchy: &Value) -> String {
    kit::items(hierarchy)
        .into_iter()
        .map(|o| kit::s(o, "SiteCode"))
        .find(|c| !c.is_empty())
        .unwrap_or_default()
        .to_uppercase()
}

/// The models of a request: desired and as state recorded.
fn models(r: &ReadRequest) -> (Option<SiteSettingsModel>, Option<SiteSettingsModel>) {
    (
        r.desired.as_ref().and_then(|d| sdk::model(&d.attrs)),
        r.prior.as_ref().and_then(|p| sdk::model(&p.attributes)),
    )
}

/// The pre-production collection the manifest or the state names.
fn pre_production_collection(r: &ReadRequest) -> Option<String> {
    let (desired, prior) = models(r);
    let name = |m: Option<SiteSettingsModel>| m?.automatic_upgrade?.pre_production_collection;
    name(desired).or_else(|| name(prior))
}

/// Where each read's value is among [`reads`]: after the hierarchy settings (0), the site
/// control properties (1), the named pre-production collection and system discovery.
pub(super) struct Layout {
    collection: Option<(String, usize)>,
    discovery: usize,
    blocked: Vec<(String, usize)>,
    approved: Vec<(String, usize)>,
    conflicts: Option<(ConflictAction, usize)>,
}

/// The reads of one site's settings: hierarchy settings and site control properties, the
/// pre-production collection the manifest or state names (read back by ID), Active Directory
/// System Discovery, each listed blocked device (manifest or state) and approved device (the
/// manifest's only: approval cannot be revoked), and the pending conflicting records when the
/// manifest says what to do with them.
pub(super) fn reads(code: &str, r: &ReadRequest) -> (Vec<Call>, Layout) {
    let mut calls = vec![
        Call::new("Get-CMHierarchySetting").arg("SiteCode", code),
        Call::new("Get-CmdeploySiteControlProperty")
            .arg("SiteCode", code)
            .arg(
                "PropertyName",
                json!(hierarchy_read::SITE_CONTROL_PROPERTIES),
            ),
    ];
    let mut push = |c: Call| {
        calls.push(c);
        calls.len() - 1
    };
    let collection = pre_production_collection(r).map(|n| {
        let id = push(Call::new("Get-CMDeviceCollection").arg("Name", n.as_str()));
        (n, id)
    });
    let discovery = push(
        Call::new("Get-CMDiscoveryMethod")
            .arg("Name", "ActiveDirectorySystemDiscovery")
            .arg("SiteCode", code),
    );
    let (desired, prior) = models(r);
    let mut listed = |lists: Vec<Option<Vec<String>>>| {
        let mut names: Vec<String> = lists.into_iter().flatten().flatten().collect();
        names.sort_by_key(|s| s.to_lowercase());
        names.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        names
            .into_iter()
            .map(|n| {
                let id = push(
                    Call::new("Get-CMDevice")
                        .arg("Name", n.as_str())
                        .switch("Fast"),
                );
                (n, id)
            })
            .collect::<Vec<_>>()
    };
    let blocked = listed(vec![
        desired.as_ref().and_then(|d| d.blocked_devices.clone()),
        prior.as_ref().and_then(|p| p.blocked_devices.clone()),
    ]);
    let approved = listed(vec![desired
        .as_ref()
        .and_then(|d| d.approved_devices.clone())]);
    let conflicts = r
        .desired
        .as_ref()
        .and_then(|d| conflicts::action_of(&d.meta))
        .map(|a| (a, push(conflicts::read_call())));
    (
        calls,
        Layout {
            collection,
            discovery,
            blocked,
            approved,
            conflicts,
        },
    )
}

/// The observed settings from the values of [`reads`].
///
/// # Errors
/// A failed read, or a hierarchy object or property missing from what ConfigMgr returned.
pub(super) fn read_values(
    values: &ReadValues<'_>,
    layout: &Layout,
    r: &ReadRequest,
) -> Result<Observed, RemoteError> {
    let hierarchy = values.get(0)?;
    let properties = values.get(1)?;
    let h = hierarchy_read::parse(hierarchy, properties).map_err(|m| RemoteError {
        host: values.connection().host(),
        operation: Some("Get-CMHierarchySetting".into()),
        message: m,
        category: None,
        unreachable: None,
    })?;
    let known = match &layout.collection {
        Some((name, id)) => kit::items(values.get(*id)?)
            .into_iter()
            .next()
            .map(|c| (name.clone(), kit::s(c, "CollectionID").to_string())),
        None => None,
    };
    let discovery = values.get(layout.discovery)?;
    let mut blocked = Vec::new();
    for (name, id) in &layout.blocked {
        if kit::items(values.get(*id)?)
            .iter()
            .any(|x| x.get("IsBlocked").and_then(Value::as_bool) == Some(true))
        {
            blocked.push(name.to_uppercase());
        }
    }
    let mut m = observe(&h, known, discovery, blocked);
    let (desired, _) = models(r);
    if desired.is_some_and(|d| d.approved_devices.is_some()) {
        let mut approved = Vec::new();
        for (name, id) in &layout.approved {
            // IsApproved is a UInt32 (windows-runtime.md §9): 1 approved.
            if kit::items(values.get(*id)?)
                .iter()
                .any(|x| kit::n(x, "IsApproved") == 1)
            {
                approved.push(name.to_uppercase());
            }
        }
        m.approved_devices = Some(kit::sorted_strings(approved));
    }
    let mut notes = Vec::new();
    if let Some((action, id)) = &layout.conflicts {
        let pending = conflicts::pending(values.get(*id)?);
        notes.extend(conflicts::notes(*action, &pending));
        m.conflicting_records_pending = serde_json::from_value(pending).ok();
    }
    let mut o = sdk::observed(code_of(hierarchy), &m);
    o.notes = notes;
    Ok(o)
}

/// The observed settings from the hierarchy objects and site control properties (`h`, see
/// [`hierarchy_read`]), the collection the manifest names with its ID (`known`), `Get-CMDiscoveryMethod
/// -Name ActiveDirectorySystemDiscovery` (`discovery`: `Settings` `Value1` Active/Inactive,
/// configmgr.md §2.10) and the devices `Get-CMDevice` reports `IsBlocked`. A pre-production
/// collection that is not the one named shows as its ID.
pub(super) fn observe(
    h: &hierarchy_read::HierarchyRead,
    known: Option<(String, String)>,
    discovery: &Value,
    blocked: Vec<String>,
) -> SiteSettingsModel {
    let pre = h
        .pre_production_collection_id
        .as_ref()
        .map(|id| match &known {
            Some((name, known_id)) if known_id.eq_ignore_ascii_case(id) => name.clone(),
            _ => id.clone(),
        });
    let active = kit::items(discovery).into_iter().next().is_some_and(|c| {
        kit::prop(c, "Settings").is_some_and(|p| kit::s(p, "Value1").eq_ignore_ascii_case("Active"))
    });
    SiteSettingsModel {
        automatic_upgrade: Some(UpgradeModel {
            enabled: h.upgrade_enabled,
            days: h.upgrade_days,
            exclude_servers: h.exclude_servers,
            pre_production_collection: pre,
        }),
        approval: Approval::from_method(h.approval_method),
        conflicting_records: Some(if h.auto_resolve_conflicts {
            ConflictingRecords::Automatic
        } else {
            ConflictingRecords::Manual
        }),
        system_discovery: Some(active),
        approved_devices: None,
        blocked_devices: Some(kit::sorted_strings(blocked)),
        conflicting_records_pending: None,
    }
}
