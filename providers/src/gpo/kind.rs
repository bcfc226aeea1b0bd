//! `gpo`: a domain GPO with its links and the client-deployment policies, written with
//! `Set-GPRegistryValue` (which also bumps the GPO version and registers the registry CSE,
//! configmgr.md §3.5) and read back with `Get-GPRegistryValue` and `Get-GPInheritance`.
//!
//! Written on the typed SDK ([`crate::sdk`]). Every write names the GPO by its display name,
//! `New-GPO` included, so a create is one list of calls like any change (no call needs the GUID
//! `New-GPO` returns), and the engine batches them with the reads that verify them.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde::Deserialize;

use cmdeploy_engine::diagnostics::Diagnostic;
use cmdeploy_engine::provider::{
    to_attributes, Context, Observed, OpAction, Operation, ReadRequest, ReadResult, RemoteError,
};
use cmdeploy_engine::resource::{ConnectionRef, Resource};
use cmdeploy_engine::spanned::Spanned;
use cmdeploy_engine::state::StateEntry;

pub use super::model::{wsus_server_span, GpoMeta, GpoModel};
use super::observe::{self, Layout};
use super::policy::{self, ClientDeployment, Policy, PolicyValues, SiteAssignment, WindowsUpdate};
use crate::ccmsetup::{self, Context as CcmContext};
use crate::kit;
use crate::powershell::{Call, Script, Target};
use crate::sdk::{self, Change, Declared, DecodeCx, Import, PlanNotes, TypedKind};

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

