//! `client_push`: a site's client push installation settings. ConfigMgr keeps them in two
//! components, both read: SMS_DISCOVERY_DATA_MANAGER (`Settings` on/off, `Filters` bitmask —
//! 1 excludes workstations, 2 domain controllers, 4 servers — and `AutoInstallSiteSystem`) and
//! SMS_CLIENT_CONFIG_MANAGER (`Advanced Client Command Line`, accounts in PropList `Reserved2`).
//! (configmgr.md §2.4, §6 rules 9–13; PSRef Set-CMClientPushInstallation.)

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use cmdeploy_engine::diagnostics::{Diagnostic, Diagnostics};
use cmdeploy_engine::provider::{Context, Observed, ReadRequest, ReadResult, RemoteError};
use cmdeploy_engine::resource::{Resource, ResourceSet};
use cmdeploy_engine::spanned::Spanned;
use cmdeploy_engine::Address;

use crate::ccmsetup::{self, CcmsetupParameters, ClientMsiProperties, Context as CcmContext};
use crate::kit;
use crate::powershell::Call;
use crate::sdk::{
    self, Change, CrossValidate, Declared, DecodeCx, Import, PlanNotes, ReadValues, TypedKind,
};

/// Kinds of systems automatic push installs to.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SystemType {
    /// Servers (`-EnableSystemTypeServer`).
    Servers,
    /// Workstations (`-EnableSystemTypeWorkstation`).
    Workstations,
    /// ConfigMgr site system servers (`-EnableSystemTypeConfigurationManager`).
    SiteSystems,
}

/// The system types as a set: sorted by name and without repeats. ConfigMgr keeps them as
/// bits (`SMS_DISCOVERY_DATA_MANAGER` "Filters" and "AutoInstallSiteSystem"), so the order
/// written is never read back; both sides compare in this order.
fn system_type_set(types: &[SystemType]) -> Vec<SystemType> {
    let name = |t: &SystemType| serde_json::to_string(t).unwrap_or_default();
    let mut set = types.to_vec();
    set.sort_unstable_by_key(name);
    set.dedup();
    set
}

/// A site's client push settings, desired and observed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientPushModel {
    /// "Enable automatic site-wide client push installation" (DDM `Settings` Active).
    pub automatic: bool,
    /// System types, sorted by name; managed only while `automatic` is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_types: Option<Vec<SystemType>>,
    /// Install to domain controllers (DDM `Filters` bit 2 clear).
    pub domain_controllers: bool,
    /// Push accounts in the order tried, as `account` keys (user names for undeclared ones).
    pub accounts: Vec<String>,
    /// `Enable NTLM Fallback`.
    pub allow_ntlm_fallback: bool,
    /// The installation property string ("Advanced Client Command Line"), canonical.
    pub installation_properties: String,
}

/// `[client_push.SITE]`: one per site.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientPushSpec {
    /// Key of the site (defaults to the table key).
    #[serde(default)]
    pub site: Option<Spanned<String>>,
    /// "Enable automatic site-wide client push installation". Needs a management point.
    pub automatic: bool,
    /// System types automatic push installs to (only managed while `automatic` is on).
    #[serde(default)]
    pub system_types: Vec<SystemType>,
    /// Install to domain controllers too.
    #[serde(default)]
    pub domain_controllers: bool,
    /// Client push installation accounts, tried in this order: keys of `account` resources.
    #[serde(default)]
    pub accounts: Vec<Spanned<String>>,
    /// Allow the connection to fall back to NTLM (`-AllownNTLMFallback`, sic).
    #[serde(default = "yes")]
    pub allow_ntlm_fallback: bool,
    /// client.msi properties for push installs ("Installation Properties").
    #[serde(default)]
    pub properties: ClientMsiProperties,
    /// CCMSetup parameters; only the documented push subset is allowed.
    #[serde(default)]
    pub ccmsetup: CcmsetupParameters,
}

fn yes() -> bool {
    true
}

/// Longest push account password the console accepts (deploy-clients-to-windows-computers.md).
pub const MAX_PUSH_PASSWORD: usize = 38;

/// The `client_push` kind.
pub struct ClientPushKind;

