//! `cmdeploy apply`: plan (or load a saved plan), confirm, apply with a progress display, and
//! exit 0 on success, 1 on failures, 130 when interrupted.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use cmdeploy::plan_text::{render_with, RenderOptions};
use cmdeploy_engine::address::Address;
use cmdeploy_engine::apply::{adopt, apply, ApplyInput, Observer, Report};
use cmdeploy_engine::plan::{Action, Plan};

use super::apply_outcome::{counts, finish, Human};
use crate::cli::ApplyArgs;
use crate::output::Output;
use crate::session::Session;
use crate::Failure;

/// Runs `apply`.
pub async fn run(dir: &Path, args: ApplyArgs, out: Output) -> Result<i32, Failure> {
    let human = Human { json: args.json };
    let mut s = Session::open_read(dir).await?;
    out.diagnostics(&s.warnings);
    s.report_unread(out);
    s.progress = crate::progress::refresh(out, true);
    let _lock = s
        .backend
        .lock("apply", Duration::from_secs(args.lock_timeout))
        .map_err(|e| Failure::Message(e.to_string()))?;
    let mut state = s.state()?;
    let targets = s.targets(&args.targets, &state)?;
    let planned = s.plan(&state, targets.as_deref(), args.parallelism).await?;
    let plan = &planned.plan;
    let conclude = |report: &Report, ending: (&str, i32)| {
        Ok(finish(
            &s,
            plan,
            &planned.observed,
            report,
            ending,
            human,
            out,
        ))
    };
    // Objects that already match the manifest are recorded in state (adopted) only once the
    // operator agreed: a saved plan that is still current, --auto-approve, or "yes".
    let adoptable = adoptable(plan, &state, &planned.observed);
    match &args.plan_file {
        Some(file) => check_saved(file, plan)?,
        None => {
            let options = RenderOptions {
                color: out.color && !args.json,
                width: super::plan::width(),
                compact: false,
            };
            human.text(&render_with(plan, options));
            if !plan.has_changes()
                && !plan.has_read_failures()
                && s.unread.is_empty()
                && adoptable == 0
            {
                return conclude(&Report::default(), ("no-changes", 0));
            }
            if adoptable > 0 {
                human.line(&format!(
                    "\n{adoptable} existing object(s) already match the manifest and will be recorded in state."
                ));
            }
            if !args.auto_approve && !confirm(human)? {
                human.line("Apply cancelled.");
                return Ok(1);
            }
        }
    }
    let moved = s.record_moves(&state)?;
    if moved > 0 {
        println!("Recorded {moved} moved address(es) in state.");
    }
    let adopted = adopt(
        plan,
        s.resources(),
        &planned.observed,
        &mut state,
        &s.ctx.fingerprints,
        &planned.secrets,
    );
    if adopted > 0 {
        s.backend
            .persist(&state)
            .map_err(|e| Failure::Message(format!("state could not be saved: {e}")))?;
    }
    let read_failed = plan.has_read_failures() || !s.unread.is_empty();
    if read_failed {
        super::plan::report_read_failures(plan, out);
    }
    if !plan.has_changes() {
        human.line("No changes.");
        return conclude(
            &Report::default(),
            if read_failed {
                ("read-failures", 1)
            } else {
                ("no-changes", 0)
            },
        );
    }
    let interrupt = Arc::new(AtomicBool::new(false));
    let flag = interrupt.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            flag.store(true, Ordering::SeqCst);
            eprintln!("\nInterrupt received: finishing operations in flight and saving state...");
        }
    });
    let total = plan
        .resource_changes
        .iter()
        .filter(|c| c.action().is_change())
        .count();
    let observer = Progress::new(total as u64, out, human);
    let input = ApplyInput {
        plan,
        resources: s.resources(),
        registry: &s.registry,
        ctx: &s.ctx,
        observed: &planned.observed,
        secrets: &planned.secrets,
        parallelism: args.parallelism,
        interrupt: interrupt.clone(),
    };
    let report = apply(input, s.backend.as_ref(), &mut state, &observer)
        .await
        .map_err(|e| Failure::Message(format!("state could not be saved: {e}")))?;
    observer.finish();
    for (address, message) in &report.failed {
        eprintln!("{} {address}: {message}", out.paint("\x1b[31;1m", "error:"));
    }
    for (address, root) in &report.skipped {
        eprintln!("skipped {address}: it depends on {root}, which failed");
    }
    let (added, changed, destroyed, forgotten) = counts(plan, &report);
    let forgotten = super::apply_outcome::forgotten_text(forgotten);
    if report.interrupted {
        eprintln!(
            "Interrupted: {} done and saved, {} not started. Run apply again to continue.",
            report.succeeded.len(),
            report.not_started.len()
        );
        return conclude(&report, ("interrupted", 130));
    }
    if !report.failed.is_empty() || !report.skipped.is_empty() {
        human.line(&format!(
            "Apply finished with errors. Resources: {added} added, {changed} changed, {destroyed} destroyed{forgotten}; {} failed, {} skipped.",
            report.failed.len(),
            report.skipped.len()
        ));
        return conclude(&report, ("errors", 1));
    }
    if read_failed {
        human.line(&format!("Apply finished, but some resources could not be read and were left alone. Resources: {added} added, {changed} changed, {destroyed} destroyed{forgotten}."));
        return conclude(&report, ("read-failures", 1));
    }
    human.line(&format!(
        "{} Resources: {added} added, {changed} changed, {destroyed} destroyed{forgotten}.",
        out.paint("\x1b[32;1m", "Apply complete!")
    ));
    conclude(&report, ("complete", 0))
}

