//! Lab cmdlets for boundaries and boundary groups, with ConfigMgr's rules: unique group names,
//! subnet IDs stored for IP subnets, supernets refused, FQDNs required for site systems.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::args::{Args, CmdError, CmdResult};
use super::model::{Boundary, BoundaryGroup, Estate};
use cmdeploy_providers::configmgr::net;

/// Boundary type names as `-Type` takes them, by BoundaryType number.
pub const BOUNDARY_TYPES: [&str; 5] = ["IPSubnet", "ADSite", "IPV6Prefix", "IPRange", "Vpn"];

fn type_number(name: &str) -> Result<u32, CmdError> {
    BOUNDARY_TYPES
        .iter()
        .position(|t| t.eq_ignore_ascii_case(name))
        .map(|i| i as u32)
        .ok_or_else(|| {
            CmdError::new(
                "InvalidArgument",
                format!("Cannot bind parameter 'Type'. Cannot convert value \"{name}\" to type \"BoundaryTypes\". Specify one of the enumerator names: IPSubnet, ADSite, IPV6Prefix, IPRange, Vpn."),
            )
        })
}

fn stored_value(boundary_type: u32, value: &str) -> Result<String, CmdError> {
    match boundary_type {
        0 => match net::subnet(value).map_err(|m| CmdError::new("InvalidArgument", m))? {
            net::Subnet::Id(id) => Ok(id),
            net::Subnet::Supernet { range } => Err(CmdError::new(
                "InvalidArgument",
                format!("The IP subnet {value} is a supernet. Configuration Manager doesn't support supernets as IP subnet boundaries; create an IP address range boundary ({range}) instead."),
            )),
        },
        3 => net::range(value).map(|_| value.to_string()).map_err(|m| CmdError::new("InvalidArgument", m)),
        _ => Ok(value.to_string()),
    }
}

/// The SMS_Boundary shape of a boundary.
pub fn boundary_json(estate: &Estate, b: &Boundary) -> Value {
    let groups: Vec<&BoundaryGroup> = estate
        .boundary_groups
        .iter()
        .filter(|g| g.boundaries.contains(&b.id))
        .collect();
    boundary_json_in(b, &groups)
}

/// [`boundary_json`] given the groups `b` is a member of, in group order.
fn boundary_json_in(b: &Boundary, groups: &[&BoundaryGroup]) -> Value {
    let site_codes: Vec<&str> = groups
        .iter()
        .filter(|g| !g.default_site_code.is_empty())
        .map(|g| g.default_site_code.as_str())
        .collect();
    json!({
        "BoundaryID": b.id,
        "BoundaryType": b.boundary_type,
        "Value": b.value,
        "DisplayName": b.name,
        "GroupCount": groups.len(),
        "DefaultSiteCode": site_codes,
    })
}

/// The groups of the listed boundaries (by boundary ID, each list in group order), from one pass
/// over the groups: what a listing of 60,000 boundaries needs instead of a scan of every group per
/// boundary. Only the listed boundaries get an entry: listing one group's members (once per
/// group in a refresh) builds no map of every boundary of the site.
fn groups_by_boundary<'e>(
    estate: &'e Estate,
    listed: &[&Boundary],
) -> HashMap<u64, Vec<&'e BoundaryGroup>> {
    let wanted: std::collections::HashSet<u64> = listed.iter().map(|b| b.id).collect();
    let mut by: HashMap<u64, Vec<&BoundaryGroup>> = HashMap::new();
    for g in &estate.boundary_groups {
        for id in g.boundaries.iter().filter(|id| wanted.contains(id)) {
            let of = by.entry(*id).or_default();
            // A group lists a boundary once; a repeated ID still counts the group once.
            if !of.last().is_some_and(|last| std::ptr::eq(*last, g)) {
                of.push(g);
            }
        }
    }
    by
}

fn group_json(g: &BoundaryGroup) -> Value {
    json!({
        "GroupID": g.id,
        "Name": g.name,
        "Description": g.description,
        "DefaultSiteCode": g.default_site_code,
        "MemberCount": g.boundaries.len(),
        "SiteSystemCount": g.site_systems.len(),
    })
}

