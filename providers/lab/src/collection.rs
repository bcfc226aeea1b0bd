//! Device collections in the lab: their IDs (`Get-CMDeviceCollection`), their members
//! (`Get-CMDevice -CollectionName`) and client push to a whole collection
//! (`Install-CMClient -CollectionId`), the wizard's "collection" target. `Install-CMClient -Name`
//! names a *client*, not a collection (PSRef `Install-CMClient.md`: "-Name Specifies the name of a
//! Configuration Manager client"; parameter set SearchByNameMandatory).
//!
//! "All Systems" holds every device the site discovered; other collections hold the members the
//! seed lists under `[site.collection_members]` (none when not listed). Push to a collection pushes
//! to each member without a client; as in ConfigMgr, one member failing does not fail the others
//! (nor the cmdlet): the failures are kept in the audit and the members stay without a client.

use serde_json::{json, Map, Value};

use super::args::{Args, CmdError, CmdResult};
use super::host;
use super::model::Estate;

/// The built-in collection of every discovered device.
pub const ALL_SYSTEMS: &str = "All Systems";

/// Short names of the members of `collection` at `site`, upper case.
///
/// # Errors
/// `ObjectNotFound` for a collection the site does not have.
pub fn members(estate: &mut Estate, site: &str, collection: &str) -> Result<Vec<String>, CmdError> {
    let s = estate.site(site).ok_or_else(|| {
        CmdError::new(
            "ObjectNotFound",
            format!("The site code '{site}' does not exist."),
        )
    })?;
    let known = collection.eq_ignore_ascii_case(ALL_SYSTEMS)
        || s.collections
            .iter()
            .any(|c| c.eq_ignore_ascii_case(collection))
        || s.collection_members
            .keys()
            .any(|c| c.eq_ignore_ascii_case(collection));
    if !known {
        return Err(CmdError::new(
            "ObjectNotFound",
            format!("No object corresponds to the specified parameters: collection '{collection}' does not exist."),
        ));
    }
    let listed: Option<Vec<String>> = s
        .collection_members
        .iter()
        .find(|(c, _)| c.eq_ignore_ascii_case(collection))
        .map(|(_, m)| m.iter().map(|n| short(n)).collect());
    let discovered: Vec<String> = host::device_records(estate, None, site)
        .iter()
        .filter_map(|d| d.get("Name").and_then(Value::as_str).map(short))
        .collect();
    Ok(match listed {
        Some(m) => m.into_iter().filter(|n| discovered.contains(n)).collect(),
        None if collection.eq_ignore_ascii_case(ALL_SYSTEMS) => discovered,
        None => Vec::new(),
    })
}

/// The built-in "All Systems" collection's ID (ConfigMgr's built-in collections are `SMS000xx`;
/// memdocs `configmgr/core/clients/manage/collections/introduction-to-collections.md`).
pub const ALL_SYSTEMS_ID: &str = "SMS00001";

/// The site's collections with their IDs: "All Systems" as `SMS00001`, the others in seed order
/// as `<site code><5 digits>` from 00016 (the lab's numbering; ConfigMgr gives custom collections
/// the site code and a sequence number).
pub fn collection_ids(estate: &Estate, site: &str) -> Vec<(String, String)> {
    let mut out = vec![(ALL_SYSTEMS.to_string(), ALL_SYSTEMS_ID.to_string())];
    if let Some(s) = estate.site(site) {
        let mut names: Vec<String> = s.collections.clone();
        for k in s.collection_members.keys() {
            if !names.iter().any(|n| n.eq_ignore_ascii_case(k)) {
                names.push(k.clone());
            }
        }
        let mut n = 16;
        for name in names {
            if name.eq_ignore_ascii_case(ALL_SYSTEMS) {
                continue;
            }
            out.push((name, format!("{}{n:05}", s.code.to_uppercase())));
            n += 1;
        }
    }
    out
}

/// `Get-CMDeviceCollection [-Name] | -Id`: `SMS_Collection` objects (Name, CollectionID).
pub fn get_collection(estate: &mut Estate, a: &Args, site: &str) -> CmdResult {
    let name = a.opt_str("Name")?;
    let id = a.opt_str("Id")?;
    a.finish()?;
    let list: Vec<Value> = collection_ids(estate, site)
        .into_iter()
        .filter(|(n, i)| {
            name.as_ref().is_none_or(|x| x.eq_ignore_ascii_case(n))
                && id.as_ref().is_none_or(|x| x.eq_ignore_ascii_case(i))
        })
        .map(|(n, i)| json!({"Name": n, "CollectionID": i, "CollectionType": 2}))
        .collect();
    Ok(Value::Array(list))
}

