//! Small helpers every kind uses: decoding typed tables into diagnostics, running a Script on a
//! connection and turning failed calls into errors that name host, cmdlet and message.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::Value;

use cmdeploy_engine::diagnostics::Diagnostic;
use cmdeploy_engine::provider::{decode_table, Context, DecodeInput, RemoteError};
use cmdeploy_engine::resource::{Attributes, Connection};
use cmdeploy_engine::Address;

use crate::powershell::{Call, Script, ScriptOutput, Target};
use crate::transport;

/// Deserializes a resource table into its typed struct.
///
/// # Errors
/// Every mistake in the table, each a diagnostic at its span (see [`decode_table`]).
pub fn decode_typed<T: DeserializeOwned>(
    input: DecodeInput<'_>,
    kind: &str,
) -> Result<T, Vec<Diagnostic>> {
    decode_table(input.file, input.span.clone(), input.table, kind)
}

/// Runs a script; transport failures become one error for the whole script.
///
/// On a domain controller every GroupPolicy call without `-Server` gets `-Server <the host the
/// session runs on>`: without it the module contacts the PDC emulator, which from a WinRM session
/// on another controller is a second hop with no network credentials (windows-runtime.md §6;
/// Get-GPRegistryValue.md, `-Server`).
///
/// # Errors
/// The transport failure.
pub async fn run(
    ctx: &Context,
    connection: &Connection,
    script: &Script,
) -> Result<ScriptOutput, RemoteError> {
    let routed = route_secondary_site(ctx, script);
    let script = routed.as_ref().unwrap_or(script);
    match pin_group_policy_server(script, &connection.host()) {
        Some(pinned) => transport::run(ctx, connection, &pinned).await,
        None => transport::run(ctx, connection, script).await,
    }
}

/// The script on the drive of the parent primary site when its target is a secondary site of
/// the manifests, or `None`. A secondary site has no SMS Provider ("Secondary sites don't support
/// the SMS Provider role", memdocs `configmgr/core/plan-design/hierarchy/
/// plan-for-the-sms-provider.md`); its settings are managed through the parent's provider, the
/// calls naming the secondary with `-SiteCode` (windows-runtime.md §7, **inferred** there).
pub fn route_secondary_site(ctx: &Context, script: &Script) -> Option<Script> {
    let Target::SiteServer { site_code } = &script.target else {
        return None;
    };
    let site = ctx.resources.of_kind("site").find(|s| {
        s.str_attr("code")
            .is_some_and(|c| c.eq_ignore_ascii_case(site_code))
    })?;
    if site.str_attr("type") != Some("secondary") {
        return None;
    }
    let parent = site.str_attr("parent")?.to_uppercase();
    let mut routed = script.clone();
    routed.target = Target::SiteServer { site_code: parent };
    Some(routed)
}

/// The script with `-Server <host>` on each GroupPolicy call (`*-GP*`) that names no server,
/// or `None` when nothing changes (not a domain controller script, or every call has one).
pub fn pin_group_policy_server(script: &Script, host: &str) -> Option<Script> {
    if !matches!(script.target, Target::DomainController { .. }) {
        return None;
    }
    let needs = |c: &Call| {
        c.cmdlet.to_ascii_lowercase().contains("-gp")
            && !c
                .args
                .keys()
                .any(|k| k.eq_ignore_ascii_case("Server") || k.eq_ignore_ascii_case("DC"))
    };
    if !script.calls.iter().any(needs) {
        return None;
    }
    let mut pinned = script.clone();
    for c in pinned.calls.iter_mut().filter(|c| needs(c)) {
        c.args
            .insert("Server".into(), Value::String(host.to_string()));
    }
    Some(pinned)
}

/// The value of call `id`, or an error naming host, cmdlet and the remote message.
///
/// # Errors
/// When the call failed or did not run.
pub fn value_of<'a>(
    connection: &Connection,
    script: &Script,
    out: &'a ScriptOutput,
    id: usize,
) -> Result<&'a Value, RemoteError> {
    let cmdlet = script.calls.get(id).map(|c| c.cmdlet.clone());
    match out.get(id) {
        Some(r) if r.ok => Ok(&r.value),
        Some(r) => Err(RemoteError {
            host: connection.host(),
            operation: cmdlet,
            message: r.error.clone().unwrap_or_else(|| "failed".into()),
            category: r.category.clone(),
            unreachable: None,
        }),
        None => Err(RemoteError {
            host: connection.host(),
            operation: cmdlet,
            message: "did not run (an earlier call in the script failed)".into(),
            category: None,
            unreachable: None,
        }),
    }
}

