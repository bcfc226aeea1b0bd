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
    to_attributes, Context, Observed, OpAction, ReadRequest, ReadResult, RemoteError,
};
use cmdeploy_engine::resource::{ConnectionRef, ResourceSet};
use cmdeploy_engine::spanned::Spanned;

use crate::kit;
use crate::powershell::Call;
use crate::sdk::{
    self, Change, CrossValidate, Declared, DecodeCx, Import, PlanNotes, ReadValues, TypedKind,
};

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

/// What ConfigMgr setup fixed when it installed the site: compared, never written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Installed {
    /// SMS_Site.Type: `primary` (2) or `secondary` (1).
    pub r#type: SiteType,
    /// SMS_Site.ServerName, lower case.
    pub server: String,
    /// SMS_Site.ReportingSiteCode, upper case; unmanaged when the manifest leaves it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

/// A site's attributes, desired and observed. Only what the manifest declares is managed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteModel {
    /// SMS_Site.SiteCode, upper case.
    pub code: String,
    /// Type, server and parent.
    #[serde(flatten)]
    pub installed: Installed,
    /// The fallback status point, its server lower case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_status_point: Option<FallbackStatusPoint>,
    /// Keys of the `account` resources that are network access accounts (`Get-CMAccount`
    /// AccountUsage "Software Distribution"), sorted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_access_accounts: Option<Vec<String>>,
    /// Software update-based client installation enabled (component property `Enabled`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_update_installation: Option<bool>,
    /// The client published to the software update point is the site's own version; desired
    /// `true` with software update-based installation on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_client_current: Option<bool>,
    /// Forest FQDNs the site publishes to (SMS_ADForestDiscoveryStatus), lower case, sorted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
impl TypedKind for SiteKind {
    type Spec = SiteSpec;
    type Model = SiteModel;
    const KIND: &'static str = "site";
    const DESCRIPTION: &'static str = "An existing ConfigMgr site and its client-deployment settings (FSP, network access accounts, software update-based installation).";

