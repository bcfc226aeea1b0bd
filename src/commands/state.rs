//! `cmdeploy state list | show | rm | lock | unlock`.

use std::path::Path;
use std::time::Duration;

use crate::cli::StateCommand;
use crate::output::Output;
use crate::Failure;

/// Runs a state subcommand.
pub fn run(dir: &Path, cmd: StateCommand, _out: Output) -> Result<i32, Failure> {
    let backend = crate::session::state_backend(dir)?;
    let load = || backend.load().map_err(|e| Failure::Message(e.to_string()));
    let msg = |e: cmdeploy_engine::state::StateError| Failure::Message(e.to_string());
    match cmd {
        StateCommand::List => {
            for a in load()?.resources.keys() {
                println!("{a}");
            }
        }
        StateCommand::Show { address, json } => {
            let state = load()?;
            let entry = super::state_show::entry(&state, &address)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(entry).unwrap_or_default()
                );
            } else {
                print!("{}", super::state_show::render(&address, entry));
            }
        }
        StateCommand::Mv {
            from,
            to,
            dry_run,
            lock_timeout,
        } => {
            return super::state_mv::run(
                backend.as_ref(),
                &from,
                &to,
                dry_run,
                Duration::from_secs(lock_timeout),
            )
        }
        StateCommand::Rm { address } => {
            let _lock = backend.lock("state rm", Duration::ZERO).map_err(msg)?;
            let mut state = load()?;
            if state.resources.remove(&address).is_none() {
                return Err(Failure::Message(super::state_show::not_in_state(
                    &state, &address,
                )));
            }
            state.serial += 1;
            backend.persist(&state).map_err(msg)?;
            println!("Removed {address} from state; the object itself is untouched.");
        }
        StateCommand::Lock => match backend.lock_info().map_err(msg)? {
            Some(info) => println!(
                "State {} is locked by {} since {} (running `{}`, pid {}).",
                backend.describe(),
                info.who,
                info.when,
                info.what,
                info.pid
            ),
            None => println!("State {} is not locked.", backend.describe()),
        },
        StateCommand::Unlock => {
            let live = backend.lock_info().map_err(msg)?.is_some();
            match backend.force_unlock().map_err(msg)? {
                Some(info) if live => println!(
                    "Unlocked: broke the lock held by {} since {} (running `{}`, pid {}).",
                    info.who, info.when, info.what, info.pid
                ),
                Some(info) => println!(
                    "Unlocked: cleared a stale lock record of {} since {} (running `{}`); its holder was gone.",
                    info.who, info.when, info.what
                ),
                None => println!("State was not locked."),
            }
        }
    }
    Ok(0)
}
