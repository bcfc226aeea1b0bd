//! `gpo`: a domain GPO with its links and the client-deployment policies, written with
//! `Set-GPRegistryValue` (which also bumps the GPO version and registers the registry CSE,
//! configmgr.md §3.5) and read back with `Get-GPRegistryValue` and `Get-GPInheritance`.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::{json, Map, Value};

use cmdeploy_engine::diagnostics::Diagnostic;
use cmdeploy_engine::import::Imported;
use cmdeploy_engine::provider::{
    Applied, Context, DecodeInput, Decoded, Kind, Observed, OpAction, Operation, ReadOutcome,
    ReadRequest, ReadResult, RemoteError,
};
use cmdeploy_engine::resource::{Connection, ConnectionRef, Resource};
use cmdeploy_engine::spanned::Spanned;

use super::observe::{domain_of, gpo_name, link_targets, observe};
use super::policy::{self, ClientDeployment, SiteAssignment, WindowsUpdate};
use crate::ccmsetup::{self, Context as CcmContext};
use crate::kit;
use crate::powershell::{Call, Script, Target};

/// `[gpo.NAME]`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GpoSpec {
    /// GPO display name (defaults to the table key).
    #[serde(default)]
    pub name: Option<String>,
    /// DNS domain.
    pub domain: String,
    /// Connection to a domain controller (or RSAT host) of the domain.
    pub connection: Spanned<String>,
    /// OUs (distinguished names) the GPO is linked to.
    #[serde(default)]
    pub links: Vec<Spanned<String>>,
    /// ConfigMgrInstallation.adm: client installation properties for GPO and software
    /// update-based installs.
    #[serde(default)]
    pub client_deployment: Option<Spanned<ClientDeployment>>,
    /// ConfigMgrAssignment.adm: site assignment (values tattoo).
    #[serde(default)]
    pub site_assignment: Option<SiteAssignment>,
    /// Intranet Microsoft update service location (software update-based installation).
    #[serde(default)]
    pub windows_update: Option<WindowsUpdate>,
    /// Group Policy software installation (GPSI) of `ccmsetup.msi`: the package path, e.g.
    /// `\\cm01.contoso.com\SMS_ABC\bin\i386\ccmsetup.msi`. No cmdlet can assign a GPSI
    /// package, so cmdeploy does not write it: the plan says what to do by hand, and the
    /// installation properties come from `client_deployment` (configmgr.md §6 rule 15).
    #[serde(default)]
    pub software_installation: Option<SoftwareInstallation>,
}

/// `software_installation = { package = "..." }` of a `gpo`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SoftwareInstallation {
    /// UNC path of `ccmsetup.msi` (`<ConfigMgr installation>\bin\i386\ccmsetup.msi`), readable
    /// by the domain computers.
    pub package: Spanned<String>,
}

/// The `gpo` kind.
pub struct GpoKind;

pub(super) const BLOCKS: [&str; 3] = ["client_deployment", "site_assignment", "windows_update"];

