//! State: what cmdeploy last applied, per address. Plain data, versioned, written atomically.
//!
//! Backends are small traits: [`Backend`] loads and persists; locking returns a guard that holds the
//! lock until dropped. The local backend keeps `.cmdeploy/state.json` and `.cmdeploy/state.lock`;
//! the PostgreSQL backend keeps named states in a shared database (see [`PostgresBackend`]).

mod journal;
mod local;
mod moves;
mod postgres;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use journal::Replay;
pub use local::LocalBackend;
pub use moves::{apply_moves, plan_move, MoveError, Moved};
pub use postgres::PostgresBackend;

use crate::resource::{Attributes, Connection};

/// Current state format version.
pub const STATE_VERSION: u32 = 1;

/// The whole state document.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct State {
    /// Format version ([`STATE_VERSION`]).
    pub version: u32,
    /// Incremented on every write; saved plans record it to detect staleness.
    pub serial: u64,
    /// Random identity of this state's history, fixed when it is first written (empty before).
    pub lineage: String,
    /// Entries by address (`kind.name` or `kind.name["key"]`).
    pub resources: BTreeMap<String, StateEntry>,
}

impl Default for State {
    fn default() -> Self {
        State {
            version: STATE_VERSION,
            serial: 0,
            lineage: String::new(),
            resources: BTreeMap::new(),
        }
    }
}

impl State {
    /// Gives a new state its lineage, a random (version 4) UUID as Terraform's (done when it is
    /// first written, so that plans of a project without state agree on it). Lineages written
    /// before, 32 hex digits, stay valid: a lineage is compared, never parsed.
    pub fn ensure_lineage(&mut self) {
        if self.lineage.is_empty() {
            self.lineage = uuid::Uuid::new_v4().to_string();
        }
    }
}

/// What cmdeploy knows about one applied resource.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StateEntry {
    /// Resource kind.
    pub kind: String,
    /// Remote identifier.
    pub id: String,
    /// Attributes as read back after the last apply (no secrets). Shared: a plan's `before` of an
    /// entry removed from the manifests is the same map.
    pub attributes: std::sync::Arc<Attributes>,
    /// Keyed fingerprints of secret attributes (see [`crate::secret::FingerprintKey`]).
    #[serde(default)]
    pub secret_fingerprints: BTreeMap<String, String>,
    /// Direct dependencies (addresses), so deletes run in reverse order.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// The natural key (name, site code, host) for reconciliation.
    #[serde(default)]
    pub natural_key: String,
    /// Provider-private data (not diffed).
    #[serde(default)]
    pub meta: Attributes,
    /// Connection used to write.
    pub connection: Connection,
    /// Connection used to read.
    pub read_connection: Connection,
    /// RFC 3339 time of the last write.
    pub updated_at: String,
}

/// One journal record: the entry of `address` after an operation (`None`: removed), and the
/// state's serial and lineage once it was applied. Records whose serial is not above the full
/// state's were folded into it already and are skipped on replay.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct JournalRecord {
    /// The state's serial after this operation.
    pub serial: u64,
    /// The state's lineage (records of another history are ignored).
    pub lineage: String,
    /// The address the operation changed.
    pub address: String,
    /// Its entry afterwards; `None` when the operation removed it from state.
    pub entry: Option<StateEntry>,
}

impl JournalRecord {
    /// The record of `address` as it stands in `state`.
    pub fn of(state: &State, address: &str) -> JournalRecord {
        JournalRecord {
            serial: state.serial,
            lineage: state.lineage.clone(),
            address: address.to_string(),
            entry: state.resources.get(address).cloned(),
        }
    }
}

impl State {
    /// Makes the entries whose connections are equal share one connection table (one
    /// [`std::sync::Arc`]), as the manifest's resources do: a state read from its file holds a
    /// copy of the table in every entry, twice (200,000 copies for 100,000 entries), and the
    /// refresh hands each entry to its kind.
    pub fn share_connections(&mut self) {
        let mut seen: std::collections::HashMap<String, Vec<std::sync::Arc<Value>>> =
            std::collections::HashMap::new();
        for entry in self.resources.values_mut() {
            for c in [&mut entry.connection, &mut entry.read_connection] {
                if !seen.contains_key(&c.key) {
                    seen.insert(c.key.clone(), Vec::new());
                }
                let Some(known) = seen.get_mut(&c.key) else {
                    continue;
                };
                match known.iter().find(|spec| **spec == c.spec) {
                    Some(spec) => c.spec = spec.clone(),
                    None => known.push(c.spec.clone()),
                }
            }
        }
    }

