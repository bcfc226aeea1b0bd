//! Import listings of the site-side settings kinds: `site_settings` (hierarchy settings and
//! Active Directory System Discovery), `software_update_point` and `client_upgrade_package`, as
//! the manifest tables `cmdeploy import` writes (see [`cmdeploy_engine::import`]). Each table is
//! written so that decoding it gives back exactly what the kind's refresh observes, so the next
//! plan is a no-op (the same reads as the kinds' `read`; PSRef Get-CMHierarchySetting,
//! Get-CMDiscoveryMethod, Get-CMSoftwareUpdatePoint, Get-CMPackage, Get-CMProgram,
//! Get-CMDistributionPoint).

use serde_json::{json, Value};

use cmdeploy_engine::import::Imported;
use cmdeploy_engine::provider::{Context, RemoteError};
use cmdeploy_engine::resource::Connection;

use super::client_upgrade_package::{properties_of, DEFAULT_PROPERTIES, DEFINITION, PROGRAM};
use super::hierarchy_read;
use super::listing::{per_site, put};
use super::provider_site::sites_on;
use super::site_settings::{SiteSettingsKind, SiteSettingsModel};
use crate::kit;
use crate::powershell::{Call, Script, Target};
use crate::sdk::TypedKind;

fn failure(connection: &Connection, cmdlet: &str, message: String) -> RemoteError {
    RemoteError {
        host: connection.host(),
        operation: Some(cmdlet.into()),
        message,
        category: None,
        unreachable: None,
    }
}

/// The client settings of every site on the connection: Active Directory System Discovery for
/// each, and the hierarchy-wide settings (automatic client upgrade, approval, conflicting
/// records) for the first site only, and only when no managed `site_settings` declares them
/// already (ConfigMgr keeps one set per hierarchy; two tables declaring them do not validate).
/// Blocked devices are not listed: finding them needs every device record (`Get-CMDevice`
/// without `-Name`, slow on a large site), so the table leaves them unmanaged and says so.
///
/// # Errors
/// The remote failure, or a hierarchy object or property missing from what ConfigMgr returned.
pub async fn site_settings(
    ctx: &Context,
    connection: &Connection,
) -> Result<Vec<Imported>, RemoteError> {
    let (sites, script, out) = per_site(ctx, connection, |s| {
        vec![
            Call::new("Get-CMHierarchySetting").arg("SiteCode", s.code.as_str()),
            Call::new("Get-CmdeploySiteControlProperty")
                .arg("SiteCode", s.code.as_str())
                .arg(
                    "PropertyName",
                    json!(hierarchy_read::SITE_CONTROL_PROPERTIES),
                ),
            Call::new("Get-CMDiscoveryMethod")
                .arg("Name", "ActiveDirectorySystemDiscovery")
                .arg("SiteCode", s.code.as_str()),
            Call::new("Get-CMDeviceCollection"),
            Call::new("Get-CMSiteComponent")
                .arg("SiteCode", s.code.as_str())
                .arg("ComponentName", "SMS_DISCOVERY_DATA_MANAGER"),
        ]
    })
    .await?;
    let hierarchy_managed =
        crate::sdk::models::<SiteSettingsModel>(&ctx.resources, SiteSettingsKind::KIND)
            .any(|(_, m)| m.declares_hierarchy());
    let mut listed = Vec::new();
    for (i, s) in sites.iter().enumerate() {
        let hierarchy = kit::value_of(connection, &script, &out, 5 * i)?;
        let properties = kit::value_of(connection, &script, &out, 5 * i + 1)?;
        let discovery = kit::value_of(connection, &script, &out, 5 * i + 2)?;
        let collections = kit::value_of(connection, &script, &out, 5 * i + 3)?;
        let ddm = kit::value_of(connection, &script, &out, 5 * i + 4)?;
        let h = hierarchy_read::parse(hierarchy, properties)
            .map_err(|m| failure(connection, "Get-CMHierarchySetting", m))?;
        // The pre-production collection is written by name, as the manifest gives it.
        let known = h.pre_production_collection_id.as_ref().and_then(|id| {
            kit::items(collections)
                .into_iter()
                .find(|c| kit::s(c, "CollectionID").eq_ignore_ascii_case(id))
                .map(|c| (kit::s(c, "Name").to_string(), id.clone()))
        });
        let m = super::site_settings_observe::observe(&h, known, discovery, Vec::new());
        let (mut table, mut references) = (Vec::new(), Vec::new());
        s.put_site(&mut table, &mut references);
        let with_hierarchy = i == 0 && !hierarchy_managed;
        if with_hierarchy {
            let mut upgrade = json!(m.automatic_upgrade);
            if let Some(u) = upgrade.as_object_mut() {
                u.retain(|_, v| !v.is_null());
            }
            put(&mut table, "automatic_upgrade", upgrade);
            if let Some(a) = m.approval {
                put(&mut table, "approval", json!(a));
            }
            put(
                &mut table,
                "conflicting_records",
                json!(m.conflicting_records),
            );
        }
        let mut notes = Vec::new();
        // Automatic push as the manifests declare it, or else as ConfigMgr holds it (the
        // client_push table an import writes beside this one).
        let declared_push = ctx
            .resources
            .of_kind("client_push")
            .find(|p| p.meta.get("site").and_then(Value::as_str) == Some(s.key.as_str()));
        let automatic_push = match declared_push {
            Some(p) => p.attrs.get("automatic").and_then(Value::as_bool) == Some(true),
            None => super::client_push::automatic_push(
                kit::items(ddm).first().copied().unwrap_or(&Value::Null),
            )
            .map_err(|m| failure(connection, "Get-CMSiteComponent", m))?,
        };
        if m.system_discovery == Some(false) && automatic_push {
            // Written as read, the table would contradict automatic push (configmgr.md §6
            // rule 12): leave it unmanaged and say why.
            let by = if declared_push.is_some() {
                "the manifests enable"
            } else {
                "the site has"
            };
            notes.push(format!(
                "Active Directory System Discovery is off at site {}, but {by} automatic",
                s.code
            ));
            notes.push("client push, which installs only to discovered computers: add system_discovery = true".into());
            notes.push("(the next apply turns it on) or turn automatic push off.".into());
        } else {
            put(&mut table, "system_discovery", json!(m.system_discovery));
        }
        notes.extend([
            "blocked devices are not listed (that needs every device record): add".into(),
            "blocked_devices = [...] to manage them.".into(),
        ]);
        if !with_hierarchy {
            notes.push("the hierarchy-wide settings (automatic client upgrade, approval, conflicting records) are managed in another site_settings table or imported with the first site".into());
        }
        listed.push(Imported {
            kind: "site_settings".into(),
            key_hint: s.key.clone(),
            id: s.code.clone(),
            natural_key: s.key.to_uppercase(),
            origin: format!("hierarchy settings and system discovery, site {}", s.code),
            table,
            references,
            notes,
        });
    }
    Ok(listed)
}

