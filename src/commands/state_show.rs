//! `cmdeploy state show ADDRESS`: one state entry for people (attributes aligned, nested values
//! as TOML-like inline tables), or as JSON with `--json`; an unknown address names the nearest
//! ones in state.

use std::fmt::Write;

use serde_json::Value;

use cmdeploy_engine::state::{State, StateEntry};

use crate::Failure;

/// The entry of `address`, or a message naming the addresses closest to it.
///
/// # Errors
/// [`Failure::Message`] when `address` is not in state.
pub fn entry<'s>(state: &'s State, address: &str) -> Result<&'s StateEntry, Failure> {
    state
        .resources
        .get(address)
        .ok_or_else(|| Failure::Message(not_in_state(state, address)))
}

/// "X is not in state", with a did-you-mean (or the count of entries when nothing is close).
pub fn not_in_state(state: &State, address: &str) -> String {
    match nearest(state, address) {
        Some(best) => format!("{address} is not in state; did you mean `{best}`?"),
        None if state.resources.is_empty() => {
            format!("{address} is not in state: the state is empty (nothing applied yet)")
        }
        None => format!(
            "{address} is not in state ({} entries; `cmdeploy state list` lists them)",
            state.resources.len()
        ),
    }
}

/// The address in state closest to `address`: among those of its kind by name (a shared
/// `kind.` prefix would make every address of the kind look close), else among all.
fn nearest<'s>(state: &'s State, address: &str) -> Option<&'s str> {
    use cmdeploy_engine::diagnostics::did_you_mean;
    let keys = || state.resources.keys().map(String::as_str);
    let Some((kind, name)) = address.split_once('.') else {
        return did_you_mean(address, keys());
    };
    let prefix = format!("{kind}.");
    let same_kind: Vec<&str> = keys().filter(|k| k.starts_with(&prefix)).collect();
    if same_kind.is_empty() {
        return did_you_mean(address, keys());
    }
    let best = did_you_mean(name, same_kind.iter().map(|k| &k[prefix.len()..]))?;
    same_kind.into_iter().find(|k| &k[prefix.len()..] == best)
}

/// Renders an entry for people, shaped like Terraform's `state show`.
pub fn render(address: &str, e: &StateEntry) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {address}:");
    let _ = writeln!(out, "{} {{", e.kind);
    let mut rows: Vec<(String, String)> = vec![("id".into(), show(&Value::String(e.id.clone())))];
    rows.extend(
        e.attributes
            .iter()
            .filter(|(_, v)| v.as_object().is_none_or(|m| m.is_empty()))
            .map(|(k, v)| (k.clone(), show(v))),
    );
    rows.extend(
        e.secret_fingerprints
            .keys()
            .map(|k| (k.clone(), "(sensitive)".to_string())),
    );
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in &rows {
        let _ = writeln!(out, "    {k:<width$} = {v}");
    }
    // Objects (a GPO's policies, a site's fallback status point) one member a line.
    for (k, v) in e.attributes.iter() {
        let Value::Object(map) = v else { continue };
        if map.is_empty() {
            continue;
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "    {k} {{");
        let inner = map.keys().map(String::len).max().unwrap_or(0);
        for (name, value) in map {
            let _ = writeln!(out, "        {name:<inner$} = {}", show(value));
        }
        let _ = writeln!(out, "    }}");
    }
    let _ = writeln!(out, "}}");
    let _ = writeln!(out);
    if !e.natural_key.is_empty() {
        let _ = writeln!(out, "natural key: {}", e.natural_key);
    }
    if !e.depends_on.is_empty() {
        let _ = writeln!(out, "depends on:  {}", e.depends_on.join(", "));
    }
    let _ = writeln!(out, "written via: {}", e.connection.host());
    if e.read_connection != e.connection {
        let _ = writeln!(out, "read via:    {}", e.read_connection.host());
    }
    let _ = writeln!(out, "updated at:  {}", e.updated_at);
    out
}

/// A value as a reader expects it: strings quoted, objects as `{ k = v, ... }`.
fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(show).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) if map.is_empty() => "{}".into(),
        Value::Object(map) => format!(
            "{{ {} }}",
            map.iter()
                .map(|(k, v)| format!("{k} = {}", show(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}