    /// Applies a journal record on top of this state, unless it is already folded in (serial not
    /// above ours) or belongs to another lineage.
    pub fn replay(&mut self, record: JournalRecord) {
        if record.serial <= self.serial
            || (!self.lineage.is_empty() && record.lineage != self.lineage)
        {
            return;
        }
        if self.lineage.is_empty() {
            self.lineage = record.lineage;
        }
        self.serial = record.serial;
        match record.entry {
            Some(entry) => {
                self.resources.insert(record.address, entry);
            }
            None => {
                self.resources.remove(&record.address);
            }
        }
    }
}

/// Who holds a lock, recorded in the lock for `cmdeploy state unlock` and for waiting users.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LockInfo {
    /// `user@host`.
    pub who: String,
    /// RFC 3339 time the lock was taken.
    pub when: String,
    /// The command, e.g. `apply`.
    pub what: String,
    /// Process id of the holder.
    pub pid: u32,
}

impl LockInfo {
    /// Lock information for this process.
    pub fn current(what: &str) -> LockInfo {
        let user = std::env::var("USER")
            .or_else(|_| std::env::var("USERNAME"))
            .unwrap_or_else(|_| "unknown".into());
        let host = host_name().unwrap_or_else(|| "localhost".into());
        LockInfo {
            who: format!("{user}@{host}"),
            when: chrono::Utc::now().to_rfc3339(),
            what: what.to_string(),
            pid: std::process::id(),
        }
    }
}

/// This machine's name, for lock records: `/etc/hostname` (or `HOSTNAME`) on Unix,
/// `COMPUTERNAME` on Windows (a Windows CI agent has no /etc).
fn host_name() -> Option<String> {
    #[cfg(windows)]
    let name = std::env::var("COMPUTERNAME").ok();
    #[cfg(not(windows))]
    let name = std::fs::read_to_string("/etc/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok());
    name.map(|h| h.trim().to_string()).filter(|h| !h.is_empty())
}

/// State errors.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// I/O on the state or lock file.
    #[error("state {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The state file is not valid.
    #[error("state {path} is not valid state JSON: {message}")]
    Corrupt {
        /// The file.
        path: String,
        /// Parser message.
        message: String,
    },
    /// A journal record that cannot be replayed (another lineage, out of order, an object id
    /// bound twice). Nothing is loaded: the message says how to recover.
    #[error("state journal {path} line {line}: {message}")]
    Journal {
        /// The journal file (or database and state name).
        path: String,
        /// 1-based line (or row number) of the record.
        line: usize,
        /// What is wrong and how to recover.
        message: String,
    },
    /// Another run holds the lock.
    #[error("state is locked by {} since {} (running `{}`, pid {}); wait for it, or run `cmdeploy state unlock` if it is gone", .0.who, .0.when, .0.what, .0.pid)]
    Locked(LockInfo),
    /// The state database failed or cannot be reached. `target` is `host/database` and the state
    /// name, never the connection URL (it may hold a password).
    #[error("state database {target}: {message}")]
    Database {
        /// Where: `postgres host:port/database, state NAME`.
        target: String,
        /// What went wrong (the server's or the client's message).
        message: String,
    },
    /// A newer format than this build understands.
    #[error("state format version {0} is newer than this cmdeploy understands ({STATE_VERSION})")]
    Version(u32),
}

/// A held lock; released on drop.
pub trait LockGuard: Send {}

/// A state backend.
pub trait Backend: Send + Sync {
    /// Loads the state (an empty state when none exists yet).
    ///
    /// # Errors
    /// I/O errors and corrupt or too-new state.
    fn load(&self) -> Result<State, StateError>;

    /// Persists the whole state atomically (after a crash, either the old or the new state is
    /// there) and folds the journal into it (compaction): O(size of the state).
    ///
    /// # Errors
    /// I/O errors.
    fn persist(&self, state: &State) -> Result<(), StateError>;

    /// Records operations that completed together: each [`JournalRecord`] (an address's entry
    /// after its operation, with the serial the state reached then) is appended to the backend's
    /// journal, in order, with one flush for the batch. O(size of the entries), not of the
    /// state, so an apply of n resources writes O(n) in all; [`Backend::load`] replays the
    /// journal over the last full state, and the next [`Backend::persist`] folds it in. Each
    /// record is atomic: after a crash it is wholly there or absent. `state` is the state with
    /// all of them applied; the default persists it whole.
    ///
    /// # Errors
    /// I/O errors.
    fn record(&self, state: &State, records: &[JournalRecord]) -> Result<(), StateError> {
        let _ = records;
        self.persist(state)
    }

