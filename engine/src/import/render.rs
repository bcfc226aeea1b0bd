//! Writing a selection of imported objects as a manifest file (TOML through `toml_edit`, so
//! comments sit above the tables they describe).

use serde_json::Value;
use toml_edit::{Array, DocumentMut, InlineTable, Item, Table};

use super::Selected;

/// What the file says about where its objects came from.
pub struct RenderInput<'a> {
    /// The objects, in output order ([`super::select`] sorts them by address).
    pub selected: &'a [Selected],
    /// The connection name (`cm01`).
    pub connection: &'a str,
    /// The host the objects were read from (`cm01.contoso.com`).
    pub host: &'a str,
    /// Date of the import (`2025-05-01`), or `None` to leave dates out (reproducible output).
    pub date: Option<&'a str>,
}

/// Renders the manifest text: a header, then one `[kind.key]` table per object with a comment
/// naming its origin, sub-tables for object-valued fields, and inline tables below that. Objects
/// with [`Selected::problems`] come last, commented out, each with its problems.
pub fn render(input: &RenderInput<'_>) -> String {
    let on = input.date.map(|d| format!(" on {d}")).unwrap_or_default();
    let mut doc = DocumentMut::new();
    let mut header = format!(
        "# Imported by `cmdeploy import` from connection {} ({}){on}.\n\
         # These objects existed before cmdeploy managed them; each one is bound in state, so the\n\
         # next plan leaves it as it is. Edit them like any other manifest.\n",
        input.connection, input.host
    );
    if input.selected.is_empty() {
        header
            .push_str("# Nothing was found that the manifests and state do not already manage.\n");
    }
    doc.decor_mut().set_prefix(header);
    let mut left_out = String::new();
    for s in input.selected {
        let mut comment = format!(
            "\n# imported from {} ({}){on}\n",
            input.host, s.object.origin
        );
        if let Some(by) = &s.required_by {
            comment.push_str(&format!("# imported because {by} refers to it\n"));
        }
        for n in &s.object.notes {
            comment.push_str(&format!("# {n}\n"));
        }
        if s.problems.is_empty() {
            insert(&mut doc, s, comment);
            continue;
        }
        left_out.push_str(&comment);
        for p in &s.problems {
            left_out.push_str(&format!("# PROBLEM: {p}\n"));
        }
        for line in table_text(s).lines() {
            left_out.push_str(format!("# {line}").trim_end());
            left_out.push('\n');
        }
    }
    let mut text = doc.to_string();
    if !left_out.is_empty() {
        text.push_str(
            "\n# ---------------------------------------------------------------------------------\n\
             # Commented out: the objects below would not validate as they are, so they are written\n\
             # as read but not declared, and not bound in state. Fix each PROBLEM (the next apply\n\
             # then corrects the object on the server), and uncomment the table.\n",
        );
        text.push_str(&left_out);
    }
    text
}

/// One object's table alone (`[kind.key]` and its sub-tables), without comments: what
/// [`super::problems`] decodes and what a commented-out object shows.
pub(super) fn table_text(s: &Selected) -> String {
    let mut doc = DocumentMut::new();
    insert(&mut doc, s, String::new());
    doc.to_string()
}

/// Inserts `[kind.key]` with `comment` above it: scalar and list fields first, then one
/// sub-table per object-valued field.
fn insert(doc: &mut DocumentMut, s: &Selected, comment: String) {
    let kind_item = doc.entry(&s.address.kind).or_insert_with(|| {
        let mut t = Table::new();
        t.set_implicit(true);
        Item::Table(t)
    });
    let Some(kind_table) = kind_item.as_table_mut() else {
        return;
    };
    let mut table = Table::new();
    table.decor_mut().set_prefix(comment);
    let mut subtables = Vec::new();
    for (k, v) in &s.object.table {
        match v {
            Value::Null => {}
            Value::Object(m) => {
                let mut sub = Table::new();
                for (sk, sv) in m {
                    if let Some(x) = value(sv) {
                        sub.insert(sk, Item::Value(x));
                    }
                }
                subtables.push((k.clone(), sub));
            }
            other => {
                if let Some(x) = value(other) {
                    table.insert(k, Item::Value(x));
                }
            }
        }
    }
    for (k, sub) in subtables {
        table.insert(&k, Item::Table(sub));
    }
    kind_table.insert(&s.address.name, Item::Table(table));
}

fn value(v: &Value) -> Option<toml_edit::Value> {
    Some(match v {
        Value::Null => return None,
        Value::Bool(b) => (*b).into(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.into(),
            None => n.as_f64()?.into(),
        },
        Value::String(s) => s.as_str().into(),
        Value::Array(items) => {
            let mut a = Array::new();
            for x in items.iter().filter_map(value) {
                a.push(x);
            }
            toml_edit::Value::Array(a)
        }
        Value::Object(m) => {
            let mut t = InlineTable::new();
            for (k, x) in m {
                if let Some(x) = value(x) {
                    t.insert(k, x);
                }
            }
            toml_edit::Value::InlineTable(t)
        }
    })
}