#[async_trait::async_trait]
impl TypedKind for GpoKind {
    type Spec = GpoSpec;
    type Model = GpoModel;
    const KIND: &'static str = "gpo";
    const DESCRIPTION: &'static str =
        "A domain GPO: links and the ConfigMgr client deployment, site assignment and WSUS location policies.";
    const VALUE_TABLES: &'static [&'static str] = &["properties", "ccmsetup"];
    const VALUE_PARENT: &'static [&'static str] = &[Policy::ClientDeployment.name()];
    const NONE_REMOVES: bool = true;

    fn decode(&self, spec: GpoSpec, cx: &DecodeCx) -> Result<Declared<GpoModel>, Vec<Diagnostic>> {
        let file = &cx.file;
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        if let Some(si) = &spec.software_installation {
            let p = si.package.value.to_ascii_lowercase();
            if !p.ends_with(".msi") || !p.starts_with("\\\\") {
                errors.push(
                    Diagnostic::error("cmdeploy::gpo::software_installation", format!("`{}` is not a UNC path to an .msi package", si.package.value))
                        .with_help("Group Policy software installation assigns only Windows Installer packages from a share the computers can read: use \\\\<site server>\\SMS_<site code>\\bin\\i386\\ccmsetup.msi")
                        .at_span(file, si.package.span.clone()),
                );
            }
            if spec.client_deployment.is_none() {
                warnings.push(
                    Diagnostic::warning("cmdeploy::gpo::software_installation_properties", "ccmsetup.msi assigned by Group Policy takes no installation properties")
                        .with_help("add a client_deployment policy (ConfigMgrInstallation.adm) so clients get SMSSITECODE and the rest, or publish the site to Active Directory (configmgr.md §6 rule 15)")
                        .at_span(file, si.package.span.clone()),
                );
            }
        }
        let mut links: Vec<String> = spec.links.iter().map(|l| l.value.to_lowercase()).collect();
        links.sort();
        links.dedup();
        let mut model = GpoModel {
            name: spec.name.clone().unwrap_or_else(|| cx.key.clone()),
            links,
            client_deployment: None,
            site_assignment: None,
            windows_update: None,
        };
        for l in &spec.links {
            if !l.value.to_uppercase().contains("DC=") {
                errors.push(
                    Diagnostic::error("cmdeploy::gpo::link", format!("`{}` is not a distinguished name", l.value))
                        .with_help("links are LDAP distinguished names, e.g. OU=Workstations,DC=contoso,DC=com (New-GPLink -Target)")
                        .at_span(file, l.span.clone()),
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
                        .at_span(file, cd.span.clone()),
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
                    None => cx.values.locate(&rendered, f).unwrap_or(at.clone()),
                };
                let (e, w) = kit::finding_diagnostics(
                    ccmsetup::check(&text, Some(CcmContext::Gpo)).1,
                    file,
                    in_text,
                    "SetupParameters: ",
                );
                errors.extend(e);
                warnings.extend(w);
                model.client_deployment = Some(policy::client_deployment_values(&text));
            }
        }
        if let Some(sa) = &spec.site_assignment {
            if let Some(p) = crate::configmgr::site::site_code_problem(&sa.site_code.value) {
                errors.push(
                    Diagnostic::error(
                        "cmdeploy::gpo::site_code",
                        format!("GPRequestedSiteAssignmentCode: {p}"),
                    )
                    .at_span(file, sa.site_code.span.clone()),
                );
            } else {
                errors.extend(crate::configmgr::site::site_code_case(
                    &sa.site_code.value,
                    file,
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
                            .at_span(file, if s.is_empty() { cx.span.clone() } else { s.clone() }),
                    );
                }
            }
            warnings.push(
                Diagnostic::warning("cmdeploy::gpo::tattoo", "site_assignment values are written outside the Policies key and stay on computers after the GPO is unlinked")
                    .with_help("to re-home clients later, delete GPRequestedSiteAssignmentCode and the retry values explicitly (configmgr.md §3.2)")
                    .at_span(file, sa.site_code.span.clone()),
            );
            model.site_assignment = Some(policy::site_assignment_values(sa));
        }
        if let Some(wu) = &spec.windows_update {
            if let Some((m, h)) = policy::wsus_url_problem(&wu.server.value) {
                errors.push(
                    Diagnostic::error("cmdeploy::gpo::wsus_url", m)
                        .with_help(h)
                        .at_span(file, wu.server.span.clone()),
                );
            }
            model.windows_update = Some(policy::windows_update_values(wu));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let domain = spec.domain.to_lowercase();
        let natural_key = format!("{domain}/{}", model.name.to_lowercase());
        let mut d = Declared::new(
            model,
            ConnectionRef::Named(spec.connection.clone()),
            natural_key,
        );
        d.meta = to_attributes(&GpoMeta {
            domain,
            software_installation: spec
                .software_installation
                .as_ref()
                .map(|si| si.package.value.clone()),
        });
        if let Some(wu) = &spec.windows_update {
            d.spans.insert(wsus_server_span(), wu.server.span.clone());
        }
        d.warnings = warnings;
        Ok(d)
    }

    fn target(&self, _ctx: &Context, op: &Operation) -> Target {
        Target::DomainController {
            domain: domain_of(op.desired.as_ref(), op.prior.as_ref()),
        }
    }

    fn import(&self) -> Option<&dyn Import> {
        Some(self)
    }

    fn plan_notes(&self) -> Option<&dyn PlanNotes> {
        Some(self)
    }

    async fn read(&self, ctx: &Context, requests: Vec<ReadRequest>) -> Vec<ReadResult> {
        let Some(first) = requests.first() else {
            return Vec::new();
        };
        let connection = first.connection.clone();
        let domain = domain_of(first.desired.as_ref(), first.prior.as_ref());
        let mut script = Script::new(Target::DomainController { domain });
        let list = script.push(observe::list_call());
        let layouts: Vec<Layout> = requests
            .iter()
            .map(|r| {
                let (name, targets) = reads_of(r.desired.as_ref(), r.prior.as_ref());
                observe::push_reads(&mut script.calls, list, &name, targets)
            })
            .collect();
        let out = kit::run(ctx, &connection, &script).await;
        requests
            .into_iter()
            .zip(layouts)
            .map(|(r, layout)| ReadResult {
                address: r.address,
                outcome: match &out {
                    Err(e) => cmdeploy_engine::provider::ReadOutcome::Failed(e.clone()),
                    Ok(out) => observe::outcome(&connection, &script, out, &layout),
                },
            })
            .collect()
    }

    fn calls(
        &self,
        _ctx: &Context,
        change: &Change<'_, GpoModel>,
    ) -> Result<Vec<Call>, RemoteError> {
        let op = change.op;
        let Some(d) = &change.desired else {
            let name = current_name(change).unwrap_or_default();
            return Ok(vec![Call::new("Remove-GPO").arg("Name", name.as_str())]);
        };
        let name = d.name.as_str();
        let mut calls = Vec::new();
        if op.action == OpAction::Create {
            let domain = domain_of(op.desired.as_ref(), op.prior.as_ref());
            calls.push(
                Call::new("New-GPO")
                    .arg("Name", name)
                    .arg("Domain", domain.as_str()),
            );
        }
        let observed = change.observed.as_ref();
        let none = PolicyValues::new();
        for p in Policy::ALL {
            let want = d.policy(p).unwrap_or(&none);
            let have = observed.and_then(|o| o.policy(p)).unwrap_or(&none);
            for (value_name, v) in want {
                if have.get(value_name) == Some(v) {
                    continue;
                }
                let (key, leaf) = p.location(value_name);
                calls.push(
                    Call::new("Set-GPRegistryValue")
                        .arg("Name", name)
                        .arg("Key", key)
                        .arg("ValueName", leaf)
                        .arg("Type", v.kind.as_str())
                        .arg("Value", v.value.clone()),
                );
            }
            for value_name in have.keys().filter(|k| !want.contains_key(k.as_str())) {
                let (key, leaf) = p.location(value_name);
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
                    call.arg("Name", name)
                        .arg("Key", key)
                        .arg("ValueName", leaf),
                );
            }
        }
        let want_links: BTreeSet<&String> = d.links.iter().collect();
        let have_links: BTreeSet<&String> = observed
            .map(|o| o.links.iter().collect())
            .unwrap_or_default();
        for l in want_links.difference(&have_links) {
            calls.push(
                Call::new("New-GPLink")
                    .arg("Name", name)
                    .arg("Target", l.as_str())
                    .arg("LinkEnabled", "Yes"),
            );
        }
        for l in have_links.difference(&want_links) {
            calls.push(
                Call::new("Remove-GPLink")
                    .arg("Name", name)
                    .arg("Target", l.as_str()),
            );
        }
        // The reads that verify the writes, as a refresh of this GPO reads it.
        let list = calls.len();
        calls.push(observe::list_call());
        let (name, targets) = reads_of(op.desired.as_ref(), op.prior.as_ref());
        observe::push_reads(&mut calls, list, &name, targets);
        Ok(calls)
    }

    fn read_back(
        &self,
        _ctx: &Context,
        change: &Change<'_, GpoModel>,
        values: &[serde_json::Value],
    ) -> Result<(String, GpoModel), RemoteError> {
        let op = change.op;
        let host = op.connection.host();
        let (name, targets) = reads_of(op.desired.as_ref(), op.prior.as_ref());
        let mut reads = vec![observe::list_call()];
        let layout = observe::push_reads(&mut reads, 0, &name, targets);
        // The reads are the last calls of the change.
        let start = values.len().saturating_sub(reads.len());
        let value = |i: usize| {
            values
                .get(start + i)
                .ok_or_else(|| RemoteError::new(host.clone(), "a read call did not run"))
        };
        observe::observe(&host, &layout, value)?.ok_or_else(|| {
            RemoteError::new(host.clone(), format!("GPO {name} is not found after apply"))
        })
    }
}