/// How many no-op changes are of objects not in state yet (what [`adopt`] would record).
fn adoptable(
    plan: &Plan,
    state: &cmdeploy_engine::state::State,
    observed: &std::collections::BTreeMap<Address, cmdeploy_engine::provider::ReadOutcome>,
) -> usize {
    plan.resource_changes
        .iter()
        .filter(|c| c.action() == Action::NoOp && !state.resources.contains_key(&c.address))
        .filter(|c| {
            Address::parse(&c.address).is_ok_and(|a| {
                matches!(
                    observed.get(&a),
                    Some(cmdeploy_engine::provider::ReadOutcome::Present(_))
                )
            })
        })
        .count()
}

fn confirm(human: Human) -> Result<bool, Failure> {
    if !std::io::stdin().is_terminal() {
        return Err(Failure::Message(
            "apply needs confirmation: run it on a terminal, or pass --auto-approve (or apply a saved plan)".into(),
        ));
    }
    human.text("\nDo you want to perform these actions? Only 'yes' will be accepted: ");
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::Message(e.to_string()))?;
    Ok(line.trim() == "yes")
}

fn check_saved(file: &Path, fresh: &Plan) -> Result<(), Failure> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        Failure::Message(format!(
            "cannot read the saved plan {}: {e}",
            file.display()
        ))
    })?;
    let saved: Plan = serde_json::from_str(&text)
        .map_err(|e| Failure::Message(format!("{} is not a cmdeploy plan: {e}", file.display())))?;
    let stale = |why: &str| {
        Failure::Message(format!(
            "the saved plan {} is stale: {why}; run `cmdeploy plan --out {}` again",
            file.display(),
            file.display()
        ))
    };
    if saved.format_version != fresh.format_version {
        return Err(stale("it was written by another plan format version"));
    }
    if saved.manifest_hash != fresh.manifest_hash {
        return Err(stale(
            "the manifests changed since it was made (or what their data sources read)",
        ));
    }
    if saved.state_lineage != fresh.state_lineage || saved.state_serial != fresh.state_serial {
        return Err(stale(&format!(
            "the state moved from serial {} to {}",
            saved.state_serial, fresh.state_serial
        )));
    }
    let shape = |p: &Plan| -> Vec<(String, Vec<String>, Vec<String>)> {
        p.resource_changes
            .iter()
            .filter(|c| c.action().is_change())
            .map(|c| {
                (
                    c.address.clone(),
                    c.actions.clone(),
                    c.changes.iter().map(|x| x.name.clone()).collect(),
                )
            })
            .collect()
    };
    if shape(&saved) != shape(fresh) {
        return Err(stale(
            "the estate changed behind it (a refresh now gives different changes)",
        ));
    }
    Ok(())
}

/// Progress: a bar on a terminal, one line per event otherwise.
struct Progress {
    bar: Option<ProgressBar>,
    lines: Mutex<()>,
    human: Human,
}

impl Progress {
    fn new(total: u64, out: Output, human: Human) -> Progress {
        let bar = out.interactive.then(|| {
            let b = ProgressBar::new(total);
            b.set_style(
                ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            b
        });
        Progress {
            bar,
            lines: Mutex::new(()),
            human,
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }

    fn line(&self, text: String) {
        let _g = self.lines.lock();
        match &self.bar {
            Some(b) => b.println(text),
            None => self.human.line(&text),
        }
    }
}

fn verb(action: Action) -> (&'static str, &'static str) {
    match action {
        Action::Create => ("Creating...", "Creation complete"),
        Action::Update => ("Modifying...", "Modifications complete"),
        Action::Replace => ("Replacing...", "Replacement complete"),
        Action::Delete => ("Destroying...", "Destruction complete"),
        Action::Forget => ("Forgetting...", "Forgotten (left in place)"),
        _ => ("...", "done"),
    }
}

impl Observer for Progress {
    fn started(&self, address: &Address, action: Action) {
        if let Some(b) = &self.bar {
            b.set_message(address.to_string());
        }
        self.line(format!("{address}: {}", verb(action).0));
    }

    fn finished(&self, address: &Address, action: Action, result: Result<(), &str>) {
        if let Some(b) = &self.bar {
            b.inc(1);
        }
        match result {
            Ok(()) => self.line(format!("{address}: {}", verb(action).1)),
            Err(e) => self.line(format!("{address}: failed: {e}")),
        }
    }
}
