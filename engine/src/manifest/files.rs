//! Reading a project directory: which files are manifests, and the configuration tables.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;
use toml::de::{DeValue, ValueDeserializer};

use super::{ProjectConfig, ProjectSection, StateSection};
use crate::diagnostics::{Diagnostic, Diagnostics, Loc, SourceFile};
use crate::registry::Registry;

/// The files that are not manifests unless `[project] ignore` says otherwise: those the program
/// registered, and the acknowledged drift.
pub(super) fn default_ignored(registry: &Registry) -> Vec<String> {
    let mut out = registry.ignored_files().to_vec();
    out.push("drift.ack.toml".into());
    out
}

pub(super) fn read_files(
    dir: &Path,
    default_ignored: &[String],
    diags: &mut Diagnostics,
) -> Result<Vec<Arc<SourceFile>>, Diagnostics> {
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
        // Every .toml entry but folders: a link to a device is reported, not skipped in silence.
        .filter(|p| !p.is_dir() && p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    // The ignore list lives in cmdeploy.toml; read it before deciding which files are manifests.
    let ignore = ignored_files(dir, default_ignored);
    let mut files = Vec::new();
    for path in paths {
        let fname = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if ignore.iter().any(|i| i == fname) {
            continue;
        }
        match crate::input::read_text(&path, crate::input::MAX_MANIFEST_BYTES) {
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

pub(super) fn ignored_files(dir: &Path, default_ignored: &[String]) -> Vec<String> {
    #[derive(Deserialize)]
    struct Head {
        project: Option<ProjectSection>,
    }
    crate::input::read_text(&dir.join("cmdeploy.toml"), crate::input::MAX_MANIFEST_BYTES)
        .ok()
        .and_then(|t| {
            // Only the [project] table matters here; other tables are checked later.
            let table: toml::Table = toml::from_str(&t).ok()?;
            let head: Head = table.try_into().ok()?;
            head.project.and_then(|p| p.ignore)
        })
        .unwrap_or_else(|| default_ignored.to_vec())
}

pub(super) fn read_config_table(
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

/// `[[moved]]` tables: each `from` and `to` an address of the same kind (and shape), `from`
/// moved once. Read with the resources (not by [`super::load_config`]: a mistake in a move must
/// not lock the `state` commands out); whether they are declared is checked once all are loaded.
pub(super) fn read_moved(
    value: toml::Spanned<DeValue<'_>>,
    file: &Arc<SourceFile>,
    config: &mut ProjectConfig,
    diags: &mut Diagnostics,
) {
    use crate::address::Address;
    let span = value.span();
    let DeValue::Array(items) = value.into_inner() else {
        diags.push(
            Diagnostic::error(
                "cmdeploy::moved::shape",
                "moves are `[[moved]]` tables: `[[moved]]` then `from = \"kind.old\"` and `to = \"kind.new\"`",
            )
            .at_span(file, span),
        );
        return;
    };
    for item in items {
        let item_span = item.span();
        let spans: BTreeMap<String, std::ops::Range<usize>> = match item.get_ref() {
            DeValue::Table(t) => t
                .iter()
                .map(|(k, v)| (k.get_ref().to_string(), v.span()))
                .collect(),
            _ => BTreeMap::new(),
        };
        let block = match super::MovedSection::deserialize(ValueDeserializer::from(item)) {
            Ok(b) => b,
            Err(e) => {
                diags.push(crate::provider::decode_error(file, item_span, e, "moved"));
                continue;
            }
        };
        let loc = |field: &str| Loc {
            file: file.clone(),
            span: spans.get(field).cloned().unwrap_or(item_span.clone()),
        };
        let parse = |field: &str, text: &str, diags: &mut Diagnostics| match Address::parse(text) {
            Ok(a) => Some(a),
            Err(e) => {
                diags.push(
                    Diagnostic::error("cmdeploy::moved::address", e)
                        .with_help("write an address as `kind.name`, or `kind.name[\"key\"]` for one instance")
                        .at(loc(field)),
                );
                None
            }
        };
        let (Some(from), Some(to)) = (
            parse("from", &block.from, diags),
            parse("to", &block.to, diags),
        ) else {
            continue;
        };
        let problem = if from.kind != to.kind {
            Some(format!(
                "`{from}` is a {} and `{to}` a {}: a move keeps the kind",
                from.kind, to.kind
            ))
        } else if from == to {
            Some(format!("`{from}` is moved to itself"))
        } else if from.key.is_some() != to.key.is_some() {
            Some(format!(
                "`{from}` and `{to}` must both name a resource, or both one instance of it"
            ))
        } else {
            config.moved.iter().find(|m| m.from == from).map(|prev| {
                format!(
                    "`{from}` is moved twice (also at {})",
                    prev.from_loc.short()
                )
            })
        };
        if let Some(message) = problem {
            diags.push(
                Diagnostic::error("cmdeploy::moved::invalid", message)
                    .with_help("a `[[moved]]` table renames one address to another of the same kind (Terraform's moved block)")
                    .at(loc("to")),
            );
            continue;
        }
        config.moved.push(super::MovedBlock {
            from,
            to,
            from_loc: loc("from"),
            to_loc: loc("to"),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(files: &[Arc<SourceFile>]) -> Vec<String> {
        files
            .iter()
            .map(|f| f.path.file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    }

    fn project(cmdeploy_toml: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in [
            ("cmdeploy.toml", cmdeploy_toml),
            ("seed.toml", "[[domain]]\nname = \"x\"\n"),
            ("drift.ack.toml", ""),
            ("a.toml", ""),
        ] {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    #[test]
    fn the_files_a_program_registers_and_the_drift_acknowledgements_are_not_manifests() {
        let dir = project("[project]\nname = \"p\"\n");
        let mut registry = Registry::new();
        registry.ignore_file("seed.toml");
        let mut diags = Diagnostics::new();
        let files = read_files(dir.path(), &default_ignored(&registry), &mut diags).unwrap();
        assert_eq!(names(&files), ["a.toml", "cmdeploy.toml"]);
        let files = read_files(dir.path(), &default_ignored(&Registry::new()), &mut diags).unwrap();
        assert_eq!(names(&files), ["a.toml", "cmdeploy.toml", "seed.toml"]);
    }

    #[test]
    fn the_projects_ignore_list_replaces_the_default() {
        let dir = project("[project]\nignore = [\"a.toml\"]\n");
        let mut registry = Registry::new();
        registry.ignore_file("seed.toml");
        let mut diags = Diagnostics::new();
        let files = read_files(dir.path(), &default_ignored(&registry), &mut diags).unwrap();
        assert_eq!(
            names(&files),
            ["cmdeploy.toml", "drift.ack.toml", "seed.toml"]
        );
    }
}