impl PlanNotes for GpoKind {
    fn notes(&self, desired: Option<&Resource>, observed: Option<&Observed>) -> Vec<String> {
        let want = desired.and_then(|d| sdk::model::<GpoModel>(&d.attrs));
        let have = observed.and_then(|o| sdk::model::<GpoModel>(&o.attrs));
        let removes_assignment = want.is_some_and(|d| d.site_assignment.is_none())
            && have.is_some_and(|o| o.site_assignment.is_some());
        let mut notes = Vec::new();
        if removes_assignment {
            notes.push("ConfigMgrAssignment.adm values tattoo: cmdeploy writes explicit deletes (Set-GPRegistryValue -Disable), so computers that apply the GPO remove them; computers outside its links keep them".into());
        }
        if let Some(package) = desired
            .and_then(|d| GpoMeta::of(&d.meta))
            .and_then(|m| m.software_installation)
        {
            notes.push(format!("by hand (no cmdlet assigns a GPSI package): in GPMC, edit this GPO › Computer Configuration › Policies › Software Settings › Software installation › New › Package › {package} › Assigned; CCMSetup.msi takes no properties there, so they come from the ConfigMgrInstallation.adm policy"));
        }
        notes
    }
}

/// The domain of a resource, else of its state entry.
fn domain_of(desired: Option<&Arc<Resource>>, prior: Option<&StateEntry>) -> String {
    GpoMeta::of(&kit::meta_of(desired, prior))
        .map(|m| m.domain)
        .unwrap_or_default()
}

/// The name a GPO is read under (the desired one, else the one state recorded) and the link
/// targets to read (the desired and the recorded ones).
fn reads_of(
    desired: Option<&Arc<Resource>>,
    prior: Option<&StateEntry>,
) -> (String, BTreeSet<String>) {
    let desired = desired.and_then(|d| sdk::model::<GpoModel>(&d.attrs));
    let prior = prior.and_then(|p| sdk::model::<GpoModel>(&p.attributes));
    let name = desired
        .as_ref()
        .or(prior.as_ref())
        .map(|m| m.name.clone())
        .unwrap_or_default();
    let targets = desired
        .into_iter()
        .chain(prior)
        .flat_map(|m| m.links)
        .collect();
    (name, targets)
}

/// The GPO's name as the refresh found it, else as state recorded it.
fn current_name(change: &Change<'_, GpoModel>) -> Option<String> {
    change
        .observed
        .as_ref()
        .map(|o| o.name.clone())
        .or_else(|| {
            let prior = change.op.prior.as_ref()?;
            sdk::model::<GpoModel>(&prior.attributes).map(|m| m.name)
        })
}

#[cfg(test)]
#[path = "kind_tests.rs"]
mod tests;
