//! Loading a project: every `*.toml` in a directory, merged. `cmdeploy.toml` (or any file) holds
//! `[project]`, `[state]`, `[connection.NAME]` and `[variables]`; `[data.KIND.NAME]` tables declare
//! data sources (see [`crate::data`]); every other top-level table is a resource kind whose
//! sub-tables are resources, addressed `kind.name`.
//!
//! Loading never stops at the first problem: syntax errors, unknown kinds, invalid tables, unknown
//! references and cycles are all collected as [`Diagnostic`]s with file and span.

pub mod config;
mod data_sources;
mod expand;
mod files;
mod for_each;
mod resolve;
pub mod schema;
mod share;
pub mod template;
pub mod template_syntax;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use toml::de::{DeTable, DeValue};

pub use config::{
    BackendKind, MovedBlock, MovedSection, ProjectConfig, ProjectSection, StateSection,
};

use crate::address::Address;
use crate::diagnostics::{did_you_mean, Diagnostic, Diagnostics, Loc, SourceFile};
use crate::graph::ResourceGraph;
use crate::provider::DecodeInput;
use crate::registry::Registry;
use crate::resource::{Resource, ResourceSet};

/// Top-level tables that configure the project rather than declare resources.
pub const CONFIG_TABLES: [&str; 5] = ["project", "state", "connection", "variables", "moved"];

/// Meta-fields the engine handles for every kind.
pub const META_FIELDS: [&str; 4] = ["depends_on", "hosts", "hosts_file", "for_each"];

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
    /// SHA-256 of the manifests (names and contents) and of the data sources' items when they
    /// were read, recorded in saved plans.
    pub hash: String,
    /// The `[data.KIND.NAME]` sources, resolved.
    pub data_sources: Vec<crate::data::DataSource>,
    /// The resources expanded over a data source (`for_each`), with the source's
    /// `data.KIND.NAME`.
    pub for_each: BTreeMap<Address, String>,
    /// For each `for_each` resource that declared no instance (its source had no item, or was
    /// not read), the resources that refer to it: what they hold depends on items not known.
    pub refers_to_for_each: BTreeMap<Address, BTreeSet<Address>>,
}

impl Project {
    /// The directory holding local state and the lab (`.cmdeploy` unless `[state] path` says).
    pub fn work_dir(&self) -> PathBuf {
        work_dir(&self.dir, &self.config)
    }

    /// The named connection `[connection.NAME]`, resolved as resources see it.
    ///
    /// # Errors
    /// A message naming the unknown connection, with a "did you mean" when one is close.
    pub fn connection(&self, name: &str) -> Result<crate::resource::Connection, String> {
        let named = crate::resource::ConnectionRef::Named(crate::spanned::Spanned::detached(
            name.to_string(),
        ));
        resolve::resolve_one(&self.resources, &named, &self.config, 0)
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

/// A manifest file and its parsed TOML (with spans), parsed once for both passes.
struct Parsed<'t> {
    file: Arc<SourceFile>,
    root: toml::Spanned<DeTable<'t>>,
}

/// Loads only the project's configuration (`[project]`, `[state]`, `[connection]`,
/// `[variables]`) from the manifests in `dir`: what commands that do not need the resources
/// (`state list`, `state unlock`...) read, without decoding, expanding and validating them.
///
/// # Errors
/// All diagnostics when a file cannot be read or parsed, or a configuration table is invalid.
pub fn load_config(
    dir: &Path,
    registry: &Registry,
) -> Result<(ProjectConfig, Diagnostics), Diagnostics> {
    let mut diags = Diagnostics::new();
    let ignored = files::default_ignored(registry);
    let files = files::read_files(dir, &ignored, &mut diags)?;
    let (config, _) = read_config(&files, &ignored, &mut diags);
    if diags.has_errors() {
        return Err(diags);
    }
    Ok((config, diags))
}

/// Pass 1 of loading: parses every file once (the trees are kept for pass 2) and merges the
/// configuration tables.
fn read_config<'t>(
    files: &'t [Arc<SourceFile>],
    ignored: &[String],
    diags: &mut Diagnostics,
) -> (ProjectConfig, Vec<Parsed<'t>>) {
    let mut config = ProjectConfig::default();
    let mut seen_config: BTreeMap<String, Loc> = BTreeMap::new();
    let mut parsed = Vec::new();
    for file in files {
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
            files::read_config_table(
                key_name,
                value.clone(),
                &loc,
                &mut config,
                &mut seen_config,
                diags,
            );
        }
        parsed.push(Parsed {
            file: file.clone(),
            root,
        });
    }
    if config.project.ignore.is_none() {
        config.project.ignore = Some(ignored.to_vec());
    }

    (config, parsed)
}