/// `Get-CMBoundary [-BoundaryName] | -BoundaryId | -BoundaryGroupName`.
pub fn get_boundary(estate: &mut Estate, a: &Args) -> CmdResult {
    let name = a.opt_str("BoundaryName")?;
    let id = a.opt_int("BoundaryId")?;
    let group = a.opt_str("BoundaryGroupName")?;
    a.finish()?;
    // A set: every boundary of the site is checked against it (a list made listing the members
    // of each of 2,000 groups among 60,000 boundaries take seconds).
    let members: Option<std::collections::HashSet<u64>> = match &group {
        Some(g) => Some(
            estate
                .boundary_groups
                .iter()
                .find(|x| x.name.eq_ignore_ascii_case(g))
                .map(|x| x.boundaries.iter().copied().collect())
                .ok_or_else(|| CmdError::new("ObjectNotFound", format!("No object corresponds to the specified parameters: boundary group '{g}'.")))?,
        ),
        None => None,
    };
    let found: Vec<&Boundary> = estate
        .boundaries
        .iter()
        .filter(|b| name.as_ref().is_none_or(|n| b.name.eq_ignore_ascii_case(n)))
        .filter(|b| id.is_none_or(|i| b.id as i64 == i))
        .filter(|b| members.as_ref().is_none_or(|m| m.contains(&b.id)))
        .collect();
    let out: Vec<Value> = if found.len() > 1 {
        let groups = groups_by_boundary(estate, &found);
        found
            .into_iter()
            .map(|b| boundary_json_in(b, groups.get(&b.id).map_or(&[][..], Vec::as_slice)))
            .collect()
    } else {
        found
            .into_iter()
            .map(|b| boundary_json(estate, b))
            .collect()
    };
    Ok(Value::Array(out))
}

/// `New-CMBoundary -Type -Value [-Name]`.
pub fn new_boundary(estate: &mut Estate, a: &Args) -> CmdResult {
    let t = type_number(&a.str("Type")?)?;
    let raw = a.str("Value")?;
    let name = a.opt_str("Name")?.unwrap_or_default();
    a.accept(&["ValueStartsWith"]);
    a.finish()?;
    let value = stored_value(t, &raw)?;
    if estate
        .boundaries
        .iter()
        .any(|b| b.boundary_type == t && b.value.eq_ignore_ascii_case(&value))
    {
        return Err(CmdError::new(
            "ResourceExists",
            format!(
                "A boundary of type {} with value '{value}' already exists.",
                BOUNDARY_TYPES[t as usize]
            ),
        ));
    }
    let id = estate.new_id();
    let b = Boundary {
        id,
        boundary_type: t,
        value,
        name,
    };
    let out = boundary_json(estate, &b);
    estate.boundaries.push(b);
    Ok(out)
}

/// `Set-CMBoundary -Id [-NewName] [-NewType] [-NewValue]`.
pub fn set_boundary(estate: &mut Estate, a: &Args) -> CmdResult {
    let id: u64 = a.str("Id")?.parse().map_err(|_| {
        CmdError::new(
            "InvalidArgument",
            "Set-CMBoundary: -Id must be a boundary ID",
        )
    })?;
    let new_name = a.opt_str("NewName")?;
    let new_type = a.opt_str("NewType")?.map(|t| type_number(&t)).transpose()?;
    let new_value = a.opt_str("NewValue")?;
    a.accept(&["PassThru", "ValueStartsWith"]);
    a.finish()?;
    let idx = estate
        .boundaries
        .iter()
        .position(|b| b.id == id)
        .ok_or_else(|| {
            CmdError::new(
                "ObjectNotFound",
                format!("No object corresponds to the specified parameters: boundary ID {id}."),
            )
        })?;
    let t = new_type.unwrap_or(estate.boundaries[idx].boundary_type);
    if let Some(v) = new_value {
        estate.boundaries[idx].value = stored_value(t, &v)?;
    }
    estate.boundaries[idx].boundary_type = t;
    if let Some(n) = new_name {
        estate.boundaries[idx].name = n;
    }
    Ok(boundary_json(estate, &estate.boundaries[idx].clone()))
}

/// `Remove-CMBoundary -Id -Force`.
pub fn remove_boundary(estate: &mut Estate, a: &Args) -> CmdResult {
    let id: u64 = a.str("Id")?.parse().map_err(|_| {
        CmdError::new(
            "InvalidArgument",
            "Remove-CMBoundary: -Id must be a boundary ID",
        )
    })?;
    a.accept(&["Force"]);
    a.finish()?;
    let before = estate.boundaries.len();
    estate.boundaries.retain(|b| b.id != id);
    if estate.boundaries.len() == before {
        return Err(CmdError::new(
            "ObjectNotFound",
            format!("No object corresponds to the specified parameters: boundary ID {id}."),
        ));
    }
    for g in &mut estate.boundary_groups {
        g.boundaries.retain(|b| *b != id);
    }
    Ok(Value::Null)
}

