//! The read side of the `gpo` kind: the calls that read one GPO (`Get-GPO -All`, then
//! `Get-GPRegistryValue` per policy key and `Get-GPInheritance` per link target) and the model
//! built from their values. A refresh reads every GPO of a connection in one Script; an apply puts
//! the same reads after its writes, in the same Script, to verify them.

use std::collections::BTreeSet;

use serde_json::Value;

use cmdeploy_engine::provider::{ReadOutcome, RemoteError};
use cmdeploy_engine::resource::Connection;

use super::model::GpoModel;
use super::policy::{self, Policy, PolicyValues, RegistryValue};
use crate::kit;
use crate::powershell::{Call, Script, ScriptOutput};
use crate::sdk;

/// `Get-GPO -All`: every GPO of the domain, read once per Script.
pub(super) fn list_call() -> Call {
    Call::new("Get-GPO").switch("All")
}

/// Where the values of one GPO's reads are among a Script's (or an operation's) calls.
pub(super) struct Layout {
    /// The GPO's display name as the manifest (or state) has it.
    pub name: String,
    /// The `Get-GPO -All` call.
    pub list: usize,
    /// One `Get-GPRegistryValue` per [`policy::KEYS`] entry, in that order.
    pub keys: Vec<usize>,
    /// One `Get-GPInheritance` per link target.
    pub links: Vec<(String, usize)>,
}

/// Appends the reads of GPO `name` linked (or to be linked) to `targets` after the `Get-GPO -All`
/// at `list`, and says where they are.
pub(super) fn push_reads(
    calls: &mut Vec<Call>,
    list: usize,
    name: &str,
    targets: BTreeSet<String>,
) -> Layout {
    let mut push = |c: Call| {
        calls.push(c);
        calls.len() - 1
    };
    // A key the GPO holds no value under makes Get-GPRegistryValue throw: that means "no values".
    let keys = policy::KEYS
        .iter()
        .map(|k| {
            push(
                Call::new("Get-GPRegistryValue")
                    .arg("Name", name)
                    .arg("Key", *k)
                    .absent_on_error(),
            )
        })
        .collect();
    let links = targets
        .into_iter()
        .map(|t| {
            let id = push(Call::new("Get-GPInheritance").arg("Target", t.as_str()));
            (t, id)
        })
        .collect();
    Layout {
        name: name.to_string(),
        list,
        keys,
        links,
    }
}

/// The GPO's ID and model from the values of its reads, `None` when `Get-GPO -All` does not list
/// it. `value(i)` is the value of call `i` (or its failure).
///
/// # Errors
/// A failed `Get-GPO` or `Get-GPInheritance`, or a registry row that lacks a property the read
/// needs (or carries an enum as Windows PowerShell 5.1's number), naming it: never a value read
/// as "absent" or "in sync". A failed `Get-GPRegistryValue` means the key holds no value.
pub(super) fn observe<'a>(
    host: &str,
    layout: &Layout,
    value: impl Fn(usize) -> Result<&'a Value, RemoteError>,
) -> Result<Option<(String, GpoModel)>, RemoteError> {
    let name = layout.name.as_str();
    let Some(gpo) = kit::items(value(layout.list)?)
        .into_iter()
        .find(|g| kit::s(g, "DisplayName").eq_ignore_ascii_case(name))
    else {
        return Ok(None);
    };
    let id = kit::s(gpo, "Id").to_string();
    // Registry values by key; a missing key is an error result, which means "no values".
    let mut values: Vec<(String, String, RegistryValue)> = Vec::new();
    for (key, &call) in policy::KEYS.iter().zip(&layout.keys) {
        let Ok(rows) = value(call) else {
            continue;
        };
        for v in kit::items(rows) {
            let field = |prop: &str| {
                kit::required_str(v, prop).map_err(|m| {
                    RemoteError::new(
                        host.to_string(),
                        format!("Get-GPRegistryValue -Name '{name}' -Key '{key}': {m}"),
                    )
                })
            };
            let state = field("PolicyState")?;
            let value_name = field("ValueName")?;
            let value_type = field("Type")?;
            if state.eq_ignore_ascii_case("Delete") {
                continue;
            }
            values.push((
                key.to_string(),
                value_name.to_string(),
                RegistryValue {
                    kind: value_type.to_string(),
                    value: v.get("Value").cloned().unwrap_or(Value::Null),
                },
            ));
        }
    }
    let mut model = GpoModel {
        name: kit::s(gpo, "DisplayName").to_string(),
        links: Vec::new(),
        client_deployment: None,
        site_assignment: None,
        windows_update: None,
    };
    for p in Policy::ALL {
        let mut m = PolicyValues::new();
        for value_name in p.value_names() {
            let (key, leaf) = p.location(value_name);
            if let Some((_, _, v)) = values
                .iter()
                .find(|(k, n, _)| k.eq_ignore_ascii_case(key) && n.eq_ignore_ascii_case(&leaf))
            {
                m.insert(value_name.to_string(), v.clone());
            }
        }
        if !m.is_empty() {
            *model.policy_mut(p) = Some(m);
        }
    }
    let mut linked = Vec::new();
    for (target, call) in &layout.links {
        let inheritance = kit::items(value(*call)?)
            .into_iter()
            .next()
            .cloned()
            .unwrap_or(Value::Null);
        if kit::items(inheritance.get("GpoLinks").unwrap_or(&Value::Null))
            .iter()
            .any(|l| kit::s(l, "GpoId").eq_ignore_ascii_case(&id))
        {
            linked.push(target.to_lowercase());
        }
    }
    linked.sort();
    linked.dedup();
    model.links = linked;
    Ok(Some((id, model)))
}

/// A refresh's outcome for one GPO from its Script's output.
pub(super) fn outcome(
    connection: &Connection,
    script: &Script,
    out: &ScriptOutput,
    layout: &Layout,
) -> ReadOutcome {
    match observe(&connection.host(), layout, |i| {
        kit::value_of(connection, script, out, i)
    }) {
        Ok(Some((id, model))) => ReadOutcome::Present(sdk::observed(id, &model)),
        Ok(None) => ReadOutcome::Absent,
        Err(e) => ReadOutcome::Failed(e),
    }
}
