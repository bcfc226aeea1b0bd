//! Loading a project: every `*.toml` in a directory, merged. `cmdeploy.toml` (or any file) holds
//! `[project]`, `[state]`, `[connection.NAME]` and `[variables]`; every other top-level table is a
//! resource kind whose sub-tables are resources, addressed `kind.name`.
//!
//! Loading never stops at the first problem: syntax errors, unknown kinds, invalid tables, unknown
//! references and cycles are all collected as [`Diagnostic`]s with file and span.

pub mod config;
pub mod schema;
pub mod template;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use toml::de::{DeTable, DeValue, ValueDeserializer};

pub use config::{BackendKind, ProjectConfig, ProjectSection, StateSection};

use crate::address::Address;
use crate::diagnostics::{did_you_mean, Diagnostic, Diagnostics, Loc, SourceFile};
use crate::graph::ResourceGraph;
use crate::provider::{DecodeInput, Registry};
use crate::resource::{Connection, ConnectionRef, Reference, Resource, ResourceSet};

/// Top-level tables that configure the project rather than declare resources.
pub const CONFIG_TABLES: [&str; 4] = ["project", "state", "connection", "variables"];

/// Meta-fields the engine handles for every kind.
pub const META_FIELDS: [&str; 3] = ["depends_on", "hosts", "hosts_file"];

/// A loaded, validated project.
#[derive(Debug, Clone)]
pub struct Project {
    /// The project directory.
    pub dir: PathBuf,
    /// Merged configuration.
    pub config: ProjectConfig,
    /// Desired resources.
    pub resources: Arc<ResourceSet>,
    /// Dependency graph of the resources.
    pub graph: ResourceGraph,
    /// The manifest files read.
    pub files: Vec<Arc<SourceFile>>,
    /// SHA-256 of the manifests (names and contents), recorded in saved plans.
    pub hash: String,
}

impl Project {
    /// The directory holding local state and the lab (`.cmdeploy` unless `[state] path` says).
    pub fn work_dir(&self) -> PathBuf {
        work_dir(&self.dir, &self.config)
    }
}

/// The work directory of a project.
pub fn work_dir(dir: &Path, config: &ProjectConfig) -> PathBuf {
    dir.join(
        config
            .state
            .path
            .clone()
            .unwrap_or_else(|| PathBuf::from(".cmdeploy")),
    )
}

struct Parsed {
    file: Arc<SourceFile>,
}

