//! `client_group`: client targets as one instance per host, `client_group.NAME["host"]`:
//! the push wizard (`Install-CMClient` from the site), manual intranet installs, workgroup
//! computers (configmgr.md §6 rule 8) and internet-based clients (rule 6), the last three
//! installed with a validated CCMSetup command line over each host's connection.
//!
//! Refresh reads the site's device records first (`Get-CMDevice`, one Script per site for all
//! hosts); a host is probed directly only when the site has no healthy record of it (never for
//! push targets, which the site reaches itself).

mod health;
pub mod model;
pub(crate) mod prereq;
mod push;
mod read;
pub mod spec;
mod uninstall;

use serde_json::{json, Value};

use cmdeploy_engine::diagnostics::{Diagnostic, Diagnostics};
use cmdeploy_engine::provider::{
    Context, DeleteMode, Observed, ReadRequest, ReadResult, RemoteError,
};
use cmdeploy_engine::resource::{Attributes, ConnectionRef, Resource, ResourceSet};

use super::probe;
use crate::ccmsetup::{self, Program};
use crate::kit;
use crate::sdk::{
    self, ApplyInSteps, Change, CrossValidate, Declared, DecodeCx, OnHosts, PlanNotes, TypedKind,
};
use model::ClientModel;

pub use spec::{ClientGroupSpec, Ensure, Method, PushOptions};

/// The `client_group` kind. Installing waits for CCMSetup on the host (or the site's push) and
/// probes between steps, so it applies in steps ([`ApplyInSteps`]).
pub struct ClientGroupKind;

