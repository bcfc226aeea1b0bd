//! `site`: an existing ConfigMgr site and its client-deployment settings — fallback status point,
//! network access accounts, software update-based client installation.
//!
//! Sites are installed by ConfigMgr setup, not by cmdeploy: code, type, parent and server are
//! checked, not changed (configmgr.md §6 rule 1; PSRef Get-CMSite, Add-/Set-CMFallbackStatusPoint,
//! Set-CMSoftwareDistributionComponent, Set-CMSoftwareUpdateBasedClientInstallation).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use cmdeploy_engine::diagnostics::{Diagnostic, Diagnostics};
use cmdeploy_engine::provider::{
    Applied, Context, DecodeInput, Decoded, Kind, Observed, OpAction, Operation, ReadRequest,
    ReadResult, RemoteError,
};
use cmdeploy_engine::resource::{ConnectionRef, Resource, ResourceSet};
use cmdeploy_engine::spanned::Spanned;

use crate::kit;
use crate::powershell::{Call, Script, Target};

/// Site type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SiteType {
    /// A primary site: clients are assigned to primary sites only.
    Primary,
    /// A secondary site.
    Secondary,
}

/// The fallback status point of a site (SMS_SCI_SysResUse, role "SMS Fallback Status Point").
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FallbackStatusPoint {
    /// Site system server FQDN (it must already be a site system).
    pub server: String,
    /// State messages processed per throttle interval (`Throttle Count`, default 10000).
    #[serde(default = "default_count")]
    pub state_message_count: u32,
    /// Throttle interval in seconds; ConfigMgr stores milliseconds (`Throttle Interval`),
    /// `Add-CMFallbackStatusPoint -ThrottleSec` takes seconds (default 3600).
    #[serde(default = "default_throttle")]
    pub throttle_seconds: u32,
}

fn default_count() -> u32 {
    10_000
}

fn default_throttle() -> u32 {
    3600
}

/// `[site.CODE]`: an existing site.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteSpec {
    /// Site code: exactly 3 characters A–Z/0–9, not AUX, CON, NUL, PRN, SMS or ENV (defaults to the
    /// table key).
    #[serde(default)]
    pub code: Option<Spanned<String>>,
    /// `primary` or `secondary`.
    #[serde(rename = "type")]
    pub site_type: SiteType,
    /// Parent site code (a secondary site's primary, or a primary's CAS).
    #[serde(default)]
    pub parent: Option<String>,
    /// Site server FQDN.
    pub server: String,
    /// Name of the `[connection.NAME]` that reaches the site server (or SMS Provider).
    pub connection: Spanned<String>,
    /// Fallback status point (primary sites only).
    #[serde(default)]
    pub fallback_status_point: Option<Spanned<FallbackStatusPoint>>,
    /// Network access accounts: keys of `account` resources (exactly this list; the software
    /// distribution component's "Network Access Account").
    #[serde(default)]
    pub network_access_accounts: Option<Vec<Spanned<String>>>,
    /// "Enable software update-based client installation" (Set-CMSoftwareUpdateBasedClientInstallation -EnableWsus).
    /// When on, the client published to the software update point must be the site's own
    /// version (attribute `published_client_current`; "Later Version of Client Package Detected").
    #[serde(default)]
    pub software_update_installation: Option<Spanned<bool>>,
    /// Active Directory forests the site publishes to (FQDNs; exactly this list; Site
    /// Properties, Publishing tab): `Set-CMSite -AddActiveDirectoryForest` with the forest from
    /// `Get-CMActiveDirectoryForest`, read back from SMS_ADForestDiscoveryStatus. Each forest
    /// must already be among the hierarchy's Active Directory Forests.
    #[serde(default)]
    pub publish_to_forests: Option<Vec<String>>,
}

/// The name of a named connection.
fn connection_name(c: &ConnectionRef) -> Option<String> {
    match c {
        ConnectionRef::Named(n) => Some(n.value.clone()),
        _ => None,
    }
}

pub use super::site_code::{site_code_case, site_code_problem, RESERVED_SITE_CODES};

/// The `site` kind.
pub struct SiteKind;