/// Loads and validates the project in `dir`.
///
/// Returns the project and its warnings, or every diagnostic when there is at least one error.
///
/// # Errors
/// All diagnostics (errors and warnings) when any error was found.
pub fn load(dir: &Path, registry: &Registry) -> Result<(Project, Diagnostics), Diagnostics> {
    let mut diags = Diagnostics::new();
    let files = read_files(dir, &mut diags)?;

    // Pass 1: configuration from every file (variables are needed to template resources).
    let mut config = ProjectConfig::default();
    let mut seen_config: BTreeMap<String, Loc> = BTreeMap::new();
    let mut parsed = Vec::new();
    for file in &files {
        let text: &str = file.text.as_str();
        let (root, errors) = DeTable::parse_recoverable(text);
        for e in errors {
            diags.push(
                Diagnostic::error("cmdeploy::toml::syntax", e.message().to_string())
                    .at_span(file, e.span().unwrap_or(0..0)),
            );
        }
        for (key, value) in root.get_ref().iter() {
            let key_name: &str = key.get_ref().as_ref();
            if !CONFIG_TABLES.contains(&key_name) {
                continue;
            }
            let loc = Loc {
                file: file.clone(),
                span: key.span(),
            };
            read_config_table(
                key_name,
                value.clone(),
                &loc,
                &mut config,
                &mut seen_config,
                &mut diags,
            );
        }
        parsed.push(Parsed { file: file.clone() });
    }
    if config.project.ignore.is_none() {
        config.project.ignore = Some(vec!["lab.toml".into()]);
    }

    // Pass 2: resources.
    let mut resources: BTreeMap<Address, Resource> = BTreeMap::new();
    let mut defined_at: BTreeMap<Address, Loc> = BTreeMap::new();
    // Resources whose table failed to decode: problems that follow from their absence are not
    // reported again.
    let mut failed: BTreeSet<Address> = BTreeSet::new();
    for p in &parsed {
        let file = &p.file;
        let text: &str = file.text.as_str();
        let (root, _) = DeTable::parse_recoverable(text);
        for (key, value) in root.into_inner() {
            let kind_name: String = key.get_ref().to_string();
            if CONFIG_TABLES.contains(&kind_name.as_str()) {
                continue;
            }
            let Some(kind) = registry.get(&kind_name) else {
                let mut d = Diagnostic::error(
                    "cmdeploy::manifest::unknown_kind",
                    format!("unknown resource kind `{kind_name}`"),
                )
                .at_span(file, key.span())
                .with_label("not a resource kind");
                let known: Vec<&str> = registry.names().chain(CONFIG_TABLES).collect();
                d = match did_you_mean(&kind_name, known.iter().copied()) {
                    Some(best) => d.with_help(format!("did you mean `{best}`?")),
                    None => d.with_help(format!(
                        "resource kinds are: {}",
                        registry.names().collect::<Vec<_>>().join(", ")
                    )),
                };
                diags.push(d);
                continue;
            };
            let span = value.span();
            let DeValue::Table(tables) = value.into_inner() else {
                diags.push(
                    Diagnostic::error(
                        "cmdeploy::manifest::shape",
                        format!("`{kind_name}` must be a table of resources, `[{kind_name}.NAME]`"),
                    )
                    .at_span(file, span),
                );
                continue;
            };
            for (name, table) in tables {
                let name_str = name.get_ref().to_string();
                let name_span = name.span();
                let header = Loc {
                    file: file.clone(),
                    span: name_span.clone(),
                };
                if !valid_name(&name_str) {
                    diags.push(
                        Diagnostic::error("cmdeploy::manifest::name", format!("`{name_str}` is not a valid resource name"))
                            .with_help("names use letters, digits, `_` and `-` and start with a letter or digit; the ConfigMgr display name goes in `name = \"...\"`")
                            .at(header.clone()),
                    );
                    continue;
                }
                let instances = match expand(
                    kind.expandable(),
                    &kind_name,
                    &name_str,
                    table,
                    file,
                    dir,
                    &config,
                    &mut diags,
                ) {
                    Some(i) => i,
                    None => continue,
                };
                for (address, table_value, depends_on) in instances {
                    if let Some(prev) = defined_at.get(&address) {
                        diags.push(
                            Diagnostic::error(
                                "cmdeploy::manifest::duplicate",
                                format!("{address} is defined twice"),
                            )
                            .with_help(format!("it is also defined at {}", prev.short()))
                            .at(header.clone()),
                        );
                        continue;
                    }
                    let input = DecodeInput {
                        address: address.clone(),
                        file,
                        span: table_value.span(),
                        table: ValueDeserializer::from(table_value),
                        variables: &config.variables,
                        project_dir: dir,
                    };
                    match kind.decode(input) {
                        Ok(decoded) => {
                            diags.extend(decoded.warnings);
                            let mut references = decoded.references;
                            references.extend(depends_on);
                            defined_at.insert(address.clone(), header.clone());
                            resources.insert(
                                address.clone(),
                                Resource {
                                    address,
                                    loc: header.clone(),
                                    attrs: decoded.attrs,
                                    attr_spans: decoded.attr_spans,
                                    secrets: decoded.secrets,
                                    references,
                                    connection: decoded.connection,
                                    read_connection: decoded.read_connection,
                                    additive: decoded.additive,
                                    force_new: decoded.force_new,
                                    natural_key: decoded.natural_key,
                                    meta: decoded.meta,
                                },
                            );
                        }
                        Err(errors) => {
                            defined_at.insert(address.clone(), header.clone());
                            failed.insert(address.clone());
                            diags.extend(errors);
                        }
                    }
                }
            }
        }
    }

    let mut set = ResourceSet::default();
    resolve_references(&mut resources, &defined_at, &mut diags);
    set.by_address = resources
        .into_iter()
        .map(|(a, r)| (a, Arc::new(r)))
        .collect();
    resolve_connections(&mut set, &config, &failed, &mut diags);
    if let Some(validate_connection) = registry.connection_validator() {
        for (name, (value, loc)) in &config.connections {
            for problem in validate_connection(value) {
                diags.push(
                    Diagnostic::error(
                        "cmdeploy::connection::invalid",
                        format!("connection `{name}`: {problem}"),
                    )
                    .at(loc.clone()),
                );
            }
        }
    }
    let graph = ResourceGraph::build(&set);
    if let Err(cycle) = graph.check_acyclic() {
        let first = set.get(&cycle[0]).map(|r| r.loc.clone());
        let names: Vec<String> = cycle.iter().map(ToString::to_string).collect();
        let mut d = Diagnostic::error(
            "cmdeploy::graph::cycle",
            format!("dependency cycle: {} -> {}", names.join(" -> "), names[0]),
        )
        .with_help("remove one of the references or `depends_on` entries in the cycle");
        if let Some(loc) = first {
            d = d.at(loc);
        }
        diags.push(d);
    }
    for kind in registry.kinds() {
        kind.validate(&set, &mut diags);
    }

    if diags.has_errors() {
        return Err(diags);
    }
    let hash = manifest_hash(&files);
    Ok((
        Project {
            dir: dir.to_path_buf(),
            config,
            resources: Arc::new(set),
            graph,
            files,
            hash,
        },
        diags,
    ))
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn read_files(dir: &Path, diags: &mut Diagnostics) -> Result<Vec<Arc<SourceFile>>, Diagnostics> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            diags.push(
                Diagnostic::error(
                    "cmdeploy::manifest::dir",
                    format!("cannot read project directory {}: {e}", dir.display()),
                )
                .with_help("pass the project directory with -C DIR"),
            );
            return Err(std::mem::take(diags));
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    // The ignore list lives in cmdeploy.toml; read it before deciding which files are manifests.
    let ignore = ignored_files(dir);
    let mut files = Vec::new();
    for path in paths {
        let fname = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if ignore.iter().any(|i| i == fname) {
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(text) => files.push(SourceFile::new(&path, text)),
            Err(e) => diags.push(Diagnostic::error(
                "cmdeploy::manifest::read",
                format!("cannot read {}: {e}", path.display()),
            )),
        }
    }
    if !files
        .iter()
        .any(|f| f.path.file_name().is_some_and(|n| n == "cmdeploy.toml"))
    {
        diags.push(
            Diagnostic::error("cmdeploy::manifest::no_project", format!("{} has no cmdeploy.toml", dir.display()))
                .with_help("a project is a directory with a cmdeploy.toml ([project], [state], [connection.NAME], [variables]) and resource files"),
        );
        return Err(std::mem::take(diags));
    }
    Ok(files)
}

