//! `client_group`: client targets as one instance per host, `client_group.NAME["host"]`:
//! the push wizard (`Install-CMClient` from the site), manual intranet installs, workgroup
//! computers (configmgr.md §6 rule 8) and internet-based clients (rule 6), the last three
//! installed with a validated CCMSetup command line over each host's connection.
//!
//! Refresh reads the site's device records first (`Get-CMDevice`, one Script per site for all
//! hosts); a host is probed directly only when the site has no healthy record of it (never for
//! push targets, which the site reaches itself).

mod health;
pub(crate) mod prereq;
mod push;
mod read;
pub mod spec;
mod uninstall;

use serde_json::{json, Map, Value};

use cmdeploy_engine::diagnostics::{Diagnostic, Diagnostics};
use cmdeploy_engine::provider::{
    Applied, Context, DecodeInput, Decoded, DeleteMode, Kind, Observed, Operation, ReadRequest,
    ReadResult, RemoteError,
};
use cmdeploy_engine::resource::{ConnectionRef, ResourceSet};

use super::probe;
use crate::ccmsetup::{self, Program};
use crate::kit;

pub use spec::{ClientGroupSpec, Ensure, Method, PushOptions};

/// The `client_group` kind.
pub struct ClientGroupKind;

#[async_trait::async_trait]
impl Kind for ClientGroupKind {
    fn name(&self) -> &'static str {
        "client_group"
    }

    fn description(&self) -> &'static str {
        "Hosts client push cannot reach (workgroup, internet-based), installed with a validated CCMSetup command line; one instance per host."
    }

    fn schema(&self, generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        generator.subschema_for::<ClientGroupSpec>()
    }

    fn expandable(&self) -> bool {
        true
    }

    fn delete_mode(&self) -> DeleteMode {
        DeleteMode::Forget
    }

    fn delete_mode_of(&self, meta: &Map<String, Value>) -> DeleteMode {
        if uninstall::opted_in(meta) {
            DeleteMode::Destroy
        } else {
            DeleteMode::Forget
        }
    }

    fn delete_notes(&self, meta: &Map<String, Value>) -> Vec<String> {
        uninstall::notes(meta)
    }

    fn decode(&self, input: DecodeInput<'_>) -> Result<Decoded, Vec<Diagnostic>> {
        let file = input.file.clone();
        let span = input.span.clone();
        let host = input.address.key.clone().unwrap_or_default();
        let values =
            crate::ccmsetup_spans::ValueSpans::of(&input.table, &["properties", "ccmsetup"]);
        let mut spec: ClientGroupSpec = kit::decode_typed(input, "client_group")?;
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
        let mut attrs = Map::new();
        attrs.insert("installed".into(), json!(!absent));
        // With SMSSITECODE=AUTO the client finds its site (AD, boundary groups); it must end up
        // assigned to the group's site.
        let assigned = spec
            .properties
            .sms_site_code
            .clone()
            .filter(|c| !c.eq_ignore_ascii_case("AUTO"))
            .unwrap_or_else(|| spec.site.value.clone());
        if !absent {
            attrs.insert("site_code".into(), json!(assigned.to_uppercase()));
            attrs.insert("registered".into(), json!(true));
            // Health and version are state: CcmExec running, and the version the target wants.
            attrs.insert("ccmexec_running".into(), json!(true));
            if let Some(v) = wanted_version {
                attrs.insert("client_version".into(), json!(v));
            }
        }
        if spec.method == Method::Internet && !absent {
            if let Some(mp) = &spec.properties.ccm_host_name {
                // Updatable on an installed client: SetInternetManagementPointFQDN (see apply).
                attrs.insert("internet_management_point".into(), json!(mp.to_lowercase()));
            }
        }
        let mut d = Decoded::new(attrs, connection, host.to_lowercase());
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
            let has_naa = s
                .attrs
                .get("network_access_accounts")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty());
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

    async fn read(&self, ctx: &Context, requests: Vec<ReadRequest>) -> Vec<ReadResult> {
        read::read(ctx, requests).await
    }

    async fn apply(&self, ctx: &Context, op: Operation) -> Result<Applied, RemoteError> {
        let host = op.address.key.clone().unwrap_or_default();
        let Some(d) = op.desired.clone() else {
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
            return Ok(Applied {
                id: String::new(),
                attrs: Map::new(),
            });
        };
        if d.attrs.get("installed") == Some(&json!(false)) {
            let site = ctx
                .resources
                .read_connections
                .get(&op.address)
                .cloned()
                .unwrap_or_else(|| op.connection.clone());
            uninstall::uninstall(ctx, &op.connection, &site, &d.meta, &host).await?;
            return Ok(Applied {
                id: host.to_lowercase(),
                attrs: Map::from_iter([("installed".into(), json!(false))]),
            });
        }
        if d.meta.get("method").and_then(Value::as_str) == Some("push") {
            let options: PushOptions = d
                .meta
                .get("push")
                .and_then(|v| serde_json::from_value(v.clone()).ok())
                .unwrap_or_default();
            let code = kit::site_code(ctx, &d.meta);
            let want = d.attrs.get("client_version").and_then(Value::as_str);
            push::push(ctx, &op, &code, &host, &options, want).await?;
            return kit::read_back(&ClientGroupKind, ctx, &op, &format!("the client on {host}"))
                .await;
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
        let internet_mp = d
            .attrs
            .get("internet_management_point")
            .and_then(Value::as_str);
        // What the refresh just read (apply always refreshes first) says whether a client is
        // there: no second probe before installing.
        let observed_attr = |name: &str| op.observed.as_ref().and_then(|o| o.attrs.get(name));
        let installed = observed_attr("installed") == Some(&json!(true));
        let in_site = observed_attr("site_code")
            .and_then(Value::as_str)
            .is_some_and(|c| Some(c.to_uppercase().as_str()) == d.str_attr("site_code"));
        if let Some(mp) = internet_mp.filter(|_| installed && in_site) {
            if op.changed.iter().all(|c| c == "internet_management_point") {
                // Only the internet MP differs: the documented in-place change, no reinstall.
                probe::set_internet_management_point(ctx, &op.connection, mp).await?;
                let after = probe::probe(ctx, &op.connection).await?;
                let o = read::after_apply(ctx, &op, &d, &after, &host, true).await?;
                return Ok(Applied {
                    id: o.id,
                    attrs: o.attrs,
                });
            }
        }
        if installed {
            // Settings of an installed client change only with /forceinstall (reinstall precedence).
            cmd = format!("/forceinstall {cmd}");
        }
        let (log, after) = probe::install_and_probe(ctx, &op.connection, &source, &cmd).await?;
        let o = read::after_apply(ctx, &op, &d, &after, &host, internet_mp.is_some()).await?;
        if o.attrs.get("registered") != Some(&json!(true))
            || o.attrs.get("site_code") != d.attrs.get("site_code")
        {
            return Err(RemoteError {
                host: op.connection.host(),
                operation: Some("Install-CmdeployClient".into()),
                message: format!(
                    "{} finished but the client is not working: {log}",
                    super::command_line::shown(&d, installed)
                ),
                category: None,
                unreachable: None,
            });
        }
        Ok(Applied {
            id: o.id,
            attrs: o.attrs,
        })
    }

    fn target_host(&self, desired: &cmdeploy_engine::resource::Resource) -> Option<String> {
        Some(desired.natural_key.clone())
    }

    fn planned_commands(
        &self,
        desired: &cmdeploy_engine::resource::Resource,
        observed: Option<&Observed>,
    ) -> Vec<String> {
        // Push targets run the site's client push installation properties (client_push), sent
        // by the site server; the other methods run CCMSetup over the host's connection.
        if desired.meta.get("method").and_then(Value::as_str) == Some("push") {
            return Vec::new();
        }
        if desired.attrs.get("installed") == Some(&json!(false)) {
            return vec![uninstall::command_line(&desired.meta)];
        }
        let attr = |name: &str| observed.and_then(|o| o.attrs.get(name));
        let installed = attr("installed") == Some(&json!(true));
        let differs: Vec<&String> = desired
            .attrs
            .iter()
            .filter(|(k, v)| attr(k) != Some(*v))
            .map(|(k, _)| k)
            .collect();
        // Only the internet management point differs on an installed client: changed in place
        // (SetInternetManagementPointFQDN), no CCMSetup run (see apply).
        if installed && differs.iter().all(|k| *k == "internet_management_point") {
            return Vec::new();
        }
        vec![super::command_line::shown(desired, installed)]
    }

    fn plan_notes(
        &self,
        desired: Option<&cmdeploy_engine::resource::Resource>,
        _observed: Option<&Observed>,
    ) -> Vec<String> {
        if let Some(d) = desired.filter(|d| d.attrs.get("installed") == Some(&json!(false))) {
            return uninstall::notes(&d.meta);
        }
        match desired.and_then(|d| d.meta.get("method")).and_then(Value::as_str) {
            Some("push") => vec!["client push from the site server (Install-CMClient); a failed push retries every hour for up to 7 days, and a later plan pushes again".into()],
            _ => Vec::new(),
        }
    }
}
