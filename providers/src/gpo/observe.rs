//! The read side of the `gpo` kind: which GPO, domain and link targets a request names, and the
//! observed GPO built from one batched Script's results (`Get-GPO`, `Get-GPRegistryValue` per
//! policy key, `Get-GPInheritance` per link target).

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use cmdeploy_engine::provider::{Observed, ReadOutcome, ReadRequest, RemoteError};
use cmdeploy_engine::resource::Connection;

use super::kind::BLOCKS;
use super::policy;
use crate::kit;
use crate::powershell::{Script, ScriptOutput};

pub(super) fn domain_of(r: &ReadRequest) -> String {
    kit::meta_of(r.desired.as_ref(), r.prior.as_ref())
        .get("domain")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

pub(super) fn gpo_name(r: &ReadRequest) -> String {
    r.desired
        .as_ref()
        .and_then(|d| d.str_attr("name").map(str::to_string))
        .or_else(|| {
            r.prior.as_ref().and_then(|p| {
                p.attributes
                    .get("name")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
        })
        .unwrap_or_default()
}

pub(super) fn link_targets(r: &ReadRequest) -> BTreeSet<String> {
    let mut t = BTreeSet::new();
    for attrs in [
        r.desired.as_ref().map(|d| &d.attrs),
        r.prior.as_ref().map(|p| &p.attributes),
    ]
    .into_iter()
    .flatten()
    {
        for l in attrs
            .get("links")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            t.insert(l.to_string());
        }
    }
    t
}

pub(super) fn observe(
    connection: &Connection,
    script: &Script,
    out: &ScriptOutput,
    name: &str,
    keys: &[usize],
    links: &[(String, usize)],
) -> ReadOutcome {
    let gpos = match kit::value_of(connection, script, out, 0) {
        Ok(v) => v,
        Err(e) => return ReadOutcome::Failed(e),
    };
    let Some(gpo) = kit::items(gpos)
        .into_iter()
        .find(|g| kit::s(g, "DisplayName").eq_ignore_ascii_case(name))
    else {
        return ReadOutcome::Absent;
    };
    let id = kit::s(gpo, "Id").to_string();
    // Registry values by key; a missing key is an error result, which means "no values".
    let mut values: Vec<(String, String, Value)> = Vec::new();
    for (key, &call) in policy::KEYS.iter().zip(keys) {
        if let Some(r) = out.get(call).filter(|r| r.ok) {
            for v in kit::items(&r.value) {
                // A row without one of these properties (or with an enum as a number) is an
                // error naming it, never a value read as "absent" or "in sync".
                let field = |prop: &str| {
                    kit::required_str(v, prop).map_err(|m| {
                        RemoteError::new(
                            connection.host(),
                            format!("Get-GPRegistryValue -Name '{name}' -Key '{key}': {m}"),
                        )
                    })
                };
                let (state, value_name, value_type) =
                    match (field("PolicyState"), field("ValueName"), field("Type")) {
                        (Ok(s), Ok(n), Ok(t)) => (s, n, t),
                        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                            return ReadOutcome::Failed(e)
                        }
                    };
                if state.eq_ignore_ascii_case("Delete") {
                    continue;
                }
                values.push((
                    key.to_string(),
                    value_name.to_string(),
                    policy::value(value_type, v.get("Value").cloned().unwrap_or(Value::Null)),
                ));
            }
        }
    }
    let mut attrs = Map::new();
    attrs.insert("name".into(), json!(kit::s(gpo, "DisplayName")));
    for block in BLOCKS {
        let mut m = Map::new();
        for value_name in policy::block_names(block) {
            let (key, leaf) = policy::location(block, value_name);
            if let Some((_, _, v)) = values
                .iter()
                .find(|(k, n, _)| k.eq_ignore_ascii_case(key) && n.eq_ignore_ascii_case(&leaf))
            {
                m.insert(value_name.to_string(), v.clone());
            }
        }
        if !m.is_empty() {
            attrs.insert(block.into(), Value::Object(m));
        }
    }
    let mut linked = Vec::new();
    for (target, call) in links {
        match kit::value_of(connection, script, out, *call) {
            Ok(v) => {
                let inheritance = kit::items(v)
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
            Err(e) => return ReadOutcome::Failed(e),
        }
    }
    attrs.insert("links".into(), kit::sorted(linked));
    ReadOutcome::Present(Observed {
        id,
        attrs,
        notes: Vec::new(),
        private: Default::default(),
    })
}