fn ignored_files(dir: &Path) -> Vec<String> {
    #[derive(Deserialize)]
    struct Head {
        project: Option<ProjectSection>,
    }
    std::fs::read_to_string(dir.join("cmdeploy.toml"))
        .ok()
        .and_then(|t| {
            // Only the [project] table matters here; other tables are checked later.
            let table: toml::Table = toml::from_str(&t).ok()?;
            let head: Head = table.try_into().ok()?;
            head.project.and_then(|p| p.ignore)
        })
        .unwrap_or_else(|| vec!["lab.toml".into()])
}

fn read_config_table(
    key: &str,
    value: toml::Spanned<DeValue<'_>>,
    loc: &Loc,
    config: &mut ProjectConfig,
    seen: &mut BTreeMap<String, Loc>,
    diags: &mut Diagnostics,
) {
    let file = &loc.file;
    let span = value.span();
    match key {
        "project" | "state" => {
            if let Some(prev) = seen.get(key) {
                diags.push(
                    Diagnostic::error(
                        "cmdeploy::manifest::duplicate",
                        format!("[{key}] is defined twice"),
                    )
                    .with_help(format!("it is also defined at {}", prev.short()))
                    .at(loc.clone()),
                );
                return;
            }
            seen.insert(key.into(), loc.clone());
            let de = ValueDeserializer::from(value);
            let result = if key == "project" {
                ProjectSection::deserialize(de).map(|p| config.project = p)
            } else {
                StateSection::deserialize(de).map(|s| config.state = s)
            };
            if let Err(e) = result {
                diags.push(crate::provider::decode_error(file, span, e, key));
            }
        }
        "variables" => match Value::deserialize(ValueDeserializer::from(value)) {
            Ok(Value::Object(map)) => {
                for (k, v) in map {
                    config.variables.insert(k, v);
                }
            }
            Ok(_) => diags.push(
                Diagnostic::error("cmdeploy::manifest::shape", "[variables] must be a table")
                    .at_span(file, span),
            ),
            Err(e) => diags.push(crate::provider::decode_error(file, span, e, "variables")),
        },
        "connection" => {
            let DeValue::Table(table) = value.into_inner() else {
                diags.push(
                    Diagnostic::error(
                        "cmdeploy::manifest::shape",
                        "connections are tables: [connection.NAME]",
                    )
                    .at_span(file, span),
                );
                return;
            };
            for (name, conn) in table {
                let name_str = name.get_ref().to_string();
                let cloc = Loc {
                    file: file.clone(),
                    span: name.span(),
                };
                if config.connections.contains_key(&name_str) {
                    diags.push(
                        Diagnostic::error(
                            "cmdeploy::manifest::duplicate",
                            format!("connection `{name_str}` is defined twice"),
                        )
                        .at(cloc),
                    );
                    continue;
                }
                let cspan = conn.span();
                match Value::deserialize(ValueDeserializer::from(conn)) {
                    Ok(v @ Value::Object(_)) => {
                        config.connections.insert(name_str, (v, cloc));
                    }
                    Ok(_) => diags.push(
                        Diagnostic::error("cmdeploy::manifest::shape", "a connection is a table")
                            .at_span(file, cspan),
                    ),
                    Err(e) => {
                        diags.push(crate::provider::decode_error(file, cspan, e, "connection"))
                    }
                }
            }
        }
        _ => {}
    }
}

