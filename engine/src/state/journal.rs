//! Replaying a journal over a full state, checked: the records must belong to the state's
//! lineage, follow each other in serial order, and never bind an object id that another address
//! holds. Anything else is refused with the file, the line and how to recover, never repaired:
//! a journal of another state dropped in silence orphans objects, and a record binding an id twice
//! makes every apply create duplicates.

use std::collections::HashMap;

use super::{JournalRecord, State, StateError};

/// A checked replay of journal records over `state` (see the module doc).
pub struct Replay<'a> {
    state: &'a mut State,
    source: String,
    /// The serial of the last record applied or skipped (0 before the first).
    last_serial: u64,
    /// `(kind, id)` → address, for non-empty ids.
    bound: HashMap<(String, String), String>,
}

impl<'a> Replay<'a> {
    /// Starts a replay over `state`, read from `source` (a path or database name, for messages).
    ///
    /// # Errors
    /// [`StateError::Corrupt`] when the state itself binds one object id to two addresses.
    pub fn new(state: &'a mut State, source: &str) -> Result<Replay<'a>, StateError> {
        let mut bound = HashMap::with_capacity(state.resources.len());
        for (address, entry) in &state.resources {
            if entry.id.is_empty() {
                continue;
            }
            if let Some(other) =
                bound.insert((entry.kind.clone(), entry.id.clone()), address.clone())
            {
                return Err(StateError::Corrupt {
                    path: source.to_string(),
                    message: format!(
                        "{} object id `{}` is bound to both {other} and {address}; one of them is wrong. Restore the state from a backup, or remove the wrong entry by hand (then `cmdeploy plan` shows what is unbound, and `cmdeploy import` adopts it)",
                        entry.kind, entry.id
                    ),
                });
            }
        }
        Ok(Replay {
            state,
            source: source.to_string(),
            last_serial: 0,
            bound,
        })
    }

    /// Names the journal in later messages (the state's source was named at [`Replay::new`]).
    pub fn set_source(&mut self, source: &str) {
        self.source = source.to_string();
    }

    /// Applies the record found at `line` (1-based, for messages). Records whose serial is not
    /// above the full state's were folded into it by a persist that crashed before it removed the
    /// journal: they are skipped, but only as a prefix of the journal.
    ///
    /// # Errors
    /// [`StateError::Journal`] for a record of another lineage, out of serial order, or binding an
    /// object id that another address holds.
    pub fn apply(&mut self, line: usize, record: JournalRecord) -> Result<(), StateError> {
        let fail = |message: String| StateError::Journal {
            path: self.source.clone(),
            line,
            message,
        };
        if !self.state.lineage.is_empty() && record.lineage != self.state.lineage {
            return Err(fail(format!(
                "the record belongs to state lineage {} but the state has lineage {}: the journal is another state's (a state file restored or copied without its journal). Move the journal aside to load the state alone, or restore the state it belongs to; objects it created are then found by `cmdeploy plan` and adopted with `cmdeploy import`",
                record.lineage, self.state.lineage
            )));
        }
        if record.serial <= self.last_serial {
            return Err(fail(format!(
                "serial {} follows serial {}: records are out of order (the journal was edited or two journals were joined). Restore it from a backup, or keep only its lines up to here",
                record.serial, self.last_serial
            )));
        }
        self.last_serial = record.serial;
        if record.serial <= self.state.serial {
            // Folded into the state already by a persist that crashed before removing the journal.
            return Ok(());
        }
        if let Some(entry) = &record.entry {
            if !entry.id.is_empty() {
                let key = (entry.kind.clone(), entry.id.clone());
                if let Some(other) = self.bound.get(&key) {
                    let moved_away = self
                        .state
                        .resources
                        .get(other)
                        .is_none_or(|e| e.kind != entry.kind || e.id != entry.id);
                    if other != &record.address && !moved_away {
                        return Err(fail(format!(
                            "the record binds {} object id `{}` to {}, but {other} holds it: apply would create a duplicate every run. Remove the wrong line (or restore the journal from a backup)",
                            entry.kind, entry.id, record.address
                        )));
                    }
                }
            }
        }
        if let Some(old) = self.state.resources.get(&record.address) {
            if !old.id.is_empty() {
                let key = (old.kind.clone(), old.id.clone());
                if self.bound.get(&key) == Some(&record.address) {
                    self.bound.remove(&key);
                }
            }
        }
        if let Some(entry) = &record.entry {
            if !entry.id.is_empty() {
                self.bound.insert(
                    (entry.kind.clone(), entry.id.clone()),
                    record.address.clone(),
                );
            }
        }
        self.state.replay(record);
        Ok(())
    }
}