    /// Takes the lock, waiting up to `timeout`.
    ///
    /// # Errors
    /// [`StateError::Locked`] naming the holder when it is still held after `timeout`.
    fn lock(
        &self,
        what: &str,
        timeout: std::time::Duration,
    ) -> Result<Box<dyn LockGuard>, StateError>;

    /// Who holds the lock, if anyone.
    ///
    /// # Errors
    /// I/O errors.
    fn lock_info(&self) -> Result<Option<LockInfo>, StateError>;

    /// Breaks the lock (`cmdeploy state unlock`).
    ///
    /// # Errors
    /// I/O errors.
    fn force_unlock(&self) -> Result<Option<LockInfo>, StateError>;

    /// Where the state lives, for messages (a path, or host/database and state name; never a
    /// secret).
    fn describe(&self) -> String;
}

pub use crate::atomic_file::{replace_atomic, write_atomic, write_private};

/// Serializes state for writing (pretty JSON, stable key order).
pub fn to_json(state: &State) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(state).expect("state serializes");
    bytes.push(b'\n');
    bytes
}

/// Parses state text.
///
/// # Errors
/// [`StateError::Corrupt`] or [`StateError::Version`].
pub fn from_json(path: &str, text: &str) -> Result<State, StateError> {
    // Straight into the typed state (no intermediate `Value` tree: at 100k entries that tree
    // doubled the load's time and peak memory). The version is checked after, or from the
    // document alone when it does not parse as this version's state.
    #[derive(Deserialize)]
    struct VersionOnly {
        #[serde(default)]
        version: u32,
    }
    match serde_json::from_str::<State>(text) {
        Ok(state) if state.version > STATE_VERSION => Err(StateError::Version(state.version)),
        Ok(mut state) => {
            state.share_connections();
            Ok(state)
        }
        Err(e) => match serde_json::from_str::<VersionOnly>(text) {
            Ok(v) if v.version > STATE_VERSION => Err(StateError::Version(v.version)),
            _ => Err(StateError::Corrupt {
                path: path.into(),
                message: e.to_string(),
            }),
        },
    }
}

/// Converts a parsed state document (`path` names it in errors).
///
/// # Errors
/// [`StateError::Corrupt`] or [`StateError::Version`].
pub fn from_value(path: &str, v: Value) -> Result<State, StateError> {
    let version = v.get("version").and_then(Value::as_u64).unwrap_or(0) as u32;
    if version > STATE_VERSION {
        return Err(StateError::Version(version));
    }
    let mut state: State = serde_json::from_value(v).map_err(|e| StateError::Corrupt {
        path: path.into(),
        message: e.to_string(),
    })?;
    state.share_connections();
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::Connection;

    fn entry(connection: Connection, read_connection: Connection) -> StateEntry {
        StateEntry {
            kind: "boundary".into(),
            id: "1".into(),
            attributes: Default::default(),
            secret_fingerprints: Default::default(),
            depends_on: Vec::new(),
            natural_key: String::new(),
            meta: Default::default(),
            connection,
            read_connection,
            updated_at: String::new(),
        }
    }

    #[test]
    fn a_loaded_state_shares_equal_connections_and_keeps_different_ones_apart() {
        let cm01 = || Connection::new("cm01", serde_json::json!({"host": "cm01.contoso.com"}));
        let mut state = State::default();
        state
            .resources
            .insert("boundary.a".into(), entry(cm01(), cm01()));
        state
            .resources
            .insert("boundary.b".into(), entry(cm01(), cm01()));
        // The same key with other settings (edited between applies) stays what it was.
        let other = Connection::new("cm01", serde_json::json!({"host": "cm02.contoso.com"}));
        state
            .resources
            .insert("boundary.c".into(), entry(other.clone(), cm01()));
        let text = String::from_utf8(to_json(&state)).unwrap();
        let loaded = from_json("state.json", &text).unwrap();
        assert_eq!(loaded, state, "sharing changes no value");
        let a = &loaded.resources["boundary.a"];
        let b = &loaded.resources["boundary.b"];
        let c = &loaded.resources["boundary.c"];
        assert!(std::sync::Arc::ptr_eq(
            &a.connection.spec,
            &b.connection.spec
        ));
        assert!(std::sync::Arc::ptr_eq(
            &a.connection.spec,
            &a.read_connection.spec
        ));
        assert!(std::sync::Arc::ptr_eq(
            &a.connection.spec,
            &c.read_connection.spec
        ));
        assert!(!std::sync::Arc::ptr_eq(
            &a.connection.spec,
            &c.connection.spec
        ));
        assert_eq!(c.connection, other);
    }
}