/// Loads and validates the project in `dir`, offline: a `for_each` table is checked against its
/// data source's sample items and declares no instance (see [`crate::data`]).
///
/// Returns the project and its warnings, or every diagnostic when there is at least one error.
///
/// # Errors
/// All diagnostics (errors and warnings) when any error was found.
pub fn load(dir: &Path, registry: &Registry) -> Result<(Project, Diagnostics), Diagnostics> {
    load_with(dir, registry, None)
}

/// [`load`], with the items read from the project's data sources when `items` is given: each
/// `for_each` table then declares one instance per item.
///
/// # Errors
/// All diagnostics (errors and warnings) when any error was found.
pub fn load_with(
    dir: &Path,
    registry: &Registry,
    items: Option<&crate::data::DataItems>,
) -> Result<(Project, Diagnostics), Diagnostics> {
    let mut diags = Diagnostics::new();
    let ignored = files::default_ignored(registry);
    let files = files::read_files(dir, &ignored, &mut diags)?;

    // Pass 1: configuration from every file (variables are needed to template resources).
    let (mut config, parsed) = read_config(&files, &ignored, &mut diags);
    // Then the data sources, which `for_each` tables of any file name.
    let (declared, failed_sources) =
        data_sources::decode(&parsed, registry, &config, dir, &mut diags);
    let samples: BTreeMap<String, Vec<crate::data::Item>> = declared
        .iter()
        .filter_map(|d| {
            registry
                .data_kind(&d.kind)
                .map(|k| (crate::data::reference(&d.kind, &d.name), k.sample()))
        })
        .collect();
    let sources = for_each::Sources {
        items: match items {
            Some(read) => declared
                .iter()
                .map(|d| {
                    let r = crate::data::reference(&d.kind, &d.name);
                    let found = read.get(&r).map_or(&[][..], Vec::as_slice);
                    (r, found)
                })
                .collect(),
            None => samples
                .iter()
                .map(|(r, i)| (r.clone(), i.as_slice()))
                .collect(),
        },
        read: items.is_some(),
        failed: failed_sources,
    };
    let mut for_each_bases: BTreeSet<Address> = BTreeSet::new();
    let mut for_each_sources: BTreeMap<Address, String> = BTreeMap::new();

    // Pass 2: resources.
    let mut resources: BTreeMap<Address, Resource> = BTreeMap::new();
    let mut defined_at: BTreeMap<Address, Loc> = BTreeMap::new();
    // Resources whose table failed to decode: problems that follow from their absence are not
    // reported again.
    let mut failed: BTreeSet<Address> = BTreeSet::new();
    let mut shared = share::Shared::default();
    let mut spans = share::Shared::default();
    for p in parsed {
        let file = &p.file;
        for (key, value) in p.root.into_inner() {
            let kind_name: String = key.get_ref().to_string();
            if kind_name == "moved" {
                files::read_moved(value, file, &mut config, &mut diags);
                continue;
            }
            if CONFIG_TABLES.contains(&kind_name.as_str()) || kind_name == crate::data::TABLE {
                continue;
            }
            let Some(kind) = registry.get(&kind_name) else {
                let mut d = Diagnostic::error(
                    "cmdeploy::manifest::unknown_kind",
                    format!("unknown resource kind `{kind_name}`"),
                )
                .at_span(file, key.span())
                .with_label("not a resource kind");
                let known: Vec<&str> = registry
                    .names()
                    .chain(CONFIG_TABLES)
                    .chain([crate::data::TABLE])
                    .collect();
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
            for (name, mut table) in tables {
                let name_str = name.get_ref().to_string();
                let name_span = name.span();
                let header = Loc {
                    file: file.clone(),
                    span: name_span.clone(),
                };
                if !valid_name(&name_str) {
                    diags.push(
                        Diagnostic::error("cmdeploy::manifest::name", format!("`{name_str}` is not a valid resource name"))
                            .with_help("names use letters, digits, `_` and `-` and start with a letter or digit; an object's display name goes in `name = \"...\"`")
                            .at(header.clone()),
                    );
                    continue;
                }
                let over = for_each::take(&mut table);
                let declare = over.is_none() || sources.read;
                if let Some(over) = &over {
                    for_each_bases.insert(Address::new(&kind_name, &name_str));
                    if let Some(reference) = over.get_ref().as_str() {
                        for_each_sources.insert(
                            Address::new(&kind_name, &name_str),
                            reference.trim().to_string(),
                        );
                    }
                }
                let instances = match over {
                    Some(over) => for_each::expand(
                        &kind_name, &name_str, table, over, file, &config, &sources, &mut diags,
                    ),
                    None => expand::expand(
                        kind.expandable(),
                        &kind_name,
                        &name_str,
                        table,
                        file,
                        dir,
                        &config,
                        &mut diags,
                    ),
                };
                let Some(instances) = instances else {
                    continue;
                };
                for (address, table_value, depends_on) in instances {
                    if !declare {
                        // A sample item: the table is checked, nothing is declared.
                        let input = DecodeInput {
                            address: address.clone(),
                            file,
                            span: table_value.span(),
                            table: table_value,
                            variables: &config.variables,
                            project_dir: dir,
                        };
                        if let Err(errors) = kind.decode(input) {
                            diags.extend(errors);
                        }
                        continue;
                    }
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
                        table: table_value,
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
                                    attrs: shared.share(decoded.attrs),
                                    attr_spans: spans.share(decoded.attr_spans),
                                    secrets: decoded.secrets,
                                    references,
                                    connection: decoded.connection,
                                    read_connection: decoded.read_connection,
                                    additive: decoded.additive,
                                    force_new: decoded.force_new,
                                    natural_key: decoded.natural_key,
                                    meta: shared.share(decoded.meta),
                                    private: shared.share(decoded.private),
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
    let mut refers_to_for_each = BTreeMap::new();
    resolve::resolve_references(
        &mut resources,
        &defined_at,
        &failed,
        &for_each_bases,
        &mut refers_to_for_each,
        &mut diags,
    );
    let mut expanded: BTreeMap<Address, Vec<Address>> = for_each_bases
        .iter()
        .map(|b| (b.clone(), Vec::new()))
        .collect();
    for a in resources.keys().filter(|a| a.key.is_some()) {
        expanded.entry(a.base()).or_default().push(a.clone());
    }
    for r in resources.values_mut() {
        if let Some(kind) = registry.get(&r.address.kind) {
            kind.instances_resolved(r, &expanded);
        }
    }
    set.by_address = resources
        .into_iter()
        .map(|(a, r)| (a, Arc::new(r)))
        .collect();
    resolve::resolve_connections(&mut set, &config, &failed, &mut diags);
    let data_sources = data_sources::resolve(declared, &set, &config, &mut diags);
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
    check_moves(&config, &set, &defined_at, registry, &mut diags);
    for kind in registry.kinds() {
        kind.validate(&set, &mut diags);
    }

    if diags.has_errors() {
        return Err(diags);
    }
    let hash = match items {
        Some(read) => {
            let mut h = Sha256::new();
            h.update(manifest_hash(&files).as_bytes());
            h.update(serde_json::to_vec(read).unwrap_or_default());
            hex::encode(h.finalize())
        }
        None => manifest_hash(&files),
    };
    Ok((
        Project {
            dir: dir.to_path_buf(),
            config,
            resources: Arc::new(set),
            graph,
            files,
            hash,
            data_sources,
            for_each: for_each_sources,
            refers_to_for_each,
        },
        diags,
    ))
}

/// A `[[moved]]` table renames a state address to one the manifests declare: its `from` must no
/// longer be declared (both would be managed), and its `to` must be (else the moved object would
/// be destroyed at its new address).
fn check_moves(
    config: &ProjectConfig,
    set: &ResourceSet,
    defined_at: &BTreeMap<Address, Loc>,
    registry: &Registry,
    diags: &mut Diagnostics,
) {
    let declared = |a: &Address| {
        defined_at.contains_key(a)
            || (a.key.is_none() && defined_at.keys().any(|d| d.base() == *a))
            || set.by_address.contains_key(a)
    };
    for m in &config.moved {
        if registry.get(&m.from.kind).is_none() {
            diags.push(
                Diagnostic::error(
                    "cmdeploy::moved::invalid",
                    format!("unknown resource kind `{}`", m.from.kind),
                )
                .at(m.from_loc.clone()),
            );
            continue;
        }
        if declared(&m.from) {
            diags.push(
                Diagnostic::error(
                    "cmdeploy::moved::from_declared",
                    format!("`{}` is moved to `{}` but is still declared", m.from, m.to),
                )
                .with_help(format!(
                    "rename the table to `[{}.{}]`, or drop this [[moved]] table",
                    m.to.kind, m.to.name
                ))
                .at(m.from_loc.clone()),
            );
        }
        if !declared(&m.to) {
            let names = defined_at
                .keys()
                .filter(|a| a.kind == m.to.kind)
                .map(|a| a.name.as_str());
            let help = match did_you_mean(&m.to.name, names) {
                Some(best) => format!("did you mean `{}.{best}`?", m.to.kind),
                None => {
                    "declare it, or drop this [[moved]] table once the rename is applied everywhere"
                        .into()
                }
            };
            diags.push(
                Diagnostic::error(
                    "cmdeploy::moved::to_undeclared",
                    format!("`{}` is moved to `{}`, which is not declared", m.from, m.to),
                )
                .with_help(help)
                .at(m.to_loc.clone()),
            );
        }
    }
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