#[async_trait::async_trait]
impl TypedKind for ClientPushKind {
    type Spec = ClientPushSpec;
    type Model = ClientPushModel;
    const KIND: &'static str = "client_push";
    const DESCRIPTION: &'static str = "Client push installation settings of a site: automatic push, system types, accounts, installation properties.";
    const VALUE_TABLES: &'static [&'static str] = &["properties", "ccmsetup"];

    fn decode(
        &self,
        spec: ClientPushSpec,
        cx: &DecodeCx,
    ) -> Result<Declared<ClientPushModel>, Vec<Diagnostic>> {
        let file = &cx.file;
        let span = cx.span.clone();
        let site = spec.site.clone().unwrap_or(Spanned {
            value: cx.key.clone(),
            span: span.clone(),
        });
        let cmd = ccmsetup::to_command_line(&spec.ccmsetup, &spec.properties);
        let rendered = cmd.render();
        let (mut errors, mut warnings) = kit::finding_diagnostics(
            ccmsetup::check_command_line(&cmd, Some(CcmContext::Push)),
            file,
            |f| cx.values.locate(&rendered, f).unwrap_or(span.clone()),
            "installation properties: ",
        );
        if spec.site.is_none() {
            // The table key is the site code: `[client_push.ABC]`.
            let old = format!("client_push.{}", site.value);
            errors.extend(super::site::site_code_case(
                &site.value,
                file,
                span.clone(),
                Some(&old),
            ));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        if spec.automatic && spec.accounts.is_empty() {
            warnings.push(
                Diagnostic::warning(
                    "cmdeploy::client_push::computer_account",
                    "automatic client push with no client push installation account uses the site server's computer account",
                )
                .with_help("client push to another domain fails with it (seed 000, Accounts tab): add an `account` with local administrator rights on the targets to `accounts`")
                .at_span(file, span.clone()),
            );
        }
        if !spec.automatic && !spec.system_types.is_empty() {
            warnings.push(
                Diagnostic::warning("cmdeploy::client_push::system_types_ignored", "system_types are not managed while automatic push is off")
                    .with_help("ConfigMgr sets system types only while automatic site-wide push is enabled (configmgr.md §6 rule 12)")
                    .at_span(file, span.clone()),
            );
        }
        let model = ClientPushModel {
            automatic: spec.automatic,
            system_types: spec.automatic.then(|| system_type_set(&spec.system_types)),
            domain_controllers: spec.domain_controllers,
            accounts: spec.accounts.iter().map(|a| a.value.clone()).collect(),
            allow_ntlm_fallback: spec.allow_ntlm_fallback,
            installation_properties: ccmsetup::push_installation_property(
                &spec.properties,
                &spec.ccmsetup,
            ),
        };
        let (connection, reference, meta) = super::site_binding(&site, true);
        let mut d = Declared::new(model, connection, site.value.to_uppercase());
        d.references.extend(reference);
        d.references
            .extend(spec.accounts.iter().map(|a| super::reference("account", a)));
        d.meta = meta;
        if let Some(code) = &spec.properties.sms_site_code {
            // For the secondary-site rule, checked once the sites are known (validate).
            d.meta.insert(SMS_SITE_CODE.into(), json!(code));
        }
        d.warnings = warnings;
        Ok(d)
    }

    fn cross_validate(&self) -> Option<&dyn CrossValidate> {
        Some(self)
    }

    fn import(&self) -> Option<&dyn Import> {
        Some(self)
    }

    fn plan_notes(&self) -> Option<&dyn PlanNotes> {
        Some(self)
    }

    async fn read(&self, ctx: &Context, requests: Vec<ReadRequest>) -> Vec<ReadResult> {
        sdk::read_by_site(
            ctx,
            requests,
            |code, _r| (reads(code), ()),
            |values, _, _r| read_values(ctx, values),
        )
        .await
    }

    fn calls(
        &self,
        ctx: &Context,
        change: &Change<'_, ClientPushModel>,
    ) -> Result<Vec<Call>, RemoteError> {
        let op = change.op;
        let code = kit::site_code(ctx, &kit::meta_of(op.desired.as_ref(), op.prior.as_ref()));
        let code = code.as_str();
        let Some(d) = &change.desired else {
            // Removing the resource stops managing the settings; the site keeps them.
            return Ok(Vec::new());
        };
        let have = change.observed.as_ref();
        let automatic_changed = have.map(|h| h.automatic) != Some(d.automatic);
        let types_changed = d.system_types.is_some()
            && have.and_then(|h| h.system_types.as_ref()) != d.system_types.as_ref();
        let mut set = Call::new("Set-CMClientPushInstallation").arg("SiteCode", code);
        if automatic_changed || (d.automatic && types_changed) {
            set = set.arg("EnableAutomaticClientPushInstallation", d.automatic);
        }
        if d.automatic && (types_changed || automatic_changed) {
            let types = d.system_types.clone().unwrap_or_default();
            set = set
                .arg(
                    "EnableSystemTypeServer",
                    types.contains(&SystemType::Servers),
                )
                .arg(
                    "EnableSystemTypeWorkstation",
                    types.contains(&SystemType::Workstations),
                )
                .arg(
                    "EnableSystemTypeConfigurationManager",
                    types.contains(&SystemType::SiteSystems),
                );
        }
        if have.map(|h| h.domain_controllers) != Some(d.domain_controllers) {
            set = set.arg("InstallClientToDomainController", d.domain_controllers);
        }
        if have.map(|h| h.installation_properties.as_str())
            != Some(d.installation_properties.as_str())
        {
            set = set.arg("InstallationProperty", d.installation_properties.as_str());
        }
        if have.map(|h| h.allow_ntlm_fallback) != Some(d.allow_ntlm_fallback) {
            set = set.arg("AllownNTLMFallback", d.allow_ntlm_fallback);
        }
        let mut calls = Vec::new();
        if set.args.len() > 1 {
            calls.push(set);
        }
        if have.map(|h| &h.accounts) != Some(&d.accounts) {
            let users: Vec<String> = d
                .accounts
                .iter()
                .map(|k| kit::account_user(ctx, k))
                .collect();
            calls.push(
                Call::new("Set-CMClientPushInstallation")
                    .arg("SiteCode", code)
                    .switch("ClearAccount"),
            );
            if !users.is_empty() {
                calls.push(
                    Call::new("Set-CMClientPushInstallation")
                        .arg("SiteCode", code)
                        .arg("AddAccount", json!(users)),
                );
            }
        }
        calls.extend(reads(code));
        Ok(calls)
    }

    fn read_back(
        &self,
        ctx: &Context,
        change: &Change<'_, ClientPushModel>,
        values: &[Value],
    ) -> Result<(String, ClientPushModel), RemoteError> {
        let op = change.op;
        let code = kit::site_code(ctx, &kit::meta_of(op.desired.as_ref(), op.prior.as_ref()));
        let n = reads(&code).len();
        read_values(ctx, &ReadValues::tail(&op.connection, values, n))?
            .and_then(sdk::observed_model)
            .ok_or_else(|| {
                RemoteError::new(
                    op.connection.host(),
                    format!("client push settings of {code} is not found after apply"),
                )
            })
    }
}

