//! Resolution after decoding: references to defined resources, and connections (named,
//! inline, inherited from another resource).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::ProjectConfig;
use crate::address::Address;
use crate::diagnostics::{did_you_mean, Diagnostic, Diagnostics, Loc};
use crate::resource::{Connection, ConnectionRef, Reference, Resource, ResourceSet};

/// True when `target` names, but for letter case, a resource whose table failed to decode: a
/// reference to it is a follow-on of that table's own diagnostic (e.g. `[site.abc]`, refused for
/// its lower-case site code, and the `site = "ABC"` references that already use the fix).
fn follows_failed(failed: &BTreeSet<Address>, target: &Address) -> bool {
    failed.iter().any(|f| {
        f.kind == target.kind && f.name.eq_ignore_ascii_case(&target.name) && f.key == target.key
    })
}

pub(super) fn resolve_references(
    resources: &mut BTreeMap<Address, Resource>,
    defined: &BTreeMap<Address, Loc>,
    failed: &BTreeSet<Address>,
    for_each_bases: &BTreeSet<Address>,
    refers_to_for_each: &mut BTreeMap<Address, BTreeSet<Address>>,
    diags: &mut Diagnostics,
) {
    let bases: BTreeMap<Address, Vec<Address>> =
        defined.keys().fold(BTreeMap::new(), |mut m, a| {
            m.entry(a.base()).or_default().push(a.clone());
            m
        });
    // Names per kind, built once: unknown references look here (a scan of every defined resource
    // per unknown reference made 20,000 of them take seconds).
    let names: BTreeMap<&str, Vec<&str>> = defined.keys().fold(BTreeMap::new(), |mut m, a| {
        m.entry(a.kind.as_str()).or_default().push(a.name.as_str());
        m
    });
    for resource in resources.values_mut() {
        // Sized for the references as written (a boundary has one, its site): a vector grown
        // from empty holds four, 264 bytes left unused in each of 60,000 boundaries.
        let mut resolved = Vec::with_capacity(resource.references.len());
        for r in std::mem::take(&mut resource.references) {
            if defined.contains_key(&r.target) {
                resolved.push(r);
            } else if let Some(instances) = bases.get(&r.target) {
                resolved.extend(instances.iter().map(|a| Reference {
                    target: a.clone(),
                    span: r.span.clone(),
                }));
            } else if for_each_bases.contains(&r.target) {
                // A `for_each` table whose data source has no item (or was not read: `validate`
                // checks the table against samples and declares no instance).
                refers_to_for_each
                    .entry(r.target.clone())
                    .or_default()
                    .insert(resource.address.clone());
            } else if follows_failed(failed, &r.target) {
                // Reported at the failed table.
            } else {
                let candidates: &[&str] =
                    names.get(r.target.kind.as_str()).map_or(&[], Vec::as_slice);
                let mut d = Diagnostic::error(
                    "cmdeploy::reference::unknown",
                    format!(
                        "{} refers to {}, which is not defined",
                        resource.address, r.target
                    ),
                )
                .with_label("unknown reference")
                .at_span(&resource.loc.file, r.span.clone());
                let same_but_case = candidates
                    .iter()
                    .find(|c| c.eq_ignore_ascii_case(&r.target.name));
                d = match did_you_mean(&r.target.name, candidates.iter().copied()) {
                    _ if same_but_case.is_some() => {
                        let best = same_but_case.copied().unwrap_or_default();
                        d.with_help(format!(
                            "names are case-sensitive: write `{best}` ({}.{best})",
                            r.target.kind
                        ))
                    }
                    Some(best) => {
                        d.with_help(format!("did you mean `{best}` ({}.{best})?", r.target.kind))
                    }
                    None if candidates.is_empty() => d.with_help(format!(
                        "define it as [{}.{}]",
                        r.target.kind, r.target.name
                    )),
                    None if candidates.len() <= 10 => d.with_help(format!(
                        "defined {} resources: {}",
                        r.target.kind,
                        candidates.join(", ")
                    )),
                    None => d.with_help(format!(
                        "defined {} resources: {}, and {} more",
                        r.target.kind,
                        candidates[..10].join(", "),
                        candidates.len() - 10
                    )),
                };
                diags.push(d);
            }
        }
        resolved.shrink_to_fit();
        resource.references = resolved;
    }
}

/// The resolution of one connection reference on its own (a data source's, `Project::connection`).
pub(super) fn resolve_one(
    set: &ResourceSet,
    conn: &ConnectionRef,
    config: &ProjectConfig,
    depth: usize,
) -> Result<Connection, String> {
    Resolver::new(config).resolve(set, conn, depth)
}

