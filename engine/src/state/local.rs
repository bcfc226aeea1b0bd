//! The local state backend: `.cmdeploy/state.json`, guarded by `.cmdeploy/state.lock`.
//!
//! Apply records each operation by appending one JSON line to `.cmdeploy/state.journal` (written
//! in one `write` and fsynced): O(entry) per operation instead of rewriting the whole file. Loading
//! replays the journal over `state.json`; a persist writes `state.json` atomically and then removes
//! the journal. A line torn by a crash (the last one, without its newline) is ignored: that
//! operation's record never completed, and the next plan finds its object by natural key.
//!
//! The lock file holds who/when/what as JSON and is also `flock`ed while held, so a lock whose
//! holder was killed is recognised (the flock died with the process) and taken over, while a live
//! holder is waited for. The lock is correct by construction: a holder never deletes the file (it
//! empties it and releases the flock), and a taker checks after `flock` that the file it locked
//! is still the one at the path (same device and inode), retrying otherwise; so a file removed by
//! `cmdeploy state unlock` while others wait can never give two holders.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::{
    from_json, to_json, write_atomic, Backend, JournalRecord, LockGuard, LockInfo, Replay, State,
    StateError,
};

/// State in a directory (normally `<project>/.cmdeploy`).
#[derive(Debug, Clone)]
pub struct LocalBackend {
    dir: PathBuf,
}

impl LocalBackend {
    /// A backend keeping its files in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        LocalBackend { dir: dir.into() }
    }

    /// Path of the state file.
    pub fn state_path(&self) -> PathBuf {
        self.dir.join("state.json")
    }

    /// Path of the journal of operations recorded since the last full write.
    pub fn journal_path(&self) -> PathBuf {
        self.dir.join("state.journal")
    }

    /// Replays the journal (if any) over `state`.
    fn replay_journal(&self, state: &mut State) -> Result<(), StateError> {
        let path = self.journal_path();
        // Checks the state alone (one address per object id) even without a journal.
        let mut replay = Replay::new(state, &self.state_path().display().to_string())?;
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(self.io(&path, e)),
        };
        replay.set_source(&path.display().to_string());
        let complete = text.ends_with('\n');
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<JournalRecord>(line) {
                Ok(record) => replay.apply(i + 1, record)?,
                // The last line of a journal cut by a crash: that record never completed.
                Err(_) if i + 1 == lines.len() && !complete => {}
                Err(e) => {
                    return Err(StateError::Corrupt {
                        path: path.display().to_string(),
                        message: format!("line {}: {e}", i + 1),
                    })
                }
            }
        }
        Ok(())
    }

    fn lock_path(&self) -> PathBuf {
        self.dir.join("state.lock")
    }

    fn io(&self, path: &std::path::Path, source: std::io::Error) -> StateError {
        StateError::Io {
            path: path.display().to_string(),
            source,
        }
    }

    fn read_lock(&self) -> Option<LockInfo> {
        let text = std::fs::read_to_string(self.lock_path()).ok()?;
        serde_json::from_str(&text).ok()
    }
}

/// The outcome of one attempt to take the lock.
enum Acquire {
    /// Taken.
    Held(Box<dyn LockGuard>),
    /// Another process holds it (the open file, to read who).
    Busy(File),
    /// We locked a file that is no longer the one at the path: open again.
    Stale,
}