#[async_trait::async_trait]
impl Kind for SiteKind {
    fn name(&self) -> &'static str {
        "site"
    }

    fn description(&self) -> &'static str {
        "An existing ConfigMgr site and its client-deployment settings (FSP, network access accounts, software update-based installation)."
    }

    fn schema(&self, generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        generator.subschema_for::<SiteSpec>()
    }

    fn decode(&self, input: DecodeInput<'_>) -> Result<Decoded, Vec<Diagnostic>> {
        let file = input.file.clone();
        let key = input.address.name.clone();
        let table_span = input.span.clone();
        let spec: SiteSpec = kit::decode_typed(input, "site")?;
        let code = spec.code.clone().unwrap_or_else(|| Spanned {
            value: key.clone(),
            span: table_span.clone(),
        });
        let mut errors = Vec::new();
        if let Some(problem) = site_code_problem(&code.value) {
            errors.push(
                Diagnostic::error("cmdeploy::site_code::format", problem)
                    .with_help("ConfigMgr site codes are 3 characters, letters and digits only, and cannot be changed after installation (prepare-to-install-sites.md)")
                    .at_span(&file, code.span.clone()),
            );
        } else {
            let renamed = spec.code.is_none().then(|| format!("site.{key}"));
            errors.extend(site_code_case(
                &code.value,
                &file,
                code.span.clone(),
                renamed.as_deref(),
            ));
        }
        if let (Some(f), SiteType::Secondary) = (&spec.fallback_status_point, spec.site_type) {
            errors.push(
                Diagnostic::error("cmdeploy::site::fsp_secondary", "a fallback status point is supported only on primary sites")
                    .with_help("move the fallback status point to the parent primary site (PSRef Add-CMFallbackStatusPoint)")
                    .at_span(&file, f.span.clone()),
            );
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut attrs = serde_json::Map::new();
        attrs.insert("code".into(), json!(code.value.to_uppercase()));
        attrs.insert(
            "type".into(),
            serde_json::to_value(spec.site_type).unwrap_or(Value::Null),
        );
        attrs.insert("server".into(), json!(spec.server.to_lowercase()));
        if let Some(p) = &spec.parent {
            attrs.insert("parent".into(), json!(p.to_uppercase()));
        }
        if let Some(f) = &spec.fallback_status_point {
            let mut v = f.value.clone();
            v.server = v.server.to_lowercase();
            attrs.insert(
                "fallback_status_point".into(),
                serde_json::to_value(v).unwrap_or(Value::Null),
            );
        }
        if let Some(naa) = &spec.network_access_accounts {
            attrs.insert(
                "network_access_accounts".into(),
                kit::sorted(naa.iter().map(|a| a.value.clone())),
            );
        }
        if let Some(s) = &spec.software_update_installation {
            let s = s.value;
            attrs.insert("software_update_installation".into(), json!(s));
            if s {
                attrs.insert("published_client_current".into(), json!(true));
            }
        }
        if let Some(f) = &spec.publish_to_forests {
            attrs.insert(
                "publish_to_forests".into(),
                kit::sorted(f.iter().map(|x| x.to_lowercase())),
            );
        }
        let mut d = Decoded::new(
            attrs,
            ConnectionRef::Named(spec.connection.clone()),
            code.value.to_uppercase(),
        );
        d.meta.insert("site".into(), json!(key));
        d.meta
            .insert("site_code".into(), json!(code.value.to_uppercase()));
        d.attr_spans.insert("code".into(), code.span.clone());
        if let Some(s) = &spec.software_update_installation {
            d.attr_spans
                .insert("software_update_installation".into(), s.span.clone());
        }
        for n in spec.network_access_accounts.iter().flatten() {
            d.attr_spans
                .entry("network_access_accounts".into())
                .or_insert(n.span.clone());
            d.references.push(super::reference("account", n));
        }
        Ok(d)
    }

    fn validate(&self, resources: &ResourceSet, out: &mut Diagnostics) {
        for site in resources.of_kind("site") {
            if site.str_attr("type") != Some("secondary") {
                continue;
            }
            let code = site.str_attr("code").unwrap_or_default();
            let Some(parent_code) = site.str_attr("parent") else {
                out.push(
                    Diagnostic::error("cmdeploy::site::secondary_parent", format!("secondary site {code} names no parent"))
                        .with_help("a secondary site is managed through its parent primary site's SMS Provider: set parent = \"<primary site code>\"")
                        .at(site.loc.clone()),
                );
                continue;
            };
            let parent = resources.of_kind("site").find(|s| {
                s.str_attr("code")
                    .is_some_and(|c| c.eq_ignore_ascii_case(parent_code))
            });
            let Some(parent) = parent else {
                continue;
            };
            if connection_name(&site.connection) != connection_name(&parent.connection) {
                out.push(
                    Diagnostic::error(
                        "cmdeploy::site::secondary_provider",
                        format!("secondary site {code} has its own connection, but secondary sites have no SMS Provider"),
                    )
                    .with_help(format!(
                        "use the connection of the parent primary site {parent_code} (\"{}\"): cmdeploy manages the secondary through the parent's provider with -SiteCode {code} (plan-for-the-sms-provider.md)",
                        connection_name(&parent.connection).unwrap_or_default()
                    ))
                    .at(site.loc.clone()),
                );
            }
        }
    }

    fn importable(&self) -> bool {
        true
    }

    fn imports_from(
        &self,
        ctx: &Context,
        connection: &cmdeploy_engine::resource::Connection,
    ) -> bool {
        super::listing::is_site_server(ctx, connection)
    }

    async fn list(
        &self,
        ctx: &Context,
        connection: &cmdeploy_engine::resource::Connection,
    ) -> Result<Vec<cmdeploy_engine::import::Imported>, RemoteError> {
        super::listing_site::sites(ctx, connection).await
    }

    async fn read(&self, ctx: &Context, requests: Vec<ReadRequest>) -> Vec<ReadResult> {
        kit::read_by_site(
            ctx,
            requests,
            |script, code, r| {
                let declared =
                    |a: &serde_json::Map<String, Value>| a.contains_key("publish_to_forests");
                let publishing = (r.desired.as_ref().is_some_and(|d| declared(&d.attrs))
                    || r.prior.as_ref().is_some_and(|p| declared(&p.attributes)))
                .then(|| {
                    script.push(Call::new("Get-CmdeploySitePublishing").arg("SiteCode", code))
                });
                let ids = [
                    script.push(Call::new("Get-CMSite").arg("SiteCode", code)),
                    script.push(Call::new("Get-CMFallbackStatusPoint").arg("SiteCode", code)),
                    script.push(Call::new("Get-CMAccount").arg("SiteCode", code)),
                    script.push(
                        Call::new("Get-CMSoftwareUpdateBasedClientInstallation")
                            .arg("SiteCode", code),
                    ),
                ];
                (ids, publishing)
            },
            |connection, script, out, (id, publishing), _r| {
                let mut o = observe(ctx, connection, script, out, *id)?;
                if let (Some(o), Some(p)) = (o.as_mut(), publishing) {
                    let v = kit::value_of(connection, script, out, *p)?;
                    o.attrs.insert(
                        "publish_to_forests".into(),
                        kit::sorted(
                            kit::items(v)
                                .into_iter()
                                .map(|f| kit::s(f, "ForestFQDN").to_lowercase()),
                        ),
                    );
                }
                Ok(o)
            },
        )
        .await
    }

    async fn apply(&self, ctx: &Context, op: Operation) -> Result<Applied, RemoteError> {
        let code = kit::site_code(ctx, &kit::meta_of(op.desired.as_ref(), op.prior.as_ref()));
        let host = op.connection.host();
        let Some(desired) = op.desired.clone() else {
            // Forgetting a site removes nothing: sites are not cmdeploy's to delete.
            return Ok(Applied {
                id: code,
                attrs: Default::default(),
            });
        };
        if op.action == OpAction::Create {
            return Err(RemoteError::new(host, format!("site {code} does not exist: cmdeploy manages existing sites; install the site with ConfigMgr setup")));
        }
        let observed = op
            .observed
            .as_ref()
            .map(|o| o.attrs.clone())
            .unwrap_or_default();
        let mut calls = Vec::new();
        for fixed in ["type", "server", "parent"] {
            if op.changed.iter().any(|c| c == fixed) {
                return Err(RemoteError::new(
                    host,
                    format!("site {code}: `{fixed}` is {} in ConfigMgr and cannot be changed after installation; correct the manifest", observed.get(fixed).cloned().unwrap_or(Value::Null)),
                ));
            }
        }
        if op.changed.iter().any(|c| c == "fallback_status_point") {
            let want: FallbackStatusPoint =
                serde_json::from_value(desired.attrs["fallback_status_point"].clone())
                    .map_err(|e| RemoteError::new(host.clone(), format!("provider bug: {e}")))?;
            let have: Option<FallbackStatusPoint> = observed
                .get("fallback_status_point")
                .and_then(|v| serde_json::from_value(v.clone()).ok());
            match have {
                Some(h) if h.server == want.server => calls.push(
                    Call::new("Set-CMFallbackStatusPoint")
                        .arg("SiteCode", code.as_str())
                        .arg("SiteSystemServerName", want.server.as_str())
                        .arg("StateMessageCount", want.state_message_count)
                        .arg("ThrottleSec", want.throttle_seconds),
                ),
                other => {
                    if let Some(h) = other {
                        calls.push(
                            Call::new("Remove-CMFallbackStatusPoint")
                                .arg("SiteCode", code.as_str())
                                .arg("SiteSystemServerName", h.server.as_str())
                                .switch("Force"),
                        );
                    }
                    calls.push(
                        Call::new("Add-CMFallbackStatusPoint")
                            .arg("SiteCode", code.as_str())
                            .arg("SiteSystemServerName", want.server.as_str())
                            .arg("StateMessageCount", want.state_message_count)
                            .arg("ThrottleSec", want.throttle_seconds),
                    );
                }
            }
        }
        if op.changed.iter().any(|c| c == "network_access_accounts") {
            let keys: Vec<String> = desired
                .attrs
                .get("network_access_accounts")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            let list: Vec<String> = keys.iter().map(|k| kit::account_user(ctx, k)).collect();
            if list.is_empty() {
                calls.push(
                    Call::new("Set-CMSoftwareDistributionComponent")
                        .arg("SiteCode", code.as_str())
                        .switch("CleanNetworkAccessAccountName"),
                );
            } else {
                calls.push(
                    Call::new("Set-CMSoftwareDistributionComponent")
                        .arg("SiteCode", code.as_str())
                        .arg("NetworkAccessAccountName", list),
                );
            }
        }
        if op
            .changed
            .iter()
            .any(|c| c == "software_update_installation" || c == "published_client_current")
        {
            calls.push(
                Call::new("Set-CMSoftwareUpdateBasedClientInstallation")
                    .arg("SiteCode", code.as_str())
                    .arg(
                        "EnableWsus",
                        desired.attrs["software_update_installation"].clone(),
                    ),
            );
        }
        if op.changed.iter().any(|c| c == "publish_to_forests") {
            let want = kit::listed(Some(&desired), None, "publish_to_forests");
            let have: Vec<String> = observed
                .get("publish_to_forests")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect();
            let has = |l: &[String], f: &str| l.iter().any(|x| x.eq_ignore_ascii_case(f));
            for (list, other, action) in [(&want, &have, "Add"), (&have, &want, "Remove")] {
                for f in list.iter().filter(|f| !has(other, f)) {
                    calls.push(
                        Call::new("Set-CmdeploySitePublishing")
                            .arg("SiteCode", code.as_str())
                            .arg("ForestFqdn", f.as_str())
                            .arg("Action", action),
                    );
                }
            }
        }
        kit::run_writes(
            ctx,
            &op.connection,
            Target::SiteServer {
                site_code: code.clone(),
            },
            calls,
        )
        .await?;
        kit::read_back(&SiteKind, ctx, &op, &format!("site {code}")).await
    }

    fn plan_notes(&self, desired: Option<&Resource>, observed: Option<&Observed>) -> Vec<String> {
        let on = |attrs: &serde_json::Map<String, Value>| {
            attrs.get("software_update_installation") == Some(&json!(true))
        };
        if desired.is_some_and(|d| on(&d.attrs)) && !observed.is_some_and(|o| on(&o.attrs)) {
            return vec!["software update-based installation takes no command-line properties: provision them with a client_deployment GPO (ConfigMgrInstallation.adm) or by publishing the site to Active Directory; a computer with a pending restart may restart when the client installs (seed 000)".into()];
        }
        Vec::new()
    }
}

