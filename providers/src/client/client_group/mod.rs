//! `client_group`: client targets as one instance per host, `client_group.NAME["host"]`:
//! the push wizard (`Install-CMClient` from the site), manual intranet installs, workgroup
//! computers (configmgr.md §6 rule 8) and internet-based clients (rule 6), the last three
//! installed with a validated CCMSetup command line over each host's connection.
//!
//! Refresh reads the site's device records first (`Get-CMDevice`, one Script per site for all
//! hosts); a host is probed directly only when the site has no healthy record of it (never for
//! push targets, which the site reaches itself).

pub(crate) mod prereq;
mod push;
pub mod spec;

use serde_json::{json, Map, Value};

use cmdeploy_engine::diagnostics::{Diagnostic, Diagnostics};
use cmdeploy_engine::provider::{
    Applied, Context, DecodeInput, Decoded, DeleteMode, Kind, Observed, Operation, ReadOutcome,
    ReadRequest, ReadResult, RemoteError,
};
use cmdeploy_engine::resource::{Connection, ConnectionRef, ResourceSet};
use futures::StreamExt;

use super::probe;
use crate::ccmsetup::{self, Program};
use crate::kit;
use crate::powershell::{Call, Script, Target};

pub use spec::{ClientGroupSpec, Method, PushOptions};

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
        if spec.properties.sms_site_code.is_none() {
            spec.properties.sms_site_code = Some(spec.site.value.to_uppercase());
        }
        if let (None, Some(source)) = (&spec.ccmsetup.source, &spec.source) {
            spec.ccmsetup.source = Some(vec![source.clone()]);
        }
        let mut cmd = ccmsetup::to_command_line(&spec.ccmsetup, &spec.properties);
        if spec.method != Method::Push {
            cmd.program = Program::Exe {
                path: "CCMSetup.exe".into(),
            };
            // Findings the method rules already reported under their own codes are not repeated.
            let covered = |code: &str| {
                errors
                    .iter()
                    .any(|e| e.code.starts_with("cmdeploy::client::internet"))
                    && (code == ccmsetup::codes::INTERNET_REQUIRES
                        || code == ccmsetup::codes::AUTO_WITH_CCMHOSTNAME)
            };
            let findings = ccmsetup::check_command_line(&cmd, Some(spec.method.context()))
                .into_iter()
                .filter(|f| !covered(f.code))
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
        if !errors.is_empty() {
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
        let mut attrs = Map::new();
        attrs.insert("installed".into(), json!(true));
        // With SMSSITECODE=AUTO the client finds its site (AD, boundary groups); it must end up
        // assigned to the group's site.
        let assigned = spec
            .properties
            .sms_site_code
            .clone()
            .filter(|c| !c.eq_ignore_ascii_case("AUTO"))
            .unwrap_or_else(|| spec.site.value.clone());
        attrs.insert("site_code".into(), json!(assigned.to_uppercase()));
        attrs.insert("registered".into(), json!(true));
        if spec.method == Method::Internet {
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
        let Some(site_connection) = requests.first().map(|r| r.connection.clone()) else {
            return Vec::new();
        };
        let code = kit::site_code(
            ctx,
            &kit::meta_of(requests[0].desired.as_ref(), requests[0].prior.as_ref()),
        );
        let mut names: Vec<String> = requests
            .iter()
            .map(|r| short(&host_of(r)).to_uppercase())
            .collect();
        names.sort();
        names.dedup();
        let devices = device_records(ctx, &site_connection, &code, &names).await;
        let devices = match devices {
            Ok(d) => d,
            Err(e) => {
                return requests
                    .into_iter()
                    .map(|r| ReadResult {
                        address: r.address,
                        outcome: ReadOutcome::Failed(e.clone()),
                    })
                    .collect()
            }
        };
        // Healthy device records by (short name, site code), both lower-case: one lookup per
        // host instead of a scan of every record (quadratic with tens of thousands of clients).
        let healthy_records: std::collections::HashSet<(String, String)> = kit::items(&devices)
            .into_iter()
            .filter(|d| d.get("IsClient").and_then(Value::as_bool) == Some(true))
            .map(|d| {
                (
                    short(kit::s(d, "Name")).to_lowercase(),
                    kit::s(d, "SiteCode").to_lowercase(),
                )
            })
            .collect();
        let healthy = |host: &str, site: &str| {
            healthy_records.contains(&(short(host).to_lowercase(), site.to_lowercase()))
        };
        // Push targets without a client: their prerequisites, checked from the site server in one
        // Script and shown in the plan (a failed check is a note, never a failed read).
        let push_hosts: Vec<String> = requests
            .iter()
            .filter(|r| r.desired.is_some() && is_push(r))
            .filter(|r| !healthy(&host_of(r), &want_site(r, &code)))
            .map(host_of)
            .collect();
        let prerequisites = if push_hosts.is_empty() {
            Ok(Default::default())
        } else {
            prereq::probe(ctx, &site_connection, &code, &push_hosts).await
        };
        let site_key = kit::meta_of(requests[0].desired.as_ref(), requests[0].prior.as_ref())
            .get("site")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let push_accounts = prereq::push_accounts(ctx, &site_key);
        let probes = requests.into_iter().map(|r| {
            let healthy = &healthy;
            let prerequisites = &prerequisites;
            let push_accounts = &push_accounts;
            let code = &code;
            async move {
                let host = host_of(&r);
                let want_site = want_site(&r, code);
                let healthy = healthy(&host, &want_site);
                let push = is_push(&r);
                let wants_internet_mp = r
                    .desired
                    .as_ref()
                    .is_some_and(|d| d.attrs.contains_key("internet_management_point"));
                let outcome = if healthy && !wants_internet_mp {
                    let mut attrs = Map::new();
                    attrs.insert("installed".into(), json!(true));
                    attrs.insert("site_code".into(), json!(want_site.to_uppercase()));
                    attrs.insert("registered".into(), json!(true));
                    ReadOutcome::Present(Observed {
                        id: host.to_lowercase(),
                        attrs,
                        notes: Vec::new(),
                    })
                } else if push {
                    // The site has no client record; push targets are only reached by the site.
                    let notes = match prerequisites {
                        Ok(found) => found
                            .get(&host.to_lowercase())
                            .map(|t| prereq::notes(&host, t, push_accounts))
                            .unwrap_or_default(),
                        Err(e) => vec![format!("prerequisites not checked: {e}")],
                    };
                    if notes.is_empty() {
                        ReadOutcome::Absent
                    } else {
                        ReadOutcome::AbsentWith(notes)
                    }
                } else {
                    // No healthy record: ask the host itself.
                    match probe::probe(ctx, &host_connection(ctx, &r)).await {
                        Ok(state) if !state.installed && state.pending_reboot => {
                            ReadOutcome::AbsentWith(vec![format!("prerequisite: a restart is pending on {host}; installing the client may restart it")])
                        }
                        Ok(state) if !state.installed => ReadOutcome::Absent,
                        Ok(state) => {
                            ReadOutcome::Present(observed(&state, &host, wants_internet_mp))
                        }
                        Err(e) => ReadOutcome::Failed(e),
                    }
                };
                ReadResult {
                    address: r.address,
                    outcome,
                }
            }
        });
        futures::stream::iter(probes)
            .buffer_unordered(ctx.parallelism.max(1))
            .collect()
            .await
    }

    async fn apply(&self, ctx: &Context, op: Operation) -> Result<Applied, RemoteError> {
        let Some(d) = op.desired.clone() else {
            return Ok(Applied {
                id: String::new(),
                attrs: Map::new(),
            });
        };
        let host = op.address.key.clone().unwrap_or_default();
        if d.meta.get("method").and_then(Value::as_str) == Some("push") {
            let options: PushOptions = d
                .meta
                .get("push")
                .and_then(|v| serde_json::from_value(v.clone()).ok())
                .unwrap_or_default();
            let code = kit::site_code(ctx, &d.meta);
            push::push(ctx, &op, &code, &host, &options).await?;
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
                let o = observed(&after, &host, true);
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
        let o = observed(&after, &host, internet_mp.is_some());
        if o.attrs.get("registered") != Some(&json!(true))
            || o.attrs.get("site_code") != d.attrs.get("site_code")
        {
            return Err(RemoteError {
                host: op.connection.host(),
                cmdlet: Some("Install-CmdeployClient".into()),
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
        match desired.and_then(|d| d.meta.get("method")).and_then(Value::as_str) {
            Some("push") => vec!["client push from the site server (Install-CMClient); a failed push retries every hour for up to 7 days, and a later plan pushes again".into()],
            _ => Vec::new(),
        }
    }
}

/// Names per Script when reading device records.
const DEVICE_BATCH: usize = 250;

/// The site's device records of `names` (short names): `Get-CMDevice -Name <name> -Fast`, one
/// call per name, [`DEVICE_BATCH`] calls per Script. Never an unfiltered `Get-CMDevice`, which
/// returns every device of the site (PSRef Get-CMDevice.md; windows-runtime.md §9).
///
/// # Errors
/// The first failed Script or call, naming the site server and the cmdlet.
async fn device_records(
    ctx: &Context,
    site_connection: &cmdeploy_engine::resource::Connection,
    code: &str,
    names: &[String],
) -> Result<Value, RemoteError> {
    let mut all = Vec::new();
    for batch in names.chunks(DEVICE_BATCH) {
        let mut script = Script::new(Target::SiteServer {
            site_code: code.to_string(),
        });
        for name in batch {
            script.push(
                Call::new("Get-CMDevice")
                    .arg("Name", name.as_str())
                    .switch("Fast"),
            );
        }
        let out = kit::run(ctx, site_connection, &script).await?;
        for id in 0..script.calls.len() {
            let v = kit::value_of(site_connection, &script, &out, id)?;
            all.extend(kit::items(v).into_iter().cloned());
        }
    }
    Ok(Value::Array(all))
}

/// The host of a client_group instance (its instance key).
fn host_of(r: &ReadRequest) -> String {
    r.address.key.clone().unwrap_or_default()
}

/// The site code the instance's client should be assigned to (`code`: the site's).
fn want_site(r: &ReadRequest, code: &str) -> String {
    r.desired
        .as_ref()
        .and_then(|d| d.str_attr("site_code"))
        .unwrap_or(code)
        .to_string()
}

fn is_push(r: &ReadRequest) -> bool {
    kit::meta_of(r.desired.as_ref(), r.prior.as_ref())
        .get("method")
        .and_then(Value::as_str)
        == Some("push")
}

fn short(name: &str) -> &str {
    name.split('.').next().unwrap_or(name)
}

fn host_connection(ctx: &Context, r: &ReadRequest) -> Connection {
    ctx.resources
        .connections
        .get(&r.address)
        .cloned()
        .or_else(|| r.prior.as_ref().map(|p| p.connection.clone()))
        .unwrap_or_else(|| Connection {
            key: format!("host:{}", r.address.key.clone().unwrap_or_default()),
            spec: json!({"host": r.address.key.clone().unwrap_or_default()}),
        })
}

/// The observed attributes of a probed host; `internet_mp` adds the internet management point
/// (internet-based clients only).
fn observed(state: &probe::ClientState, host: &str, internet_mp: bool) -> Observed {
    let mut attrs = Map::new();
    if internet_mp {
        attrs.insert(
            "internet_management_point".into(),
            json!(state
                .internet_management_point
                .clone()
                .unwrap_or_default()
                .to_lowercase()),
        );
    }
    attrs.insert("installed".into(), json!(state.installed));
    attrs.insert(
        "site_code".into(),
        json!(state.site_code.clone().unwrap_or_default().to_uppercase()),
    );
    attrs.insert("registered".into(), json!(state.management_point_reachable));
    let mut notes = Vec::new();
    if state.installed && !state.management_point_reachable {
        notes.push("the client is installed but has not reached its management point".into());
    }
    Observed {
        id: host.to_lowercase(),
        attrs,
        notes,
    }
}