/// `Get-CMBoundaryGroup [-Name]`.
pub fn get_group(estate: &mut Estate, a: &Args) -> CmdResult {
    let name = a.opt_str("Name")?;
    a.finish()?;
    Ok(Value::Array(
        estate
            .boundary_groups
            .iter()
            .filter(|g| name.as_ref().is_none_or(|n| g.name.eq_ignore_ascii_case(n)))
            .map(group_json)
            .collect(),
    ))
}

fn check_fqdns(servers: &[String], estate: &Estate) -> Result<(), CmdError> {
    for s in servers {
        if !s.contains('.') {
            return Err(CmdError::new(
                "InvalidArgument",
                format!("Site system server '{s}' must be specified by its fully qualified domain name (FQDN)."),
            ));
        }
        let known = estate.sites.iter().any(|site| {
            site.server.eq_ignore_ascii_case(s)
                || site
                    .management_points
                    .iter()
                    .any(|m| m.eq_ignore_ascii_case(s))
                || site
                    .internet_management_points
                    .iter()
                    .any(|m| m.eq_ignore_ascii_case(s))
                || site
                    .fallback_status_point
                    .as_ref()
                    .is_some_and(|f| f.server.eq_ignore_ascii_case(s))
        }) || estate.host(s).is_some();
        if !known {
            return Err(CmdError::new(
                "ObjectNotFound",
                format!("No site system server named '{s}' exists in the hierarchy."),
            ));
        }
    }
    Ok(())
}

fn check_site_code(estate: &Estate, code: &str) -> Result<(), CmdError> {
    match estate.site(code) {
        Some(s) if s.site_type == "primary" => Ok(()),
        Some(s) => Err(CmdError::new(
            "InvalidArgument",
            format!(
                "Site {code} is a {} site. Clients can be assigned only to a primary site.",
                s.site_type
            ),
        )),
        None => Err(CmdError::new(
            "ObjectNotFound",
            format!("The site code '{code}' does not exist in the hierarchy."),
        )),
    }
}

/// `New-CMBoundaryGroup -Name [-Description] [-DefaultSiteCode] [-AddSiteSystemServerName]`.
pub fn new_group(estate: &mut Estate, a: &Args) -> CmdResult {
    let name = a.str("Name")?;
    let description = a.opt_str("Description")?.unwrap_or_default();
    let site = a.opt_str("DefaultSiteCode")?.unwrap_or_default();
    let servers = a.opt_strs("AddSiteSystemServerName")?.unwrap_or_default();
    a.finish()?;
    if estate
        .boundary_groups
        .iter()
        .any(|g| g.name.eq_ignore_ascii_case(&name))
    {
        return Err(CmdError::new(
            "ResourceExists",
            format!("A boundary group named '{name}' already exists. Boundary group names must be unique."),
        ));
    }
    if !site.is_empty() {
        check_site_code(estate, &site)?;
    }
    check_fqdns(&servers, estate)?;
    let id = estate.new_id();
    let g = BoundaryGroup {
        id,
        name,
        description,
        default_site_code: site.to_uppercase(),
        boundaries: Vec::new(),
        members: Vec::new(),
        site_systems: servers.iter().map(|s| s.to_lowercase()).collect(),
    };
    let out = group_json(&g);
    estate.boundary_groups.push(g);
    Ok(out)
}

fn group_index(estate: &Estate, name: &str) -> Result<usize, CmdError> {
    estate
        .boundary_groups
        .iter()
        .position(|g| g.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| {
            CmdError::new(
                "ObjectNotFound",
                format!(
                    "No object corresponds to the specified parameters: boundary group '{name}'."
                ),
            )
        })
}

/// `Set-CMBoundaryGroup -Name [-NewName] [-Description] [-DefaultSiteCode] [-Add/RemoveSiteSystemServerName]`.
pub fn set_group(estate: &mut Estate, a: &Args) -> CmdResult {
    let idx = group_index(estate, &a.str("Name")?)?;
    let new_name = a.opt_str("NewName")?;
    let description = a.opt_str("Description")?;
    let clear_site = a.is_null("DefaultSiteCode");
    let site = a.opt_str("DefaultSiteCode")?;
    let add = a.opt_strs("AddSiteSystemServerName")?.unwrap_or_default();
    let remove = a
        .opt_strs("RemoveSiteSystemServerName")?
        .unwrap_or_default();
    let clear = a.opt_bool("ClearSiteSystemServer")?.unwrap_or(false);
    a.accept(&["PassThru"]);
    a.finish()?;
    if let Some(n) = &new_name {
        if estate
            .boundary_groups
            .iter()
            .enumerate()
            .any(|(i, g)| i != idx && g.name.eq_ignore_ascii_case(n))
        {
            return Err(CmdError::new("ResourceExists", format!("A boundary group named '{n}' already exists. Boundary group names must be unique.")));
        }
    }
    if let Some(s) = site.as_ref().filter(|s| !s.is_empty()) {
        check_site_code(estate, s)?;
    }
    check_fqdns(&add, estate)?;
    let g = &mut estate.boundary_groups[idx];
    if let Some(n) = new_name {
        g.name = n;
    }
    if let Some(d) = description {
        g.description = d;
    }
    if clear_site {
        g.default_site_code.clear();
    } else if let Some(s) = site {
        g.default_site_code = s.to_uppercase();
    }
    if clear {
        g.site_systems.clear();
    }
    g.site_systems
        .retain(|s| !remove.iter().any(|r| r.eq_ignore_ascii_case(s)));
    for s in add {
        if !g.site_systems.iter().any(|x| x.eq_ignore_ascii_case(&s)) {
            g.site_systems.push(s.to_lowercase());
        }
    }
    Ok(group_json(g))
}