pub(super) fn observe(
    ctx: &Context,
    connection: &cmdeploy_engine::resource::Connection,
    script: &Script,
    out: &crate::powershell::ScriptOutput,
    id: [usize; 4],
) -> Result<Option<Observed>, RemoteError> {
    let sites = kit::value_of(connection, script, out, id[0])?;
    let Some(site) = kit::items(sites).into_iter().next() else {
        return Ok(None);
    };
    let mut attrs = serde_json::Map::new();
    let mut notes = Vec::new();
    let code = kit::s(site, "SiteCode").to_uppercase();
    attrs.insert("code".into(), json!(code));
    attrs.insert(
        "type".into(),
        json!(if kit::n(site, "Type") == 2 {
            "primary"
        } else {
            "secondary"
        }),
    );
    attrs.insert(
        "server".into(),
        json!(kit::s(site, "ServerName").to_lowercase()),
    );
    let parent = kit::s(site, "ReportingSiteCode");
    if !parent.is_empty() {
        attrs.insert("parent".into(), json!(parent.to_uppercase()));
    }
    if let Some(fsp) = kit::items(kit::value_of(connection, script, out, id[1])?)
        .into_iter()
        .next()
    {
        let server = kit::s(fsp, "NetworkOSPath")
            .trim_start_matches('\\')
            .to_lowercase();
        let count = kit::prop(fsp, "Throttle Count")
            .map(|p| kit::n(p, "Value"))
            .unwrap_or(10_000);
        let interval_ms = kit::prop(fsp, "Throttle Interval")
            .map(|p| kit::n(p, "Value"))
            .unwrap_or(3_600_000);
        attrs.insert(
            "fallback_status_point".into(),
            json!({"server": server, "state_message_count": count, "throttle_seconds": interval_ms / 1000}),
        );
    }
    let accounts = kit::value_of(connection, script, out, id[2])?;
    attrs.insert(
        "network_access_accounts".into(),
        kit::sorted(
            kit::items(accounts)
                .into_iter()
                .filter(|a| {
                    a.get("AccountUsage")
                        .and_then(Value::as_array)
                        .is_some_and(|u| {
                            u.iter()
                                .any(|x| x.as_str() == Some("Software Distribution"))
                        })
                })
                .map(|a| kit::account_key(ctx, kit::s(a, "UserName"), kit::s(a, "SiteCode"))),
        ),
    );
    if let Some(component) = kit::items(kit::value_of(connection, script, out, id[3])?)
        .into_iter()
        .next()
    {
        // The getter returns SMS_SCI_Component (PSRef Get-CMSoftwareUpdateBasedClientInstallation);
        // its embedded property names, `Enabled` and `Published Client Version`, are
        // **unverified**: no public source documents them (configmgr.md §2.7 "verify in lab").
        // A missing one fails the read, naming it, instead of reading as "off" or "current".
        let missing = |name: &str| RemoteError {
            host: connection.host(),
            cmdlet: Some("Get-CMSoftwareUpdateBasedClientInstallation".into()),
            message: format!("the component has no embedded property '{name}'"),
            category: None,
            unreachable: None,
        };
        let enabled = kit::prop(component, "Enabled")
            .and_then(|p| p.get("Value"))
            .and_then(Value::as_i64)
            .ok_or_else(|| missing("Enabled"))?
            != 0;
        attrs.insert("software_update_installation".into(), json!(enabled));
        let published = kit::prop(component, "Published Client Version")
            .and_then(|p| p.get("Value1"))
            .and_then(Value::as_str)
            .ok_or_else(|| missing("Published Client Version"))?;
        let current = super::published::is_current(published, kit::s(site, "Version"));
        attrs.insert("published_client_current".into(), json!(current));
        if enabled && !current {
            notes.push(super::published::later_version_note(
                published,
                kit::s(site, "Version"),
            ));
        }
    }
    Ok(Some(Observed {
        id: code,
        attrs,
        notes,
        private: Default::default(),
    }))
}
