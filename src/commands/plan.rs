//! `cmdeploy plan`.

use std::mem::ManuallyDrop;
use std::path::Path;

use crate::cli::PlanArgs;
use crate::output::Output;
use crate::session::Session;
use crate::Failure;

/// Runs `plan`.
pub async fn run(dir: &Path, args: PlanArgs, out: Output) -> Result<i32, Failure> {
    let mut s = Session::open_read(dir).await?;
    out.diagnostics(&s.warnings);
    s.report_unread(out);
    s.progress = crate::progress::refresh(out, !args.json);
    // The state and the plan are never freed, as the loaded project is not: the process exits
    // after printing, and freeing 100k entries and changes piece by piece cost a twentieth of
    // a large plan's CPU.
    let state = ManuallyDrop::new(s.state()?);
    let targets = s.targets(&args.targets, &state)?;
    let planned = ManuallyDrop::new(s.plan(&state, targets.as_deref(), args.parallelism).await?);
    let plan = &planned.plan;
    if args.json {
        println!("{}", serde_json::to_string_pretty(plan).unwrap_or_default());
    } else {
        let options = cmdeploy::plan_text::RenderOptions {
            color: out.color,
            width: width(),
            compact: args.compact,
        };
        print!("{}", cmdeploy::plan_text::render_with(plan, options));
    }
    if let Some(path) = &args.out {
        let bytes = serde_json::to_vec_pretty(plan).unwrap_or_default();
        cmdeploy_engine::state::write_atomic(path, &bytes).map_err(|e| {
            Failure::Message(format!("cannot save the plan to {}: {e}", path.display()))
        })?;
        if !args.json {
            println!(
                "\nSaved the plan to {}. Apply exactly this plan with: cmdeploy apply {}",
                path.display(),
                path.display()
            );
        }
    }
    if plan.has_read_failures() || !s.unread.is_empty() {
        report_read_failures(plan, out);
        return Ok(1);
    }
    Ok(if args.detailed_exitcode && plan.has_changes() {
        2
    } else {
        0
    })
}

/// Prints each unreachable connection once, with its likely causes, and each other resource
/// that could not be read (they are left alone, never taken for absent).
pub fn report_read_failures(plan: &cmdeploy_engine::plan::Plan, out: Output) {
    let error = out.paint("\x1b[31;1m", "error:");
    let behind = report_unreachable(&plan.unreachable, out);
    let failed = plan.resource_changes.iter().filter(|c| {
        c.action() == cmdeploy_engine::plan::Action::ReadFailed
            && !behind.contains(c.address.as_str())
    });
    for c in failed {
        eprintln!("{error} {}: {}", c.address, c.notes.join("; "));
    }
}

/// Columns to wrap the plan at: the terminal's width when standard output is one, else
/// [`cmdeploy::plan_text::DEFAULT_WIDTH`] (logs, pipes, CI).
pub fn width() -> usize {
    terminal_size::terminal_size_of(std::io::stdout())
        .map(|(w, _)| usize::from(w.0))
        .filter(|w| *w >= 40)
        .unwrap_or(cmdeploy::plan_text::DEFAULT_WIDTH)
}

/// Prints each unreachable connection once on stderr: where it goes, the error, the likely
/// causes and how many resources it left unread. Returns the addresses behind them.
pub fn report_unreachable(
    groups: &[cmdeploy_engine::reach::UnreachableConnection],
    out: Output,
) -> std::collections::HashSet<&str> {
    let error = out.paint("\x1b[31;1m", "error:");
    for g in groups {
        let u = &g.unreachable;
        eprintln!(
            "{error} connection {} is unreachable: {}\n  {}: {}",
            u.connection, u.endpoint, g.host, g.error
        );
        if !u.causes.is_empty() {
            eprintln!("  likely causes:");
            for c in &u.causes {
                eprintln!("    - {c}");
            }
        }
        eprintln!(
            "  {} resource(s) behind it not read (left alone)",
            g.resources.len()
        );
    }
    groups
        .iter()
        .flat_map(|g| g.resources.iter().map(String::as_str))
        .collect()
}