/// `Remove-CMBoundaryGroup -Name -Force`.
pub fn remove_group(estate: &mut Estate, a: &Args) -> CmdResult {
    let idx = group_index(estate, &a.str("Name")?)?;
    a.accept(&["Force"]);
    a.finish()?;
    let removed = estate.boundary_groups.remove(idx);
    // ConfigMgr deletes the group's relationships with it, in both directions.
    estate
        .boundary_group_relationships
        .retain(|r| r.source != removed.id && r.destination != removed.id);
    Ok(Value::Null)
}

fn boundary_by_name(estate: &Estate, name: &str) -> Result<u64, CmdError> {
    let matches: Vec<u64> = estate
        .boundaries
        .iter()
        .filter(|b| b.name.eq_ignore_ascii_case(name))
        .map(|b| b.id)
        .collect();
    match matches.as_slice() {
        [id] => Ok(*id),
        [] => Err(CmdError::new(
            "ObjectNotFound",
            format!("No object corresponds to the specified parameters: boundary '{name}'."),
        )),
        _ => Err(CmdError::new(
            "InvalidArgument",
            format!("More than one boundary is named '{name}'; use -BoundaryId."),
        )),
    }
}

fn boundary_arg(estate: &Estate, a: &Args) -> Result<u64, CmdError> {
    match a.opt_int("BoundaryId")? {
        Some(id) if estate.boundaries.iter().any(|b| b.id as i64 == id) => Ok(id as u64),
        Some(id) => Err(CmdError::new(
            "ObjectNotFound",
            format!("No object corresponds to the specified parameters: boundary ID {id}."),
        )),
        None => boundary_by_name(estate, &a.str("BoundaryName")?),
    }
}

/// `Add-CMBoundaryToGroup -BoundaryGroupName (-BoundaryId | -BoundaryName)`.
pub fn add_to_group(estate: &mut Estate, a: &Args) -> CmdResult {
    let idx = group_index(estate, &a.str("BoundaryGroupName")?)?;
    let id = boundary_arg(estate, a)?;
    a.finish()?;
    let g = &mut estate.boundary_groups[idx];
    if !g.boundaries.contains(&id) {
        g.boundaries.push(id);
    }
    Ok(Value::Null)
}

/// `Remove-CMBoundaryFromGroup -BoundaryGroupName (-BoundaryId | -BoundaryName) -Force`.
pub fn remove_from_group(estate: &mut Estate, a: &Args) -> CmdResult {
    let idx = group_index(estate, &a.str("BoundaryGroupName")?)?;
    let id = boundary_arg(estate, a)?;
    a.accept(&["Force"]);
    a.finish()?;
    estate.boundary_groups[idx].boundaries.retain(|b| *b != id);
    Ok(Value::Null)
}

/// `Get-CMBoundaryGroupSiteSystem -GroupName`: SMS_BoundaryGroupSiteSystems rows.
pub fn group_site_systems(estate: &mut Estate, a: &Args) -> CmdResult {
    let idx = group_index(estate, &a.str("GroupName")?)?;
    a.finish()?;
    let g = &estate.boundary_groups[idx];
    Ok(Value::Array(
        g.site_systems
            .iter()
            .map(|s| {
                let site = estate
                    .sites
                    .iter()
                    .find(|x| x.server.eq_ignore_ascii_case(s) || x.management_points.iter().any(|m| m.eq_ignore_ascii_case(s)))
                    .map(|x| x.code.clone())
                    .unwrap_or_default();
                json!({
                    "GroupID": g.id,
                    "ServerNalPath": format!("[\"Display=\\\\{s}\\\"]MSWNET:[\"SMS_SITE={site}\"]\\\\{s}\\"),
                    "SiteCode": site,
                })
            })
            .collect(),
    ))
}