/// Runs a write script (stopping at the first failure) and checks every call succeeded.
///
/// # Errors
/// The first failed call.
pub async fn run_writes(
    ctx: &Context,
    connection: &Connection,
    target: Target,
    calls: Vec<Call>,
) -> Result<ScriptOutput, RemoteError> {
    if calls.is_empty() {
        return Ok(ScriptOutput {
            results: Vec::new(),
        });
    }
    let mut script = Script::new(target);
    script.stop_on_error = true;
    script.calls = calls;
    let out = run(ctx, connection, &script).await?;
    for id in 0..script.calls.len() {
        value_of(connection, &script, &out, id)?;
    }
    Ok(out)
}

/// The items of a cmdlet's output (the runner returns an array; tolerate a bare object).
pub fn items(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a
            .iter()
            .flat_map(|x| {
                if let Value::Array(inner) = x {
                    inner.iter().collect()
                } else {
                    vec![x]
                }
            })
            .collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

/// A string field of an object.
pub fn s<'a>(v: &'a Value, field: &str) -> &'a str {
    v.get(field).and_then(Value::as_str).unwrap_or("")
}

/// A string property that must be there: for reads whose absence would otherwise look like
/// "in sync".
///
/// # Errors
/// A message naming the property and saying what came instead (a number where Windows
/// PowerShell 5.1 serialised an enum, nothing, ...).
pub fn required_str<'a>(v: &'a Value, field: &str) -> Result<&'a str, String> {
    match v.get(field) {
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(format!(
            "property '{field}' is {other}, not a string (an enum serialised as a number?)"
        )),
        None => Err(format!("the result has no property '{field}'")),
    }
}

/// A numeric field of an object.
pub fn n(v: &Value, field: &str) -> i64 {
    v.get(field).and_then(Value::as_i64).unwrap_or(0)
}

/// An embedded property (`Props[]` of an SMS_SCI_Component) by name.
pub fn prop<'a>(component: &'a Value, name: &str) -> Option<&'a Value> {
    component
        .get("Props")
        .and_then(Value::as_array)?
        .iter()
        .find(|p| s(p, "PropertyName").eq_ignore_ascii_case(name))
}

