//! Import listings of the site-side kinds: every boundary, boundary group, account and client push
//! setting a site server holds, as the manifest tables `cmdeploy import` writes (see
//! [`cmdeploy_engine::import`]). Each listing is one Script on the site server's connection.
//!
//! The tables are written so that decoding them gives back exactly what refresh observes:
//! boundaries keep the value ConfigMgr stores (an IP subnet's subnet ID), optional fields are
//! written only when ConfigMgr has a value, and references carry natural keys (`ip_subnet:10.1.0.0`,
//! `contoso\svc-cmpush`) that the engine turns into table keys.

use serde_json::{json, Map, Value};

use cmdeploy_engine::import::{ImportRef, Imported};
use cmdeploy_engine::provider::{Context, RemoteError};
use cmdeploy_engine::resource::Connection;

use super::boundary::{self, BoundaryType};
use super::provider_site::{sites_on, SiteOn};
use crate::ccmsetup;
use crate::kit;
use crate::powershell::{Call, Script, ScriptOutput, Target};

/// Every boundary (one `Get-CMBoundary`). Boundaries are hierarchy-wide: they are written for
/// the first site on the connection. Keys: `subnet_10_1_0_0`, `range_10_2_0_1_10_2_0_254`,
/// `adsite_hq`, `ipv6_...`, `vpn_...`.
///
/// # Errors
/// The remote failure.
pub async fn boundaries(
    ctx: &Context,
    connection: &Connection,
) -> Result<Vec<Imported>, RemoteError> {
    let Some(site) = sites_on(ctx, connection).await?.into_iter().next() else {
        return Ok(Vec::new());
    };
    let mut script = Script::new(Target::SiteServer {
        site_code: site.code.clone(),
    });
    script.push(Call::new("Get-CMBoundary"));
    let out = kit::run(ctx, connection, &script).await?;
    let all = kit::value_of(connection, &script, &out, 0)?;
    Ok(kit::items(all)
        .into_iter()
        .filter_map(|b| {
            let t = BoundaryType::from_number(kit::n(b, "BoundaryType"))?;
            let o = boundary::observed_of(b)?;
            let value = kit::s(b, "Value").to_string();
            let prefix = match t {
                BoundaryType::IpSubnet => "subnet",
                BoundaryType::AdSite => "adsite",
                BoundaryType::Ipv6Prefix => "ipv6",
                BoundaryType::IpRange => "range",
                BoundaryType::Vpn => "vpn",
            };
            let (mut table, mut references) = (Vec::new(), Vec::new());
            site.put_site(&mut table, &mut references);
            put(&mut table, "type", json!(t.key()));
            put(&mut table, "value", json!(value));
            put(&mut table, "name", o.attrs["name"].clone());
            Some(Imported {
                kind: "boundary".into(),
                key_hint: format!("{prefix}_{}", value.to_lowercase().replace('-', "_to_")),
                natural_key: boundary::natural_key(t, &value),
                origin: format!("SMS_Boundary {}", o.id),
                id: o.id,
                table,
                references,
                notes: Vec::new(),
            })
        })
        .collect())
}

