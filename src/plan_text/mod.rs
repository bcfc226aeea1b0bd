//! Human plan output, shaped like Terraform's: one block per changed resource, then a summary line.

use std::fmt::Write;

use serde_json::Value;

mod summary;
mod unreachable;
mod wrap;

use cmdeploy_engine::plan::{Action, Plan, ResourceChange};
use summary::forgets;

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

/// How a plan is rendered for people.
#[derive(Debug, Clone, Copy)]
pub struct RenderOptions {
    /// ANSI colours (a terminal).
    pub color: bool,
    /// Columns to wrap long values at (the terminal's width, else [`DEFAULT_WIDTH`]).
    pub width: usize,
    /// Print the per-kind summary instead of every resource's body, whatever the plan's size.
    pub compact: bool,
}

/// Columns to wrap at when the output is not a terminal.
pub const DEFAULT_WIDTH: usize = 100;

/// Above this many changes a plan prints the per-kind summary instead of every body.
pub const SUMMARY_ABOVE: usize = 50;

/// Renders a plan for a terminal (`color`) or a log, [`DEFAULT_WIDTH`] columns wide.
pub fn render_human(plan: &Plan, color: bool) -> String {
    render_with(
        plan,
        RenderOptions {
            color,
            width: DEFAULT_WIDTH,
            compact: false,
        },
    )
}

/// Renders a plan: one block per changed resource, long lists wrapped at `options.width`; or,
/// above [`SUMMARY_ABOVE`] changes or with `options.compact`, one line per kind (`boundary: 200
/// to add, 0 to change, 0 to destroy`) with the resources that could not be read still named.
pub fn render_with(plan: &Plan, options: RenderOptions) -> String {
    let s = Style::new(options.color);
    let mut out = String::new();
    let changed: Vec<&ResourceChange> = plan
        .resource_changes
        .iter()
        .filter(|c| c.action() != Action::NoOp || c.moved_from.is_some())
        .collect();
    if changed.is_empty() {
        let _ = writeln!(
            out,
            "{}No changes.{} The estate matches the manifests ({} resources checked).",
            s.bold,
            s.reset,
            plan.resource_changes.len()
        );
        render_warnings(&mut out, plan, &s);
        return out;
    }
    // Resources behind an unreachable connection are named once, under their connection.
    let behind_unreachable: std::collections::HashSet<&str> = plan
        .unreachable
        .iter()
        .flat_map(|g| g.resources.iter().map(String::as_str))
        .collect();
    let changed: Vec<&ResourceChange> = changed
        .into_iter()
        .filter(|c| !behind_unreachable.contains(c.address.as_str()))
        .collect();
    if options.compact || changed.len() > SUMMARY_ABOVE {
        summary::render(&mut out, &changed, options.compact, s.bold, s.reset);
    } else {
        let _ = writeln!(out, "cmdeploy will perform the following actions:\n");
        for c in changed {
            render_change(&mut out, c, &s, options.width);
        }
    }
    unreachable::render(&mut out, &plan.unreachable, s.red, s.dim, s.reset);
    render_warnings(&mut out, plan, &s);
    let sm = plan.summary;
    let _ = write!(
        out,
        "{}Plan:{} {} to add, {} to change, {} to destroy{}.",
        s.bold,
        s.reset,
        sm.add,
        sm.change,
        sm.destroy,
        forgets(sm.forget)
    );
    if sm.moved > 0 {
        let _ = write!(out, " {} moved.", sm.moved);
    }
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

/// Plan-time warnings, one paragraph each (Terraform's `Warning:` shape), before the summary.
fn render_warnings(out: &mut String, plan: &Plan, s: &Style) {
    for w in &plan.warnings {
        let _ = writeln!(
            out,
            "{}{}Warning:{} {}\n  {}\n",
            s.yellow, s.bold, s.reset, w.address, w.message
        );
    }
}

fn render_change(out: &mut String, c: &ResourceChange, s: &Style, columns: usize) {
    let (symbol, color, verb) = match c.action() {
        Action::Create => ("+", s.green, "will be created"),
        Action::Update => ("~", s.yellow, "will be updated in-place"),
        Action::Replace => ("-/+", s.red, "must be replaced"),
        Action::Delete => ("-", s.red, "will be destroyed"),
        Action::Forget => ("-", s.dim, "will be forgotten (left in place)"),
        Action::ReadFailed => ("!", s.red, "could not be read"),
        Action::NoOp => (" ", "", "is unchanged"),
    };
    if let Some(from) = &c.moved_from {
        let _ = writeln!(
            out,
            "  {}# {from} has moved to {}{}",
            s.bold, c.address, s.reset
        );
        if c.action() == Action::NoOp {
            let _ = writeln!(out, "    {}(no other change){}\n", s.dim, s.reset);
            return;
        }
    }
    let _ = writeln!(out, "  {}# {} {}{}", s.bold, c.address, verb, s.reset);
    for note in &c.notes {
        let _ = writeln!(out, "  {}# ({note}){}", s.dim, s.reset);
    }
    for command in &c.commands {
        let _ = writeln!(out, "  {}# runs: {command}{}", s.dim, s.reset);
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
                for (k, v) in before.iter() {
                    let head = format!("      {color}-{} {k:<width$} = ", s.reset);
                    let value = wrap::value(v, 6 + 2 + width + 3, columns);
                    let _ = writeln!(out, "{head}{value}");
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
                // Values start after `      ~ name = `; long lists wrap at `columns`.
                let indent = 6 + 2 + width + 3;
                let line = if sensitive {
                    "(sensitive)".to_string()
                } else {
                    let v = |x: &Value| wrap::value(x, indent, columns);
                    match (&before, &after) {
                        (None, Some(a)) => v(a),
                        (Some(b), Some(a)) => format!("{} -> {}", v(b), v(a)),
                        (Some(b), None) => format!("{} -> null", v(b)),
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
