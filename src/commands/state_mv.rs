//! `cmdeploy state mv FROM TO`: rename an address in state, as Terraform's `state mv` does. The
//! object in the estate is untouched; its entry (id, attributes, fingerprints) is known by the
//! new address, so the next plan neither destroys nor creates it. The move is written under the
//! state lock in one atomic write (on PostgreSQL, one transaction that also adds the journal row
//! naming the addresses removed and added).

use std::time::Duration;

use cmdeploy_engine::address::Address;
use cmdeploy_engine::state::{apply_moves, plan_move, Backend, MoveError};

use crate::Failure;

/// Moves `from` to `to` (or says what would move, with `dry_run`).
///
/// # Errors
/// A malformed address, a move [`plan_move`] refuses (with the nearest address when FROM is not
/// in state), a held lock, or a state that cannot be written.
pub fn run(
    backend: &dyn Backend,
    from: &str,
    to: &str,
    dry_run: bool,
    lock_timeout: Duration,
) -> Result<i32, Failure> {
    let parse = |text: &str| Address::parse(text).map_err(Failure::Message);
    let (from_addr, to_addr) = (parse(from)?, parse(to)?);
    let msg = |e: cmdeploy_engine::state::StateError| Failure::Message(e.to_string());
    let _lock = if dry_run {
        None
    } else {
        Some(backend.lock("state mv", lock_timeout).map_err(msg)?)
    };
    let mut state = backend.load().map_err(msg)?;
    let moves = plan_move(&state, &from_addr, &to_addr).map_err(|e| match e {
        MoveError::NotInState(_) => Failure::Message(super::state_show::not_in_state(&state, from)),
        other => Failure::Message(format!("cannot move {from} to {to}: {other}")),
    })?;
    let verb = if dry_run { "Would move" } else { "Moved" };
    for m in &moves {
        println!("{verb} {} to {}.", m.from, m.to);
    }
    if dry_run {
        println!("Dry run: state is unchanged.");
        return Ok(0);
    }
    // One atomic write (a transaction with its journal row on PostgreSQL): a move appended as
    // separate records could be cut between "removed here" and "added there".
    apply_moves(&mut state, &moves);
    backend.persist(&state).map_err(msg)?;
    println!(
        "State serial {}: the objects are untouched; the next plan reads them at their new addresses.",
        state.serial
    );
    Ok(0)
}
