//! The [`super::resolve::Model`] a site holds, for `cmdeploy resolve --estate`: every boundary,
//! boundary group (with its members and site systems) and relationship, read through the site
//! server's connection in two Scripts (the lists and the sites, then each group's members and
//! site systems and each site's distribution, management and software update points, so that
//! each role lists only the servers holding it);
//! for `resolve HOST --estate` the first Script also reads the computer's discovery record.
//!
//! ConfigMgr keeps an IP subnet boundary's ID, not its mask, so an address matches a subnet
//! boundary here when it lies in the widest block the ID allows
//! ([`super::net::subnet_id_block`]); a client with a narrower mask may compute another subnet
//! ID. Ranges, IPv6 prefixes and AD sites match exactly.

use serde_json::Value;

use cmdeploy_engine::provider::{Context, RemoteError};
use cmdeploy_engine::resource::Connection;

use super::boundary::BoundaryType;
use super::boundary_group_relationship::{Fallback, DEFAULT_SITE_GROUP, ROLES};
use super::resolve::{Boundary, Group, Model, Relationship};
use crate::kit;
use crate::powershell::{Call, Script, Target};

/// The cmdlets listing each role's servers of a site, in [`ROLES`] order: distribution,
/// management and software update points (PSRef Get-CMDistributionPoint,
/// Get-CMManagementPoint, Get-CMSoftwareUpdatePoint; `NetworkOSPath` is `\\SERVER`).
const ROLE_CMDLETS: [&str; 3] = [
    "Get-CMDistributionPoint",
    "Get-CMManagementPoint",
    "Get-CMSoftwareUpdatePoint",
];

/// Reads the model through `connection`, the server of the site `site_code`, and with `device`
/// the discovery records (`SMS_R_System`, [`super::resolve_host`]) of that computer in the same
/// Script (empty when there is none or no `device` is given).
///
/// # Errors
/// The remote failure.
pub async fn read_model(
    ctx: &Context,
    connection: &Connection,
    site_code: &str,
    device: Option<&str>,
) -> Result<(Model, Vec<Value>), RemoteError> {
    let target = Target::SiteServer {
        site_code: site_code.to_string(),
    };
    let mut lists = Script::new(target.clone());
    lists.push(Call::new("Get-CMBoundary"));
    lists.push(Call::new("Get-CMBoundaryGroup"));
    lists.push(Call::new("Get-CMBoundaryGroupRelationship"));
    lists.push(Call::new("Get-CMSite"));
    if let Some(name) = device {
        lists.push(super::resolve_host::device_call(name));
    }
    let out = kit::run(ctx, connection, &lists).await?;
    let records: Vec<Value> = match device {
        Some(_) => kit::items(kit::value_of(connection, &lists, &out, 4)?)
            .into_iter()
            .cloned()
            .collect(),
        None => Vec::new(),
    };
    let sites: Vec<String> = kit::items(kit::value_of(connection, &lists, &out, 3)?)
        .into_iter()
        .map(|s| kit::s(s, "SiteCode").to_string())
        .filter(|c| !c.is_empty())
        .collect();
    let all_boundaries: Vec<Value> = kit::items(kit::value_of(connection, &lists, &out, 0)?)
        .into_iter()
        .cloned()
        .collect();
    let groups: Vec<Value> = kit::items(kit::value_of(connection, &lists, &out, 1)?)
        .into_iter()
        .cloned()
        .collect();
    let relationships: Vec<Value> = kit::items(kit::value_of(connection, &lists, &out, 2)?)
        .into_iter()
        .cloned()
        .collect();
    let mut model = Model::default();
    let label = |b: &Value| {
        format!(
            "\"{}\" (BoundaryID {})",
            kit::s(b, "DisplayName"),
            kit::n(b, "BoundaryID")
        )
    };
    for b in &all_boundaries {
        let Some(t) = BoundaryType::from_number(kit::n(b, "BoundaryType")) else {
            continue;
        };
        let value = kit::s(b, "Value");
        let interval = match t {
            BoundaryType::IpSubnet => super::net::subnet_id_block(value),
            BoundaryType::IpRange => super::net::range(value)
                .ok()
                .map(|(a, z)| (u32::from(a), u32::from(z))),
            _ => None,
        };
        model.boundaries.push(Boundary {
            address: label(b),
            boundary_type: t.key().to_string(),
            value: value.to_string(),
            interval,
        });
    }
    let mut details = Script::new(target);
    for g in &groups {
        let name = kit::s(g, "Name");
        details.push(Call::new("Get-CMBoundary").arg("BoundaryGroupName", name));
        details.push(Call::new("Get-CMBoundaryGroupSiteSystem").arg("GroupName", name));
    }
    // Which site system holds which role, per site (SMS_SCI_SysResUse rows).
    let role_calls = details.calls.len();
    for code in &sites {
        for cmdlet in ROLE_CMDLETS {
            details.push(Call::new(cmdlet).arg("SiteCode", code.as_str()));
        }
    }
    let detail_out = if details.calls.is_empty() {
        None
    } else {
        Some(kit::run(ctx, connection, &details).await?)
    };
    if let Some(out) = &detail_out {
        let mut holders: [Vec<String>; 3] = Default::default();
        for id in role_calls..details.calls.len() {
            let role = (id - role_calls) % ROLE_CMDLETS.len();
            for row in kit::items(kit::value_of(connection, &details, out, id)?) {
                let server = kit::s(row, "NetworkOSPath")
                    .trim_start_matches('\\')
                    .to_lowercase();
                if !server.is_empty() && !holders[role].contains(&server) {
                    holders[role].push(server);
                }
            }
        }
        model.role_servers = Some(holders);
    }
    for (i, g) in groups.iter().enumerate() {
        let name = kit::s(g, "Name").to_string();
        let (members, systems) = match &detail_out {
            Some(out) => (
                kit::items(kit::value_of(connection, &details, out, 2 * i)?)
                    .into_iter()
                    .map(label)
                    .collect(),
                super::boundary_group::site_system_names(kit::value_of(
                    connection,
                    &details,
                    out,
                    2 * i + 1,
                )?),
            ),
            None => (Vec::new(), Vec::new()),
        };
        if let Some(code) = name
            .strip_prefix(DEFAULT_SITE_GROUP)
            .and_then(|c| c.strip_suffix('>'))
        {
            model.primary_sites.push(code.to_string());
        }
        model.groups.push(Group {
            address: format!("SMS_BoundaryGroup {}", kit::n(g, "GroupID")),
            name,
            assignment_site: kit::s(g, "DefaultSiteCode").to_uppercase(),
            site_systems: systems,
            boundaries: members,
        });
    }
    for r in &relationships {
        let mut minutes = [None; 3];
        for (i, (_, _, property)) in ROLES.iter().enumerate() {
            minutes[i] = match Fallback::from_minutes(kit::n(r, property)) {
                Fallback::Minutes(m) => Some(m),
                Fallback::Never(_) => None,
            };
        }
        model.relationships.push(Relationship {
            source: kit::s(r, "SourceGroupName").to_string(),
            destination: kit::s(r, "DestinationGroupName").to_string(),
            minutes,
        });
    }
    Ok((model, records))
}