/// An embedded property list (`PropLists[]`) by name.
pub fn prop_list(component: &Value, name: &str) -> Vec<String> {
    component
        .get("PropLists")
        .and_then(Value::as_array)
        .and_then(|ls| {
            ls.iter()
                .find(|l| s(l, "PropertyListName").eq_ignore_ascii_case(name))
        })
        .and_then(|l| l.get("Values"))
        .and_then(Value::as_array)
        .map(|vs| {
            vs.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The site code for a resource: the `code` of the site resource it names (its `meta.site`),
/// falling back to the site key.
pub fn site_code(ctx: &Context, meta: &Attributes) -> String {
    let key = meta.get("site").and_then(Value::as_str).unwrap_or("");
    ctx.resources
        .get(&Address::new("site", key))
        .and_then(|r| r.str_attr("code").map(str::to_string))
        .or_else(|| {
            meta.get("site_code")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_else(|| key.to_string())
        .to_uppercase()
}

/// `meta` of a request: the desired resource's, or the state entry's.
pub fn meta_of(
    desired: Option<&Arc<cmdeploy_engine::resource::Resource>>,
    prior: Option<&cmdeploy_engine::state::StateEntry>,
) -> Attributes {
    desired
        .map(|d| Attributes::clone(&d.meta))
        .or_else(|| prior.map(|p| p.meta.clone()))
        .unwrap_or_default()
}

/// A sorted, de-duplicated list of strings as a JSON array.
pub fn sorted(items: impl IntoIterator<Item = String>) -> Value {
    Value::Array(
        sorted_strings(items)
            .into_iter()
            .map(Value::String)
            .collect(),
    )
}

/// `items` sorted, without repeats.
pub fn sorted_strings(items: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = items.into_iter().collect();
    v.sort();
    v.dedup();
    v
}

/// The `DOMAIN\\user` name of the `account` resource `key` (or `key` itself when it is not one).
pub fn account_user(ctx: &Context, key: &str) -> String {
    ctx.resources
        .get(&Address::new("account", key))
        .and_then(|r| r.str_attr("user_name").map(str::to_string))
        .unwrap_or_else(|| key.to_string())
}

/// The key of the `account` resource whose user name is `user` (case-insensitive), or the user
/// name itself for accounts the manifest does not declare.
pub fn account_key(ctx: &Context, user: &str, site_code: &str) -> String {
    // The same user can be an account at several sites (a push account defined at a secondary
    // site and at its parent): prefer the resource of this site.
    let matches = |r: &&Arc<cmdeploy_engine::resource::Resource>| {
        r.str_attr("user_name")
            .is_some_and(|u| u.eq_ignore_ascii_case(user))
    };
    let at_site = |r: &&Arc<cmdeploy_engine::resource::Resource>| {
        site_code.is_empty() || self::site_code(ctx, &r.meta).eq_ignore_ascii_case(site_code)
    };
    ctx.resources
        .of_kind("account")
        .filter(matches)
        .find(at_site)
        .or_else(|| ctx.resources.of_kind("account").find(matches))
        .map(|r| r.address.name.clone())
        .unwrap_or_else(|| user.to_string())
}

/// Turns CCMSetup findings into diagnostics, each at the span `locate` gives it (the value it
/// concerns: see [`crate::ccmsetup_spans`]), split into (errors, warnings).
pub fn finding_diagnostics(
    findings: Vec<crate::ccmsetup::Finding>,
    file: &Arc<cmdeploy_engine::diagnostics::SourceFile>,
    locate: impl Fn(&crate::ccmsetup::Finding) -> std::ops::Range<usize>,
    prefix: &str,
) -> (Vec<Diagnostic>, Vec<Diagnostic>) {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    for f in findings {
        let message = format!("{prefix}{}", f.message);
        let span = locate(&f);
        let mut d = if f.is_error() {
            Diagnostic::error(f.code, message)
        } else {
            Diagnostic::warning(f.code, message)
        }
        .at_span(file, span);
        if let Some(h) = f.help {
            d = d.with_help(h);
        }
        if d.is_error() {
            errors.push(d);
        } else {
            warnings.push(d);
        }
    }
    (errors, warnings)
}

/// The connection of a batch of read requests (they share one) and an empty Script for the site
/// server of the first one, or `None` for an empty batch.
pub fn site_read_script(
    ctx: &Context,
    requests: &[cmdeploy_engine::provider::ReadRequest],
) -> Option<(Connection, Script)> {
    let first = requests.first()?;
    let code = site_code(ctx, &meta_of(first.desired.as_ref(), first.prior.as_ref()));
    Some((
        first.connection.clone(),
        Script::new(Target::SiteServer { site_code: code }),
    ))
}

/// The batched read most site-side kinds share: one Script on the requests' connection, `build`
/// pushes each request's calls (given its site code) and returns their ids, `observe` turns the
/// output of those calls into `Some(Observed)` or `None` (absent). A transport failure fails every
/// request; a failed call fails only its own request.
pub async fn read_by_site<T>(
    ctx: &Context,
    requests: Vec<cmdeploy_engine::provider::ReadRequest>,
    build: impl Fn(&mut Script, &str, &cmdeploy_engine::provider::ReadRequest) -> T,
    observe: impl Fn(
        &Connection,
        &Script,
        &ScriptOutput,
        &T,
        &cmdeploy_engine::provider::ReadRequest,
    ) -> Result<Option<cmdeploy_engine::provider::Observed>, RemoteError>,
) -> Vec<cmdeploy_engine::provider::ReadResult> {
    use cmdeploy_engine::provider::{ReadOutcome, ReadResult};
    let Some(connection) = requests.first().map(|r| r.connection.clone()) else {
        return Vec::new();
    };
    let codes: Vec<String> = requests
        .iter()
        .map(|r| site_code(ctx, &meta_of(r.desired.as_ref(), r.prior.as_ref())))
        .collect();
    let mut script = Script::new(Target::SiteServer {
        site_code: codes[0].clone(),
    });
    let ids: Vec<T> = requests
        .iter()
        .zip(&codes)
        .map(|(r, c)| build(&mut script, c, r))
        .collect();
    let out = run(ctx, &connection, &script).await;
    requests
        .into_iter()
        .zip(ids)
        .map(|(r, id)| {
            let outcome = match &out {
                Err(e) => ReadOutcome::Failed(e.clone()),
                Ok(out) => match observe(&connection, &script, out, &id, &r) {
                    Ok(Some(o)) => ReadOutcome::Present(o),
                    Ok(None) => ReadOutcome::Absent,
                    Err(e) => ReadOutcome::Failed(e),
                },
            };
            ReadResult {
                address: r.address,
                outcome,
            }
        })
        .collect()
}

/// The resources of `kind` whose resolved connection is `connection` (same key): the objects a
/// connection already manages, which tell what it is (a site server, a domain controller).
pub fn resources_on<'a>(
    ctx: &'a Context,
    kind: &'a str,
    connection: &'a Connection,
) -> impl Iterator<Item = &'a Arc<cmdeploy_engine::resource::Resource>> + 'a {
    ctx.resources.of_kind(kind).filter(move |r| {
        ctx.resources
            .connections
            .get(&r.address)
            .is_some_and(|c| c.key == connection.key)
    })
}