type Instance<'i> = (Address, toml::Spanned<DeValue<'i>>, Vec<Reference>);

#[allow(clippy::too_many_arguments)]
fn expand<'i>(
    expandable: bool,
    kind: &str,
    name: &str,
    table: toml::Spanned<DeValue<'i>>,
    file: &Arc<SourceFile>,
    dir: &Path,
    config: &ProjectConfig,
    diags: &mut Diagnostics,
) -> Option<Vec<Instance<'i>>> {
    let span = table.span();
    let DeValue::Table(mut map) = table.into_inner() else {
        diags.push(
            Diagnostic::error(
                "cmdeploy::manifest::shape",
                format!("`{kind}.{name}` must be a table"),
            )
            .at_span(file, span),
        );
        return None;
    };
    let depends_on = take_depends_on(&mut map, file, diags);
    let hosts = map.remove("hosts");
    let hosts_file = map.remove("hosts_file");
    let rebuilt = |m: DeTable<'i>| toml::Spanned::new(span.clone(), DeValue::Table(m));
    if !expandable {
        for (field, v) in [("hosts", &hosts), ("hosts_file", &hosts_file)] {
            if let Some(v) = v {
                diags.push(
                    Diagnostic::error(
                        "cmdeploy::manifest::not_expandable",
                        format!("`{kind}` resources do not take `{field}`"),
                    )
                    .with_help(
                        "only per-host kinds (client_group) expand into one instance per host",
                    )
                    .at_span(file, v.span()),
                );
            }
        }
        let mut instance = rebuilt(map);
        let ctx = template::context(&config.variables, name, None, None);
        let mut tdiags = Vec::new();
        template::render_in_place(&mut instance, &ctx, file, &mut tdiags);
        let failed = !tdiags.is_empty();
        diags.extend(tdiags);
        if failed {
            return None;
        }
        return Some(vec![(Address::new(kind, name), instance, depends_on)]);
    }
    let mut entries: Vec<template::HostEntry> = Vec::new();
    match (hosts, hosts_file) {
        (Some(h), None) => {
            let hspan = h.span();
            match h.into_inner() {
                DeValue::Array(items) => {
                    for item in items {
                        let ispan = item.span();
                        match item.get_ref().as_str() {
                            Some(s) if !s.trim().is_empty() => entries.push(template::HostEntry {
                                host: s.trim().to_string(),
                                row: None,
                                span: ispan,
                            }),
                            _ => diags.push(
                                Diagnostic::error(
                                    "cmdeploy::manifest::hosts",
                                    "each host is a non-empty string",
                                )
                                .at_span(file, ispan),
                            ),
                        }
                    }
                }
                _ => diags.push(
                    Diagnostic::error(
                        "cmdeploy::manifest::hosts",
                        "`hosts` is an array of host names",
                    )
                    .at_span(file, hspan),
                ),
            }
        }
        (None, Some(f)) => {
            let fspan = f.span();
            match f.get_ref().as_str() {
                Some(rel) => match template::read_hosts_file(&dir.join(rel)) {
                    Ok(rows) => {
                        entries.extend(rows.into_iter().map(|(host, row)| template::HostEntry {
                            host,
                            row: Some(row),
                            span: fspan.clone(),
                        }))
                    }
                    Err(msg) => diags.push(
                        Diagnostic::error("cmdeploy::manifest::hosts_file", msg)
                            .at_span(file, fspan),
                    ),
                },
                None => diags.push(
                    Diagnostic::error("cmdeploy::manifest::hosts_file", "`hosts_file` is a path")
                        .at_span(file, fspan),
                ),
            }
        }
        (Some(h), Some(_)) => {
            diags.push(
                Diagnostic::error(
                    "cmdeploy::manifest::hosts",
                    "give either `hosts` or `hosts_file`, not both",
                )
                .at_span(file, h.span()),
            );
            return None;
        }
        (None, None) => {
            diags.push(
                Diagnostic::error(
                    "cmdeploy::manifest::hosts",
                    format!(
                        "`{kind}.{name}` needs `hosts = [...]` or `hosts_file = \"hosts.csv\"`"
                    ),
                )
                .at_span(file, span),
            );
            return None;
        }
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for entry in entries {
        let key = entry.host.to_lowercase();
        if !seen.insert(key) {
            diags.push(
                Diagnostic::error(
                    "cmdeploy::manifest::duplicate",
                    format!("host `{}` is listed twice in {kind}.{name}", entry.host),
                )
                .at_span(file, entry.span.clone()),
            );
            continue;
        }
        let mut instance = rebuilt(map.clone());
        let ctx = template::context(
            &config.variables,
            name,
            Some(&entry.host),
            entry.row.as_ref(),
        );
        let mut tdiags = Vec::new();
        template::render_in_place(&mut instance, &ctx, file, &mut tdiags);
        if !tdiags.is_empty() {
            diags.extend(tdiags);
            continue;
        }
        out.push((
            Address::instance(kind, name, entry.host),
            instance,
            depends_on.clone(),
        ));
    }
    Some(out)
}

