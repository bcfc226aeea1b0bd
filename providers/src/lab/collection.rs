//! Device collections in the lab: their members (`Get-CMDevice -CollectionName`) and client push
//! to a whole collection (`Install-CMClient -Name`), the wizard's "collection" target.
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
    let discovered: Vec<String> = {
        let all = Map::new();
        let v = host::get_device(estate, &Args::new("Get-CMDevice", &all), site)?;
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| d.get("Name").and_then(Value::as_str).map(short))
            .collect()
    };
    Ok(match listed {
        Some(m) => m.into_iter().filter(|n| discovered.contains(n)).collect(),
        None if collection.eq_ignore_ascii_case(ALL_SYSTEMS) => discovered,
        None => Vec::new(),
    })
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
    let all = Map::new();
    let devices = host::get_device(estate, &Args::new("Get-CMDevice", &all), site)?;
    Ok(Value::Array(
        devices
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| {
                d.get("Name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| names.contains(&short(n)))
            })
            .cloned()
            .collect(),
    ))
}

/// `Install-CMClient -Name COLLECTION [-AlwaysInstallClient] [-ForceReinstall]
/// [-IncludeDomainController] [-SiteCode]`: client push to every member of the collection.
pub fn push_collection(estate: &mut Estate, a: &Args, site: &str) -> CmdResult {
    let collection = a.str("Name")?;
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
    let mut failed = Vec::new();
    for name in members(estate, site, &collection)? {
        let mut args = per_device.clone();
        args.insert("DeviceName".into(), json!(name));
        if let Err(e) = host::push_install(estate, &Args::new("Install-CMClient", &args), site) {
            failed.push(json!({"DeviceName": name, "Message": e.message}));
        }
    }
    Ok(json!({"Collection": collection, "Failed": failed}))
}