#[async_trait::async_trait]
impl Kind for GpoKind {
    fn name(&self) -> &'static str {
        "gpo"
    }

    fn description(&self) -> &'static str {
        "A domain GPO: links and the ConfigMgr client deployment, site assignment and WSUS location policies."
    }

    fn schema(&self, generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        generator.subschema_for::<GpoSpec>()
    }

    fn decode(&self, input: DecodeInput<'_>) -> Result<Decoded, Vec<Diagnostic>> {
        let file = input.file.clone();
        let key = input.address.name.clone();
        let span = input.span.clone();
        let values = crate::ccmsetup_spans::ValueSpans::within(
            &input.table,
            &["client_deployment"],
            &["properties", "ccmsetup"],
        );
        let spec: GpoSpec = kit::decode_typed(input, "gpo")?;
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        if let Some(si) = &spec.software_installation {
            let p = si.package.value.to_ascii_lowercase();
            if !p.ends_with(".msi") || !p.starts_with("\\\\") {
                errors.push(
                    Diagnostic::error("cmdeploy::gpo::software_installation", format!("`{}` is not a UNC path to an .msi package", si.package.value))
                        .with_help("Group Policy software installation assigns only Windows Installer packages from a share the computers can read: use \\\\<site server>\\SMS_<site code>\\bin\\i386\\ccmsetup.msi")
                        .at_span(&file, si.package.span.clone()),
                );
            }
            if spec.client_deployment.is_none() {
                warnings.push(
                    Diagnostic::warning("cmdeploy::gpo::software_installation_properties", "ccmsetup.msi assigned by Group Policy takes no installation properties")
                        .with_help("add a client_deployment policy (ConfigMgrInstallation.adm) so clients get SMSSITECODE and the rest, or publish the site to Active Directory (configmgr.md §6 rule 15)")
                        .at_span(&file, si.package.span.clone()),
                );
            }
        }
        let mut attrs = Map::new();
        let name = spec.name.clone().unwrap_or(key);
        attrs.insert("name".into(), json!(name));
        attrs.insert(
            "links".into(),
            kit::sorted(spec.links.iter().map(|l| l.value.to_lowercase())),
        );
        for l in &spec.links {
            if !l.value.to_uppercase().contains("DC=") {
                errors.push(
                    Diagnostic::error("cmdeploy::gpo::link", format!("`{}` is not a distinguished name", l.value))
                        .with_help("links are LDAP distinguished names, e.g. OU=Workstations,DC=contoso,DC=com (New-GPLink -Target)")
                        .at_span(&file, l.span.clone()),
                );
            }
        }
        if let Some(cd) = &spec.client_deployment {
            let text = match (
                &cd.value.setup_parameters,
                &cd.value.properties,
                &cd.value.ccmsetup,
            ) {
                (Some(raw), None, None) => Some(raw.value.clone()),
                (None, props, params) => Some(
                    ccmsetup::to_command_line(
                        &params.clone().unwrap_or_default(),
                        &props.clone().unwrap_or_default(),
                    )
                    .render_args(),
                ),
                _ => {
                    errors.push(
                        Diagnostic::error(
                            "cmdeploy::gpo::client_deployment",
                            "give either `setup_parameters` or `properties`/`ccmsetup`, not both",
                        )
                        .at_span(&file, cd.span.clone()),
                    );
                    None
                }
            };
            if let Some(text) = text {
                let at = cd
                    .value
                    .setup_parameters
                    .as_ref()
                    .map(|s| s.span.clone())
                    .unwrap_or(cd.span.clone());
                let rendered = text.clone();
                let in_text = |f: &ccmsetup::Finding| match &cd.value.setup_parameters {
                    Some(s) => crate::ccmsetup_spans::in_string(&file.text, &at, &s.value, f),
                    None => values.locate(&rendered, f).unwrap_or(at.clone()),
                };
                let (e, w) = kit::finding_diagnostics(
                    ccmsetup::check(&text, Some(CcmContext::Gpo)).1,
                    &file,
                    in_text,
                    "SetupParameters: ",
                );
                errors.extend(e);
                warnings.extend(w);
                attrs.insert(
                    "client_deployment".into(),
                    Value::Object(policy::client_deployment_values(&text)),
                );
            }
        }
        if let Some(sa) = &spec.site_assignment {
            if let Some(p) = crate::configmgr::site::site_code_problem(&sa.site_code.value) {
                errors.push(
                    Diagnostic::error(
                        "cmdeploy::gpo::site_code",
                        format!("GPRequestedSiteAssignmentCode: {p}"),
                    )
                    .at_span(&file, sa.site_code.span.clone()),
                );
            } else {
                errors.extend(crate::configmgr::site::site_code_case(
                    &sa.site_code.value,
                    &file,
                    sa.site_code.span.clone(),
                    None,
                ));
            }
            for (v, lo, hi, what, s) in [
                (
                    sa.retry_interval_minutes.value,
                    1,
                    1440,
                    "retry_interval_minutes",
                    &sa.retry_interval_minutes.span,
                ),
                (
                    sa.retry_duration_hours.value,
                    1,
                    720,
                    "retry_duration_hours",
                    &sa.retry_duration_hours.span,
                ),
            ] {
                if !(lo..=hi).contains(&v) {
                    errors.push(
                        Diagnostic::error("cmdeploy::gpo::range", format!("{what} = {v} is outside {lo}–{hi}"))
                            .with_help("ConfigMgrAssignment.adm: retry interval 1–1440 minutes, retry duration 1–720 hours")
                            .at_span(&file, if s.is_empty() { span.clone() } else { s.clone() }),
                    );
                }
            }
            warnings.push(
                Diagnostic::warning("cmdeploy::gpo::tattoo", "site_assignment values are written outside the Policies key and stay on computers after the GPO is unlinked")
                    .with_help("to re-home clients later, delete GPRequestedSiteAssignmentCode and the retry values explicitly (configmgr.md §3.2)")
                    .at_span(&file, sa.site_code.span.clone()),
            );
            attrs.insert(
                "site_assignment".into(),
                Value::Object(policy::site_assignment_values(sa)),
            );
        }
        if let Some(wu) = &spec.windows_update {
            if let Some((m, h)) = policy::wsus_url_problem(&wu.server.value) {
                errors.push(
                    Diagnostic::error("cmdeploy::gpo::wsus_url", m)
                        .with_help(h)
                        .at_span(&file, wu.server.span.clone()),
                );
            }
            attrs.insert(
                "windows_update".into(),
                Value::Object(policy::windows_update_values(wu)),
            );
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        // A policy the manifest leaves out must not be in the GPO: its values are removed.
        for block in BLOCKS {
            attrs.entry(block).or_insert(Value::Null);
        }
        let mut d = Decoded::new(
            attrs,
            ConnectionRef::Named(spec.connection.clone()),
            format!("{}/{}", spec.domain.to_lowercase(), name.to_lowercase()),
        );
        d.meta
            .insert("domain".into(), json!(spec.domain.to_lowercase()));
        if let Some(wu) = &spec.windows_update {
            d.attr_spans
                .insert("windows_update.WUServer".into(), wu.server.span.clone());
        }
        if let Some(si) = &spec.software_installation {
            d.meta
                .insert("software_installation".into(), json!(si.package.value));
        }
        d.warnings = warnings;
        Ok(d)
    }

    fn plan_notes(&self, desired: Option<&Resource>, observed: Option<&Observed>) -> Vec<String> {
        let removes_assignment = desired
            .is_some_and(|d| d.attrs.get("site_assignment") == Some(&Value::Null))
            && observed.is_some_and(|o| o.attrs.contains_key("site_assignment"));
        let mut notes = Vec::new();
        if removes_assignment {
            notes.push("ConfigMgrAssignment.adm values tattoo: cmdeploy writes explicit deletes (Set-GPRegistryValue -Disable), so computers that apply the GPO remove them; computers outside its links keep them".into());
        }
        if let Some(package) = desired
            .and_then(|d| d.meta.get("software_installation"))
            .and_then(Value::as_str)
        {
            notes.push(format!("by hand (no cmdlet assigns a GPSI package): in GPMC, edit this GPO › Computer Configuration › Policies › Software Settings › Software installation › New › Package › {package} › Assigned; CCMSetup.msi takes no properties there, so they come from the ConfigMgrInstallation.adm policy"));
        }
        notes
    }

    fn importable(&self) -> bool {
        true
    }

    async fn imports_from(
        &self,
        ctx: &Context,
        connection: &Connection,
    ) -> Result<bool, RemoteError> {
        Ok(!super::listing::domains_on(ctx, connection).is_empty())
    }

    async fn list(
        &self,
        ctx: &Context,
        connection: &Connection,
    ) -> Result<Vec<Imported>, RemoteError> {
        super::listing::gpos(ctx, connection).await
    }

    async fn read(&self, ctx: &Context, requests: Vec<ReadRequest>) -> Vec<ReadResult> {
        let Some(connection) = requests.first().map(|r| r.connection.clone()) else {
            return Vec::new();
        };
        let domain = domain_of(&requests[0]);
        let mut script = Script::new(Target::DomainController { domain });
        script.push(Call::new("Get-GPO").switch("All"));
        let mut plan = Vec::new();
        for r in &requests {
            let name = gpo_name(r);
            let keys: Vec<usize> = policy::KEYS
                .iter()
                .map(|k| {
                    script.push(
                        Call::new("Get-GPRegistryValue")
                            .arg("Name", name.as_str())
                            .arg("Key", *k),
                    )
                })
                .collect();
            let targets = link_targets(r);
            let links: Vec<(String, usize)> = targets
                .into_iter()
                .map(|t| {
                    let id = script.push(Call::new("Get-GPInheritance").arg("Target", t.as_str()));
                    (t, id)
                })
                .collect();
            plan.push((name, keys, links));
        }
        let out = kit::run(ctx, &connection, &script).await;
        requests
            .into_iter()
            .zip(plan)
            .map(|(r, (name, keys, links))| {
                let outcome = match &out {
                    Err(e) => ReadOutcome::Failed(e.clone()),
                    Ok(out) => observe(&connection, &script, out, &name, &keys, &links),
                };
                ReadResult {
                    address: r.address,
                    outcome,
                }
            })
            .collect()
    }

    async fn apply(&self, ctx: &Context, op: Operation) -> Result<Applied, RemoteError> {
        let domain = op
            .desired
            .as_ref()
            .and_then(|d| {
                d.meta
                    .get("domain")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .or_else(|| {
                op.prior.as_ref().and_then(|p| {
                    p.meta
                        .get("domain")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
            })
            .unwrap_or_default();
        let target = Target::DomainController {
            domain: domain.clone(),
        };
        let current = kit::current_attr(&op, "name");
        let Some(d) = op.desired.clone() else {
            let name = current.unwrap_or_default();
            kit::run_writes(
                ctx,
                &op.connection,
                target,
                vec![Call::new("Remove-GPO").arg("Name", name.as_str())],
            )
            .await?;
            return Ok(Applied {
                id: String::new(),
                attrs: Map::new(),
            });
        };
        let name = d.str_attr("name").unwrap_or_default().to_string();
        let mut calls = Vec::new();
        if op.action == OpAction::Create {
            calls.push(
                Call::new("New-GPO")
                    .arg("Name", name.as_str())
                    .arg("Domain", domain.as_str()),
            );
        }
        let observed = op
            .observed
            .as_ref()
            .map(|o| o.attrs.clone())
            .unwrap_or_default();
        for block in BLOCKS {
            if op.action != OpAction::Create && !op.changed.iter().any(|c| c == block) {
                continue;
            }
            let want = match d.attrs.get(block) {
                Some(Value::Object(w)) => w.clone(),
                _ => Map::new(),
            };
            let have = observed
                .get(block)
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            for (value_name, v) in &want {
                if have.get(value_name) == Some(v) {
                    continue;
                }
                let (key, leaf) = policy::location(block, value_name);
                calls.push(
                    Call::new("Set-GPRegistryValue")
                        .arg("Name", name.as_str())
                        .arg("Key", key)
                        .arg("ValueName", leaf)
                        .arg("Type", v["type"].clone())
                        .arg("Value", v["value"].clone()),
                );
            }
            for value_name in have.keys().filter(|k| !want.contains_key(k.as_str())) {
                let (key, leaf) = policy::location(block, value_name);
                // ConfigMgrAssignment.adm writes outside the Policies key, so its values tattoo:
                // removing the setting from the GPO would leave them on every computer that
                // applied it. An explicit delete (`-Disable`, a `**del.` record) removes them
                // there (configmgr.md §3.2, §6 rule 16; Set-GPRegistryValue.md, -Disable).
                let call = if policy::tattoos(key) {
                    Call::new("Set-GPRegistryValue").switch("Disable")
                } else {
                    Call::new("Remove-GPRegistryValue")
                };
                calls.push(
                    call.arg("Name", name.as_str())
                        .arg("Key", key)
                        .arg("ValueName", leaf),
                );
            }
        }
        let strs = |v: Option<&Value>| -> BTreeSet<String> {
            v.and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        let want_links = strs(d.attrs.get("links"));
        let have_links = strs(observed.get("links"));
        for l in want_links.difference(&have_links) {
            calls.push(
                Call::new("New-GPLink")
                    .arg("Name", name.as_str())
                    .arg("Target", l.as_str())
                    .arg("LinkEnabled", "Yes"),
            );
        }
        for l in have_links.difference(&want_links) {
            calls.push(
                Call::new("Remove-GPLink")
                    .arg("Name", name.as_str())
                    .arg("Target", l.as_str()),
            );
        }
        kit::run_writes(ctx, &op.connection, target, calls).await?;
        kit::read_back(&GpoKind, ctx, &op, &format!("GPO {name}")).await
    }
}

#[cfg(test)]
#[path = "kind_tests.rs"]
mod tests;