/// Every boundary group with its member boundaries and site systems (`Get-CMBoundaryGroup`, then
/// `Get-CMBoundary -BoundaryGroupName` and `Get-CMBoundaryGroupSiteSystem -GroupName` per group,
/// in the same Script). Keys are the group names, slugged (`hq_clients`).
///
/// # Errors
/// The remote failure.
pub async fn boundary_groups(
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
    script.push(Call::new("Get-CMBoundaryGroup"));
    let out = kit::run(ctx, connection, &script).await?;
    // Each primary site's default site boundary group exists by itself and cannot be
    // created: it is never imported.
    let groups: Vec<Value> = kit::items(kit::value_of(connection, &script, &out, 0)?)
        .into_iter()
        .filter(|g| {
            !kit::s(g, "Name").starts_with(super::boundary_group_relationship::DEFAULT_SITE_GROUP)
        })
        .cloned()
        .collect();
    let mut details = Script::new(target);
    for g in &groups {
        let name = kit::s(g, "Name");
        details.push(Call::new("Get-CMBoundary").arg("BoundaryGroupName", name));
        details.push(Call::new("Get-CMBoundaryGroupSiteSystem").arg("GroupName", name));
    }
    let out = if groups.is_empty() {
        ScriptOutput {
            results: Vec::new(),
        }
    } else {
        kit::run(ctx, connection, &details).await?
    };
    let mut listed = Vec::new();
    for (i, g) in groups.iter().enumerate() {
        let members = kit::value_of(connection, &details, &out, 2 * i)?;
        let systems = kit::value_of(connection, &details, &out, 2 * i + 1)?;
        let name = kit::s(g, "Name");
        let mut table = Vec::new();
        let mut references = vec![ImportRef {
            field: "boundaries".into(),
            kind: "boundary".into(),
        }];
        site.put_site(&mut table, &mut references);
        put(&mut table, "name", json!(name));
        let description = kit::s(g, "Description");
        if !description.is_empty() {
            put(&mut table, "description", json!(description));
        }
        let assignment = kit::s(g, "DefaultSiteCode").to_uppercase();
        if !assignment.is_empty() {
            put(&mut table, "assignment_site", json!(assignment));
        }
        put(
            &mut table,
            "boundaries",
            kit::sorted(super::boundary_group::member_naturals(members)),
        );
        put(
            &mut table,
            "site_systems",
            kit::sorted(super::boundary_group::site_system_names(systems)),
        );
        let id = kit::n(g, "GroupID").to_string();
        listed.push(Imported {
            kind: "boundary_group".into(),
            key_hint: name.to_lowercase(),
            natural_key: name.to_lowercase(),
            origin: format!("SMS_BoundaryGroup {id}"),
            id,
            table,
            references,
            notes: Vec::new(),
        });
    }
    Ok(listed)
}

/// Every account of every site on the connection (`Get-CMAccount -SiteCode`). ConfigMgr never
/// returns passwords, so the table leaves `password` out and says how to start managing it: a
/// resource without a password keeps the account as it is, and the next plan is a no-op.
///
/// # Errors
/// The remote failure.
pub async fn accounts(
    ctx: &Context,
    connection: &Connection,
) -> Result<Vec<Imported>, RemoteError> {
    let (sites, script, out) = per_site(ctx, connection, |s| {
        vec![Call::new("Get-CMAccount").arg("SiteCode", s.code.as_str())]
    })
    .await?;
    let mut listed = Vec::new();
    for (i, s) in sites.iter().enumerate() {
        for a in kit::items(kit::value_of(connection, &script, &out, i)?) {
            let user = kit::s(a, "UserName");
            let short = user.rsplit('\\').next().unwrap_or(user);
            let (mut table, mut references) = (Vec::new(), Vec::new());
            s.put_site(&mut table, &mut references);
            put(&mut table, "user_name", json!(user));
            listed.push(Imported {
                kind: "account".into(),
                key_hint: short.to_lowercase(),
                id: super::account::account_id(&s.code, user),
                natural_key: user.to_lowercase(),
                origin: format!("SMS_SCI_Reserved {user}, site {}", s.code),
                table,
                references,
                notes: vec![
                    "ConfigMgr cannot return account passwords, so this account's password is not managed:".into(),
                    "cmdeploy leaves it as it is. To manage it, add the line below (or a { file = ... } reference);".into(),
                    "the next apply then sets it with Set-CMAccount, and later ones whenever the secret changes.".into(),
                    format!("password = {{ env = \"{}\" }}", secret_env_name(user)),
                ],
            });
        }
    }
    Ok(listed)
}

/// The environment variable suggested for an imported account's password:
/// `CMDEPLOY_SECRET_` and the user name, upper-cased, other characters as `_`
/// (`CONTOSO\svc-cmpush` → `CMDEPLOY_SECRET_CONTOSO_SVC_CMPUSH`).
pub fn secret_env_name(user: &str) -> String {
    let mut name = String::from("CMDEPLOY_SECRET_");
    for c in user.chars() {
        name.push(if c.is_ascii_alphanumeric() {
            c.to_ascii_uppercase()
        } else {
            '_'
        });
    }
    name
}