/// Key of `meta` holding the manifest's SMSSITECODE, for the secondary-site rule.
const SMS_SITE_CODE: &str = "sms_site_code";

impl PlanNotes for ClientPushKind {
    fn notes(&self, desired: Option<&Resource>, _observed: Option<&Observed>) -> Vec<String> {
        let desired = desired.and_then(|d| sdk::model::<ClientPushModel>(&d.attrs));
        let desired = desired.as_ref();
        match desired.map(|d| d.automatic) {
            Some(true) => vec!["automatic push installs to discovered computers; a failed install retries every hour for up to 7 days".into()],
            _ => Vec::new(),
        }
    }
}

impl CrossValidate for ClientPushKind {
    fn validate(&self, resources: &ResourceSet, out: &mut Diagnostics) {
        for (push, m) in sdk::models::<ClientPushModel>(resources, Self::KIND) {
            let site = push.meta.get("site").and_then(Value::as_str).unwrap_or("");
            let site_model = resources
                .get(&Address::new("site", site))
                .and_then(|s| sdk::model::<super::site::SiteModel>(&s.attrs));
            let secondary = site_model
                .as_ref()
                .is_some_and(|s| s.installed.r#type == super::site::SiteType::Secondary);
            if let Some(sm) = &site_model {
                if let Some(d) = secondary_site_code(push, sm) {
                    out.push(d);
                }
                if secondary && m.accounts.is_empty() {
                    out.push(
                        Diagnostic::warning("cmdeploy::client_push::secondary_account", format!("{} pushes from secondary site {site} without an account", push.address))
                            .with_help("for push from a secondary site, define the push account at the secondary site (configmgr.md §6 rule 2)")
                            .at(push.loc.clone()),
                    );
                }
            }
            for account in &m.accounts {
                let Some(acc) = resources.get(&Address::new("account", account.as_str())) else {
                    continue;
                };
                check_password(acc, out);
                let at = acc.meta.get("site").and_then(Value::as_str).unwrap_or("");
                if secondary && !at.eq_ignore_ascii_case(site) {
                    out.push(
                        Diagnostic::error(
                            "cmdeploy::client_push::secondary_account_site",
                            format!("{} pushes from secondary site {site} with account.{account}, which is defined at site {at}", push.address),
                        )
                        .with_help(format!("for push from a secondary site the push account must exist at the secondary: declare an account with site = \"{site}\" (configmgr.md §6 rule 2; seed 000)"))
                        .at(push.loc.clone()),
                    );
                }
            }
        }
    }
}

/// The reads of a site's push settings: the client configuration manager component (with the
/// accounts) and the discovery data manager component.
fn reads(code: &str) -> Vec<Call> {
    vec![
        Call::new("Get-CMClientPushInstallation").arg("SiteCode", code),
        Call::new("Get-CMSiteComponent")
            .arg("SiteCode", code)
            .arg("ComponentName", "SMS_DISCOVERY_DATA_MANAGER"),
    ]
}

/// The observed settings from the values of [`reads`]; `None` when a component is missing.
fn read_values(ctx: &Context, values: &ReadValues<'_>) -> Result<Option<Observed>, RemoteError> {
    let c = values.get(0)?;
    let d = values.get(1)?;
    Ok(match (kit::items(c).first(), kit::items(d).first()) {
        (Some(c), Some(d)) => Some(observe(ctx, c, d).map_err(|m| RemoteError {
            host: values.connection().host(),
            operation: Some("Get-CMClientPushInstallation".into()),
            message: m,
            category: None,
            unreachable: None,
        })?),
        _ => None,
    })
}

fn check_password(acc: &Resource, out: &mut Diagnostics) {
    let Some(secret) = acc.secrets.get("password") else {
        return;
    };
    let dir = acc
        .loc
        .file
        .path
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    if let Ok(v) = secret.value.resolve(&dir) {
        if v.char_len() > MAX_PUSH_PASSWORD {
            out.push(
                Diagnostic::error(
                    "cmdeploy::account::password_too_long",
                    format!("the password of {} is {} characters; a client push installation account password can be at most {MAX_PUSH_PASSWORD}", acc.address, v.char_len()),
                )
                .with_help("the ConfigMgr console limits push account passwords to 38 characters (deploy-clients-to-windows-computers.md, step 7); use a shorter password")
                .at(acc.attr_loc("password")),
            );
        }
    }
}

/// An embedded property's field (`Value` or `Value1`) of a site component.
///
/// # Errors
/// A message naming the component and the property when it is missing.
fn component_prop<'a>(component: &'a Value, name: &str, field: &str) -> Result<&'a Value, String> {
    kit::prop(component, name)
        .and_then(|p| p.get(field))
        .ok_or_else(|| {
            format!(
                "{} has no embedded property '{name}' (field {field})",
                match kit::s(component, "ComponentName") {
                    "" => "the site component",
                    c => c,
                }
            )
        })
}

