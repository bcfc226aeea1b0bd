//! `cmdeploy import`: adopt what a site server or domain controller already holds.
//!
//! Under the state lock: list every object of the chosen kinds through the connection, keep the
//! unmanaged ones ([`cmdeploy_engine::import::select`]), write them as a new manifest file, reload
//! the project with it, refresh the new addresses and bind those whose plan is a no-op in state
//! ([`cmdeploy_engine::apply::adopt`]), persisting state once. If the new file does not load, it
//! is taken back (the replaced file restored) and state is left untouched.
//!
//! Accounts are written without `password`: ConfigMgr cannot return passwords, and a resource
//! without one keeps the account's password as it is (see `cmdeploy_providers::configmgr::account`).
//! The file says which secret reference to add to start managing it.
//!
//! An object whose table would not validate (a GPO whose SetupParameters has a typo, say) is
//! written commented out with its problems and not bound; the command warns and still exits 0,
//! like an object whose plan is not a no-op.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use cmdeploy_engine::address::Address;
use cmdeploy_engine::apply::adopt;
use cmdeploy_engine::import::{self, Imported, RenderInput, Selected};
use cmdeploy_engine::plan::Action;
use cmdeploy_engine::provider::{Context, Kind};
use cmdeploy_engine::resource::Connection;
use cmdeploy_engine::state::{write_atomic, State};

use crate::cli::ImportArgs;
use crate::output::Output;
use crate::session::Session;
use crate::Failure;

/// Runs `import`.
pub async fn run(dir: &Path, args: ImportArgs, out: Output) -> Result<i32, Failure> {
    // With the data sources read: the boundaries declared from AD are managed, not offered.
    let s = Session::open_read(dir).await?;
    out.diagnostics(&s.warnings);
    if !s.unread.is_empty() {
        // What they declare is unknown: it would be offered as unmanaged and imported twice.
        s.report_unread(out);
        return Err(Failure::Message(
            "nothing was imported: a data source could not be read".into(),
        ));
    }
    let connection = s
        .project
        .connection(&args.connection)
        .map_err(|e| Failure::Message(format!("--connection {}: {e}", args.connection)))?;
    let kinds = chosen_kinds(&s, &connection, &args.kinds).await?;
    let path = out_path(&s, &args.out)?;
    let _lock = s
        .backend
        .lock("import", Duration::from_secs(args.lock_timeout))
        .map_err(|e| Failure::Message(e.to_string()))?;
    let mut state = s.state()?;
    // With --force, what the replaced file declared is imported again, not counted as managed.
    let replaced: BTreeSet<Address> = if args.force {
        s.project
            .resources
            .by_address
            .values()
            .filter(|r| same_file(&r.loc.file.path, &path))
            .map(|r| r.address.clone())
            .collect()
    } else {
        BTreeSet::new()
    };
    let mut resources = (**s.resources()).clone();
    resources.by_address.retain(|a, _| !replaced.contains(a));
    state
        .resources
        .retain(|a, _| Address::parse(a).map_or(true, |a| !replaced.contains(&a)));
    // Kinds see the project without the replaced file, so a listing that depends on what is
    // managed (hierarchy-wide settings are declared once) treats its objects as unmanaged.
    let mut ctx = s.ctx.clone();
    ctx.resources = Arc::new(resources.clone());
    let listed = list(&ctx, &connection, &kinds).await?;
    // What the listed objects refer to, and what that refers to in turn (a boundary names its
    // site, the site its network access accounts), listed kind by kind.
    let mut extra = Vec::new();
    let mut asked: BTreeSet<String> = kinds.iter().map(|k| k.name().to_string()).collect();
    let mut referring: Vec<&Imported> = listed.iter().collect();
    loop {
        let needed: BTreeSet<String> = referring
            .iter()
            .flat_map(|o| o.references.iter().map(|r| r.kind.clone()))
            .filter(|k| !asked.contains(k))
            .collect();
        if needed.is_empty() {
            break;
        }
        let mut extra_kinds: Vec<Arc<dyn Kind>> = Vec::new();
        for k in needed.iter().filter_map(|k| s.registry.get(k)) {
            if k.importable() && imports_from(&s, k.as_ref(), &connection).await? {
                extra_kinds.push(k.clone());
            }
        }
        asked.extend(needed);
        let more = list(&ctx, &connection, &extra_kinds).await?;
        extra.extend(more);
        referring = extra.iter().collect();
    }
    let mut selected = import::select(listed, extra, &resources, &state).map_err(|e| {
        Failure::Message(format!("{e}; import its kind too (--kinds), or declare it"))
    })?;
    // A table that would not validate is written commented out, so the file still loads.
    for x in &mut selected {
        if let Some(kind) = s.registry.get(&x.address.kind) {
            x.problems = import::problems(
                x,
                kind.as_ref(),
                &s.project.config.variables,
                &s.project.dir,
            );
        }
    }
    let names: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
    if selected.is_empty() {
        println!(
            "Nothing to import: every {} object on {} is already managed.",
            names.join(", "),
            connection.host()
        );
        return Ok(0);
    }
    let previous = std::fs::read(&path).ok();
    if previous.is_some() && !args.force {
        return Err(Failure::Message(format!(
            "{} already exists; pass --force to replace it (the objects it declares are imported again), or --out another file",
            path.display()
        )));
    }
    let date = import_date();
    let text = import::render(&RenderInput {
        selected: &selected,
        connection: &args.connection,
        host: &connection.host(),
        date: date.as_deref(),
    });
    write_atomic(&path, text.as_bytes())
        .map_err(|e| Failure::Message(format!("cannot write {}: {e}", path.display())))?;
    let bound = match bind(dir, &selected, &mut state, &replaced).await {
        Ok(bound) => bound,
        Err(e) => {
            let _ = match &previous {
                Some(bytes) => write_atomic(&path, bytes),
                None => std::fs::remove_file(&path),
            };
            return Err(e);
        }
    };
    s.backend
        .persist(&state)
        .map_err(|e| Failure::Message(format!("state could not be saved: {e}")))?;
    report(&selected, &bound, &path, out);
    Ok(0)
}

