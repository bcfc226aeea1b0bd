//! The `site_settings` kind's read side: its attributes from the hierarchy objects and site
//! control properties a refresh or an import reads.

use serde_json::{json, Value};

use cmdeploy_engine::provider::{Observed, ReadRequest};

use super::hierarchy_read;
use super::site_settings::Approval;
use crate::kit;

/// The normalised `automatic_upgrade` attribute.
pub(super) fn upgrade_value(
    enabled: bool,
    days: i64,
    exclude_servers: bool,
    collection: Option<&str>,
) -> Value {
    json!({
        "enabled": enabled,
        "days": days,
        "exclude_servers": exclude_servers,
        "pre_production_collection": collection,
    })
}

/// The site code the hierarchy objects carry.
pub(super) fn code_of(hierarchy: &Value) -> String {
    kit::items(hierarchy)
        .into_iter()
        .map(|o| kit::s(o, "SiteCode"))
        .find(|c| !c.is_empty())
        .unwrap_or_default()
        .to_uppercase()
}

/// The pre-production collection the manifest or the state names.
pub(super) fn pre_production_collection(r: &ReadRequest) -> Option<String> {
    let from = |attrs: &serde_json::Map<String, Value>| {
        attrs
            .get("automatic_upgrade")
            .and_then(|u| u.get("pre_production_collection"))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    r.desired
        .as_ref()
        .and_then(|d| from(&d.attrs))
        .or_else(|| r.prior.as_ref().and_then(|p| from(&p.attributes)))
}

/// The observed settings from the hierarchy objects and site control properties (`h`, see
/// [`hierarchy_read`]), the collection the manifest names with its ID (`known`), `Get-CMDiscoveryMethod
/// -Name ActiveDirectorySystemDiscovery` (`discovery`: `Settings` `Value1` Active/Inactive,
/// configmgr.md §2.10) and the devices `Get-CMDevice` reports `IsBlocked`. A pre-production
/// collection that is not the one named shows as its ID.
pub(super) fn observe(
    code: &str,
    h: &hierarchy_read::HierarchyRead,
    known: Option<(String, String)>,
    discovery: &Value,
    blocked: Vec<String>,
) -> Observed {
    let pre = h
        .pre_production_collection_id
        .as_ref()
        .map(|id| match &known {
            Some((name, known_id)) if known_id.eq_ignore_ascii_case(id) => name.clone(),
            _ => id.clone(),
        });
    let mut attrs = serde_json::Map::new();
    attrs.insert(
        "automatic_upgrade".into(),
        upgrade_value(
            h.upgrade_enabled,
            h.upgrade_days,
            h.exclude_servers,
            pre.as_deref(),
        ),
    );
    if let Some(a) = Approval::from_method(h.approval_method) {
        attrs.insert("approval".into(), json!(a));
    }
    attrs.insert(
        "conflicting_records".into(),
        json!(if h.auto_resolve_conflicts {
            "automatic"
        } else {
            "manual"
        }),
    );
    let active = kit::items(discovery).into_iter().next().is_some_and(|c| {
        kit::prop(c, "Settings").is_some_and(|p| kit::s(p, "Value1").eq_ignore_ascii_case("Active"))
    });
    attrs.insert("system_discovery".into(), json!(active));
    attrs.insert("blocked_devices".into(), kit::sorted(blocked));
    Observed {
        id: code.to_string(),
        attrs,
        notes: Vec::new(),
        private: Default::default(),
    }
}
