//! Where a CCMSetup finding points in the manifest: at the value of the property or parameter it
//! concerns (`properties.SMSSITECODE`, an item of `ccmsetup.mp`), not at the table header.
//!
//! A kind's typed tables (`properties = { ... }`, `ccmsetup = { ... }`) are turned into a
//! [`CommandLine`](crate::ccmsetup::CommandLine) and checked as the text `cmd.render()`; each
//! finding carries a byte range of that text. [`ValueSpans`] records, before the table is
//! decoded, the span of every value of those tables by upper-case name (and of each item of a
//! list); [`ValueSpans::locate`] re-parses the rendered text, finds the token a finding falls
//! in, and returns the span of that token's value in the manifest (of the list item whose text
//! the finding names, when the value is a list).

use std::collections::BTreeMap;
use std::ops::Range;

use toml::de::DeValue;

use crate::ccmsetup::{self, Finding};

/// One manifest value: its span and, for a list, each item's text and span.
#[derive(Debug, Clone)]
struct ValueSpan {
    whole: Range<usize>,
    items: Vec<(String, Range<usize>)>,
}

/// Spans of the values of a table's CCMSetup sub-tables, by upper-case key.
#[derive(Debug, Clone, Default)]
pub struct ValueSpans {
    by_name: BTreeMap<String, ValueSpan>,
}

impl ValueSpans {
    /// Records the values of the sub-tables `tables` (e.g. `["properties", "ccmsetup"]`) of a
    /// resource table.
    pub fn of(table: &toml::Spanned<DeValue<'_>>, tables: &[&str]) -> ValueSpans {
        ValueSpans::within(table, &[], tables)
    }

    /// As [`ValueSpans::of`], for sub-tables of the table at `parent` (e.g. the `properties`
    /// of `client_deployment`).
    pub fn within(
        table: &toml::Spanned<DeValue<'_>>,
        parent: &[&str],
        tables: &[&str],
    ) -> ValueSpans {
        let mut by_name = BTreeMap::new();
        let mut table = table;
        for step in parent {
            let DeValue::Table(t) = table.get_ref() else {
                return ValueSpans::default();
            };
            match t.iter().find(|(k, _)| k.get_ref().as_ref() == *step) {
                Some((_, v)) => table = v,
                None => return ValueSpans::default(),
            }
        }
        let DeValue::Table(root) = table.get_ref() else {
            return ValueSpans::default();
        };
        for (key, sub) in root.iter() {
            if !tables.contains(&key.get_ref().as_ref()) {
                continue;
            }
            let DeValue::Table(fields) = sub.get_ref() else {
                continue;
            };
            for (name, value) in fields.iter() {
                let items = match value.get_ref() {
                    DeValue::Array(items) => items
                        .iter()
                        .filter_map(|i| match i.get_ref() {
                            DeValue::String(s) => Some((s.to_string(), i.span())),
                            _ => None,
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                by_name.insert(
                    name.get_ref().to_ascii_uppercase(),
                    ValueSpan {
                        whole: value.span(),
                        items,
                    },
                );
            }
        }
        ValueSpans { by_name }
    }

    /// The manifest span of the value `finding` concerns, given the text it was found in
    /// (`rendered`, the command line built from the tables). `None` when the finding is about
    /// no one token (the whole line's length) or its token came from no manifest value (a
    /// property filled in by the kind).
    pub fn locate(&self, rendered: &str, finding: &Finding) -> Option<Range<usize>> {
        let at = finding.span.clone()?;
        let parsed = ccmsetup::parse(rendered);
        let cmd = &parsed.command_line;
        let token = cmd
            .parameters
            .iter()
            .map(|p| (p.name.as_str(), p.span.clone()))
            .chain(
                cmd.properties
                    .iter()
                    .map(|p| (p.name.as_str(), p.span.clone())),
            )
            .find(|(_, span)| span.start <= at.start && at.start < span.end)?;
        let value = self.by_name.get(&token.0.to_ascii_uppercase())?;
        // A finding about one item of a list value (`/mp:a;b`) names it in backquotes, or covers
        // only its part of the token: it points at that item.
        let named = rendered.get(at.clone()).unwrap_or_default();
        let item = value.items.iter().find(|(text, _)| {
            !text.is_empty()
                && (finding.message.contains(&format!("`{text}`"))
                    || (at != token.1 && named.contains(text.as_str())))
        });
        Some(item.map_or(value.whole.clone(), |(_, span)| span.clone()))
    }
}

/// The span of a finding in a manifest string that holds the checked text itself (`setup_parameters
/// = "SMSSITECODE=ABCD"`): the finding's range shifted into the string when the string is
/// written without escapes (its source text is the value), else the whole string.
pub fn in_string(
    source: &str,
    value_span: &Range<usize>,
    value: &str,
    finding: &Finding,
) -> Range<usize> {
    let inner = (value_span.start + 1)..value_span.end.saturating_sub(1);
    match (&finding.span, source.get(inner.clone())) {
        (Some(at), Some(text)) if text == value && at.end <= value.len() => {
            (inner.start + at.start)..(inner.start + at.end)
        }
        _ => value_span.clone(),
    }
}
