//! `for_each = "data.KIND.NAME"`: a resource table expanded into one instance per item of a data
//! source, each templated with `{{ each.key }}` and the item's fields (see [`crate::data`]).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::Value;
use toml::de::DeValue;

use super::expand::{take_depends_on, Instance};
use super::{template, ProjectConfig};
use crate::address::Address;
use crate::data::{self, Item};
use crate::diagnostics::{did_you_mean, Diagnostic, Diagnostics, SourceFile};

/// The items a `for_each` table may expand over, by `data.KIND.NAME`, and whether they are the
/// estate's (declare the instances) or a kind's samples (check the table, declare nothing).
pub(super) struct Sources<'s> {
    /// Items by reference.
    pub items: BTreeMap<String, &'s [Item]>,
    /// True when the items were read from the estate.
    pub read: bool,
    /// Sources whose own table failed to decode (reported there; their `for_each` tables are
    /// not reported again).
    pub failed: BTreeSet<String>,
}

/// Removes `for_each` from a resource table, when it is a table that has one.
pub(super) fn take<'i>(
    table: &mut toml::Spanned<DeValue<'i>>,
) -> Option<toml::Spanned<DeValue<'i>>> {
    match table.get_mut() {
        DeValue::Table(map) => map.remove(data::FOR_EACH),
        _ => None,
    }
}

/// Expands `[kind.name]` over the items its `for_each` names. Returns the instances (empty when
/// the items are samples: each was templated and is returned only to be decoded and checked),
/// or `None` when the table cannot be expanded (the problem is in `diags`).
#[allow(clippy::too_many_arguments)]
pub(super) fn expand<'i>(
    kind: &str,
    name: &str,
    table: toml::Spanned<DeValue<'i>>,
    for_each: toml::Spanned<DeValue<'i>>,
    file: &Arc<SourceFile>,
    config: &ProjectConfig,
    sources: &Sources<'_>,
    diags: &mut Diagnostics,
) -> Option<Vec<Instance<'i>>> {
    let span = table.span();
    let fspan = for_each.span();
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
    let mut failed = false;
    for field in ["hosts", "hosts_file"] {
        if let Some(v) = map.remove(field) {
            diags.push(
                Diagnostic::error(
                    "cmdeploy::manifest::for_each",
                    format!("`{kind}.{name}` has both `for_each` and `{field}`"),
                )
                .with_help("a table expands over one list: the items of a data source, or hosts")
                .at_span(file, v.span()),
            );
            failed = true;
        }
    }
    let Some(reference) = for_each.get_ref().as_str().map(str::trim) else {
        diags.push(
            Diagnostic::error(
                "cmdeploy::manifest::for_each",
                "`for_each` names a data source, e.g. \"data.ad_subnets.corp\"",
            )
            .at_span(file, fspan),
        );
        return None;
    };
    if sources.failed.contains(reference) {
        return None;
    }
    let Some(items) = sources.items.get(reference) else {
        let known: Vec<&str> = sources.items.keys().map(String::as_str).collect();
        let help = match did_you_mean(reference, known.iter().copied()) {
            Some(best) => format!("did you mean `{best}`?"),
            None if known.is_empty() => {
                "declare it as a [data.KIND.NAME] table, e.g. [data.ad_subnets.corp]".into()
            }
            None => format!("declared data sources: {}", known.join(", ")),
        };
        diags.push(
            Diagnostic::error(
                "cmdeploy::manifest::for_each",
                format!("`for_each` names `{reference}`, which is not a declared data source"),
            )
            .with_help(help)
            .with_label("unknown data source")
            .at_span(file, fspan),
        );
        return None;
    };
    if failed {
        return None;
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for item in items.iter() {
        if !seen.insert(item.key.clone()) {
            diags.push(
                Diagnostic::error(
                    "cmdeploy::manifest::duplicate",
                    format!("{reference} returned the key `{}` twice", item.key),
                )
                .at_span(file, fspan.clone()),
            );
            continue;
        }
        let mut instance = toml::Spanned::new(span.clone(), DeValue::Table(map.clone()));
        let mut ctx = template::context(&config.variables, name, None, None);
        if let Value::Object(m) = &mut ctx {
            m.insert("each".into(), item.each());
        }
        let mut tdiags = Vec::new();
        template::render_in_place(&mut instance, &ctx, file, &mut tdiags);
        if !tdiags.is_empty() {
            let sample = !sources.read;
            diags.extend(tdiags.into_iter().map(|mut d| {
                if sample {
                    let note = format!(
                        "checked with a sample item of {reference}, which offers each.key, {}",
                        fields(item)
                    );
                    d.help = Some(match d.help.take() {
                        Some(h) => format!("{h}; {note}"),
                        None => note,
                    });
                }
                d
            }));
            // One item's template error is every item's: report it once.
            return None;
        }
        out.push((
            Address::instance(kind, name, item.key.clone()),
            instance,
            depends_on.clone(),
        ));
    }
    Some(out)
}

/// `each.name, each.site`: the fields an item offers, for help texts.
fn fields(item: &Item) -> String {
    item.fields
        .keys()
        .map(|k| format!("each.{k}"))
        .collect::<Vec<_>>()
        .join(", ")
}