/// Reads the two push components into normalised attributes (accounts as manifest keys).
///
/// Sources (configmgr.md §2.4, ConfigMgrCBDsc `DSC_CMClientPushSettings.psm1`):
/// SMS_DISCOVERY_DATA_MANAGER `Settings` Value1 Active/Inactive, `Filters` Value bitmask,
/// `AutoInstallSiteSystem` Value; SMS_CLIENT_CONFIG_MANAGER `Advanced Client Command Line`
/// Value1 and PropList `Reserved2`. The NTLM fallback property's name, `Enable NTLM Fallback`,
/// is **unverified**: no public source names it (windows-runtime.md §9; CBDsc does not read it).
///
/// # Errors
/// A message naming the component and property that is missing: never a default that would
/// read as "in sync".
/// True when automatic site-wide client push is on: the discovery data manager component's
/// `Settings` Value1 is `Active` (`Get-CMSiteComponent -ComponentName SMS_DISCOVERY_DATA_MANAGER`).
///
/// # Errors
/// A message naming the component and the property when it is missing.
pub(crate) fn automatic_push(ddm: &Value) -> Result<bool, String> {
    Ok(component_prop(ddm, "Settings", "Value1")?
        .as_str()
        .is_some_and(|v| v.eq_ignore_ascii_case("Active")))
}

pub(crate) fn observe(ctx: &Context, ccm: &Value, ddm: &Value) -> Result<Observed, String> {
    let filters = component_prop(ddm, "Filters", "Value")?
        .as_i64()
        .ok_or("SMS_DISCOVERY_DATA_MANAGER property 'Filters' has no numeric Value")?;
    let automatic = automatic_push(ddm)?;
    let mut types = Vec::new();
    if filters & 4 == 0 {
        types.push(SystemType::Servers);
    }
    if component_prop(ddm, "AutoInstallSiteSystem", "Value")?
        .as_i64()
        .is_some_and(|v| v != 0)
    {
        types.push(SystemType::SiteSystems);
    }
    if filters & 1 == 0 {
        types.push(SystemType::Workstations);
    }
    let model = ClientPushModel {
        automatic,
        system_types: Some(system_type_set(&types)),
        domain_controllers: filters & 2 == 0,
        accounts: kit::prop_list(ccm, "Reserved2")
            .iter()
            .map(|u| kit::account_key(ctx, u, kit::s(ccm, "SiteCode")))
            .collect(),
        allow_ntlm_fallback: component_prop(ccm, "Enable NTLM Fallback", "Value")?
            .as_i64()
            .is_some_and(|v| v != 0),
        installation_properties: canonical_installation_properties(
            component_prop(ccm, "Advanced Client Command Line", "Value1")?
                .as_str()
                .unwrap_or(""),
        ),
    };
    Ok(sdk::observed(
        kit::s(ccm, "SiteCode").to_uppercase(),
        &model,
    ))
}