fn take_depends_on(
    map: &mut DeTable<'_>,
    file: &Arc<SourceFile>,
    diags: &mut Diagnostics,
) -> Vec<Reference> {
    let Some(v) = map.remove("depends_on") else {
        return Vec::new();
    };
    let span = v.span();
    let mut refs = Vec::new();
    match v.into_inner() {
        DeValue::Array(items) => {
            for item in items {
                let ispan = item.span();
                match item.get_ref().as_str().map(Address::parse) {
                    Some(Ok(target)) => refs.push(Reference {
                        target,
                        span: ispan,
                    }),
                    Some(Err(msg)) => diags.push(
                        Diagnostic::error("cmdeploy::reference::syntax", msg).at_span(file, ispan),
                    ),
                    None => diags.push(
                        Diagnostic::error(
                            "cmdeploy::reference::syntax",
                            "`depends_on` holds addresses such as \"boundary.hq\"",
                        )
                        .at_span(file, ispan),
                    ),
                }
            }
        }
        _ => diags.push(
            Diagnostic::error(
                "cmdeploy::reference::syntax",
                "`depends_on` is an array of addresses",
            )
            .at_span(file, span),
        ),
    }
    refs
}

fn resolve_references(
    resources: &mut BTreeMap<Address, Resource>,
    defined: &BTreeMap<Address, Loc>,
    diags: &mut Diagnostics,
) {
    let bases: BTreeMap<Address, Vec<Address>> =
        defined.keys().fold(BTreeMap::new(), |mut m, a| {
            m.entry(a.base()).or_default().push(a.clone());
            m
        });
    for resource in resources.values_mut() {
        let mut resolved = Vec::new();
        for r in std::mem::take(&mut resource.references) {
            if defined.contains_key(&r.target) {
                resolved.push(r);
            } else if let Some(instances) = bases.get(&r.target) {
                resolved.extend(instances.iter().map(|a| Reference {
                    target: a.clone(),
                    span: r.span.clone(),
                }));
            } else {
                let candidates: Vec<String> = defined
                    .keys()
                    .filter(|a| a.kind == r.target.kind)
                    .map(|a| a.name.clone())
                    .collect();
                let mut d = Diagnostic::error(
                    "cmdeploy::reference::unknown",
                    format!(
                        "{} refers to {}, which is not defined",
                        resource.address, r.target
                    ),
                )
                .with_label("unknown reference")
                .at_span(&resource.loc.file, r.span.clone());
                d = match did_you_mean(&r.target.name, candidates.iter().map(String::as_str)) {
                    Some(best) => {
                        d.with_help(format!("did you mean `{best}` ({}.{best})?", r.target.kind))
                    }
                    None if candidates.is_empty() => d.with_help(format!(
                        "define it as [{}.{}]",
                        r.target.kind, r.target.name
                    )),
                    None => d.with_help(format!(
                        "defined {} resources: {}",
                        r.target.kind,
                        candidates.join(", ")
                    )),
                };
                diags.push(d);
            }
        }
        resource.references = resolved;
    }
}

