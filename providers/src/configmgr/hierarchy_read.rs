//! Hierarchy settings as ConfigMgr returns them, the way ConfigMgrCBDsc reads them
//! (dsccommunity/ConfigMgrCBDsc@28f681daaa9c `source/DSCResources/DSC_CMHierarchySetting/
//! DSC_CMHierarchySetting.psm1:31-64`; windows-runtime.md §9):
//!
//! * `Get-CMHierarchySetting` returns several objects told apart by `PropertyNames`: the one with
//!   `AdvertisementDuration` is automatic client upgrade (`IsProgramEnabled`,
//!   `AdvertisementDuration` days, `ExcludeServers`), the one with `TargetCollectionID` is
//!   pre-production (`IsAccepted` and `IsEnabled` both true when on);
//! * approval and conflicting records are `root\SMS\site_<code>` `SMS_SCI_SCProperty` values
//!   (the runner's `Get-CmdeploySiteControlProperty`): `Auto Approval` Value 0 manual, 1 trusted
//!   domains, 2 all computers; `Registration HardwareID Conflict Resolution` Value 0 resolves
//!   conflicting records automatically.
//!
//! A missing object or property is an error naming it, never a default.

use serde_json::Value;

use crate::kit;

/// The `SMS_SCI_SCProperty` names read with `Get-CmdeploySiteControlProperty`.
pub const SITE_CONTROL_PROPERTIES: [&str; 2] = [
    "Auto Approval",
    "Registration HardwareID Conflict Resolution",
];

/// `ApprovalMethod` names by `Auto Approval` Value (CBDsc's array).
const APPROVAL_BY_VALUE: [&str; 3] = [
    "ManuallyApproveEachComputer",
    "AutomaticallyApproveComputersInTrustedDomains",
    "AutomaticallyApproveAllComputers",
];

/// The hierarchy settings cmdeploy manages, as read.
#[derive(Debug, Clone, PartialEq)]
pub struct HierarchyRead {
    /// `IsProgramEnabled`.
    pub upgrade_enabled: bool,
    /// `AdvertisementDuration` (days).
    pub upgrade_days: i64,
    /// `ExcludeServers`.
    pub exclude_servers: bool,
    /// `TargetCollectionID` when pre-production is on (`IsAccepted` and `IsEnabled`).
    pub pre_production_collection_id: Option<String>,
    /// The `ApprovalMethod` name of `Auto Approval`.
    pub approval_method: &'static str,
    /// `Registration HardwareID Conflict Resolution` Value 0.
    pub auto_resolve_conflicts: bool,
}

fn with_property<'a>(objects: &'a Value, name: &str) -> Result<&'a Value, String> {
    kit::items(objects)
        .into_iter()
        .find(|o| {
            o.get("PropertyNames")
                .and_then(Value::as_array)
                .is_some_and(|n| n.iter().any(|x| x.as_str() == Some(name)))
        })
        .ok_or_else(|| {
            format!("Get-CMHierarchySetting returned no object whose PropertyNames hold {name}")
        })
}

fn boolean(o: &Value, object: &str, field: &str) -> Result<bool, String> {
    o.get(field)
        .and_then(Value::as_bool)
        .ok_or_else(|| format!("the {object} object has no Boolean property '{field}'"))
}

fn scp_value(properties: &Value, name: &str) -> Result<i64, String> {
    kit::items(properties)
        .into_iter()
        .find(|p| kit::s(p, "PropertyName").eq_ignore_ascii_case(name))
        .and_then(|p| p.get("Value"))
        .and_then(Value::as_i64)
        .ok_or_else(|| format!("SMS_SCI_SCProperty '{name}' has no numeric Value"))
}

/// Parses `Get-CMHierarchySetting`'s objects and the `SMS_SCI_SCProperty` rows.
///
/// # Errors
/// A message naming the missing object or property.
pub fn parse(objects: &Value, properties: &Value) -> Result<HierarchyRead, String> {
    let upgrade = with_property(objects, "AdvertisementDuration")?;
    let pre = with_property(objects, "TargetCollectionID")?;
    let days = upgrade
        .get("AdvertisementDuration")
        .and_then(Value::as_i64)
        .ok_or("the automatic upgrade object has no numeric property 'AdvertisementDuration'")?;
    let pre_on = boolean(pre, "pre-production", "IsAccepted")?
        && boolean(pre, "pre-production", "IsEnabled")?;
    let approval = scp_value(properties, SITE_CONTROL_PROPERTIES[0])?;
    let approval_method = usize::try_from(approval)
        .ok()
        .and_then(|i| APPROVAL_BY_VALUE.get(i).copied())
        .ok_or_else(|| {
            format!("SMS_SCI_SCProperty 'Auto Approval' has the unknown Value {approval}")
        })?;
    Ok(HierarchyRead {
        upgrade_enabled: boolean(upgrade, "automatic upgrade", "IsProgramEnabled")?,
        upgrade_days: days,
        exclude_servers: boolean(upgrade, "automatic upgrade", "ExcludeServers")?,
        pre_production_collection_id: pre_on.then(|| kit::s(pre, "TargetCollectionID").to_string()),
        approval_method,
        auto_resolve_conflicts: scp_value(properties, SITE_CONTROL_PROPERTIES[1])? == 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn objects() -> Value {
        json!([
            {"PropertyNames": ["AdvertisementDuration", "IsProgramEnabled", "ExcludeServers"],
             "AdvertisementDuration": 7, "IsProgramEnabled": true, "ExcludeServers": false},
            {"PropertyNames": ["TargetCollectionID", "IsAccepted", "IsEnabled"],
             "TargetCollectionID": "ABC00016", "IsAccepted": true, "IsEnabled": true},
        ])
    }

    fn properties() -> Value {
        json!([
            {"PropertyName": "Auto Approval", "Value": 2},
            {"PropertyName": "Registration HardwareID Conflict Resolution", "Value": 1},
        ])
    }

    #[test]
    fn reads_the_objects_cbdsc_reads() {
        let h = parse(&objects(), &properties()).unwrap();
        assert!(h.upgrade_enabled);
        assert_eq!(h.upgrade_days, 7);
        assert_eq!(h.pre_production_collection_id.as_deref(), Some("ABC00016"));
        assert_eq!(h.approval_method, "AutomaticallyApproveAllComputers");
        assert!(!h.auto_resolve_conflicts);
    }

    #[test]
    fn a_missing_object_or_property_is_named() {
        let e = parse(&json!([objects()[0].clone()]), &properties()).unwrap_err();
        assert!(e.contains("TargetCollectionID"), "{e}");
        let e = parse(&objects(), &json!([])).unwrap_err();
        assert!(e.contains("Auto Approval"), "{e}");
        let mut o = objects();
        o[0].as_object_mut().unwrap().remove("IsProgramEnabled");
        let e = parse(&o, &properties()).unwrap_err();
        assert!(e.contains("'IsProgramEnabled'"), "{e}");
    }
}
