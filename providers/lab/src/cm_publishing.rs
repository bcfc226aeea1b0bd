//! Publishing a site to Active Directory forests, as the runner's `Get-CmdeploySitePublishing`
//! and `Set-CmdeploySitePublishing` do it on a site server: the forests ConfigMgr knows are the
//! lab's domains (the site server's forest is added at installation; each `[[domain]]` of the lab
//! is a forest root), numbered from 1 in seed order as `ForestID`; publishing to a forest that
//! is not known fails with the runner's words (PSRef Set-CMSite, Get-CMActiveDirectoryForest;
//! memdocs sms_adforestdiscoverystatus-server-wmi-class.md).

use serde_json::{json, Value};

use super::args::{Args, CmdError, CmdResult};
use super::cm_site::site_of;
use super::model::Estate;

/// `Get-CmdeploySitePublishing -SiteCode`: `{ForestID, ForestFQDN}` per forest published to.
pub fn get(estate: &mut Estate, a: &Args) -> CmdResult {
    let code = a.str("SiteCode")?;
    a.finish()?;
    let forests: Vec<String> = estate.domains.iter().map(|d| d.name.clone()).collect();
    let site = site_of(estate, &code)?;
    Ok(Value::Array(
        forests
            .iter()
            .enumerate()
            .filter(|(_, f)| {
                site.published_forests
                    .iter()
                    .any(|p| p.eq_ignore_ascii_case(f))
            })
            .map(|(i, f)| json!({"ForestID": i + 1, "ForestFQDN": f}))
            .collect(),
    ))
}

/// `Set-CmdeploySitePublishing -SiteCode -ForestFqdn -Action Add|Remove`.
pub fn set(estate: &mut Estate, a: &Args) -> CmdResult {
    let code = a.str("SiteCode")?;
    let forest = a.str("ForestFqdn")?;
    let action = a.str("Action")?;
    a.finish()?;
    if !estate
        .domains
        .iter()
        .any(|d| d.name.eq_ignore_ascii_case(&forest))
    {
        return Err(CmdError::new(
            "RuntimeException",
            format!("The Active Directory forest {forest} is not among the site's Active Directory Forests (Administration, Hierarchy Configuration): add it there first."),
        ));
    }
    let site = site_of(estate, &code)?;
    match action.to_ascii_lowercase().as_str() {
        "add" => {
            if !site
                .published_forests
                .iter()
                .any(|p| p.eq_ignore_ascii_case(&forest))
            {
                site.published_forests.push(forest.to_lowercase());
            }
        }
        "remove" => site
            .published_forests
            .retain(|p| !p.eq_ignore_ascii_case(&forest)),
        other => {
            return Err(CmdError::new(
                "InvalidArgument",
                format!("Cannot validate argument on parameter 'Action'. The argument \"{other}\" does not belong to the set \"Add,Remove\"."),
            ))
        }
    }
    Ok(Value::Null)
}
