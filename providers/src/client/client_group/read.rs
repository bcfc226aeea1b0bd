//! Refresh of client targets: the site's device records first (`Get-CMDevice`, one Script
//! per site for all hosts, with the site's version from `Get-CMSite` in the same Script); a
//! host is probed directly only when the site has no client record of it (never for push
//! targets, which the site reaches itself). Version and health come from the record
//! (`ClientVersion`, `ClientActiveStatus`) or the probe (see [`super::health`]).

use serde_json::{json, Value};

use cmdeploy_engine::provider::{Context, ReadOutcome, ReadRequest, ReadResult, RemoteError};
use cmdeploy_engine::resource::Connection;
use futures::StreamExt;

use super::super::probe;
use super::model::ClientModel;
use super::{health, prereq};
use crate::kit;
use crate::powershell::{Call, Script, Target};
use crate::sdk;

/// Reads every requested client target of one site.
pub async fn read(ctx: &Context, requests: Vec<ReadRequest>) -> Vec<ReadResult> {
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
    let (devices, site_version) = match devices {
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
    let client_records: std::collections::HashMap<(String, String), &Value> = kit::items(&devices)
        .into_iter()
        .filter(|d| d.get("IsClient").and_then(Value::as_bool) == Some(true))
        .map(|d| {
            (
                (
                    short(kit::s(d, "Name")).to_lowercase(),
                    kit::s(d, "SiteCode").to_lowercase(),
                ),
                d,
            )
        })
        .collect();
    let record = |host: &str, site: &str| {
        client_records
            .get(&(short(host).to_lowercase(), site.to_lowercase()))
            .copied()
    };
    let healthy = |host: &str, site: &str| record(host, site).is_some();
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
    if let Some(v) = &site_version {
        remember_site_version(&site_connection.key, &code, v);
    }
    let site_version = site_version.as_deref();
    let probes = requests.into_iter().map(|r| {
        let record = &record;
        let prerequisites = &prerequisites;
        let push_accounts = &push_accounts;
        let code = &code;
        async move {
            let host = host_of(&r);
            let want_site = want_site(&r, code);
            let found = record(&host, &want_site);
            let desired = desired_of(&r);
            let push = is_push(&r);
            let wants_internet_mp = desired
                .as_ref()
                .is_some_and(|d| d.internet_management_point.is_some());
            let outcome = if let Some(rec) = found.filter(|_| !wants_internet_mp) {
                let mut m = ClientModel {
                    installed: true,
                    site_code: Some(want_site.to_uppercase()),
                    registered: Some(true),
                    ..ClientModel::default()
                };
                let mut notes =
                    health::from_record(desired.as_ref(), rec, code, site_version, &mut m);
                if push && !notes.is_empty() && !reinstalls(&r) {
                    // Without "always install" the push wizard skips a computer that has a
                    // client (Install-CMClient -AlwaysInstallClient): nothing to plan. The
                    // client stays old or unhealthy, so the plan says so as a warning, shown
                    // for this no-op (a healthy, current client has no note: converged plans
                    // stay quiet).
                    settle(desired.as_ref(), &mut m);
                    notes = notes
                        .into_iter()
                        .map(|n| format!("{}{n} not planned: set push = {{ always_install = true }} so that the push reinstalls a computer that has a client", cmdeploy_engine::provider::WARNING))
                        .collect();
                }
                let mut o = sdk::observed(host.to_lowercase(), &m);
                o.notes = notes;
                ReadOutcome::Present(o)
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
                        let (mut m, mut notes) = probed(&state, wants_internet_mp);
                        if state.installed {
                            notes.extend(health::observe(
                                desired.as_ref(),
                                state.client_version.as_deref(),
                                state.ccm_exec_running,
                                code,
                                site_version,
                                &mut m,
                            ));
                        }
                        let mut o = sdk::observed(host.to_lowercase(), &m);
                        o.notes = notes;
                        ReadOutcome::Present(o)
                    }
                    Err(e) => ReadOutcome::Failed(e),
                }
            };
            // A target that wants no client is in its desired state without one.
            let wants_absent = desired.as_ref().is_some_and(|d| !d.installed);
            let outcome = match outcome {
                ReadOutcome::Absent | ReadOutcome::AbsentWith(_) if wants_absent => {
                    ReadOutcome::Present(sdk::observed(
                        host.to_lowercase(),
                        &ClientModel::default(),
                    ))
                }
                other => other,
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

/// Names per Script when reading device records.
const DEVICE_BATCH: usize = 250;

/// The site's device records of `names` (short names): `Get-CMDevice -Name <name> -Fast`, one
/// call per name, [`DEVICE_BATCH`] calls per Script, the Scripts `--parallelism` at a time.
/// Never an unfiltered `Get-CMDevice`, which returns every device of the site (PSRef
/// Get-CMDevice.md; windows-runtime.md §9).
///
/// # Errors
/// The first failed Script or call, naming the site server and the cmdlet.
async fn device_records(
    ctx: &Context,
    site_connection: &cmdeploy_engine::resource::Connection,
    code: &str,
    names: &[String],
) -> Result<(Value, Option<String>), RemoteError> {
    // Futures made first: a closure inside the stream's type is not `Send` for every lifetime.
    let batches: Vec<_> = names
        .chunks(DEVICE_BATCH)
        .enumerate()
        .map(|(n, batch)| device_batch(ctx, site_connection, code, n == 0, batch))
        .collect();
    let read: Vec<_> = futures::stream::iter(batches)
        .buffered(ctx.parallelism.max(1))
        .collect()
        .await;
    let mut all = Vec::new();
    let mut site_version = None;
    for batch in read {
        let (devices, version) = batch?;
        all.extend(devices);
        site_version = site_version.or(version);
    }
    Ok((Value::Array(all), site_version))
}

/// One Script of [`device_records`]: `Get-CMDevice` for each of `names`, after `Get-CMSite`
/// in the `first` one. Returns the records and, from the first, the site's version.
async fn device_batch(
    ctx: &Context,
    site_connection: &cmdeploy_engine::resource::Connection,
    code: &str,
    first: bool,
    names: &[String],
) -> Result<(Vec<Value>, Option<String>), RemoteError> {
    let mut script = Script::new(Target::SiteServer {
        site_code: code.to_string(),
    });
    if first {
        script.push(Call::new("Get-CMSite").arg("SiteCode", code));
    }
    for name in names {
        script.push(
            Call::new("Get-CMDevice")
                .arg("Name", name.as_str())
                .switch("Fast"),
        );
    }
    let out = kit::run(ctx, site_connection, &script).await?;
    let mut site_version = None;
    if first {
        let site = kit::value_of(site_connection, &script, &out, 0)?;
        site_version = kit::items(site)
            .first()
            .map(|s| kit::s(s, "Version").to_string())
            .filter(|v| !v.is_empty());
    }
    let mut devices = Vec::new();
    for id in usize::from(first)..script.calls.len() {
        let v = kit::value_of(site_connection, &script, &out, id)?;
        devices.extend(kit::items(v).into_iter().cloned());
    }
    Ok((devices, site_version))
}

/// What a probe of the host after an install says, as the target's model: [`probed`] plus the
/// version and health the target wants (the site's version read with `Get-CMSite` when it wants
/// the site's client).
///
/// # Errors
/// The failed `Get-CMSite` read, naming the site server.
pub(super) async fn after_apply(
    ctx: &Context,
    op: &cmdeploy_engine::provider::Operation,
    want: &ClientModel,
    state: &probe::ClientState,
    internet_mp: bool,
) -> Result<ClientModel, RemoteError> {
    let (mut m, _notes) = probed(state, internet_mp);
    let meta = kit::meta_of(op.desired.as_ref(), op.prior.as_ref());
    let code = kit::site_code(ctx, &meta);
    let site_version = match (
        want.client_version.as_deref(),
        ctx.resources.read_connections.get(&op.address),
    ) {
        (Some("site"), Some(site)) if known_site_version(&site.key, &code).is_some() => {
            known_site_version(&site.key, &code)
        }
        (Some("site"), Some(site)) => {
            let mut script = Script::new(Target::SiteServer {
                site_code: code.clone(),
            });
            script.push(Call::new("Get-CMSite").arg("SiteCode", code.as_str()));
            let out = kit::run(ctx, site, &script).await?;
            let v = kit::value_of(site, &script, &out, 0)?;
            kit::items(v)
                .first()
                .map(|s| kit::s(s, "Version").to_string())
        }
        _ => None,
    };
    if state.installed {
        health::observe(
            Some(want),
            state.client_version.as_deref(),
            state.ccm_exec_running,
            &code,
            site_version.as_deref(),
            &mut m,
        );
    }
    Ok(m)
}

/// Site versions read by this run's refreshes, by (site connection key, site code): apply,
/// which always refreshes first, reads the version it compares an installed client with from
/// here instead of a `Get-CMSite` Script per host. A site's version does not change during a run.
static SITE_VERSIONS: std::sync::LazyLock<
    std::sync::Mutex<std::collections::HashMap<(String, String), String>>,
> = std::sync::LazyLock::new(Default::default);

fn remember_site_version(connection: &str, code: &str, version: &str) {
    if let Ok(mut m) = SITE_VERSIONS.lock() {
        m.insert(
            (connection.to_string(), code.to_uppercase()),
            version.to_string(),
        );
    }
}

fn known_site_version(connection: &str, code: &str) -> Option<String> {
    SITE_VERSIONS
        .lock()
        .ok()?
        .get(&(connection.to_string(), code.to_uppercase()))
        .cloned()
}

/// True when a push target's wizard options reinstall a computer that has a client
/// (`always_install` or `force_reinstall`).
fn reinstalls(r: &ReadRequest) -> bool {
    let push = kit::meta_of(r.desired.as_ref(), r.prior.as_ref())
        .get("push")
        .cloned()
        .unwrap_or_default();
    ["always_install", "force_reinstall"]
        .iter()
        .any(|k| push.get(*k).and_then(Value::as_bool) == Some(true))
}

/// Sets the version and health to what the target wants (a difference nothing will act on is a
/// note, not a change).
fn settle(desired: Option<&ClientModel>, observed: &mut ClientModel) {
    if let Some(d) = desired {
        if d.client_version.is_some() {
            observed.client_version.clone_from(&d.client_version);
        }
        if d.ccmexec_running.is_some() {
            observed.ccmexec_running = d.ccmexec_running;
        }
    }
}

/// The desired model of a read request.
fn desired_of(r: &ReadRequest) -> Option<ClientModel> {
    r.desired.as_ref().and_then(|d| sdk::model(&d.attrs))
}

/// The host of a client_group instance (its instance key).
fn host_of(r: &ReadRequest) -> String {
    r.address.key.clone().unwrap_or_default()
}

/// The site code the instance's client should be assigned to (`code`: the site's).
fn want_site(r: &ReadRequest, code: &str) -> String {
    desired_of(r)
        .and_then(|d| d.site_code)
        .unwrap_or_else(|| code.to_string())
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
        .unwrap_or_else(|| {
            let host = r.address.key.clone().unwrap_or_default();
            Connection::new(format!("host:{host}"), json!({ "host": host }))
        })
}

/// The model of a probed host, and its note when the client has not reached its management
/// point; `internet_mp` adds the internet management point (internet-based clients only).
pub(super) fn probed(state: &probe::ClientState, internet_mp: bool) -> (ClientModel, Vec<String>) {
    let m = ClientModel {
        installed: state.installed,
        site_code: Some(state.site_code.clone().unwrap_or_default().to_uppercase()),
        registered: Some(state.management_point_reachable),
        internet_management_point: internet_mp.then(|| {
            state
                .internet_management_point
                .clone()
                .unwrap_or_default()
                .to_lowercase()
        }),
        ..ClientModel::default()
    };
    let mut notes = Vec::new();
    if state.installed && !state.management_point_reachable {
        notes.push("the client is installed but has not reached its management point".into());
    }
    (m, notes)
}