#[async_trait::async_trait]
impl TypedKind for ClientGroupKind {
    type Spec = ClientGroupSpec;
    type Model = ClientModel;
    const KIND: &'static str = "client_group";
    const DESCRIPTION: &'static str = "Hosts client push cannot reach (workgroup, internet-based), installed with a validated CCMSetup command line; one instance per host.";
    const VALUE_TABLES: &'static [&'static str] = &["properties", "ccmsetup"];
    const EXPANDABLE: bool = true;

    fn decode(
        &self,
        mut spec: ClientGroupSpec,
        cx: &DecodeCx,
    ) -> Result<Declared<ClientModel>, Vec<Diagnostic>> {
        let file = cx.file.clone();
        let span = cx.span.clone();
        let host = cx.instance.clone().unwrap_or_default();
        let values = &cx.values;
        let mut errors: Vec<Diagnostic> = Vec::new();
        let mut warnings = Vec::new();
        for d in spec::method_rules(&spec, &file, span.clone()) {
            if d.is_error() {
                errors.push(d);
            } else {
                warnings.push(d);
            }
        }
        // No SMSSITECODE is added: a line without one takes its site from the properties the
        // ConfigMgrInstallation.adm policy provisioned or AD publishes, or from a site-assignment
        // boundary group (seed 000, manual example 1); the linter sees the same line.
        if let (None, Some(source)) = (&spec.ccmsetup.source, &spec.source) {
            spec.ccmsetup.source = Some(vec![source.clone()]);
        }
        let mut cmd = ccmsetup::to_command_line(&spec.ccmsetup, &spec.properties);
        if spec.method != Method::Push {
            cmd.program = Program::Exe {
                path: "CCMSetup.exe".into(),
            };
            // Findings the method rules already reported under their own codes are not repeated.
            let reported = |code: &str| errors.iter().any(|e| e.code == code);
            let auto = reported("cmdeploy::client::internet_auto_site");
            let pki = reported("cmdeploy::client::internet_missing_pki");
            let covered = |f: &ccmsetup::Finding| match f.code {
                ccmsetup::codes::INTERNET_REQUIRES => {
                    (auto && f.message.contains("AUTO"))
                        || (pki && f.message.contains("/UsePKICert"))
                }
                ccmsetup::codes::AUTO_WITH_CCMHOSTNAME => auto,
                _ => false,
            };
            let findings = ccmsetup::check_command_line(&cmd, Some(spec.method.context()))
                .into_iter()
                .filter(|f| !covered(f))
                .collect();
            let rendered = cmd.render();
            let (e, w) = kit::finding_diagnostics(
                findings,
                &file,
                |f| values.locate(&rendered, f).unwrap_or(span.clone()),
                &format!("{}: ", cmd.render()),
            );
            errors.extend(e);
            warnings.extend(w);
        }
        let wanted_version = match health::desired(spec.version.as_ref().map(|v| v.value.as_str()))
        {
            Ok(v) => v,
            Err(message) => {
                let at = spec
                    .version
                    .as_ref()
                    .map_or(span.clone(), |v| v.span.clone());
                errors.push(
                    Diagnostic::error("cmdeploy::client::version", message)
                        .with_help("version = \"site\" (the site's current client), \"any\", or a minimum like \"5.00.9128.1000\"")
                        .at_span(&file, at),
                );
                None
            }
        };
        if !errors.is_empty() {
            // Every finding at once: the warnings too, as `ccmsetup check` shows them.
            errors.append(&mut warnings);
            return Err(errors);
        }
        let site_ref = ConnectionRef::Inherit(cmdeploy_engine::Address::new(
            "site",
            spec.site.value.clone(),
        ));
        let connection = match (&spec.connection, spec.method) {
            (_, Method::Push) => site_ref.clone(),
            (Some(c), _) => c.to_ref(),
            (None, _) => ConnectionRef::Inline(json!({"host": host})),
        };
        let absent = spec.ensure == Ensure::Absent;
        // With SMSSITECODE=AUTO the client finds its site (AD, boundary groups); it must end up
        // assigned to the group's site.
        let assigned = spec
            .properties
            .sms_site_code
            .clone()
            .filter(|c| !c.eq_ignore_ascii_case("AUTO"))
            .unwrap_or_else(|| spec.site.value.clone());
        let model = if absent {
            ClientModel::default()
        } else {
            ClientModel {
                installed: true,
                site_code: Some(assigned.to_uppercase()),
                registered: Some(true),
                // Health and version are state: CcmExec running, and the version it wants.
                ccmexec_running: Some(true),
                client_version: wanted_version,
                // Updatable on an installed client: SetInternetManagementPointFQDN (see apply).
                internet_management_point: spec
                    .properties
                    .ccm_host_name
                    .as_ref()
                    .filter(|_| spec.method == Method::Internet)
                    .map(|mp| mp.to_lowercase()),
            }
        };
        let mut d = Declared::new(model, connection, host.to_lowercase());
        d.read_connection = Some(site_ref);
        d.references
            .push(crate::configmgr::reference("site", &spec.site));
        d.meta.insert("site".into(), json!(spec.site.value));
        d.meta.insert("source".into(), json!(spec.source));
        d.meta
            .insert("command_line".into(), json!(cmd.masked().render_args()));
        // The line as run, credentials included: in memory only, never in state.
        d.private
            .insert("command_line".into(), json!(cmd.render_args()));
        d.meta.insert(
            "method".into(),
            serde_json::to_value(spec.method).unwrap_or(Value::Null),
        );
        d.meta.insert(
            "push".into(),
            serde_json::to_value(spec.push.clone().unwrap_or_default()).unwrap_or(Value::Null),
        );
        for (key, value) in [
            ("ensure", serde_json::to_value(spec.ensure)),
            ("on_destroy", serde_json::to_value(spec.on_destroy)),
            ("remove_device_record", Ok(json!(spec.remove_device_record))),
        ] {
            d.meta.insert(key.into(), value.unwrap_or(Value::Null));
        }
        d.warnings = warnings;
        Ok(d)
    }

    async fn read(&self, ctx: &Context, requests: Vec<ReadRequest>) -> Vec<ReadResult> {
        read::read(ctx, requests).await
    }

    fn cross_validate(&self) -> Option<&dyn CrossValidate> {
        Some(self)
    }

    fn in_steps(&self) -> Option<&dyn ApplyInSteps<ClientModel>> {
        Some(self)
    }

    fn on_hosts(&self) -> Option<&dyn OnHosts> {
        Some(self)
    }

    fn plan_notes(&self) -> Option<&dyn PlanNotes> {
        Some(self)
    }
}

