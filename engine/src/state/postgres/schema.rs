//! The backend's tables and lock keys.
//!
//! * `cmdeploy_state`: one row per state name holding the whole state document (`jsonb`), its
//!   serial and lineage.
//! * `cmdeploy_journal`: one row per write: serial, who, and the addresses added, changed and
//!   removed — an audit trail of every write. A row recorded by an apply operation also holds
//!   `entry` (a [`super::super::JournalRecord`]) until a full persist folds it into the document.
//! * `cmdeploy_locks`: who holds each state's lock (user@host, time, command, process id, and the
//!   server backend pid holding the advisory lock). The lock itself is a session advisory lock.

use sha2::{Digest, Sha256};

/// DDL, run once per process under a transaction-level advisory lock so that two first runs do
/// not race on `CREATE TABLE IF NOT EXISTS`.
pub(super) const CREATE: &str = "
BEGIN;
SELECT pg_advisory_xact_lock(7264981300482195251);
CREATE TABLE IF NOT EXISTS cmdeploy_state (
    state_name  text PRIMARY KEY,
    serial      bigint NOT NULL,
    lineage     text NOT NULL,
    document    jsonb NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS cmdeploy_journal (
    id          bigserial PRIMARY KEY,
    state_name  text NOT NULL,
    serial      bigint NOT NULL,
    lineage     text NOT NULL,
    written_at  timestamptz NOT NULL DEFAULT now(),
    who         text NOT NULL,
    pid         integer NOT NULL,
    resources   integer NOT NULL,
    added       text[] NOT NULL,
    changed     text[] NOT NULL,
    removed     text[] NOT NULL
);
ALTER TABLE cmdeploy_journal ADD COLUMN IF NOT EXISTS entry jsonb;
CREATE INDEX IF NOT EXISTS cmdeploy_journal_state ON cmdeploy_journal (state_name, serial);
CREATE TABLE IF NOT EXISTS cmdeploy_locks (
    state_name  text PRIMARY KEY,
    who         text NOT NULL,
    taken_at    text NOT NULL,
    what        text NOT NULL,
    pid         integer NOT NULL,
    backend_pid integer NOT NULL
);
COMMIT;
";

/// Writes the state row and its journal row, and clears the records it folds in, in one
/// statement (one implicit transaction).
/// Parameters: name, serial, lineage, document, who, pid, resources, added, changed, removed.
pub(super) const PERSIST: &str = "
WITH s AS (
    INSERT INTO cmdeploy_state (state_name, serial, lineage, document, updated_at)
    VALUES ($1, $2, $3, $4, now())
    ON CONFLICT (state_name) DO UPDATE
        SET serial = EXCLUDED.serial, lineage = EXCLUDED.lineage,
            document = EXCLUDED.document, updated_at = now()
    RETURNING state_name
), folded AS (
    UPDATE cmdeploy_journal SET entry = NULL
    WHERE state_name = $1 AND serial <= $2 AND entry IS NOT NULL
)
INSERT INTO cmdeploy_journal
    (state_name, serial, lineage, who, pid, resources, added, changed, removed)
SELECT state_name, $2, $3, $5, $6, $7, $8, $9, $10 FROM s";

/// Appends one operation's record (one row, atomic). Parameters: name, serial, lineage, who,
/// pid, resources, added, changed, removed, entry.
pub(super) const RECORD: &str = "
INSERT INTO cmdeploy_journal
    (state_name, serial, lineage, who, pid, resources, added, changed, removed, entry)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

/// The records not yet folded into the document, in order. Parameters: name, document serial.
pub(super) const UNFOLDED: &str = "
SELECT entry FROM cmdeploy_journal
WHERE state_name = $1 AND serial > $2 AND entry IS NOT NULL
ORDER BY serial, id";

/// The advisory lock key of a state name: the first 8 bytes of SHA-256 of
/// `cmdeploy-state:NAME`, so distinct names get distinct locks.
pub(super) fn lock_key(name: &str) -> i64 {
    let digest = Sha256::digest(format!("cmdeploy-state:{name}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

/// The `(classid, objid)` pair under which `pg_locks` shows a bigint advisory key.
pub(super) fn lock_key_parts(key: i64) -> (i64, i64) {
    let k = key as u64;
    ((k >> 32) as i64, (k & 0xffff_ffff) as i64)
}

/// Backend pids holding the advisory lock `key` in the current database.
pub(super) const HOLDERS: &str = "
SELECT pid FROM pg_locks
WHERE locktype = 'advisory' AND granted AND objsubid = 1
  AND classid::bigint = $1 AND objid::bigint = $2
  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_keys_differ_per_name_and_split_into_oids() {
        assert_ne!(lock_key("a"), lock_key("b"));
        assert_eq!(lock_key("a"), lock_key("a"));
        let (hi, lo) = lock_key_parts(-1);
        assert_eq!((hi, lo), (0xffff_ffff, 0xffff_ffff));
    }
}