fn short(name: &str) -> String {
    name.split('.').next().unwrap_or(name).to_uppercase()
}

/// `Get-CMDevice -CollectionName NAME [-Fast]`: the device records of the collection's members.
pub fn get_members(estate: &mut Estate, a: &Args, site: &str) -> CmdResult {
    let collection = a.str("CollectionName")?;
    a.accept(&["Fast", "Resource"]);
    a.finish()?;
    let names = members(estate, site, &collection)?;
    let devices = host::device_records(estate, None, site);
    Ok(Value::Array(
        devices
            .iter()
            .filter(|d| {
                d.get("Name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| names.contains(&short(n)))
            })
            .cloned()
            .collect(),
    ))
}

/// `Install-CMClient -CollectionId ID [-AlwaysInstallClient] [-ForceReinstall]
/// [-IncludeDomainController] [-SiteCode]`: client push to every member of the collection.
pub fn push_collection(estate: &mut Estate, a: &Args, site: &str) -> CmdResult {
    let id = a.str("CollectionId")?;
    let collection = collection_ids(estate, site)
        .into_iter()
        .find(|(_, i)| i.eq_ignore_ascii_case(&id))
        .map(|(n, _)| n)
        .ok_or_else(|| {
            CmdError::new(
                "ObjectNotFound",
                format!("No object corresponds to the specified parameters: no collection has the ID '{id}'."),
            )
        })?;
    let mut per_device = Map::new();
    for p in [
        "AlwaysInstallClient",
        "ForceReinstall",
        "IncludeDomainController",
        "SiteCode",
    ] {
        if let Some(v) = a.raw(p) {
            per_device.insert(p.to_string(), v.clone());
        }
    }
    a.finish()?;
    for name in members(estate, site, &collection)? {
        let mut args = per_device.clone();
        args.insert("DeviceName".into(), json!(name));
        let outcome = host::push_install(estate, &Args::new("Install-CMClient", &args), site);
        // What the push leaves in the site server's ccm.log: a completed request, or why the
        // computer could not be reached or administered.
        let line = match &outcome {
            Ok(_) => format!("---> Completed request, machine name \"{name}\"."),
            Err(e) => format!(
                "ERROR: Unable to access target machine for request, machine name: \"{name}\": {}",
                e.message
            ),
        };
        if let Some(s) = estate.site_mut(site) {
            s.push_log.push(format!(
                "<![LOG[{line}]LOG]!><time=\"{}\" component=\"SMS_CLIENT_CONFIG_MANAGER\">",
                super::ccmsetup_service::now_ms()
            ));
        }
    }
    // The cmdlet only queues the requests: what became of each member is in ccm.log, never in
    // its output (the push runs later, in SMS_CLIENT_CONFIG_MANAGER).
    Ok(Value::Null)
}

/// `Get-CmdeployPushLog -ComputerName NAME...` (the runner's function on a site server): per
/// computer, the last ccm.log line that names it, without the log's markup, and whether it is a
/// failure.
pub fn push_log(estate: &Estate, a: &Args, site: &str) -> CmdResult {
    let names = a.opt_strs("ComputerName")?.unwrap_or_default();
    a.finish()?;
    let log = estate
        .site(site)
        .map(|s| s.push_log.as_slice())
        .unwrap_or_default();
    let mut out = Vec::new();
    for name in names {
        let short = short(&name).to_lowercase();
        let last = log.iter().rev().find(|l| {
            l.to_lowercase()
                .split(|c: char| !c.is_ascii_alphanumeric() && c != '-')
                .any(|w| w == short)
        });
        let line = last.map(|l| {
            l.trim_start_matches("<![LOG[")
                .split("]LOG]!>")
                .next()
                .unwrap_or_default()
                .to_string()
        });
        let failed = line.as_deref().is_some_and(|t| {
            let t = t.to_lowercase();
            ["error", "unable to", "failed to", "denied"]
                .iter()
                .any(|k| t.contains(k))
        });
        out.push(json!({"ComputerName": name, "Line": line, "Failed": failed}));
    }
    Ok(Value::Array(out))
}