/// Every software update point of every site on the connection
/// (`Get-CMSoftwareUpdatePoint -SiteCode`). Keys are the server's short name (`server1`).
///
/// # Errors
/// The remote failure, or a role without its WSUS port properties.
pub async fn software_update_points(
    ctx: &Context,
    connection: &Connection,
) -> Result<Vec<Imported>, RemoteError> {
    let (sites, script, out) = per_site(ctx, connection, |s| {
        vec![Call::new("Get-CMSoftwareUpdatePoint").arg("SiteCode", s.code.as_str())]
    })
    .await?;
    let mut listed = Vec::new();
    for (i, s) in sites.iter().enumerate() {
        for v in kit::items(kit::value_of(connection, &script, &out, i)?) {
            let o = super::software_update_point::observe(v)
                .map_err(|m| failure(connection, "Get-CMSoftwareUpdatePoint", m))?;
            let (mut table, mut references) = (Vec::new(), Vec::new());
            s.put_site(&mut table, &mut references);
            for field in ["server", "http_port", "https_port", "ssl"] {
                put(&mut table, field, o.attrs[field].clone());
            }
            let short = o.id.split('.').next().unwrap_or(&o.id).to_string();
            listed.push(Imported {
                kind: "software_update_point".into(),
                key_hint: short,
                natural_key: o.id.clone(),
                origin: format!(
                    "SMS_SCI_SysResUse SMS Software Update Point {}, site {}",
                    o.id, s.code
                ),
                id: o.id,
                table,
                references,
                notes: Vec::new(),
            });
        }
    }
    Ok(listed)
}

