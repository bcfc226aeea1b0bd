//! `cmdeploy drift`: refresh and compare, never write. Exit 0 in sync (or only acknowledged
//! drift), 2 drift, 3 reads failed, 1 error.

use std::path::Path;

use cmdeploy::report::{self, describe, describe_acks};
use cmdeploy_engine::drift::{ack, acknowledge::acknowledge, detect, DriftKind, DriftReport};

use crate::cli::{DriftArgs, DriftFormat};
use crate::output::Output;
use crate::session::Session;
use crate::Failure;

/// Runs `drift`.
pub async fn run(dir: &Path, args: DriftArgs, out: Output) -> Result<i32, Failure> {
    let s = Session::open_read(dir).await?;
    s.report_unread(out);
    let acks = ack::load(&s.project.dir).map_err(Failure::Diagnostics)?;
    let state = s.state()?;
    let progress = crate::progress::refresh(out, matches!(args.format, DriftFormat::Text));
    let refreshed = cmdeploy_engine::refresh::refresh_observed(
        &s.registry,
        &s.ctx,
        &s.project.resources,
        &state,
        None,
        args.parallelism,
        match &progress {
            Some(p) => p.clone(),
            None => std::sync::Arc::new(cmdeploy_engine::refresh::Quiet),
        },
    )
    .await;
    drop(progress);
    let mut outcomes = refreshed.outcomes;
    // What depends on the items of a data source that could not be read is a read failure.
    s.mark_unread(&state, &mut outcomes);
    let mut report = detect(&s.project.resources, &state, &outcomes);
    acknowledge(&mut report, &acks, chrono::Local::now().date_naive());
    let project = s
        .project
        .config
        .project
        .name
        .clone()
        .unwrap_or_else(|| "cmdeploy".into());
    out.diagnostics(&s.warnings);
    super::plan::report_unreachable(&report.unreachable, out);
    for st in &report.stale_acks {
        let attr = st
            .attribute
            .as_ref()
            .map(|a| format!(" ({a})"))
            .unwrap_or_default();
        eprintln!(
            "{} {}:{}: the acknowledgement of {}{attr} matches no drift; remove it",
            out.paint("\x1b[33;1m", "warning:"),
            ack::ACK_FILE,
            st.line,
            st.address
        );
    }
    // Every report asked for comes from this one refresh: files first, so a file that cannot be
    // written fails the run before anything reads the standard output as complete.
    let files = [
        (&args.junit, DriftFormat::Junit),
        (&args.markdown, DriftFormat::Markdown),
    ];
    for (path, format) in files {
        let Some(path) = path else { continue };
        let body = render(&report, &project, format).unwrap_or_default();
        let parent = path.parent().filter(|d| !d.as_os_str().is_empty());
        parent
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| cmdeploy_engine::state::write_atomic(path, body.as_bytes()))
            .map_err(|e| {
                Failure::Message(format!(
                    "cannot write the drift report {}: {e}",
                    path.display()
                ))
            })?;
    }
    let format = if args.json {
        DriftFormat::Json
    } else {
        args.format
    };
    match render(&report, &project, format) {
        Some(body) => print!("{body}"),
        None => text(&report, out),
    }
    Ok(report.exit_code())
}

/// A drift report in a machine format (`None` for text, which is printed with colour).
fn render(report: &DriftReport, project: &str, format: DriftFormat) -> Option<String> {
    match format {
        DriftFormat::Json => Some(format!(
            "{}\n",
            serde_json::to_string_pretty(report).unwrap_or_default()
        )),
        DriftFormat::Markdown => Some(report::markdown::render(report, project)),
        DriftFormat::Junit => Some(report::junit::render(report, project)),
        DriftFormat::Text => None,
    }
}

/// The report for people at a terminal.
fn text(report: &DriftReport, out: Output) {
    if report.entries.is_empty() {
        println!(
            "{} {} resources checked.",
            out.paint("\x1b[32;1m", "In sync:"),
            report.checked
        );
        return;
    }
    for e in &report.entries {
        println!(
            "{} {}",
            out.paint("\x1b[33;1m", &e.address),
            describe(e.drift)
        );
        let expected = expected_side(e.drift);
        for c in &e.changes {
            if c.sensitive {
                println!(
                    "    {}: (sensitive) ({expected} -> {ESTATE}, differs)",
                    c.name
                );
            } else {
                let (before, after) = (show_json(&c.before), show_json(&c.after));
                println!(
                    "    {}: {before} ({expected}) -> {after} ({ESTATE})",
                    c.name
                );
            }
        }
        if let Some(err) = &e.error {
            println!("    {err}");
        }
        if !e.acks.is_empty() {
            println!("    {}", describe_acks(e));
        }
    }
    let acknowledged = report.entries.iter().filter(|e| e.acknowledged).count();
    let mut summary = format!(
        "\nDrift: {} of {} resources",
        report.entries.len(),
        report.checked
    );
    if acknowledged > 0 {
        summary.push_str(&format!(" ({acknowledged} acknowledged)"));
    }
    println!("{summary}.");
}

/// The right-hand side of every drift arrow: what the estate holds now.
const ESTATE: &str = "estate";

/// The left-hand side of a drift arrow: where the expected value comes from. Arrows always read
/// cmdeploy's side -> the estate, the opposite of a plan's `estate -> manifest`, so both sides
/// are labelled (as the markdown and JUnit reports' expected/actual columns are).
fn expected_side(kind: DriftKind) -> &'static str {
    match kind {
        // Compared with what cmdeploy last applied (state).
        DriftKind::ChangedOutside | DriftKind::DeletedOutside => "last applied",
        DriftKind::NotApplied | DriftKind::ReadFailed => "manifest",
    }
}

/// A value as JSON text, `(unset)` for none (the text report's historical form).
fn show_json(v: &Option<serde_json::Value>) -> String {
    v.as_ref()
        .map(ToString::to_string)
        .unwrap_or_else(|| "(unset)".into())
}
