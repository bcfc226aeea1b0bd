//! Import listing of the `site` kind: every site of the hierarchy that the site server's SMS
//! Provider lists (`Get-CMSite`: a secondary site under the primary, the CAS above it) with the
//! site's own fields — fallback status point, network access accounts, software update-based
//! client installation, the forests it publishes to — read as the kind's refresh reads them
//! (`Get-CMSite -SiteCode`, `Get-CMFallbackStatusPoint`, `Get-CMAccount`,
//! `Get-CMSoftwareUpdateBasedClientInstallation`, the runner's `Get-CmdeploySitePublishing`), so
//! that the next plan is a no-op. A site that is managed already is left out by the engine.

use serde_json::{json, Value};

use cmdeploy_engine::import::{ImportRef, Imported};
use cmdeploy_engine::provider::{Context, RemoteError};
use cmdeploy_engine::resource::Connection;

use super::listing::put;
use super::provider_site::sites_on;
use crate::kit;
use crate::powershell::{Call, Script, Target};

/// Every site the connection's SMS Provider lists, as `site` tables.
///
/// # Errors
/// The remote failure, or a site whose settings could not be read.
pub async fn sites(ctx: &Context, connection: &Connection) -> Result<Vec<Imported>, RemoteError> {
    let Some(first) = sites_on(ctx, connection).await?.into_iter().next() else {
        return Ok(Vec::new());
    };
    let target = Target::SiteServer {
        site_code: first.code.clone(),
    };
    let mut list = Script::new(target.clone());
    list.push(Call::new("Get-CMSite"));
    let out = kit::run(ctx, connection, &list).await?;
    let codes: Vec<String> = kit::items(kit::value_of(connection, &list, &out, 0)?)
        .into_iter()
        .map(|s| kit::s(s, "SiteCode").to_uppercase())
        .filter(|c| !c.is_empty())
        .collect();
    let mut script = Script::new(target);
    let mut ids = Vec::new();
    for code in &codes {
        let start = script.calls.len();
        script
            .calls
            .extend(super::site::site_reads(code.as_str(), true));
        ids.push(start);
    }
    let out = kit::run(ctx, connection, &script).await?;
    let mut listed = Vec::new();
    for (code, start) in codes.iter().zip(ids) {
        // The publishing read comes first, then the site, its FSP, its accounts.
        let (publishing, accounts) = (start, start + 3);
        let values = crate::sdk::ReadValues::output(connection, &script, &out, start);
        let Some(o) = super::site::observe(ctx, &values, true)? else {
            continue;
        };
        let a = &o.attrs;
        let mut table = Vec::new();
        put(&mut table, "code", json!(code));
        put(&mut table, "type", a["type"].clone());
        if let Some(p) = a.get("parent") {
            put(&mut table, "parent", p.clone());
        }
        put(&mut table, "server", a["server"].clone());
        // Secondary sites have no SMS Provider: they are managed through this connection too.
        put(&mut table, "connection", json!(connection.key));
        if let Some(f) = a.get("fallback_status_point") {
            put(&mut table, "fallback_status_point", f.clone());
        }
        // The network access accounts by natural key (the user name, lower case): the engine
        // writes the keys of their `account` tables.
        let accounts = kit::value_of(connection, &script, &out, accounts)?;
        let naa: Vec<String> = kit::items(accounts)
            .into_iter()
            .filter(|x| {
                x.get("AccountUsage")
                    .and_then(Value::as_array)
                    .is_some_and(|u| {
                        u.iter()
                            .any(|v| v.as_str() == Some("Software Distribution"))
                    })
            })
            .map(|x| kit::s(x, "UserName").to_lowercase())
            .collect();
        put(&mut table, "network_access_accounts", kit::sorted(naa));
        if let Some(s) = a.get("software_update_installation") {
            put(&mut table, "software_update_installation", s.clone());
        }
        let forests: Vec<String> =
            kit::items(kit::value_of(connection, &script, &out, publishing)?)
                .into_iter()
                .map(|f| kit::s(f, "ForestFQDN").to_lowercase())
                .collect();
        if !forests.is_empty() {
            put(&mut table, "publish_to_forests", kit::sorted(forests));
        }
        listed.push(Imported {
            kind: "site".into(),
            key_hint: code.clone(),
            id: o.id.clone(),
            natural_key: code.clone(),
            origin: format!("SMS_Site {code}"),
            table,
            references: vec![ImportRef {
                field: "network_access_accounts".into(),
                kind: "account".into(),
            }],
            notes: Vec::new(),
        });
    }
    Ok(listed)
}

site_server_import!(super::site::SiteKind, sites);
