//! Import listing of the `gpo` kind: every GPO of a domain that carries at least one of the
//! client-deployment policies ([`super::policy`]), with its links, as the `[gpo.NAME]` tables
//! `cmdeploy import` writes. GPOs without those policies are not cmdeploy's business and are not
//! listed.
//!
//! One Script per domain: `Get-GPOReport -All -ReportType Xml -Domain D` on a domain controller
//! connection, parsed by [`super::report`] (`Get-GPInheritance` would need every OU up front).
//! The domains are those of the `gpo` resources that use the connection.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use cmdeploy_engine::import::Imported;
use cmdeploy_engine::provider::{Context, RemoteError};
use cmdeploy_engine::resource::Connection;

use super::kind::{GpoKind, GpoMeta};
use super::policy::{self, Policy, ASSIGNMENT_KEY, CCMSETUP_KEY, WU_KEY};
use super::report::{self, ReportedGpo};
use crate::kit;
use crate::powershell::{Call, Script, Target};
use crate::sdk::Import;
use crate::sdk::TypedKind;

/// The domains (lower case, sorted) of the `gpo` resources whose connection is `connection`:
/// GPOs are imported through a connection that already manages a GPO of the domain.
pub fn domains_on(ctx: &Context, connection: &Connection) -> BTreeSet<String> {
    kit::resources_on(ctx, GpoKind::KIND, connection)
        .filter_map(|r| GpoMeta::of(&r.meta))
        .map(|m| m.domain.to_lowercase())
        .collect()
}

/// Every GPO of each domain on the connection that sets a client-deployment policy.
///
/// # Errors
/// The remote failure (host, cmdlet, message), or a report that cannot be parsed (host,
/// `Get-GPOReport` and the parser's message).
pub async fn gpos(ctx: &Context, connection: &Connection) -> Result<Vec<Imported>, RemoteError> {
    let mut listed = Vec::new();
    for domain in domains_on(ctx, connection) {
        let mut script = Script::new(Target::DomainController {
            domain: domain.clone(),
        });
        script.push(
            Call::new("Get-GPOReport")
                .switch("All")
                .arg("ReportType", "Xml")
                .arg("Domain", domain.as_str()),
        );
        let out = kit::run(ctx, connection, &script).await?;
        let failed = |message: String| RemoteError {
            host: connection.host(),
            operation: Some("Get-GPOReport".into()),
            message,
            category: Some("InvalidResult".into()),
            unreachable: None,
        };
        for item in kit::items(kit::value_of(connection, &script, &out, 0)?) {
            let text = item
                .as_str()
                .ok_or_else(|| failed(format!("expected the XML report as text, got {item}")))?;
            for g in report::parse(text).map_err(failed)? {
                if !g.values.is_empty() && (g.domain.is_empty() || g.domain == domain) {
                    listed.push(imported(&g, &domain, &connection.key));
                }
            }
        }
    }
    Ok(listed)
}

/// The value `name` under `key`, if the report has it.
fn find<'a>(g: &'a ReportedGpo, key: &str, name: &str) -> Option<&'a Value> {
    g.values
        .iter()
        .find(|v| v.key.eq_ignore_ascii_case(key) && v.name.eq_ignore_ascii_case(name))
        .map(|v| &v.value)
}

fn data(v: Option<&Value>) -> Option<Value> {
    v.and_then(|v| v.get("value")).cloned()
}

/// One GPO as a `[gpo.NAME]` table. Values the table cannot express (a `NoDefAutoAssign` without
/// `SetupParameters`, say) are named in a comment; the plan then shows them and the GPO is left
/// unbound for review.
fn imported(g: &ReportedGpo, domain: &str, connection: &str) -> Imported {
    let mut notes = Vec::new();
    let mut links = Vec::new();
    for l in &g.links {
        match report::som_path_to_dn(&l.som_path, domain) {
            Some(dn) => {
                if !l.enabled {
                    notes.push(format!("the link to {dn} is disabled; cmdeploy manages links, not their state (New-GPLink enables new ones)"));
                }
                links.push(Value::String(dn));
            }
            None => notes.push(format!(
                "link to `{}` not imported: gpo links are OUs or the domain of {domain} (site links are left alone)",
                l.som_path
            )),
        }
    }
    let mut table: Vec<(String, Value)> = vec![
        ("name".into(), json!(g.name)),
        ("domain".into(), json!(domain)),
        ("connection".into(), json!(connection)),
        ("links".into(), Value::Array(links)),
    ];
    if let Some(sp) = data(find(g, CCMSETUP_KEY, policy::SETUP_PARAMETERS)) {
        table.push((
            Policy::ClientDeployment.name().into(),
            json!({ "setup_parameters": sp }),
        ));
    }
    if let Some(code) = data(find(g, ASSIGNMENT_KEY, policy::ASSIGNED_SITE)) {
        let mut m = Map::new();
        m.insert("site_code".into(), code);
        for (field, value_name) in [
            ("retry_interval_minutes", policy::RETRY_INTERVAL),
            ("retry_duration_hours", policy::RETRY_DURATION),
        ] {
            if let Some(v) = data(find(g, ASSIGNMENT_KEY, value_name)) {
                m.insert(field.into(), v);
            }
        }
        table.push((Policy::SiteAssignment.name().into(), Value::Object(m)));
    }
    if let Some(server) = data(find(g, WU_KEY, policy::WU_SERVER)) {
        let mut m = Map::new();
        let status = data(find(g, WU_KEY, policy::WU_STATUS_SERVER));
        m.insert("server".into(), server.clone());
        if let Some(s) = status.filter(|s| *s != server) {
            m.insert("status_server".into(), s);
        }
        table.push((Policy::WindowsUpdate.name().into(), Value::Object(m)));
    }
    let written: Vec<&str> = table.iter().map(|(k, _)| k.as_str()).collect();
    for v in &g.values {
        let Some(block) = Policy::of_key(&v.key).map(Policy::name) else {
            continue;
        };
        if !written.contains(&block) {
            notes.push(format!(
                "{}\\{} is set without the rest of its policy; `{block}` cannot express that, so the next plan shows it",
                v.key, v.name
            ));
        }
    }
    Imported {
        kind: GpoKind::KIND.into(),
        key_hint: g.name.to_lowercase(),
        id: g.id.clone(),
        natural_key: format!("{}/{}", domain, g.name.to_lowercase()),
        origin: format!("GPO {{{}}}", g.id.to_uppercase()),
        table,
        references: Vec::new(),
        notes,
    }
}

#[async_trait::async_trait]
impl Import for GpoKind {
    async fn imports_from(
        &self,
        ctx: &Context,
        connection: &Connection,
    ) -> Result<bool, RemoteError> {
        Ok(!domains_on(ctx, connection).is_empty())
    }

    async fn list(
        &self,
        ctx: &Context,
        connection: &Connection,
    ) -> Result<Vec<Imported>, RemoteError> {
        gpos(ctx, connection).await
    }
}
