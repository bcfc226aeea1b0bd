//! Expansion of a table into one instance per host (`hosts`, `hosts_file`), templating, and the
//! engine's own meta-field `depends_on`.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use toml::de::{DeTable, DeValue};

use super::{template, ProjectConfig};
use crate::address::Address;
use crate::diagnostics::{Diagnostic, Diagnostics, SourceFile};
use crate::resource::Reference;

pub(super) type Instance<'i> = (Address, toml::Spanned<DeValue<'i>>, Vec<Reference>);

#[allow(clippy::too_many_arguments)]
pub(super) fn expand<'i>(
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
        // Most tables hold no template: their context (every variable) is not built.
        let ctx = if template::has_template(instance.get_ref()) {
            template::context(&config.variables, name, None, None)
        } else {
            serde_json::Value::Null
        };
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

pub(super) fn take_depends_on(
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