/// True when `kind` lists its objects through `connection` (a site-side kind asks the host which
/// site its SMS Provider serves when no `site` resource names the connection).
async fn imports_from(
    s: &Session,
    kind: &dyn Kind,
    connection: &Connection,
) -> Result<bool, Failure> {
    kind.imports_from(&s.ctx, connection).await.map_err(|e| {
        Failure::Message(format!(
            "nothing was imported: cannot tell what {} holds: {e}",
            connection.host()
        ))
    })
}

/// The kinds to import: `--kinds`, or every kind importable through the connection.
async fn chosen_kinds(
    s: &Session,
    connection: &Connection,
    asked: &[String],
) -> Result<Vec<Arc<dyn Kind>>, Failure> {
    let mut available: Vec<Arc<dyn Kind>> = Vec::new();
    for k in s.registry.kinds().filter(|k| k.importable()) {
        if imports_from(s, k.as_ref(), connection).await? {
            available.push(k.clone());
        }
    }
    let valid: Vec<&str> = available.iter().map(|k| k.name()).collect();
    if available.is_empty() {
        let importable: Vec<&str> = s
            .registry
            .kinds()
            .filter(|k| k.importable())
            .map(|k| k.name())
            .collect();
        return Err(Failure::Message(format!(
            "nothing can be imported through connection {}: {} import through a site server connection (one a [site] resource uses, or a host whose SMS Provider serves a site), gpo through a domain controller connection (one a [gpo] resource uses)",
            connection.key,
            importable.join(", ")
        )));
    }
    if asked.is_empty() {
        return Ok(available);
    }
    let mut out: Vec<Arc<dyn Kind>> = Vec::new();
    for name in asked.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        match available.iter().find(|k| k.name() == name) {
            Some(k) if !out.iter().any(|x| x.name() == name) => out.push(k.clone()),
            Some(_) => {}
            None => {
                let why = match s.registry.get(name) {
                    Some(k) if k.importable() => format!(
                        "`{name}` objects are not read through connection {}",
                        connection.key
                    ),
                    Some(_) => format!("`{name}` cannot be imported"),
                    None => format!("unknown kind `{name}`"),
                };
                return Err(Failure::Message(format!(
                    "--kinds: {why}; through {} you can import: {}",
                    connection.key,
                    valid.join(", ")
                )));
            }
        }
    }
    Ok(out)
}