impl LocalBackend {
    /// Opens (creating) the lock file, without locking it.
    fn open_lock_file(&self) -> Result<File, StateError> {
        let path = self.lock_path();
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| self.io(&path, e))
    }

    /// One attempt: `flock` the opened `file`, check it is still the file at the path, and
    /// write who holds it.
    fn try_acquire(&self, mut file: File, what: &str) -> Result<Acquire, StateError> {
        let path = self.lock_path();
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Ok(Acquire::Busy(file)),
            Err(std::fs::TryLockError::Error(e)) => return Err(self.io(&path, e)),
        }
        if !is_file_at(&file, &path) {
            let _ = file.unlock();
            return Ok(Acquire::Stale);
        }
        let info = LockInfo::current(what);
        let json =
            serde_json::to_string(&info).map_err(|e| self.io(&path, std::io::Error::other(e)))?;
        file.set_len(0).map_err(|e| self.io(&path, e))?;
        file.rewind().map_err(|e| self.io(&path, e))?;
        file.write_all(json.as_bytes())
            .map_err(|e| self.io(&path, e))?;
        file.sync_all().map_err(|e| self.io(&path, e))?;
        Ok(Acquire::Held(Box::new(LocalLock { file, path })))
    }
}

struct LocalLock {
    file: File,
    path: PathBuf,
}

impl LockGuard for LocalLock {}

impl Drop for LocalLock {
    fn drop(&mut self) {
        // Never remove the file: a waiter may have it open and would then lock an orphan while a
        // newcomer locks a new file at the path (two holders). Empty it, then release.
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
        let _ = &self.path;
    }
}

/// Whether `file` (open) is the file now at `path`: same device and inode. A lock file removed
/// (`cmdeploy state unlock`) and re-created between our open and our flock is another file.
fn is_file_at(file: &File, path: &std::path::Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), std::fs::metadata(path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        // Windows refuses to delete a file that another process holds open without
        // FILE_SHARE_DELETE (std opens without it), so the file at the path is ours.
        let _ = file;
        path.exists()
    }
}

impl Backend for LocalBackend {
    fn load(&self) -> Result<State, StateError> {
        let path = self.state_path();
        let mut state = match std::fs::read_to_string(&path) {
            Ok(text) => from_json(&path.display().to_string(), &text)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => State::default(),
            Err(e) => return Err(self.io(&path, e)),
        };
        self.replay_journal(&mut state)?;
        Ok(state)
    }

