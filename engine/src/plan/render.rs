//! Human plan output, shaped like Terraform's: one block per changed resource, then a summary line.

use std::fmt::Write;

use serde_json::Value;

use super::{Action, Plan, ResourceChange};

/// ANSI styles, empty when colour is off.
struct Style {
    green: &'static str,
    yellow: &'static str,
    red: &'static str,
    bold: &'static str,
    dim: &'static str,
    reset: &'static str,
}

impl Style {
    fn new(color: bool) -> Style {
        if color {
            Style {
                green: "\x1b[32m",
                yellow: "\x1b[33m",
                red: "\x1b[31m",
                bold: "\x1b[1m",
                dim: "\x1b[2m",
                reset: "\x1b[0m",
            }
        } else {
            Style {
                green: "",
                yellow: "",
                red: "",
                bold: "",
                dim: "",
                reset: "",
            }
        }
    }
}

/// Renders a plan for a terminal (`color`) or a log.
pub fn render_human(plan: &Plan, color: bool) -> String {
    let s = Style::new(color);
    let mut out = String::new();
    let changed: Vec<&ResourceChange> = plan
        .resource_changes
        .iter()
        .filter(|c| c.action() != Action::NoOp)
        .collect();
    if changed.is_empty() {
        let _ = writeln!(
            out,
            "{}No changes.{} The estate matches the manifests ({} resources checked).",
            s.bold,
            s.reset,
            plan.resource_changes.len()
        );
        return out;
    }
    let _ = writeln!(out, "cmdeploy will perform the following actions:\n");
    let behind_unreachable: std::collections::HashSet<&str> = plan
        .unreachable
        .iter()
        .flat_map(|g| g.resources.iter().map(String::as_str))
        .collect();
    for c in changed
        .into_iter()
        .filter(|c| !behind_unreachable.contains(c.address.as_str()))
    {
        render_change(&mut out, c, &s);
    }
    super::render_unreachable::render(&mut out, &plan.unreachable, s.red, s.dim, s.reset);
    let sm = plan.summary;
    let _ = write!(
        out,
        "{}Plan:{} {} to add, {} to change, {} to destroy.",
        s.bold, s.reset, sm.add, sm.change, sm.destroy
    );
    if sm.read_failed > 0 {
        let _ = write!(
            out,
            " {}{} could not be read.{}",
            s.red, sm.read_failed, s.reset
        );
    }
    out.push('\n');
    out
}

fn render_change(out: &mut String, c: &ResourceChange, s: &Style) {
    let (symbol, color, verb) = match c.action() {
        Action::Create => ("+", s.green, "will be created"),
        Action::Update => ("~", s.yellow, "will be updated in-place"),
        Action::Replace => ("-/+", s.red, "must be replaced"),
        Action::Delete => ("-", s.red, "will be destroyed"),
        Action::Forget => ("-", s.dim, "will be forgotten (left in place)"),
        Action::ReadFailed => ("!", s.red, "could not be read"),
        Action::NoOp => (" ", "", "is unchanged"),
    };
    let _ = writeln!(out, "  {}# {} {}{}", s.bold, c.address, verb, s.reset);
    for note in &c.notes {
        let _ = writeln!(out, "  {}# ({note}){}", s.dim, s.reset);
    }
    let title = match &c.key {
        Some(k) => format!("{} \"{}\" [\"{}\"]", c.kind, c.name, k),
        None => format!("{} \"{}\"", c.kind, c.name),
    };
    let _ = writeln!(out, "  {color}{symbol}{} {title} {{", s.reset);
    let width = c.changes.iter().map(|ch| ch.name.len()).max().unwrap_or(0);
    match c.action() {
        Action::Delete | Action::Forget => {
            if let Some(before) = &c.before {
                let width = before.keys().map(String::len).max().unwrap_or(0);
                for (k, v) in before {
                    let _ = writeln!(out, "      {color}-{} {k:<width$} = {}", s.reset, show(v));
                }
            }
        }
        _ => {
            let lines: Vec<(String, Option<Value>, Option<Value>, bool)> = c
                .changes
                .iter()
                .flat_map(|ch| {
                    if ch.sensitive {
                        vec![(ch.name.clone(), None, None, true)]
                    } else {
                        leaves(&ch.name, ch.before.as_ref(), ch.after.as_ref())
                    }
                })
                .collect();
            let width = lines.iter().map(|l| l.0.len()).max().unwrap_or(width);
            for (name, before, after, sensitive) in lines {
                let line = if sensitive {
                    "(sensitive)".to_string()
                } else {
                    match (&before, &after) {
                        (None, Some(a)) => show(a),
                        (Some(b), Some(a)) => format!("{} -> {}", show(b), show(a)),
                        (Some(b), None) => format!("{} -> null", show(b)),
                        (None, None) => "null".into(),
                    }
                };
                let sym = match (&before, &after) {
                    _ if c.action() == Action::Create => "+",
                    _ if sensitive => "~",
                    (None, _) => "+",
                    (_, None) => "-",
                    _ => "~",
                };
                let col = match sym {
                    "+" => s.green,
                    "-" => s.red,
                    _ => s.yellow,
                };
                let _ = writeln!(out, "      {col}{sym}{} {name:<width$} = {line}", s.reset);
            }
        }
    }
    let _ = writeln!(out, "    }}\n");
}

/// Changed leaves of a value, objects flattened into dotted names (`client_deployment.
/// SetupParameters.value`); unchanged leaves are left out.
fn leaves(
    name: &str,
    before: Option<&Value>,
    after: Option<&Value>,
) -> Vec<(String, Option<Value>, Option<Value>, bool)> {
    let as_obj = |v: Option<&Value>| v.and_then(Value::as_object).cloned();
    match (as_obj(before), as_obj(after)) {
        (b, a) if b.is_some() || a.is_some() => {
            let b = b.unwrap_or_default();
            let a = a.unwrap_or_default();
            let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .filter(|k| b.get(*k) != a.get(*k))
                .flat_map(|k| leaves(&format!("{name}.{k}"), b.get(k), a.get(k)))
                .collect()
        }
        _ => vec![(
            name.to_string(),
            before.filter(|v| !v.is_null()).cloned(),
            after.filter(|v| !v.is_null()).cloned(),
            false,
        )],
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}