fn resolve_one(
    set: &ResourceSet,
    conn: &ConnectionRef,
    config: &ProjectConfig,
    depth: usize,
) -> Result<Connection, String> {
    match conn {
        ConnectionRef::Named(name) => config
            .connections
            .get(&name.value)
            .map(|(spec, _)| {
                let mut spec = spec.clone();
                if let Value::Object(m) = &mut spec {
                    m.entry("name").or_insert(Value::String(name.value.clone()));
                }
                Connection {
                    key: name.value.clone(),
                    spec,
                }
            })
            .ok_or_else(|| {
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
            }),
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
            Ok(Connection {
                key: format!("host:{host}"),
                spec,
            })
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
            resolve_one(set, &r.connection, config, depth + 1)
        }
        ConnectionRef::Local => Ok(Connection {
            key: "local".into(),
            spec: serde_json::json!({"transport": "local"}),
        }),
    }
}

fn resolve_connections(
    set: &mut ResourceSet,
    config: &ProjectConfig,
    failed: &BTreeSet<Address>,
    diags: &mut Diagnostics,
) {
    let mut apply = BTreeMap::new();
    let mut read = BTreeMap::new();
    let inherits_failed =
        |c: &ConnectionRef| matches!(c, ConnectionRef::Inherit(t) if failed.contains(t));
    for (address, r) in &set.by_address {
        if inherits_failed(&r.connection) || r.read_connection.as_ref().is_some_and(inherits_failed)
        {
            continue;
        }
        let conn_span = match &r.connection {
            ConnectionRef::Named(n) => n.span.clone(),
            _ => r.loc.span.clone(),
        };
        match resolve_one(set, &r.connection, config, 0) {
            Ok(c) => {
                let rc = match &r.read_connection {
                    Some(rc) => resolve_one(set, rc, config, 0),
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

fn manifest_hash(files: &[Arc<SourceFile>]) -> String {
    let mut h = Sha256::new();
    for f in files {
        let name = f.path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        h.update(name.as_bytes());
        h.update([0]);
        h.update(f.text.as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())
}
