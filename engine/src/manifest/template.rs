//! Templating of manifest strings with minijinja, and expansion of a table into one instance per
//! host (`hosts = [...]` or `hosts_file = "hosts.csv"`).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;
use toml::de::DeValue;
use toml::Spanned as TSpanned;

use crate::diagnostics::{Diagnostic, SourceFile};

/// Variables visible to one table's templates: `var` (project variables), `name` (the table
/// key) and, for expanded instances, `host` and `row` (the CSV row of `hosts_file`).
pub fn context(
    variables: &BTreeMap<String, Value>,
    name: &str,
    host: Option<&str>,
    row: Option<&BTreeMap<String, String>>,
) -> Value {
    let mut ctx = serde_json::Map::new();
    ctx.insert(
        "var".into(),
        serde_json::to_value(variables).unwrap_or(Value::Null),
    );
    ctx.insert("name".into(), Value::String(name.into()));
    if let Some(h) = host {
        ctx.insert("host".into(), Value::String(h.into()));
    }
    if let Some(r) = row {
        ctx.insert("row".into(), serde_json::to_value(r).unwrap_or(Value::Null));
    }
    Value::Object(ctx)
}

/// Renders every string in `value` that contains a template, in place.
pub fn render_in_place(
    value: &mut TSpanned<DeValue<'_>>,
    ctx: &Value,
    file: &Arc<SourceFile>,
    out: &mut Vec<Diagnostic>,
) {
    let span = value.span();
    match value.get_mut() {
        DeValue::String(s) if s.contains("{{") || s.contains("{%") => {
            let mut env = minijinja::Environment::new();
            env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
            match env.render_str(s, ctx) {
                    Ok(rendered) => *s = rendered.into(),
                    Err(e) => out.push(
                        Diagnostic::error("cmdeploy::template::render", format!("template error: {e}"))
                            .with_help("templates see `var.NAME` (project variables), `name`, and for per-host instances `host` and `row.COLUMN`")
                            .at_span(file, span),
                    ),
                }
        }
        DeValue::Array(items) => {
            for item in items.iter_mut() {
                render_in_place(item, ctx, file, out);
            }
        }
        DeValue::Table(table) => {
            for (_, v) in table.iter_mut() {
                render_in_place(v, ctx, file, out);
            }
        }
        _ => {}
    }
}

/// One host of an expanded table, with its CSV row when it came from `hosts_file`.
#[derive(Debug, Clone)]
pub struct HostEntry {
    /// Host name: the instance key.
    pub host: String,
    /// Other CSV columns.
    pub row: Option<BTreeMap<String, String>>,
    /// Span of the host in the manifest (the `hosts` element or the `hosts_file` value).
    pub span: std::ops::Range<usize>,
}

/// One row of a hosts file: the host and all its columns.
pub type HostRow = (String, BTreeMap<String, String>);

/// Reads `hosts_file`: a CSV file with a header row containing a `host` column.
///
/// # Errors
/// A message naming the file and the problem.
pub fn read_hosts_file(path: &Path) -> Result<Vec<HostRow>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_path(path)
        .map_err(|e| format!("cannot read hosts file {}: {e}", path.display()))?;
    let headers = reader
        .headers()
        .map_err(|e| format!("hosts file {}: {e}", path.display()))?
        .clone();
    let host_col = headers
        .iter()
        .position(|h| h.eq_ignore_ascii_case("host"))
        .ok_or_else(|| {
            format!(
                "hosts file {} has no `host` column in its header row",
                path.display()
            )
        })?;
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record =
            record.map_err(|e| format!("hosts file {} line {}: {e}", path.display(), i + 2))?;
        let host = record.get(host_col).unwrap_or("").to_string();
        if host.is_empty() {
            return Err(format!(
                "hosts file {} line {}: empty host",
                path.display(),
                i + 2
            ));
        }
        let row = headers
            .iter()
            .zip(record.iter())
            .map(|(h, v)| (h.to_string(), v.to_string()))
            .collect();
        rows.push((host, row));
    }
    Ok(rows)
}