impl CrossValidate for ClientGroupKind {
    fn validate(&self, resources: &ResourceSet, out: &mut Diagnostics) {
        // One host, one client target: two would install and watch the same client and bind one
        // object to two addresses in state.
        let mut hosts: std::collections::BTreeMap<String, String> = Default::default();
        for g in resources.of_kind("client_group") {
            let host = g.natural_key.to_lowercase();
            if host.is_empty() {
                continue;
            }
            if let Some(first) = hosts.insert(host.clone(), g.address.to_string()) {
                out.push(
                    Diagnostic::error(
                        "cmdeploy::client_group::duplicate_host",
                        format!(
                            "{} targets host `{host}`, which {first} targets already",
                            g.address
                        ),
                    )
                    .with_help("a host belongs to one client group: remove it from one of them")
                    .at(g.loc.clone()),
                );
                hosts.insert(host, first);
            }
        }
        // Rule 8: workgroup clients reach site-domain content only with a network access account.
        let mut reported = std::collections::BTreeSet::new();
        for g in resources.of_kind("client_group") {
            if g.meta.get("method").and_then(Value::as_str) != Some("workgroup")
                || !reported.insert(g.address.base())
            {
                continue;
            }
            let site = g.meta.get("site").and_then(Value::as_str).unwrap_or("");
            let Some(s) = resources.get(&cmdeploy_engine::Address::new("site", site)) else {
                continue;
            };
            let has_naa = sdk::model::<crate::configmgr::site::SiteModel>(&s.attrs)
                .is_some_and(|m| m.network_access_accounts.is_some_and(|a| !a.is_empty()));
            if !has_naa {
                out.push(
                    Diagnostic::error(
                        "cmdeploy::workgroup::no_network_access_account",
                        format!("{} installs workgroup clients, but site {site} declares no network access account", g.address.base()),
                    )
                    .with_help("workgroup computers reach the site's content only with a network access account: set network_access_accounts on the site (prerequisites-for-deploying-clients-to-windows-computers.md; configmgr.md §6 rule 8)")
                    .at(g.loc.clone()),
                );
            }
        }
    }
}