/// The file to write: in the project directory, a `.toml` that is loaded as a manifest.
fn out_path(s: &Session, out: &Path) -> Result<PathBuf, Failure> {
    let dir = &s.project.dir;
    let path = if out.is_absolute() {
        out.to_path_buf()
    } else {
        dir.join(out)
    };
    let parent_ok = path
        .parent()
        .and_then(|p| p.canonicalize().ok())
        .is_some_and(|p| &p == dir);
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let ignored = s.project.config.project.ignore.clone().unwrap_or_default();
    if !parent_ok
        || !name.ends_with(".toml")
        || name == "cmdeploy.toml"
        || ignored.iter().any(|i| i == name)
    {
        return Err(Failure::Message(format!(
            "--out {}: the imported manifest must be a new .toml file directly in the project directory {} (not cmdeploy.toml or an ignored file), so that plans load it",
            out.display(),
            dir.display()
        )));
    }
    Ok(path)
}

async fn list(
    ctx: &Context,
    connection: &Connection,
    kinds: &[Arc<dyn Kind>],
) -> Result<Vec<Imported>, Failure> {
    let mut all = Vec::new();
    for k in kinds {
        let objects = k
            .list(ctx, connection)
            .await
            .map_err(|e| Failure::Message(format!("cannot list {} objects: {e}", k.name())))?;
        all.extend(objects.into_iter().map(|mut o| {
            o.kind = k.name().to_string();
            o
        }));
    }
    Ok(all)
}

/// Reloads the project with the new file, refreshes the imported addresses and adopts those
/// whose plan is a no-op. Returns the bound addresses, or the reason the file cannot stay.
async fn bind(
    dir: &Path,
    selected: &[Selected],
    state: &mut State,
    replaced: &BTreeSet<Address>,
) -> Result<BTreeMap<Address, Vec<String>>, Failure> {
    let s = Session::open_read(dir).await?;
    for a in replaced {
        state.resources.remove(&a.to_string());
    }
    let wanted: Vec<Address> = selected
        .iter()
        .filter(|x| x.problems.is_empty())
        .map(|x| x.address.clone())
        .collect();
    let planned = s.plan_with(state, Some(&wanted), BTreeMap::new(), 10).await;
    adopt(
        &planned.plan,
        s.resources(),
        &planned.observed,
        state,
        &s.ctx.fingerprints,
        &planned.secrets,
    );
    Ok(planned
        .plan
        .resource_changes
        .iter()
        .filter_map(|c| {
            let a = Address::parse(&c.address).ok()?;
            let differences = match c.action() {
                Action::NoOp => Vec::new(),
                _ => {
                    let mut d: Vec<String> = c.changes.iter().map(|ch| ch.name.clone()).collect();
                    d.extend(c.notes.iter().cloned());
                    if d.is_empty() {
                        d.push(format!("{:?}", c.action()).to_lowercase());
                    }
                    d
                }
            };
            Some((a, differences))
        })
        .collect())
}

fn report(selected: &[Selected], bound: &BTreeMap<Address, Vec<String>>, path: &Path, out: Output) {
    println!(
        "Imported {} objects into {}:",
        selected.len(),
        path.display()
    );
    for x in selected {
        let by = x
            .required_by
            .as_ref()
            .map(|b| format!(", needed by {b}"))
            .unwrap_or_default();
        println!("  {} ({}{by})", x.address, x.object.origin);
    }
    for x in selected.iter().filter(|x| !x.problems.is_empty()) {
        eprintln!(
            "{} {} is written commented out and not bound in state: it would not validate ({}); fix it and uncomment it",
            out.paint("\x1b[33;1m", "warning:"),
            x.address,
            x.problems.join("; ")
        );
    }
    let unbound: Vec<(&Address, &Vec<String>)> =
        bound.iter().filter(|(_, d)| !d.is_empty()).collect();
    for (a, d) in &unbound {
        eprintln!(
            "{} {a} is written but not bound in state: its plan is not a no-op ({}); review it before applying",
            out.paint("\x1b[33;1m", "warning:"),
            d.join("; ")
        );
    }
    println!(
        "{} {} bound in state; the next plan leaves them as they are.",
        out.paint("\x1b[32;1m", "Import complete!"),
        bound.len() - unbound.len()
    );
}

fn same_file(a: &Path, b: &Path) -> bool {
    a == b
        || a.canonicalize()
            .ok()
            .zip(b.canonicalize().ok())
            .is_some_and(|(x, y)| x == y)
}

/// The date written in comments: `SOURCE_DATE_EPOCH` (seconds; reproducible output) or today (UTC).
fn import_date() -> Option<String> {
    let at = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) => chrono::DateTime::from_timestamp(v.trim().parse().ok()?, 0)?,
        Err(_) => chrono::Utc::now(),
    };
    Some(at.format("%Y-%m-%d").to_string())
}