    fn persist(&self, state: &State) -> Result<(), StateError> {
        let path = self.state_path();
        write_atomic(&path, &to_json(state)).map_err(|e| self.io(&path, e))?;
        // Every journal record is folded into the file just written (their serials are not above
        // its serial), so a crash before this removal leaves nothing to replay twice.
        let journal = self.journal_path();
        match std::fs::remove_file(&journal) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(self.io(&journal, e)),
            _ => Ok(()),
        }
    }

    fn record(&self, _state: &State, records: &[JournalRecord]) -> Result<(), StateError> {
        let path = self.journal_path();
        let mut lines = Vec::new();
        for record in records {
            serde_json::to_writer(&mut lines, record)
                .map_err(|e| self.io(&path, std::io::Error::other(e)))?;
            lines.push(b'\n');
        }
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| self.io(&path, e))?;
        file.write_all(&lines)
            .and_then(|()| file.sync_data())
            .map_err(|e| self.io(&path, e))
    }

    fn lock(&self, what: &str, timeout: Duration) -> Result<Box<dyn LockGuard>, StateError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| self.io(&self.dir, e))?;
        let start = Instant::now();
        loop {
            let file = self.open_lock_file()?;
            match self.try_acquire(file, what)? {
                Acquire::Held(guard) => return Ok(guard),
                Acquire::Stale => continue,
                Acquire::Busy(mut file) => {
                    if start.elapsed() >= timeout {
                        let mut text = String::new();
                        let _ = file.read_to_string(&mut text);
                        let info = serde_json::from_str(&text).unwrap_or(LockInfo {
                            who: "unknown".into(),
                            when: "unknown".into(),
                            what: "unknown".into(),
                            pid: 0,
                        });
                        return Err(StateError::Locked(info));
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
    }

    fn lock_info(&self) -> Result<Option<LockInfo>, StateError> {
        let path = self.lock_path();
        let Ok(file) = File::open(&path) else {
            return Ok(None);
        };
        // A lock file whose flock we can take has no live holder.
        if file.try_lock_shared().is_ok() {
            let _ = file.unlock();
            return Ok(None);
        }
        Ok(self.read_lock())
    }

    fn force_unlock(&self) -> Result<Option<LockInfo>, StateError> {
        let info = self.read_lock();
        let path = self.lock_path();
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(info),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.io(&path, e)),
        }
    }

    fn describe(&self) -> String {
        self.state_path().display().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn persists_and_loads_state() {
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path());
        let mut s = b.load().unwrap();
        s.serial = 7;
        b.persist(&s).unwrap();
        assert_eq!(b.load().unwrap(), s);
    }

    fn entry(id: &str) -> crate::state::StateEntry {
        let conn = crate::resource::Connection::new("c", serde_json::Value::Null);
        crate::state::StateEntry {
            kind: "k".into(),
            id: id.into(),
            attributes: Default::default(),
            secret_fingerprints: Default::default(),
            depends_on: Vec::new(),
            natural_key: id.into(),
            meta: Default::default(),
            connection: conn.clone(),
            read_connection: conn,
            updated_at: "2025-01-01T00:00:00Z".into(),
        }
    }

    /// A state at serial 1 holding `k.a`.
    fn one_entry() -> State {
        let mut s = State::default();
        s.ensure_lineage();
        s.serial = 1;
        s.resources.insert("k.a".into(), entry("a"));
        s
    }

    #[test]
    fn journal_records_replay_over_the_file_and_fold_into_it_on_persist() {
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path());
        let mut s = one_entry();
        b.persist(&s).unwrap();
        s.serial = 2;
        s.resources.insert("k.b".into(), entry("b"));
        b.record(&s, &[JournalRecord::of(&s, "k.b")]).unwrap();
        s.serial = 3;
        s.resources.remove("k.a");
        b.record(&s, &[JournalRecord::of(&s, "k.a")]).unwrap();
        assert_eq!(b.load().unwrap(), s, "file + journal");
        b.persist(&s).unwrap();
        assert!(!b.journal_path().exists(), "folded in");
        assert_eq!(b.load().unwrap(), s);
    }

    #[test]
    fn a_torn_last_journal_line_is_ignored_and_a_torn_middle_is_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path());
        let s = one_entry();
        b.record(&s, &[JournalRecord::of(&s, "k.a")]).unwrap();
        let whole = std::fs::read(b.journal_path()).unwrap();
        let mut torn = whole.clone();
        torn.extend_from_slice(&whole[..whole.len() / 2]);
        std::fs::write(b.journal_path(), &torn).unwrap();
        assert_eq!(b.load().unwrap(), s, "the torn record never completed");
        torn.push(b'\n');
        torn.extend_from_slice(&whole);
        std::fs::write(b.journal_path(), &torn).unwrap();
        assert!(matches!(b.load(), Err(StateError::Corrupt { .. })));
    }

    fn journal_error(b: &LocalBackend) -> (usize, String) {
        match b.load() {
            Err(StateError::Journal { line, message, .. }) => (line, message),
            other => panic!("expected a journal error, got {other:?}"),
        }
    }

    /// Regression: a journal of another lineage was dropped without a word, orphaning the objects
    /// it recorded.
    #[test]
    fn a_journal_of_another_lineage_is_refused_not_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path());
        let s = one_entry();
        b.persist(&s).unwrap();
        let mut other = one_entry();
        other.lineage = "f".repeat(32);
        other.serial = 2;
        other.resources.insert("k.b".into(), entry("b"));
        b.record(&other, &[JournalRecord::of(&other, "k.b")])
            .unwrap();
        let (line, message) = journal_error(&b);
        assert_eq!(line, 1);
        assert!(message.contains("lineage"), "{message}");
        assert!(message.contains("Move the journal aside"), "{message}");
    }

    /// Regression: a record binding an object id that another address holds made apply create a
    /// duplicate on every run.
    #[test]
    fn a_record_binding_an_id_held_by_another_address_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path());
        let mut s = one_entry();
        b.persist(&s).unwrap();
        s.serial = 2;
        s.resources.insert("k.b".into(), entry("a"));
        b.record(&s, &[JournalRecord::of(&s, "k.b")]).unwrap();
        let (line, message) = journal_error(&b);
        assert_eq!(line, 1);
        assert!(message.contains("k.a holds it"), "{message}");
    }

    #[test]
    fn records_out_of_serial_order_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path());
        let mut s = one_entry();
        b.persist(&s).unwrap();
        s.serial = 3;
        s.resources.insert("k.b".into(), entry("b"));
        let late = JournalRecord::of(&s, "k.b");
        s.serial = 2;
        s.resources.insert("k.c".into(), entry("c"));
        let early = JournalRecord::of(&s, "k.c");
        b.record(&s, &[late, early]).unwrap();
        let (line, message) = journal_error(&b);
        assert_eq!(line, 2);
        assert!(message.contains("out of order"), "{message}");
    }

    #[test]
    fn a_state_binding_one_id_twice_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path());
        let mut s = one_entry();
        s.resources.insert("k.b".into(), entry("a"));
        b.persist(&s).unwrap();
        assert!(matches!(b.load(), Err(StateError::Corrupt { .. })));
    }

    /// A persist that crashed before removing the journal leaves records already folded in: they
    /// are skipped (as a prefix), and a record moving an id from one address to another (a
    /// rename) is fine.
    #[test]
    fn folded_records_and_moved_ids_replay() {
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path());
        let mut s = one_entry();
        let folded = JournalRecord::of(&s, "k.a");
        b.persist(&s).unwrap();
        s.serial = 2;
        s.resources.remove("k.a");
        let removed = JournalRecord::of(&s, "k.a");
        s.serial = 3;
        s.resources.insert("k.renamed".into(), entry("a"));
        let added = JournalRecord::of(&s, "k.renamed");
        b.record(&s, &[folded, removed, added]).unwrap();
        assert_eq!(b.load().unwrap(), s);
    }

    #[test]
    fn second_lock_times_out_naming_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path());
        let _g = b.lock("apply", Duration::ZERO).unwrap();
        match b.lock("plan", Duration::from_millis(150)) {
            Err(StateError::Locked(info)) => assert_eq!(info.what, "apply"),
            Err(e) => panic!("unexpected {e}"),
            Ok(_) => panic!("second lock taken"),
        }
        assert_eq!(b.lock_info().unwrap().unwrap().what, "apply");
    }

    /// Regression: a waiter that opened the lock file before the holder released it must not end
    /// up holding a lock beside a newcomer. Forces the interleaving with the two halves of
    /// `lock()`: B opens, A releases, C locks, then B flocks what it opened.
    #[test]
    fn a_waiter_and_a_newcomer_never_both_hold_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path());
        let a = b.lock("apply A", Duration::ZERO).unwrap();
        let waiter = b.open_lock_file().unwrap();
        drop(a);
        let _c = b.lock("apply C", Duration::ZERO).unwrap();
        match b.try_acquire(waiter, "apply B").unwrap() {
            Acquire::Held(_) => panic!("B holds the lock while C does"),
            Acquire::Busy(_) | Acquire::Stale => {}
        }
    }

    /// The same with the file removed under the waiter (`cmdeploy state unlock`): B's flock on
    /// the removed file succeeds, and the identity check must refuse it.
    #[test]
    fn a_lock_on_a_removed_file_is_not_a_lock() {
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path());
        let waiter = b.open_lock_file().unwrap();
        b.force_unlock().unwrap();
        let _c = b.lock("apply C", Duration::ZERO).unwrap();
        assert!(matches!(
            b.try_acquire(waiter, "apply B").unwrap(),
            Acquire::Stale
        ));
    }

    #[test]
    fn lock_is_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path());
        drop(b.lock("apply", Duration::ZERO).unwrap());
        assert!(b.lock_info().unwrap().is_none());
        b.lock("apply", Duration::ZERO).unwrap();
    }
}