/// Resolves connection references, each named connection built once: the resources on a named
/// connection share its settings (one [`std::sync::Arc`]) instead of each holding a copy.
struct Resolver<'a> {
    config: &'a ProjectConfig,
    /// `[connection.NAME]` tables as resources see them (with `name` filled in).
    named: BTreeMap<&'a str, Connection>,
    /// The connection of resources without a remote side.
    local: Connection,
}

impl<'a> Resolver<'a> {
    fn new(config: &'a ProjectConfig) -> Resolver<'a> {
        let named = config
            .connections
            .iter()
            .map(|(name, (spec, _))| {
                let mut spec = spec.clone();
                if let Value::Object(m) = &mut spec {
                    m.entry("name").or_insert(Value::String(name.clone()));
                }
                (name.as_str(), Connection::new(name.clone(), spec))
            })
            .collect();
        Resolver {
            config,
            named,
            local: Connection::new("local", serde_json::json!({"transport": "local"})),
        }
    }

    fn resolve(
        &self,
        set: &ResourceSet,
        conn: &ConnectionRef,
        depth: usize,
    ) -> Result<Connection, String> {
        let config = self.config;
        match conn {
            ConnectionRef::Named(name) => {
                self.named.get(name.value.as_str()).cloned().ok_or_else(|| {
                    let names: Vec<&str> = config.connections.keys().map(String::as_str).collect();
                    match did_you_mean(&name.value, names.iter().copied()) {
                        Some(best) => format!(
                            "unknown connection `{}`; did you mean `{best}`?",
                            name.value
                        ),
                        None => format!(
                            "unknown connection `{}`; define [connection.{}] in cmdeploy.toml",
                            name.value, name.value
                        ),
                    }
                })
            }
            ConnectionRef::Inline(spec) => {
                let mut spec = spec.clone();
                // `base = "NAME"` fills fields the inline table leaves out from a named connection.
                if let Some(base) = spec.get("base").and_then(Value::as_str).map(str::to_string) {
                    let (base_spec, _) = config.connections.get(&base).ok_or_else(|| {
                        format!("inline connection has unknown base connection `{base}`")
                    })?;
                    if let (Value::Object(m), Value::Object(b)) = (&mut spec, base_spec) {
                        for (k, v) in b {
                            m.entry(k.clone()).or_insert(v.clone());
                        }
                        m.remove("base");
                    }
                }
                let host = spec
                    .get("host")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_lowercase();
                if host.is_empty() {
                    return Err("an inline connection needs `host`".into());
                }
                Ok(Connection::new(format!("host:{host}"), spec))
            }
            ConnectionRef::Inherit(target) => {
                if depth > 8 {
                    return Err(format!(
                        "connection inheritance through {target} is too deep"
                    ));
                }
                let r = set
                    .get(target)
                    .ok_or_else(|| format!("{target} (whose connection is used) is not defined"))?;
                self.resolve(set, &r.connection, depth + 1)
            }
            ConnectionRef::Local => Ok(self.local.clone()),
        }
    }
}

pub(super) fn resolve_connections(
    set: &mut ResourceSet,
    config: &ProjectConfig,
    failed: &BTreeSet<Address>,
    diags: &mut Diagnostics,
) {
    let resolver = Resolver::new(config);
    let mut apply = BTreeMap::new();
    let mut read = BTreeMap::new();
    let inherits_failed =
        |c: &ConnectionRef| matches!(c, ConnectionRef::Inherit(t) if follows_failed(failed, t));
    for (address, r) in &set.by_address {
        if inherits_failed(&r.connection) || r.read_connection.as_ref().is_some_and(inherits_failed)
        {
            continue;
        }
        let conn_span = match &r.connection {
            ConnectionRef::Named(n) => n.span.clone(),
            _ => r.loc.span.clone(),
        };
        match resolver.resolve(set, &r.connection, 0) {
            Ok(c) => {
                let rc = match &r.read_connection {
                    Some(rc) => resolver.resolve(set, rc, 0),
                    None => Ok(c.clone()),
                };
                match rc {
                    Ok(rc) => {
                        read.insert(address.clone(), rc);
                    }
                    Err(msg) => diags.push(
                        Diagnostic::error("cmdeploy::connection::unknown", msg)
                            .at_span(&r.loc.file, conn_span.clone()),
                    ),
                }
                apply.insert(address.clone(), c);
            }
            Err(msg) => diags.push(
                Diagnostic::error("cmdeploy::connection::unknown", format!("{address}: {msg}"))
                    .at_span(&r.loc.file, conn_span),
            ),
        }
    }
    set.connections = apply;
    set.read_connections = read;
}