/// The client push settings of every site on the connection (`Get-CMClientPushInstallation` and
/// the discovery data manager component). The installation property string is parsed into
/// `properties` and `ccmsetup`; when cmdeploy's rendering of it differs from what ConfigMgr
/// holds (another order, an unknown name), a comment says so and the first apply rewrites it.
///
/// # Errors
/// The remote failure.
pub async fn client_push(
    ctx: &Context,
    connection: &Connection,
) -> Result<Vec<Imported>, RemoteError> {
    let (sites, script, out) = per_site(ctx, connection, |s| {
        vec![
            Call::new("Get-CMClientPushInstallation").arg("SiteCode", s.code.as_str()),
            Call::new("Get-CMSiteComponent")
                .arg("SiteCode", s.code.as_str())
                .arg("ComponentName", "SMS_DISCOVERY_DATA_MANAGER"),
        ]
    })
    .await?;
    let mut listed = Vec::new();
    for (i, s) in sites.iter().enumerate() {
        let ccm = kit::value_of(connection, &script, &out, 2 * i)?;
        let ddm = kit::value_of(connection, &script, &out, 2 * i + 1)?;
        let (Some(ccm), Some(ddm)) = (
            kit::items(ccm).first().copied(),
            kit::items(ddm).first().copied(),
        ) else {
            continue;
        };
        let observed = super::client_push::observe(ctx, ccm, ddm).map_err(|m| RemoteError {
            host: connection.host(),
            operation: Some("Get-CMClientPushInstallation".into()),
            message: m,
            category: None,
            unreachable: None,
        })?;
        let Some((_, m)) =
            crate::sdk::observed_model::<super::client_push::ClientPushModel>(observed.clone())
        else {
            continue;
        };
        let mut table = Vec::new();
        let mut references = vec![ImportRef {
            field: "accounts".into(),
            kind: "account".into(),
        }];
        s.put_site(&mut table, &mut references);
        put(&mut table, "automatic", json!(m.automatic));
        if m.automatic {
            put(&mut table, "system_types", json!(m.system_types));
        }
        put(
            &mut table,
            "domain_controllers",
            json!(m.domain_controllers),
        );
        let users: Vec<String> = kit::prop_list(ccm, "Reserved2")
            .iter()
            .map(|u| u.to_lowercase())
            .collect();
        put(&mut table, "accounts", json!(users));
        put(
            &mut table,
            "allow_ntlm_fallback",
            json!(m.allow_ntlm_fallback),
        );
        let raw = m.installation_properties.clone();
        let (params, props) = ccmsetup::from_command_line(&ccmsetup::parse(&raw).command_line);
        let rendered = ccmsetup::push_installation_property(&props, &params);
        let mut notes = Vec::new();
        if rendered != raw {
            notes.push(format!(
                "ConfigMgr holds the installation properties as `{raw}`, which cmdeploy"
            ));
            notes.push(format!("cannot write as they are: the tables below say `{rendered}`, which the first apply sets."));
        }
        for (field, v) in [
            ("properties", to_object(&props)),
            ("ccmsetup", to_object(&params)),
        ] {
            if !v.is_empty() {
                put(&mut table, field, Value::Object(v));
            }
        }
        listed.push(Imported {
            kind: "client_push".into(),
            key_hint: s.key.clone(),
            id: observed.id.clone(),
            natural_key: s.key.to_uppercase(),
            origin: format!(
                "SMS_SCI_Component SMS_CLIENT_CONFIG_MANAGER, site {}",
                s.code
            ),
            table,
            references,
            notes,
        });
    }
    Ok(listed)
}

fn to_object<T: serde::Serialize>(v: &T) -> Map<String, Value> {
    cmdeploy_engine::provider::to_attributes(v)
}

pub(super) fn put(table: &mut Vec<(String, Value)>, field: &str, value: Value) {
    table.push((field.to_string(), value));
}

/// Runs one Script (on the first site's drive) holding `calls(site)` for every site on the
/// connection, in site order; call `k` of site `i` has id `i * calls.len() + k`.
pub(super) async fn per_site(
    ctx: &Context,
    connection: &Connection,
    calls: impl Fn(&SiteOn) -> Vec<Call>,
) -> Result<(Vec<SiteOn>, Script, ScriptOutput), RemoteError> {
    let sites = sites_on(ctx, connection).await?;
    let Some(first) = sites.first() else {
        return Ok((
            sites,
            Script::new(Target::Host),
            ScriptOutput {
                results: Vec::new(),
            },
        ));
    };
    let mut script = Script::new(Target::SiteServer {
        site_code: first.code.clone(),
    });
    for s in &sites {
        for c in calls(s) {
            script.push(c);
        }
    }
    let out = kit::run(ctx, connection, &script).await?;
    Ok((sites, script, out))
}

site_server_import!(super::account::AccountKind, accounts);
site_server_import!(super::boundary::BoundaryKind, boundaries);
site_server_import!(super::boundary_group::BoundaryGroupKind, boundary_groups);
site_server_import!(super::client_push::ClientPushKind, client_push);
