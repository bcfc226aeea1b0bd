//! Lab cmdlets for conflicting records (SMS_PendingRegistrationRecord): `Get-CMConflictingRecord
//! [-Name] | -Id`, `Merge-CMConflictingRecord -Id | -Name | -SiteCode` and
//! `Block-CMConflictingRecord -Id | -Name` (PSRef of each; seed 003 "Conflicting Records"). A
//! record that is merged joins the existing client record; a blocked one becomes a blocked
//! device. There is no cmdlet for the console's third choice, a new record (cmdlets.json
//! `not_found` Resolve-CMConflictingRecord).

use serde_json::{json, Value};

use super::args::{Args, CmdError, CmdResult};
use super::cm_site::site_of;
use super::model::{ConflictingRecord, Estate, Site};

fn row(site: &Site, r: &ConflictingRecord) -> Value {
    json!({"SMSID": r.smsid, "AgentName": r.name, "SiteCode": site.code})
}

/// The records `-Id` or `-Name` select (every record when `all`), or ObjectNotFound.
fn selected(
    site: &Site,
    id: Option<&str>,
    name: Option<&str>,
    all: bool,
) -> Result<Vec<String>, CmdError> {
    let ids: Vec<String> = site
        .conflicting_records
        .iter()
        .filter(|r| {
            all || id.is_some_and(|i| r.smsid.eq_ignore_ascii_case(i))
                || name.is_some_and(|n| r.name.eq_ignore_ascii_case(n))
        })
        .map(|r| r.smsid.clone())
        .collect();
    if ids.is_empty() && !all {
        return Err(CmdError::new(
            "ObjectNotFound",
            format!(
                "No object corresponds to the specified parameters: conflicting record '{}'.",
                id.or(name).unwrap_or_default()
            ),
        ));
    }
    Ok(ids)
}

/// `Get-CMConflictingRecord [-Name] | -Id`: SMS_PendingRegistrationRecord rows.
pub fn get(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let id = a.opt_str("Id")?;
    let name = a.opt_str("Name")?;
    a.finish()?;
    let site = site_of(estate, session_site)?;
    Ok(Value::Array(
        site.conflicting_records
            .iter()
            .filter(|r| id.as_ref().is_none_or(|i| r.smsid.eq_ignore_ascii_case(i)))
            .filter(|r| name.as_ref().is_none_or(|n| r.name.eq_ignore_ascii_case(n)))
            .map(|r| row(site, r))
            .collect(),
    ))
}

/// `Merge-CMConflictingRecord -Id | -Name | -SiteCode`: the new record is merged into the
/// existing client record; `-SiteCode` merges every unresolved conflict of that site.
pub fn merge(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let id = a.opt_str("Id")?;
    let name = a.opt_str("Name")?;
    let code = a.opt_str("SiteCode")?;
    a.accept(&["Force"]);
    a.finish()?;
    let site = site_of(estate, code.as_deref().unwrap_or(session_site))?;
    let ids = selected(site, id.as_deref(), name.as_deref(), code.is_some())?;
    site.conflicting_records.retain(|r| !ids.contains(&r.smsid));
    Ok(Value::Null)
}

/// `Block-CMConflictingRecord -Id | -Name`: creates a blocked record for the client.
pub fn block(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let id = a.opt_str("Id")?;
    let name = a.opt_str("Name")?;
    a.accept(&["Force"]);
    a.finish()?;
    let site = site_of(estate, session_site)?;
    let ids = selected(site, id.as_deref(), name.as_deref(), false)?;
    let names: Vec<String> = site
        .conflicting_records
        .iter()
        .filter(|r| ids.contains(&r.smsid))
        .map(|r| r.name.to_uppercase())
        .collect();
    site.conflicting_records.retain(|r| !ids.contains(&r.smsid));
    for n in names {
        if !site
            .blocked_devices
            .iter()
            .any(|d| d.eq_ignore_ascii_case(&n))
        {
            site.blocked_devices.push(n);
        }
    }
    Ok(Value::Null)
}