    fn decode(
        &self,
        spec: SiteSpec,
        cx: &DecodeCx,
    ) -> Result<Declared<SiteModel>, Vec<Diagnostic>> {
        let file = &cx.file;
        let key = cx.key.clone();
        let code = spec.code.clone().unwrap_or_else(|| Spanned {
            value: key.clone(),
            span: cx.span.clone(),
        });
        let mut errors = Vec::new();
        if let Some(problem) = site_code_problem(&code.value) {
            errors.push(
                Diagnostic::error("cmdeploy::site_code::format", problem)
                    .with_help("ConfigMgr site codes are 3 characters, letters and digits only, and cannot be changed after installation (prepare-to-install-sites.md)")
                    .at_span(file, code.span.clone()),
            );
        } else {
            let renamed = spec.code.is_none().then(|| format!("site.{key}"));
            errors.extend(site_code_case(
                &code.value,
                file,
                code.span.clone(),
                renamed.as_deref(),
            ));
        }
        if let (Some(f), SiteType::Secondary) = (&spec.fallback_status_point, spec.site_type) {
            errors.push(
                Diagnostic::error("cmdeploy::site::fsp_secondary", "a fallback status point is supported only on primary sites")
                    .with_help("move the fallback status point to the parent primary site (PSRef Add-CMFallbackStatusPoint)")
                    .at_span(file, f.span.clone()),
            );
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let sorted = |items: Vec<String>| match kit::sorted(items) {
            Value::Array(a) => a
                .into_iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        };
        let updates = spec.software_update_installation.as_ref().map(|s| s.value);
        let model = SiteModel {
            code: code.value.to_uppercase(),
            installed: Installed {
                r#type: spec.site_type,
                server: spec.server.to_lowercase(),
                parent: spec.parent.as_ref().map(|p| p.to_uppercase()),
            },
            fallback_status_point: spec.fallback_status_point.as_ref().map(|f| {
                let mut v = f.value.clone();
                v.server = v.server.to_lowercase();
                v
            }),
            network_access_accounts: spec
                .network_access_accounts
                .as_ref()
                .map(|n| sorted(n.iter().map(|a| a.value.clone()).collect())),
            software_update_installation: updates,
            published_client_current: (updates == Some(true)).then_some(true),
            publish_to_forests: spec
                .publish_to_forests
                .as_ref()
                .map(|f| sorted(f.iter().map(|x| x.to_lowercase()).collect())),
        };
        let natural_key = model.code.clone();
        let mut d = Declared::new(
            model,
            ConnectionRef::Named(spec.connection.clone()),
            natural_key,
        );
        d.meta.insert("site".into(), json!(key));
        d.meta
            .insert("site_code".into(), json!(code.value.to_uppercase()));
        d.spans.insert("code".into(), code.span.clone());
        for n in spec.network_access_accounts.iter().flatten() {
            d.spans
                .entry("network_access_accounts".into())
                .or_insert(n.span.clone());
            d.references.push(super::reference("account", n));
        }
        Ok(d)
    }

    fn cross_validate(&self) -> Option<&dyn CrossValidate> {
        Some(self)
    }

    fn plan_notes(&self) -> Option<&dyn PlanNotes> {
        Some(self)
    }

    fn import(&self) -> Option<&dyn Import> {
        Some(self)
    }

    async fn read(&self, ctx: &Context, requests: Vec<ReadRequest>) -> Vec<ReadResult> {
        sdk::read_by_site(ctx, requests, reads, |values, publishing, _r| {
            observe(ctx, values, *publishing)
        })
        .await
    }

    fn calls(
        &self,
        ctx: &Context,
        change: &Change<'_, SiteModel>,
    ) -> Result<Vec<Call>, RemoteError> {
        let op = change.op;
        let code = kit::site_code(ctx, &kit::meta_of(op.desired.as_ref(), op.prior.as_ref()));
        let host = op.connection.host();
        let Some(want) = &change.desired else {
            // Forgetting a site removes nothing: sites are not cmdeploy's to delete.
            return Ok(Vec::new());
        };
        if op.action == OpAction::Create {
            return Err(RemoteError::new(host, format!("site {code} does not exist: cmdeploy manages existing sites; install the site with ConfigMgr setup")));
        }
        let have = change.observed.as_ref();
        // Type, server and parent are compared as the plan compares them: each attribute the
        // manifest sets must be what ConfigMgr holds.
        let held = have
            .map(|h| to_attributes(&h.installed))
            .unwrap_or_default();
        // (In reverse name order: type, server, parent, as they were always checked.)
        if let Some((fixed, _)) = to_attributes(&want.installed)
            .into_iter()
            .rev()
            .find(|(k, v)| held.get(k) != Some(v))
        {
            return Err(RemoteError::new(
                host,
                format!("site {code}: `{fixed}` is {} in ConfigMgr and cannot be changed after installation; correct the manifest", held.get(&fixed).cloned().unwrap_or(Value::Null)),
            ));
        }
        let mut calls = Vec::new();
        let code = code.as_str();
        if let Some(fsp) = want
            .fallback_status_point
            .as_ref()
            .filter(|f| have.and_then(|h| h.fallback_status_point.as_ref()) != Some(*f))
        {
            let with_settings = |c: Call| {
                c.arg("SiteCode", code)
                    .arg("SiteSystemServerName", fsp.server.as_str())
                    .arg("StateMessageCount", fsp.state_message_count)
                    .arg("ThrottleSec", fsp.throttle_seconds)
            };
            match have.and_then(|h| h.fallback_status_point.as_ref()) {
                Some(h) if h.server == fsp.server => {
                    calls.push(with_settings(Call::new("Set-CMFallbackStatusPoint")))
                }
                other => {
                    if let Some(h) = other {
                        calls.push(
                            Call::new("Remove-CMFallbackStatusPoint")
                                .arg("SiteCode", code)
                                .arg("SiteSystemServerName", h.server.as_str())
                                .switch("Force"),
                        );
                    }
                    calls.push(with_settings(Call::new("Add-CMFallbackStatusPoint")));
                }
            }
        }
        if let Some(keys) = want
            .network_access_accounts
            .as_ref()
            .filter(|n| have.and_then(|h| h.network_access_accounts.as_ref()) != Some(*n))
        {
            let list: Vec<String> = keys.iter().map(|k| kit::account_user(ctx, k)).collect();
            let c = Call::new("Set-CMSoftwareDistributionComponent").arg("SiteCode", code);
            calls.push(if list.is_empty() {
                c.switch("CleanNetworkAccessAccountName")
            } else {
                c.arg("NetworkAccessAccountName", list)
            });
        }
        let installs_changed = want.software_update_installation.is_some()
            && want.software_update_installation
                != have.and_then(|h| h.software_update_installation);
        let published_changed = want.published_client_current.is_some()
            && want.published_client_current != have.and_then(|h| h.published_client_current);
        if installs_changed || published_changed {
            calls.push(
                Call::new("Set-CMSoftwareUpdateBasedClientInstallation")
                    .arg("SiteCode", code)
                    .arg("EnableWsus", json!(want.software_update_installation)),
            );
        }
        if let Some(want_forests) = want
            .publish_to_forests
            .as_ref()
            .filter(|f| have.and_then(|h| h.publish_to_forests.as_ref()) != Some(*f))
        {
            let have_forests = have
                .and_then(|h| h.publish_to_forests.clone())
                .unwrap_or_default();
            let mut want_forests = want_forests.clone();
            want_forests.sort_by_key(|s| s.to_lowercase());
            want_forests.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
            let has = |l: &[String], f: &str| l.iter().any(|x| x.eq_ignore_ascii_case(f));
            for (list, other, action) in [
                (&want_forests, &have_forests, "Add"),
                (&have_forests, &want_forests, "Remove"),
            ] {
                for f in list.iter().filter(|f| !has(other, f)) {
                    calls.push(
                        Call::new("Set-CmdeploySitePublishing")
                            .arg("SiteCode", code)
                            .arg("ForestFqdn", f.as_str())
                            .arg("Action", action),
                    );
                }
            }
        }
        calls.extend(reads(code, &change.request()).0);
        Ok(calls)
    }

    fn read_back(
        &self,
        ctx: &Context,
        change: &Change<'_, SiteModel>,
        values: &[Value],
    ) -> Result<(String, SiteModel), RemoteError> {
        let op = change.op;
        let code = kit::site_code(ctx, &kit::meta_of(op.desired.as_ref(), op.prior.as_ref()));
        let (calls, publishing) = reads(&code, &change.request());
        let values = ReadValues::tail(&op.connection, values, calls.len());
        observe(ctx, &values, publishing)?
            .and_then(sdk::observed_model)
            .ok_or_else(|| {
                RemoteError::new(
                    op.connection.host(),
                    format!("site {code} is not found after apply"),
                )
            })
    }
}

impl CrossValidate for SiteKind {
    fn validate(&self, resources: &ResourceSet, out: &mut Diagnostics) {
        let sites: Vec<_> = sdk::models::<SiteModel>(resources, Self::KIND).collect();
        for (site, m) in &sites {
            if m.installed.r#type != SiteType::Secondary {
                continue;
            }
            let code = &m.code;
            let Some(parent_code) = &m.installed.parent else {
                out.push(
                    Diagnostic::error("cmdeploy::site::secondary_parent", format!("secondary site {code} names no parent"))
                        .with_help("a secondary site is managed through its parent primary site's SMS Provider: set parent = \"<primary site code>\"")
                        .at(site.loc.clone()),
                );
                continue;
            };
            let Some((parent, _)) = sites
                .iter()
                .find(|(_, p)| p.code.eq_ignore_ascii_case(parent_code))
            else {
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
}

impl PlanNotes for SiteKind {
    fn notes(
        &self,
        desired: Option<&cmdeploy_engine::resource::Resource>,
        observed: Option<&cmdeploy_engine::provider::Observed>,
    ) -> Vec<String> {
        let desired = desired.and_then(|d| sdk::model::<SiteModel>(&d.attrs));
        let desired = desired.as_ref();
        let observed = observed.and_then(|o| sdk::model::<SiteModel>(&o.attrs));
        let observed = observed.as_ref();
        let on = |m: &SiteModel| m.software_update_installation == Some(true);
        if desired.is_some_and(on) && !observed.is_some_and(on) {
            return vec!["software update-based installation takes no command-line properties: provision them with a client_deployment GPO (ConfigMgrInstallation.adm) or by publishing the site to Active Directory; a computer with a pending restart may restart when the client installs (seed 000)".into()];
        }
        Vec::new()
    }
}

/// The reads of one site (`Get-CMSite`, its fallback status point, accounts and software
/// update-based installation, and its publishing when the manifest or the state declares it),
/// and whether the publishing read is among them (first).
fn reads(code: &str, r: &ReadRequest) -> (Vec<Call>, bool) {
    let declared = |m: Option<SiteModel>| m.is_some_and(|m| m.publish_to_forests.is_some());
    let publishing = declared(r.desired.as_ref().and_then(|d| sdk::model(&d.attrs)))
        || declared(r.prior.as_ref().and_then(|p| sdk::model(&p.attributes)));
    (site_reads(code, publishing), publishing)
}

/// The reads of one site, the publishing read first when `publishing` (see [`reads`]).
pub(super) fn site_reads(code: &str, publishing: bool) -> Vec<Call> {
    let mut calls = Vec::new();
    if publishing {
        calls.push(Call::new("Get-CmdeploySitePublishing").arg("SiteCode", code));
    }
    calls.extend([
        Call::new("Get-CMSite").arg("SiteCode", code),
        Call::new("Get-CMFallbackStatusPoint").arg("SiteCode", code),
        Call::new("Get-CMAccount").arg("SiteCode", code),
        Call::new("Get-CMSoftwareUpdateBasedClientInstallation").arg("SiteCode", code),
    ]);
    calls
}

/// The observed site from the values of [`site_reads`]; `None` when the site is not there.
///
/// # Errors
/// A failed read, or a component property missing.
pub(super) fn observe(
    ctx: &Context,
    values: &ReadValues<'_>,
    publishing: bool,
) -> Result<Option<Observed>, RemoteError> {
    let at = usize::from(publishing);
    let connection = values.connection();
    let sites = values.get(at)?;
    let Some(site) = kit::items(sites).into_iter().next() else {
        return Ok(None);
    };
    let mut notes = Vec::new();
    let code = kit::s(site, "SiteCode").to_uppercase();
    let parent = kit::s(site, "ReportingSiteCode");
    let fallback_status_point = kit::items(values.get(at + 1)?)
        .into_iter()
        .next()
        .map(|fsp| FallbackStatusPoint {
            server: kit::s(fsp, "NetworkOSPath")
                .trim_start_matches('\\')
                .to_lowercase(),
            state_message_count: kit::prop(fsp, "Throttle Count")
                .map(|p| kit::n(p, "Value"))
                .unwrap_or(10_000) as u32,
            throttle_seconds: (kit::prop(fsp, "Throttle Interval")
                .map(|p| kit::n(p, "Value"))
                .unwrap_or(3_600_000)
                / 1000) as u32,
        });
    let accounts = values.get(at + 2)?;
    let mut naa: Vec<String> = kit::items(accounts)
        .into_iter()
        .filter(|a| {
            a.get("AccountUsage")
                .and_then(Value::as_array)
                .is_some_and(|u| {
                    u.iter()
                        .any(|x| x.as_str() == Some("Software Distribution"))
                })
        })
        .map(|a| kit::account_key(ctx, kit::s(a, "UserName"), kit::s(a, "SiteCode")))
        .collect();
    naa.sort();
    naa.dedup();
    let mut model = SiteModel {
        code: code.clone(),
        installed: Installed {
            r#type: if kit::n(site, "Type") == 2 {
                SiteType::Primary
            } else {
                SiteType::Secondary
            },
            server: kit::s(site, "ServerName").to_lowercase(),
            parent: (!parent.is_empty()).then(|| parent.to_uppercase()),
        },
        fallback_status_point,
        network_access_accounts: Some(naa),
        software_update_installation: None,
        published_client_current: None,
        publish_to_forests: None,
    };
    if let Some(component) = kit::items(values.get(at + 3)?).into_iter().next() {
        // The getter returns SMS_SCI_Component (PSRef Get-CMSoftwareUpdateBasedClientInstallation);
        // its embedded property names, `Enabled` and `Published Client Version`, are
        // **unverified**: no public source documents them (configmgr.md §2.7 "verify in lab").
        // A missing one fails the read, naming it, instead of reading as "off" or "current".
        let missing = |name: &str| RemoteError {
            host: connection.host(),
            operation: Some("Get-CMSoftwareUpdateBasedClientInstallation".into()),
            message: format!("the component has no embedded property '{name}'"),
            category: None,
            unreachable: None,
        };
        let enabled = kit::prop(component, "Enabled")
            .and_then(|p| p.get("Value"))
            .and_then(Value::as_i64)
            .ok_or_else(|| missing("Enabled"))?
            != 0;
        model.software_update_installation = Some(enabled);
        let published = kit::prop(component, "Published Client Version")
            .and_then(|p| p.get("Value1"))
            .and_then(Value::as_str)
            .ok_or_else(|| missing("Published Client Version"))?;
        let current = super::published::is_current(published, kit::s(site, "Version"));
        model.published_client_current = Some(current);
        if enabled && !current {
            notes.push(super::published::later_version_note(
                published,
                kit::s(site, "Version"),
            ));
        }
    }
    if publishing {
        let mut forests: Vec<String> = kit::items(values.get(0)?)
            .into_iter()
            .map(|f| kit::s(f, "ForestFQDN").to_lowercase())
            .collect();
        forests.sort();
        forests.dedup();
        model.publish_to_forests = Some(forests);
    }
    let mut o = sdk::observed(code, &model);
    o.notes = notes;
    Ok(Some(o))
}
