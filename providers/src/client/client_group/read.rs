//! Refresh of client targets: the site's device records first (`Get-CMDevice`, one Script
//! per site for all hosts, with the site's version from `Get-CMSite` in the same Script); a
//! host is probed directly only when the site has no client record of it (never for push
//! targets, which the site reaches itself). Version and health come from the record
//! (`ClientVersion`, `ClientActiveStatus`) or the probe (see [`super::health`]).

use serde_json::{json, Map, Value};

use cmdeploy_engine::provider::{
    Context, Observed, ReadOutcome, ReadRequest, ReadResult, RemoteError,
};
use cmdeploy_engine::resource::Connection;
use futures::StreamExt;

use super::super::probe;
use super::{health, prereq};
use crate::kit;
use crate::powershell::{Call, Script, Target};

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
            let desired_attrs = r.desired.as_ref().map(|d| &d.attrs);
            let push = is_push(&r);
            let wants_internet_mp = r
                .desired
                .as_ref()
                .is_some_and(|d| d.attrs.contains_key("internet_management_point"));
            let outcome = if let Some(rec) = found.filter(|_| !wants_internet_mp) {
                let mut attrs = Map::new();
                attrs.insert("installed".into(), json!(true));
                attrs.insert("site_code".into(), json!(want_site.to_uppercase()));
                attrs.insert("registered".into(), json!(true));
                let mut notes =
                    health::from_record(desired_attrs, rec, code, site_version, &mut attrs);
                if push && !notes.is_empty() && !reinstalls(&r) {
                    // Without "always install" the push wizard skips a computer that has a
                    // client (Install-CMClient -AlwaysInstallClient): nothing to plan. The
                    // client stays old or unhealthy, so the plan says so as a warning, shown
                    // for this no-op (a healthy, current client has no note: converged plans
                    // stay quiet).
                    settle(desired_attrs, &mut attrs);
                    notes = notes
                        .into_iter()
                        .map(|n| format!("{}{n} not planned: set push = {{ always_install = true }} so that the push reinstalls a computer that has a client", cmdeploy_engine::provider::WARNING))
                        .collect();
                }
                ReadOutcome::Present(Observed {
                    id: host.to_lowercase(),
                    attrs,
                    notes,
                    private: Default::default(),
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
                        let mut o = observed(&state, &host, wants_internet_mp);
                        if state.installed {
                            o.notes.extend(health::observe(
                                desired_attrs,
                                state.client_version.as_deref(),
                                state.ccm_exec_running,
                                code,
                                site_version,
                                &mut o.attrs,
                            ));
                        }
                        ReadOutcome::Present(o)
                    }
                    Err(e) => ReadOutcome::Failed(e),
                }
            };
            // A target that wants no client is in its desired state without one.
            let wants_absent = r
                .desired
                .as_ref()
                .is_some_and(|d| d.attrs.get("installed") == Some(&json!(false)));
            let outcome = match outcome {
                ReadOutcome::Absent | ReadOutcome::AbsentWith(_) if wants_absent => {
                    ReadOutcome::Present(Observed {
                        id: host.to_lowercase(),
                        attrs: Map::from_iter([("installed".into(), json!(false))]),
                        notes: Vec::new(),
                        private: Default::default(),
                    })
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
) -> Result<(Value, Option<String>), RemoteError> {
    let mut all = Vec::new();
    let mut site_version = None;
    for (n, batch) in names.chunks(DEVICE_BATCH).enumerate() {
        let mut script = Script::new(Target::SiteServer {
            site_code: code.to_string(),
        });
        if n == 0 {
            script.push(Call::new("Get-CMSite").arg("SiteCode", code));
        }
        for name in batch {
            script.push(
                Call::new("Get-CMDevice")
                    .arg("Name", name.as_str())
                    .switch("Fast"),
            );
        }
        let out = kit::run(ctx, site_connection, &script).await?;
        let first = usize::from(n == 0);
        if n == 0 {
            let site = kit::value_of(site_connection, &script, &out, 0)?;
            site_version = kit::items(site)
                .first()
                .map(|s| kit::s(s, "Version").to_string())
                .filter(|v| !v.is_empty());
        }
        for id in first..script.calls.len() {
            let v = kit::value_of(site_connection, &script, &out, id)?;
            all.extend(kit::items(v).into_iter().cloned());
        }
    }
    Ok((Value::Array(all), site_version))
}

/// What a probe of `host` after an install says, as the target's attributes: [`observed`]
/// plus the version and health the target wants (the site's version read with `Get-CMSite`
/// when it wants the site's client).
///
/// # Errors
/// The failed `Get-CMSite` read, naming the site server.
pub(super) async fn after_apply(
    ctx: &Context,
    op: &cmdeploy_engine::provider::Operation,
    desired: &cmdeploy_engine::resource::Resource,
    state: &probe::ClientState,
    host: &str,
    internet_mp: bool,
) -> Result<Observed, RemoteError> {
    let mut o = observed(state, host, internet_mp);
    let code = kit::site_code(ctx, &desired.meta);
    let site_version = match (
        desired.attrs.get("client_version").and_then(Value::as_str),
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
        o.notes.extend(health::observe(
            Some(&desired.attrs),
            state.client_version.as_deref(),
            state.ccm_exec_running,
            &code,
            site_version.as_deref(),
            &mut o.attrs,
        ));
    }
    Ok(o)
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

/// Sets the version and health attributes to what the target wants (a difference nothing will
/// act on is a note, not a change).
fn settle(desired: Option<&Map<String, Value>>, attrs: &mut Map<String, Value>) {
    for k in ["client_version", "ccmexec_running"] {
        if let Some(v) = desired.and_then(|d| d.get(k)) {
            attrs.insert(k.into(), v.clone());
        }
    }
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
        .unwrap_or_else(|| {
            let host = r.address.key.clone().unwrap_or_default();
            Connection::new(format!("host:{host}"), json!({ "host": host }))
        })
}

/// The observed attributes of a probed host; `internet_mp` adds the internet management point
/// (internet-based clients only).
pub(super) fn observed(state: &probe::ClientState, host: &str, internet_mp: bool) -> Observed {
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
        private: Default::default(),
    }
}
