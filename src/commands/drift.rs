//! `cmdeploy drift`: refresh and compare, never write. Exit 0 in sync, 2 drift, 3 reads failed.

use std::path::Path;

use cmdeploy_engine::drift::{detect, DriftKind};

use crate::cli::{DriftArgs, DriftFormat};
use crate::output::Output;
use crate::session::Session;
use crate::Failure;

/// Runs `drift`.
pub async fn run(dir: &Path, args: DriftArgs, out: Output) -> Result<i32, Failure> {
    let s = Session::open(dir)?;
    let state = s.state()?;
    let refreshed = cmdeploy_engine::refresh::refresh(
        &s.registry,
        &s.ctx,
        &s.project.resources,
        &state,
        None,
        args.parallelism,
    )
    .await;
    let report = detect(&s.project.resources, &state, &refreshed.outcomes);
    match args.format {
        DriftFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        ),
        DriftFormat::Text => {
            out.diagnostics(&s.warnings);
            if report.entries.is_empty() {
                println!(
                    "{} {} resources checked.",
                    out.paint("\x1b[32;1m", "In sync:"),
                    report.checked
                );
            }
            for e in &report.entries {
                let what = match e.drift {
                    DriftKind::ChangedOutside => "changed outside cmdeploy",
                    DriftKind::DeletedOutside => "deleted outside cmdeploy",
                    DriftKind::NotApplied => "differs from the manifests (not applied yet)",
                    DriftKind::ReadFailed => "could not be read",
                };
                println!("{} {what}", out.paint("\x1b[33;1m", &e.address));
                for c in &e.changes {
                    let show = |v: &Option<serde_json::Value>| {
                        v.as_ref()
                            .map(ToString::to_string)
                            .unwrap_or_else(|| "(unset)".into())
                    };
                    if c.sensitive {
                        println!("    {}: (sensitive)", c.name);
                    } else {
                        println!("    {}: {} -> {}", c.name, show(&c.before), show(&c.after));
                    }
                }
                if let Some(err) = &e.error {
                    println!("    {err}");
                }
            }
            if !report.entries.is_empty() {
                println!(
                    "\nDrift: {} of {} resources.",
                    report.entries.len(),
                    report.checked
                );
            }
        }
    }
    Ok(report.exit_code())
}
