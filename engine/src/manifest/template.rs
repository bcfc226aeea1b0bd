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

/// The longest string a manifest value may hold, before or after templating: 64 KiB. The longest
/// values the providers take are far shorter (a Windows command line is at most 32,767
/// characters), and a bound keeps a hostile manifest from making `validate` allocate without
/// limit.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;

/// Instructions one template may run (minijinja fuel): far more than any interpolation needs.
const FUEL: u64 = 10_000;

/// The manifest template environment: no built-in functions, the filters of
/// [`super::template_syntax::FILTERS`] (`replace` and `join` size-checked), strict undefined
/// values, and fuel. Built once.
fn environment() -> &'static minijinja::Environment<'static> {
    static ENV: std::sync::OnceLock<minijinja::Environment<'static>> = std::sync::OnceLock::new();
    ENV.get_or_init(|| {
        use minijinja::filters as f;
        let mut env = minijinja::Environment::empty();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.set_fuel(Some(FUEL));
        env.add_filter("upper", f::upper);
        env.add_filter("lower", f::lower);
        env.add_filter("title", f::title);
        env.add_filter("capitalize", f::capitalize);
        env.add_filter("trim", f::trim);
        env.add_filter("default", f::default);
        env.add_filter("d", f::default);
        env.add_filter("length", f::length);
        env.add_filter("first", f::first);
        env.add_filter("last", f::last);
        env.add_filter("string", f::string);
        env.add_filter("int", f::int);
        env.add_filter("float", f::float);
        env.add_filter("abs", f::abs);
        env.add_filter("round", f::round);
        env.add_filter("replace", bounded_replace);
        env.add_filter("join", bounded_join);
        env
    })
}

fn too_long() -> minijinja::Error {
    minijinja::Error::new(
        minijinja::ErrorKind::InvalidOperation,
        format!("the result would be longer than {MAX_VALUE_BYTES} bytes"),
    )
}

/// `replace(from, to)`, refused before it is built when the result would exceed the bound.
fn bounded_replace(value: String, from: String, to: String) -> Result<String, minijinja::Error> {
    let count = if from.is_empty() {
        value.chars().count() + 1
    } else {
        value.matches(from.as_str()).count()
    };
    let len = count
        .checked_mul(to.len())
        .and_then(|n| n.checked_add(value.len()))
        .ok_or_else(too_long)?;
    if len > MAX_VALUE_BYTES {
        return Err(too_long());
    }
    Ok(value.replace(from.as_str(), &to))
}

/// `join(separator)` of a list, refused before it is built when the result would exceed the bound.
fn bounded_join(
    value: Vec<minijinja::Value>,
    separator: Option<String>,
) -> Result<String, minijinja::Error> {
    let separator = separator.unwrap_or_default();
    let mut out = String::new();
    for (i, item) in value.iter().enumerate() {
        if i > 0 {
            out.push_str(&separator);
        }
        let text = item.to_string();
        out.push_str(&text);
        if out.len() > MAX_VALUE_BYTES {
            return Err(too_long());
        }
    }
    Ok(out)
}

/// A writer that refuses output past [`MAX_VALUE_BYTES`].
struct Bounded(Vec<u8>);

impl std::io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > MAX_VALUE_BYTES {
            return Err(std::io::Error::other("output too long"));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Renders one manifest template: checked against the manifest template language, with fuel,
/// its output capped at [`MAX_VALUE_BYTES`].
///
/// # Errors
/// A message for the diagnostic (and, for a language error, the byte offset in `src`).
pub fn render(src: &str, ctx: &Value) -> Result<String, (Option<usize>, String)> {
    super::template_syntax::check(src).map_err(|(at, m)| (Some(at), m))?;
    let env = environment();
    let template = env
        .template_from_str(src)
        .map_err(|e| (None, format!("template error: {e}")))?;
    let mut out = Bounded(Vec::new());
    match template.render_captured_to(ctx, &mut out) {
        Ok(_) => String::from_utf8(out.0).map_err(|e| (None, e.to_string())),
        Err(e) if e.kind() == minijinja::ErrorKind::WriteFailure => Err((
            None,
            format!("the rendered value is longer than {MAX_VALUE_BYTES} bytes"),
        )),
        Err(e) => Err((None, format!("template error: {e}"))),
    }
}

/// Renders every string in `value` that contains a template, in place, and checks every string's
/// length (before and after) against [`MAX_VALUE_BYTES`].
pub fn render_in_place(
    value: &mut TSpanned<DeValue<'_>>,
    ctx: &Value,
    file: &Arc<SourceFile>,
    out: &mut Vec<Diagnostic>,
) {
    let span = value.span();
    match value.get_mut() {
        DeValue::String(s) if s.len() > MAX_VALUE_BYTES => {
            out.push(
                Diagnostic::error(
                    "cmdeploy::manifest::value_too_long",
                    format!(
                        "this value is {} bytes long; a manifest value holds at most {MAX_VALUE_BYTES}",
                        s.len()
                    ),
                )
                .with_help("no setting takes a value this long; check for a pasted file or a runaway template")
                .at_span(file, span),
            );
            *s = String::new().into();
        }
        DeValue::String(s) if s.contains("{{") || s.contains("{%") => {
            match render(s, ctx) {
                Ok(rendered) => *s = rendered.into(),
                Err((at, message)) => {
                    // Point at the offending part when the string has no escapes (its source
                    // text then maps byte for byte, after the opening quote).
                    let literal = &file.text.get(span.clone()).unwrap_or_default();
                    let inner = literal.get(1..literal.len().saturating_sub(1));
                    let at_span = match (at, inner) {
                        (Some(at), Some(inner)) if inner == s.as_ref() => {
                            let start = span.start + 1 + at;
                            start..(start + 2).min(span.end - 1)
                        }
                        _ => span,
                    };
                    out.push(
                        Diagnostic::error("cmdeploy::template::render", message)
                            .with_help("templates see `var.NAME` (project variables), `name`, for per-host instances `host` and `row.COLUMN`, and for `for_each` instances `each.key` and the item's fields; write `{{ '{{' }}` for literal braces")
                            .at_span(file, at_span),
                    );
                }
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

/// True when a string of `value` (at any depth) holds a template (`{{` or `{%`): only then
/// does [`render_in_place`] read its context, which can then be left unbuilt.
pub fn has_template(value: &DeValue<'_>) -> bool {
    match value {
        DeValue::String(s) => s.contains("{{") || s.contains("{%"),
        DeValue::Array(items) => items.iter().any(|i| has_template(i.get_ref())),
        DeValue::Table(table) => table.iter().any(|(_, v)| has_template(v.get_ref())),
        _ => false,
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
    let text = crate::input::read_text(path, crate::input::MAX_HOSTS_FILE_BYTES)
        .map_err(|e| format!("cannot read hosts file {}: {e}", path.display()))?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
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