/// Every client upgrade package on the connection: the packages holding the program
/// "Configuration Manager agent silent upgrade" (`Get-CMPackage -Fast`, `Get-CMProgram
/// -ProgramName`), with the distribution points that hold their content
/// (`Get-CMDistributionPoint -SiteCode`, then `Get-CMDeploymentPackage -DistributionPointName`
/// per distribution point) and the program's deployment to a collection
/// (`Get-CMPackageDeployment -PackageId -ProgramName`, the collection named with
/// `Get-CMDeviceCollection`; several deployments are named in a comment, not imported). Packages belong to the site whose drive the Script runs on: they
/// are written for the first site on the connection.
///
/// # Errors
/// The remote failure.
pub async fn client_upgrade_packages(
    ctx: &Context,
    connection: &Connection,
) -> Result<Vec<Imported>, RemoteError> {
    let Some(site) = sites_on(ctx, connection).await?.into_iter().next() else {
        return Ok(Vec::new());
    };
    let target = Target::SiteServer {
        site_code: site.code.clone(),
    };
    let mut script = Script::new(target.clone());
    script.push(Call::new("Get-CMPackage").switch("Fast"));
    script.push(Call::new("Get-CMProgram").arg("ProgramName", PROGRAM));
    script.push(Call::new("Get-CMDistributionPoint").arg("SiteCode", site.code.as_str()));
    let out = kit::run(ctx, connection, &script).await?;
    let packages: Vec<Value> = kit::items(kit::value_of(connection, &script, &out, 0)?)
        .into_iter()
        .cloned()
        .collect();
    let programs = kit::value_of(connection, &script, &out, 1)?;
    let command_line = |id: &str| {
        kit::items(programs)
            .into_iter()
            .find(|g| {
                kit::s(g, "PackageID").eq_ignore_ascii_case(id)
                    && kit::s(g, "ProgramName").eq_ignore_ascii_case(PROGRAM)
            })
            .map(|g| properties_of(kit::s(g, "CommandLine")))
    };
    let upgrades: Vec<(Value, String)> = packages
        .into_iter()
        .filter_map(|p| {
            let c = command_line(kit::s(&p, "PackageID"))?;
            Some((p, c))
        })
        .collect();
    if upgrades.is_empty() {
        return Ok(Vec::new());
    }
    let dps: Vec<String> = kit::items(kit::value_of(connection, &script, &out, 2)?)
        .into_iter()
        .map(|d| {
            kit::s(d, "NetworkOSPath")
                .trim_start_matches('\\')
                .to_lowercase()
        })
        .filter(|d| !d.is_empty())
        .collect();
    // One Script: the collections (to name deployments' CollectionIDs), each package's
    // deployments of the program, and each distribution point's packages.
    let mut content = Script::new(target);
    content.push(Call::new("Get-CMDeviceCollection"));
    for (p, _) in &upgrades {
        content.push(
            Call::new("Get-CMPackageDeployment")
                .arg("PackageId", kit::s(p, "PackageID"))
                .arg("ProgramName", PROGRAM),
        );
    }
    let first_dp = 1 + upgrades.len();
    for dp in &dps {
        content
            .push(Call::new("Get-CMDeploymentPackage").arg("DistributionPointName", dp.as_str()));
    }
    let held = kit::run(ctx, connection, &content).await?;
    let collections = kit::value_of(connection, &content, &held, 0)?;
    let collection_name = |id: &str| {
        kit::items(collections)
            .into_iter()
            .find(|c| kit::s(c, "CollectionID").eq_ignore_ascii_case(id))
            .map(|c| kit::s(c, "Name").to_string())
    };
    let mut on: Vec<Vec<String>> = vec![Vec::new(); upgrades.len()];
    for (k, dp) in dps.iter().enumerate() {
        for x in kit::items(kit::value_of(connection, &content, &held, first_dp + k)?) {
            for (j, (p, _)) in upgrades.iter().enumerate() {
                if kit::s(x, "PackageID").eq_ignore_ascii_case(kit::s(p, "PackageID")) {
                    on[j].push(dp.clone());
                }
            }
        }
    }
    let mut listed = Vec::new();
    for (j, ((p, props), dps)) in upgrades.into_iter().zip(on).enumerate() {
        let deployments = kit::items(kit::value_of(connection, &content, &held, 1 + j)?);
        let id = kit::s(&p, "PackageID").to_string();
        let name = kit::s(&p, "Name").to_string();
        let (mut table, mut references) = (Vec::new(), Vec::new());
        site.put_site(&mut table, &mut references);
        if name != DEFINITION {
            put(&mut table, "name", json!(name));
        }
        put(&mut table, "source", json!(kit::s(&p, "PkgSourcePath")));
        if props != DEFAULT_PROPERTIES {
            put(&mut table, "command_line", json!(props));
        }
        put(&mut table, "distribution_points", kit::sorted(dps));
        let mut notes = Vec::new();
        match deployments.as_slice() {
            [] => {}
            [d] => match collection_name(kit::s(d, "CollectionID")) {
                Some(c) => {
                    put(&mut table, "collection", json!(c));
                    let purpose = if kit::n(d, "OfferType") == 0 {
                        "required"
                    } else {
                        "available"
                    };
                    put(&mut table, "deploy_purpose", json!(purpose));
                }
                None => notes.push(format!(
                    "the program is deployed to collection {}, which is not a device collection: not imported",
                    kit::s(d, "CollectionID")
                )),
            },
            several => {
                let ids: Vec<&str> = several.iter().map(|d| kit::s(d, "CollectionID")).collect();
                notes.push(format!(
                    "the program is deployed to {} collections ({}); cmdeploy manages one: add collection = \"...\" to choose it",
                    ids.len(),
                    ids.join(", ")
                ));
            }
        }
        listed.push(Imported {
            kind: "client_upgrade_package".into(),
            key_hint: if name == DEFINITION {
                "client_upgrade".into()
            } else {
                name.to_lowercase()
            },
            natural_key: name.to_lowercase(),
            origin: format!("SMS_Package {id}"),
            id,
            table,
            references,
            notes,
        });
    }
    Ok(listed)
}

site_server_import!(super::site_settings::SiteSettingsKind, site_settings);
site_server_import!(
    super::software_update_point::SoftwareUpdatePointKind,
    software_update_points
);
site_server_import!(
    super::client_upgrade_package::ClientUpgradePackageKind,
    client_upgrade_packages
);
