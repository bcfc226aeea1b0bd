//! `cmdeploy state list | show | rm | lock | unlock`.

use std::path::Path;
use std::time::Duration;

use crate::cli::StateCommand;
use crate::output::Output;
use crate::session::Session;
use crate::Failure;

/// Runs a state subcommand.
pub fn run(dir: &Path, cmd: StateCommand, _out: Output) -> Result<i32, Failure> {
    let s = Session::open(dir)?;
    let msg = |e: cmdeploy_engine::state::StateError| Failure::Message(e.to_string());
    match cmd {
        StateCommand::List => {
            for a in s.state()?.resources.keys() {
                println!("{a}");
            }
        }
        StateCommand::Show { address } => {
            let state = s.state()?;
            let entry = state
                .resources
                .get(&address)
                .ok_or_else(|| Failure::Message(format!("{address} is not in state")))?;
            println!(
                "{}",
                serde_json::to_string_pretty(entry).unwrap_or_default()
            );
        }
        StateCommand::Rm { address } => {
            let _lock = s.backend.lock("state rm", Duration::ZERO).map_err(msg)?;
            let mut state = s.state()?;
            if state.resources.remove(&address).is_none() {
                return Err(Failure::Message(format!("{address} is not in state")));
            }
            state.serial += 1;
            s.backend.persist(&state).map_err(msg)?;
            println!("Removed {address} from state; the object itself is untouched.");
        }
        StateCommand::Lock => match s.backend.lock_info().map_err(msg)? {
            Some(info) => println!(
                "State {} is locked by {} since {} (running `{}`, pid {}).",
                s.backend.describe(),
                info.who,
                info.when,
                info.what,
                info.pid
            ),
            None => println!("State {} is not locked.", s.backend.describe()),
        },
        StateCommand::Unlock => {
            let live = s.backend.lock_info().map_err(msg)?.is_some();
            match s.backend.force_unlock().map_err(msg)? {
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