#[async_trait::async_trait]
impl ApplyInSteps<ClientModel> for ClientGroupKind {
    async fn apply(
        &self,
        ctx: &Context,
        change: &Change<'_, ClientModel>,
    ) -> Result<(String, Option<ClientModel>), RemoteError> {
        let op = change.op;
        let host = op.address.key.clone().unwrap_or_default();
        let (Some(d), Some(want)) = (op.desired.as_ref(), change.desired.as_ref()) else {
            // Removed from the manifests: uninstalled only when its state entry opted in.
            if let Some(prior) = op.prior.as_ref().filter(|p| uninstall::opted_in(&p.meta)) {
                uninstall::uninstall(
                    ctx,
                    &op.connection,
                    &prior.read_connection,
                    &prior.meta,
                    &host,
                )
                .await?;
            }
            return Ok((String::new(), None));
        };
        if !want.installed {
            let site = ctx
                .resources
                .read_connections
                .get(&op.address)
                .cloned()
                .unwrap_or_else(|| op.connection.clone());
            uninstall::uninstall(ctx, &op.connection, &site, &d.meta, &host).await?;
            return Ok((host.to_lowercase(), Some(ClientModel::default())));
        }
        if d.meta.get("method").and_then(Value::as_str) == Some("push") {
            let options: PushOptions = d
                .meta
                .get("push")
                .and_then(|v| serde_json::from_value(v.clone()).ok())
                .unwrap_or_default();
            let code = kit::site_code(ctx, &d.meta);
            let version = want.client_version.as_deref();
            push::push(ctx, op, &code, &host, &options, version).await?;
            let (id, model) =
                sdk::read_again(self, ctx, op, &format!("the client on {host}")).await?;
            return Ok((id, Some(model)));
        }
        let source = d
            .meta
            .get("source")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let mut cmd = d
            .private
            .get("command_line")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let internet_mp = want.internet_management_point.as_deref();
        // What the refresh just read (apply always refreshes first) says whether a client is
        // there: no second probe before installing.
        let have = change.observed.as_ref();
        let installed = have.is_some_and(|o| o.installed);
        let in_site = have
            .and_then(|o| o.site_code.as_deref())
            .is_some_and(|c| Some(c.to_uppercase()) == want.site_code);
        if let (Some(mp), Some(o)) = (internet_mp.filter(|_| installed && in_site), have) {
            if want.differs_only_in_internet_mp(o) {
                // Only the internet MP differs: the documented in-place change, no reinstall.
                probe::set_internet_management_point(ctx, &op.connection, mp).await?;
                let after = probe::probe(ctx, &op.connection).await?;
                let m = read::after_apply(ctx, op, want, &after, true).await?;
                return Ok((host.to_lowercase(), Some(m)));
            }
        }
        if installed {
            // Settings of an installed client change only with /forceinstall (reinstall precedence).
            cmd = format!("/forceinstall {cmd}");
        }
        let (log, after) = probe::install_and_probe(ctx, &op.connection, &source, &cmd).await?;
        let m = read::after_apply(ctx, op, want, &after, internet_mp.is_some()).await?;
        if m.registered != Some(true) || m.site_code != want.site_code {
            return Err(RemoteError {
                host: op.connection.host(),
                operation: Some("Install-CmdeployClient".into()),
                message: format!(
                    "{} finished but the client is not working: {log}",
                    super::command_line::shown(d, installed)
                ),
                category: None,
                unreachable: None,
            });
        }
        Ok((host.to_lowercase(), Some(m)))
    }
}

impl OnHosts for ClientGroupKind {
    fn delete_mode_of(&self, meta: &Attributes) -> DeleteMode {
        if uninstall::opted_in(meta) {
            DeleteMode::Destroy
        } else {
            DeleteMode::Forget
        }
    }

    fn delete_notes(&self, meta: &Attributes) -> Vec<String> {
        uninstall::notes(meta)
    }

    fn target_host(&self, desired: &Resource) -> Option<String> {
        Some(desired.natural_key.clone())
    }

    fn planned_commands(&self, desired: &Resource, observed: Option<&Observed>) -> Vec<String> {
        // Push targets run the site's client push installation properties (client_push), sent
        // by the site server; the other methods run CCMSetup over the host's connection.
        if desired.meta.get("method").and_then(Value::as_str) == Some("push") {
            return Vec::new();
        }
        let want: ClientModel = sdk::model(&desired.attrs).unwrap_or_default();
        if !want.installed {
            return vec![uninstall::command_line(&desired.meta)];
        }
        let have: Option<ClientModel> = observed.and_then(|o| sdk::model(&o.attrs));
        let installed = have.as_ref().is_some_and(|o| o.installed);
        // Only the internet management point differs on an installed client: changed in place
        // (SetInternetManagementPointFQDN), no CCMSetup run (see apply).
        if installed && have.is_some_and(|o| want.differs_only_in_internet_mp(&o)) {
            return Vec::new();
        }
        vec![super::command_line::shown(desired, installed)]
    }
}

impl PlanNotes for ClientGroupKind {
    fn notes(&self, desired: Option<&Resource>, _observed: Option<&Observed>) -> Vec<String> {
        let absent =
            |d: &Resource| sdk::model::<ClientModel>(&d.attrs).is_some_and(|m| !m.installed);
        if let Some(d) = desired.filter(|d| absent(d)) {
            return uninstall::notes(&d.meta);
        }
        match desired.and_then(|d| d.meta.get("method")).and_then(Value::as_str) {
            Some("push") => vec!["client push from the site server (Install-CMClient); a failed push retries every hour for up to 7 days, and a later plan pushes again".into()],
            _ => Vec::new(),
        }
    }
}
