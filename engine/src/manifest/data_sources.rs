//! `[data.KIND.NAME]` tables: decoded by their data kind before the resource tables (whose
//! `for_each` names them), their connections resolved with the resources'.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use toml::de::DeValue;

use super::{resolve, template, Parsed, ProjectConfig};
use crate::address::Address;
use crate::data::{self, DataSource, DecodedSource};
use crate::diagnostics::{did_you_mean, Diagnostic, Diagnostics, Loc};
use crate::provider::DecodeInput;
use crate::registry::Registry;
use crate::resource::ResourceSet;

/// A data source decoded, its connection not yet resolved.
pub(super) struct Declared {
    pub kind: String,
    pub name: String,
    pub loc: Loc,
    pub decoded: DecodedSource,
}

/// Decodes every `[data.KIND.NAME]` table of every file, reporting unknown kinds, invalid names,
/// names defined twice, and the kinds' own diagnostics.
/// Also returns the references of the sources that failed to decode.
pub(super) fn decode(
    parsed: &[Parsed<'_>],
    registry: &Registry,
    config: &ProjectConfig,
    dir: &Path,
    diags: &mut Diagnostics,
) -> (Vec<Declared>, BTreeSet<String>) {
    let mut failed = BTreeSet::new();
    let mut out: Vec<Declared> = Vec::new();
    let mut seen: BTreeMap<String, Loc> = BTreeMap::new();
    for p in parsed {
        let file = &p.file;
        for (key, value) in p.root.get_ref().iter() {
            if key.get_ref().as_ref() as &str != data::TABLE {
                continue;
            }
            let DeValue::Table(kinds) = value.get_ref() else {
                diags.push(
                    Diagnostic::error(
                        "cmdeploy::manifest::shape",
                        "`data` is a table of data sources, `[data.KIND.NAME]`",
                    )
                    .at_span(file, value.span()),
                );
                continue;
            };
            for (kind_key, sources) in kinds.iter() {
                let kind_name: &str = kind_key.get_ref().as_ref();
                let Some(kind) = registry.data_kind(kind_name) else {
                    let known: Vec<&str> = registry.data_kinds().keys().copied().collect();
                    let help = match did_you_mean(kind_name, known.iter().copied()) {
                        Some(best) => format!("did you mean `{best}`?"),
                        None => format!("data source kinds are: {}", known.join(", ")),
                    };
                    diags.push(
                        Diagnostic::error(
                            "cmdeploy::data::unknown_kind",
                            format!("unknown data source kind `{kind_name}`"),
                        )
                        .with_help(help)
                        .with_label("not a data source kind")
                        .at_span(file, kind_key.span()),
                    );
                    continue;
                };
                let DeValue::Table(tables) = sources.get_ref() else {
                    diags.push(
                        Diagnostic::error(
                            "cmdeploy::manifest::shape",
                            format!("`data.{kind_name}` must be a table of sources, `[data.{kind_name}.NAME]`"),
                        )
                        .at_span(file, sources.span()),
                    );
                    continue;
                };
                for (name_key, table) in tables.iter() {
                    let name: &str = name_key.get_ref().as_ref();
                    let loc = Loc {
                        file: file.clone(),
                        span: name_key.span(),
                    };
                    if !super::valid_name(name) {
                        diags.push(
                            Diagnostic::error(
                                "cmdeploy::manifest::name",
                                format!("`{name}` is not a valid data source name"),
                            )
                            .with_help("names use letters, digits, `_` and `-` and start with a letter or digit")
                            .at(loc),
                        );
                        continue;
                    }
                    let reference = data::reference(kind_name, name);
                    if let Some(prev) = seen.get(&reference) {
                        diags.push(
                            Diagnostic::error(
                                "cmdeploy::manifest::duplicate",
                                format!("{reference} is defined twice"),
                            )
                            .with_help(format!("it is also defined at {}", prev.short()))
                            .at(loc),
                        );
                        continue;
                    }
                    seen.insert(reference.clone(), loc.clone());
                    let mut table = table.clone();
                    let ctx = template::context(&config.variables, name, None, None);
                    let mut tdiags = Vec::new();
                    template::render_in_place(&mut table, &ctx, file, &mut tdiags);
                    if !tdiags.is_empty() {
                        diags.extend(tdiags);
                        failed.insert(reference);
                        continue;
                    }
                    let input = DecodeInput {
                        address: Address::new(kind_name, name),
                        file,
                        span: table.span(),
                        table,
                        variables: &config.variables,
                        project_dir: dir,
                    };
                    match kind.decode(input) {
                        Ok(decoded) => out.push(Declared {
                            kind: kind_name.to_string(),
                            name: name.to_string(),
                            loc,
                            decoded,
                        }),
                        Err(errors) => {
                            diags.extend(errors);
                            failed.insert(reference);
                        }
                    }
                }
            }
        }
    }
    (out, failed)
}

/// Resolves each source's connection as resources' are resolved.
pub(super) fn resolve(
    declared: Vec<Declared>,
    set: &ResourceSet,
    config: &ProjectConfig,
    diags: &mut Diagnostics,
) -> Vec<DataSource> {
    let mut out = Vec::new();
    for d in declared {
        match resolve::resolve_one(set, &d.decoded.connection, config, 0) {
            Ok(connection) => out.push(DataSource {
                kind: d.kind,
                name: d.name,
                loc: d.loc,
                settings: d.decoded.settings,
                connection,
            }),
            Err(message) => diags.push(
                Diagnostic::error(
                    "cmdeploy::connection::unknown",
                    format!("{}: {message}", data::reference(&d.kind, &d.name)),
                )
                .at(d.loc),
            ),
        }
    }
    out
}