/// Push from a secondary site must assign clients to its parent primary site (or AUTO), never to
/// the secondary itself: clients can be assigned only to a primary site (configmgr.md §6 rule 2,
/// assign-clients-to-a-site.md).
fn secondary_site_code(push: &Resource, site: &super::site::SiteModel) -> Option<Diagnostic> {
    if site.installed.r#type != super::site::SiteType::Secondary {
        return None;
    }
    let wanted = push.meta.get(SMS_SITE_CODE).and_then(Value::as_str)?;
    let own = site.code.as_str();
    if !wanted.eq_ignore_ascii_case(own) {
        return None;
    }
    let parent = site
        .installed
        .parent
        .as_deref()
        .unwrap_or("<parent primary>");
    Some(
        Diagnostic::error(
            "cmdeploy::secondary_site::push_site_code",
            format!(
                "{} pushes from secondary site {own} with SMSSITECODE={wanted}; clients can be assigned only to a primary site",
                push.address
            ),
        )
        .with_help(format!(
            "set SMSSITECODE={parent} (the secondary's parent primary site) or AUTO when the AD schema is extended (configmgr.md §6 rule 2)"
        ))
        .at(push.loc.clone()),
    )
}

/// The installation property string as the manifest renders it, when that says the same thing
/// as `raw` in another order (`SMSSITECODE=ABC FSP=x` and `FSP=x SMSSITECODE=ABC` install alike);
/// `raw` itself when rendering would lose or change anything (unknown names, bad values).
pub fn canonical_installation_properties(raw: &str) -> String {
    let parsed = ccmsetup::parse(raw);
    if parsed.has_syntax_error() {
        return raw.to_string();
    }
    let (params, props) = ccmsetup::from_command_line(&parsed.command_line);
    let rendered = ccmsetup::push_installation_property(&props, &params);
    let tokens = |c: &ccmsetup::CommandLine| {
        let mut p: Vec<String> = c
            .parameters
            .iter()
            .map(|x| format!("/{}:{:?}", x.name.to_lowercase(), x.value))
            .collect();
        let mut q: Vec<String> = c
            .properties
            .iter()
            .map(|x| format!("{}={}", x.name, x.value))
            .collect();
        p.sort();
        q.sort();
        (p, q)
    };
    if tokens(&parsed.command_line) == tokens(&ccmsetup::parse(&rendered).command_line) {
        rendered
    } else {
        raw.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::canonical_installation_properties as canonical;

    #[test]
    fn installation_properties_compare_in_any_order_but_keep_what_cannot_be_rendered() {
        let a = canonical("SMSSITECODE=ABC FSP=fspserver.contoso.com");
        assert_eq!(a, canonical("FSP=fspserver.contoso.com SMSSITECODE=ABC"));
        assert!(a.contains("SMSSITECODE=ABC") && a.contains("FSP=fspserver.contoso.com"));
        assert_eq!(
            canonical("NOTAPROPERTY=1 SMSSITECODE=ABC"),
            "NOTAPROPERTY=1 SMSSITECODE=ABC"
        );
        assert_eq!(canonical(""), "");
    }
}

#[cfg(test)]
mod component_tests {
    use super::component_prop;
    use serde_json::json;

    #[test]
    fn a_missing_embedded_property_is_named_not_defaulted() {
        let ccm = json!({
            "ComponentName": "SMS_CLIENT_CONFIG_MANAGER",
            "Props": [{"PropertyName": "Advanced Client Command Line", "Value": 0, "Value1": "SMSSITECODE=ABC"}],
        });
        let e = component_prop(&ccm, "Enable NTLM Fallback", "Value").unwrap_err();
        assert!(e.contains("SMS_CLIENT_CONFIG_MANAGER"), "{e}");
        assert!(e.contains("'Enable NTLM Fallback'"), "{e}");
        assert_eq!(
            component_prop(&ccm, "Advanced Client Command Line", "Value1").unwrap(),
            &json!("SMSSITECODE=ABC")
        );
    }
}
