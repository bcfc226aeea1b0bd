//! A lab on disk: the estate a project's Scripts run against.
//!
//! Seeded from the project's `lab.toml`, persisted as `.cmdeploy/lab/estate.json` and the
//! journal of the write Scripts run since that file was written ([`journal`]). Each Script
//! arrives as the stdin document a Windows host would receive (runner + payload); the lab checks
//! that the runner is exactly cmdeploy's, then executes the payload's calls one by one against the
//! estate under a lock (a process mutex and an exclusive file lock, so `lab serve` and in-process
//! runs share one estate), and answers with the runner's JSON result document.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use cmdeploy_engine::provider::RemoteError;
// The estate is simulated, not a source of truth: replaced atomically, not fsynced per Script.
use cmdeploy_engine::state::replace_atomic as write_atomic;

use crate::error::LabError;
use crate::model::Estate;
use crate::{ccmsetup_service, journal};
use cmdeploy_providers::powershell::runner::split_stdin;
use cmdeploy_providers::powershell::ScriptOutput;

/// Name of the seed file in a project directory.
pub const SEED_FILE: &str = "lab.toml";

/// A lab on disk.
#[derive(Clone)]
pub struct Lab {
    dir: PathBuf,
    project_dir: PathBuf,
    guard: Guard,
    handles: Arc<Mutex<Handles>>,
}

/// The lab's small files, kept open between Scripts (opening three files per Script was most
/// of a read-only Script's cost). Closed whenever the estate is read from disk again, so a lab
/// directory made anew is not written through handles of the old one.
#[derive(Default)]
struct Handles {
    /// `scripts_run`, read and written in place.
    counter: Option<std::fs::File>,
    /// `audit.jsonl`, opened for appending.
    audit: Option<std::fs::File>,
}

/// The estate as last read or written by this process, with the identity of the file it came
/// from: Scripts reuse it instead of parsing the whole estate again, unless another process (`lab
/// serve`, another CLI run) replaced the file since.
pub(crate) struct Cached {
    stamp: Stamp,
    estate: Estate,
    /// Where the complete lines of the journal replayed into `estate` end (0: no journal yet).
    journal_len: u64,
}

/// How a run on the estate persists what it changed.
enum Persist<'a> {
    /// Not at all: the run only reads.
    No,
    /// One line in the journal: a write Script, replayable from the record.
    Journal(journal::Record<'a>),
    /// The whole estate file (a change no record describes: the console, options, a reset).
    Whole,
}

/// The journal is folded into the estate file once it is longer than the file, but not below
/// this many bytes.
const COMPACT_AT_LEAST: u64 = 64 << 10;

/// Length, modification time and inode of the estate file (a write replaces the file).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp(u64, Option<std::time::SystemTime>, u64);

fn stamp(path: &Path) -> Option<Stamp> {
    let m = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let ino = std::os::unix::fs::MetadataExt::ino(&m);
    #[cfg(not(unix))]
    let ino = 0;
    Some(Stamp(m.len(), m.modified().ok(), ino))
}

type Guard = Arc<Mutex<Option<Cached>>>;

type Guards = std::collections::HashMap<PathBuf, (Guard, Arc<Mutex<Handles>>)>;

fn guards() -> &'static Mutex<Guards> {
    static G: std::sync::OnceLock<Mutex<Guards>> = std::sync::OnceLock::new();
    G.get_or_init(Default::default)
}

impl Lab {
    /// The lab of a project (`<work_dir>/lab`, seeded from `<project_dir>/lab.toml`).
    pub fn open(project_dir: &Path, work_dir: &Path) -> Lab {
        let dir = work_dir.join("lab");
        let (guard, handles) = guards()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(dir.clone())
            .or_default()
            .clone();
        Lab {
            dir,
            project_dir: project_dir.to_path_buf(),
            guard,
            handles,
        }
    }

    /// The lab directory (`<work_dir>/lab`): estate, audit log, and `lab serve`'s CA file.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn estate_path(&self) -> PathBuf {
        self.dir.join("estate.json")
    }

    fn journal_path(&self) -> PathBuf {
        self.dir.join(journal::FILE)
    }

    fn io(&self, path: &Path, source: std::io::Error) -> LabError {
        LabError::Io {
            path: path.display().to_string(),
            source,
        }
    }

    /// Reads and prepares the seed.
    ///
    /// # Errors
    /// [`LabError::Seed`] when it is missing or invalid.
    pub fn read_seed(&self) -> Result<Estate, LabError> {
        let path = self.project_dir.join(SEED_FILE);
        let seed_err = |message: String| LabError::Seed {
            path: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(&path).map_err(|e| seed_err(e.to_string()))?;
        let estate: Estate = toml::from_str(&text).map_err(|e| seed_err(e.to_string()))?;
        crate::seed::prepare_seed(estate, &self.project_dir).map_err(seed_err)
    }

    /// Re-seeds the lab from `lab.toml`, discarding every change.
    ///
    /// # Errors
    /// Seed or I/O errors.
    pub fn reset(&self) -> Result<Estate, LabError> {
        let mut cache = self.guard.lock().unwrap_or_else(|p| p.into_inner());
        let _f = self.file_lock()?;
        let estate = self.read_seed()?;
        self.write_counter(0)?;
        self.save(estate.clone(), &mut cache)?;
        Ok(estate)
    }

    fn file_lock(&self) -> Result<std::fs::File, LabError> {
        let path = self.dir.join("estate.lock");
        let open = || {
            OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
        };
        // The directory exists after the first Script: create it only when the open says so.
        let f = match open() {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(&self.dir).map_err(|e| self.io(&self.dir, e))?;
                open()
            }
            other => other,
        }
        .map_err(|e| self.io(&path, e))?;
        // std's exclusive advisory lock (flock on Unix, LockFileEx on Windows), released when
        // the file is closed.
        f.lock().map_err(|e| self.io(&path, e))?;
        Ok(f)
    }

    fn counter_path(&self) -> PathBuf {
        self.dir.join("scripts_run")
    }

    /// Scripts run since the reset, kept in a small file of its own so that a read-only Script
    /// does not rewrite the estate.
    fn read_counter(&self) -> Option<u64> {
        let mut handles = self.handles.lock().unwrap_or_else(|p| p.into_inner());
        if handles.counter.is_none() {
            handles.counter = OpenOptions::new()
                .read(true)
                .write(true)
                .open(self.counter_path())
                .ok();
        }
        let mut buf = [0u8; 32];
        let n = read_at(handles.counter.as_ref()?, &mut buf).ok()?;
        std::str::from_utf8(&buf[..n]).ok()?.trim().parse().ok()
    }

    /// Closes the kept handles (the next use opens the files again).
    fn close_handles(&self) {
        *self.handles.lock().unwrap_or_else(|p| p.into_inner()) = Handles::default();
    }

    /// Writes the counter in place, zero-padded to a fixed width: no truncation, so the file
    /// system does not flush the file on close (ext4 does after a truncate), which made this
    /// write the dearest part of a Script.
    fn write_counter(&self, n: u64) -> Result<(), LabError> {
        let path = self.counter_path();
        let mut handles = self.handles.lock().unwrap_or_else(|p| p.into_inner());
        let written = match handles.counter.take() {
            Some(f) => Ok(f),
            None => OpenOptions::new()
                .create(true)
                .truncate(false)
                .read(true)
                .write(true)
                .open(&path),
        }
        .and_then(|f| write_at(&f, format!("{n:020}").as_bytes()).map(|()| f));
        match written {
            Ok(f) => {
                handles.counter = Some(f);
                Ok(())
            }
            Err(e) => Err(self.io(&path, e)),
        }
    }

    /// The estate, from the cache when the file is unchanged since this process last read or
    /// wrote it (with the journal lines another process appended since replayed onto it). Call
    /// with both locks held.
    fn load<'c>(&self, cache: &'c mut Option<Cached>) -> Result<&'c mut Estate, LabError> {
        let path = self.estate_path();
        let current = stamp(&path);
        let mut fresh = matches!((cache.as_ref(), &current), (Some(c), Some(s)) if c.stamp == *s);
        if let (true, Some(c)) = (fresh, cache.as_mut()) {
            let journal = self.journal_path();
            let len = std::fs::metadata(&journal).map(|m| m.len()).unwrap_or(0);
            if len < c.journal_len {
                // Replaced under an unchanged estate file: only a crash does that; read both.
                fresh = false;
            } else if len > c.journal_len {
                match journal::catch_up(&journal, &mut c.estate, c.journal_len) {
                    Ok(end) => c.journal_len = end,
                    Err(message) => {
                        *cache = None;
                        return Err(self.corrupt_journal(message));
                    }
                }
            }
        }
        if !fresh {
            *cache = None;
            self.close_handles();
            let mut estate = match std::fs::read_to_string(&path) {
                Ok(text) => serde_json::from_str(&text).map_err(|e| LabError::Corrupt {
                    path: path.display().to_string(),
                    message: e.to_string(),
                })?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let estate = self.read_seed()?;
                    self.write_counter(0)?;
                    self.save(estate, cache)?;
                    return match cache {
                        Some(c) => Ok(&mut c.estate),
                        None => {
                            Err(self.io(&path, std::io::Error::other("the estate file vanished")))
                        }
                    };
                }
                Err(e) => return Err(self.io(&path, e)),
            };
            let journal_len = journal::catch_up(&self.journal_path(), &mut estate, 0)
                .map_err(|m| self.corrupt_journal(m))?;
            if let Some(n) = self.read_counter() {
                estate.scripts_run = n;
            }
            *cache = stamp(&path).map(|stamp| Cached {
                stamp,
                estate,
                journal_len,
            });
        }
        match cache {
            Some(c) => Ok(&mut c.estate),
            None => Err(self.io(&path, std::io::Error::other("the estate file vanished"))),
        }
    }

    /// Path of the audit log: one JSON line per executed call (secrets redacted).
    pub fn audit_path(&self) -> PathBuf {
        self.dir.join("audit.jsonl")
    }

    pub(crate) fn audit(
        &self,
        source: &str,
        host: &str,
        calls: &[(
            String,
            serde_json::Map<String, serde_json::Value>,
            Vec<String>,
        )],
    ) {
        use std::io::Write;
        let mut text = String::new();
        for (cmdlet, args, secret) in calls {
            let mut args = args.clone();
            // What the caller marked secret, and every parameter the cmdlet reference types as
            // SecureString or PSCredential, however it was spelled.
            for (name, value) in args.iter_mut() {
                if secret.contains(name)
                    || cmdeploy_providers::powershell::secret_parameters::is_secret(cmdlet, name)
                {
                    *value = serde_json::Value::String("(sensitive)".into());
                }
            }
            let line = serde_json::json!({"source": source, "host": host, "cmdlet": cmdlet, "args": args, "secret": secret});
            text.push_str(&line.to_string());
            text.push('\n');
        }
        let mut handles = self.handles.lock().unwrap_or_else(|p| p.into_inner());
        if handles.audit.is_none() {
            handles.audit = OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.audit_path())
                .ok();
        }
        if let Some(f) = handles.audit.as_mut() {
            if f.write_all(text.as_bytes()).is_err() {
                handles.audit = None;
            }
        }
    }

    fn corrupt_journal(&self, message: String) -> LabError {
        LabError::Corrupt {
            path: self.journal_path().display().to_string(),
            message,
        }
    }

    /// Writes the cached estate whole (after a change made in place), under a new journal id,
    /// and records the new file's stamp; the journal it folds in is then removed. On failure the
    /// cache is dropped, so that the next Script reads what is on disk.
    fn flush(&self, cache: &mut Option<Cached>) -> Result<(), LabError> {
        let path = self.estate_path();
        let Some(c) = cache.as_mut() else {
            return Ok(());
        };
        c.estate.journal = journal::new_id();
        let bytes = serde_json::to_vec(&c.estate).expect("estate serializes");
        let written = write_atomic(&path, &bytes).map_err(|e| self.io(&path, e));
        match (written, stamp(&path)) {
            (Ok(()), Some(s)) => {
                c.stamp = s;
                c.journal_len = 0;
                // A crash before this leaves a journal whose header names the old id: stale.
                self.remove_journal()
            }
            (result, _) => {
                *cache = None;
                result
            }
        }
    }

    fn remove_journal(&self) -> Result<(), LabError> {
        let path = self.journal_path();
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(self.io(&path, e)),
            _ => Ok(()),
        }
    }

    fn save(&self, estate: Estate, cache: &mut Option<Cached>) -> Result<(), LabError> {
        *cache = Some(Cached {
            stamp: Stamp(0, None, 0),
            estate,
            journal_len: 0,
        });
        self.flush(cache)
    }

    /// Appends a write Script's record to the journal, or folds the journal into the estate
    /// file when it has grown longer than the file. On failure the cache is dropped.
    fn append(
        &self,
        cache: &mut Option<Cached>,
        record: &journal::Record<'_>,
    ) -> Result<(), LabError> {
        let path = self.journal_path();
        let Some(c) = cache.as_mut() else {
            return Ok(());
        };
        if c.estate.journal == 0 {
            // An estate file no journal can name (written before journals existed): write it
            // whole, under an id.
            return self.flush(cache);
        }
        match journal::append(&path, &c.estate, c.journal_len, record) {
            Ok(end) if end > c.stamp.0.max(COMPACT_AT_LEAST) => self.flush(cache),
            Ok(end) => {
                c.journal_len = end;
                Ok(())
            }
            Err(e) => {
                *cache = None;
                Err(self.io(&path, e))
            }
        }
    }

    /// Runs `f` on the estate under the lab's locks and saves the result.
    ///
    /// # Errors
    /// Seed or I/O errors.
    pub fn with_estate<R>(&self, f: impl FnOnce(&mut Estate) -> R) -> Result<R, LabError> {
        self.with_estate_mode(Persist::Whole, f)
    }

    /// Runs `f` under the lab's locks and persists what it changed as `persist` says (a
    /// read-only `f` must leave the estate unchanged, except for `scripts_run`, which is kept in
    /// its own file).
    fn with_estate_mode<R>(
        &self,
        persist: Persist<'_>,
        f: impl FnOnce(&mut Estate) -> R,
    ) -> Result<R, LabError> {
        let mut cache = self.guard.lock().unwrap_or_else(|p| p.into_inner());
        let _f = self.file_lock()?;
        let estate = self.load(&mut cache)?;
        let before = estate.scripts_run;
        let r = f(estate);
        let after = estate.scripts_run;
        if after != before {
            self.write_counter(after)?;
        }
        match persist {
            Persist::No => {}
            Persist::Journal(record) => self.append(&mut cache, &record)?,
            Persist::Whole => self.flush(&mut cache)?,
        }
        Ok(r)
    }

    /// Reads the estate without changing it.
    ///
    /// # Errors
    /// Seed or I/O errors.
    pub fn snapshot(&self) -> Result<Estate, LabError> {
        let mut cache = self.guard.lock().unwrap_or_else(|p| p.into_inner());
        let _f = self.file_lock()?;
        self.load(&mut cache).cloned()
    }

    /// Runs `f` on the estate without copying or changing it (under the lab's locks, so keep `f`
    /// short): what `lab serve` uses to authenticate each request.
    ///
    /// # Errors
    /// Seed or I/O errors.
    pub fn read<R>(&self, f: impl FnOnce(&Estate) -> R) -> Result<R, LabError> {
        let mut cache = self.guard.lock().unwrap_or_else(|p| p.into_inner());
        let _f = self.file_lock()?;
        Ok(f(self.load(&mut cache)?))
    }

    /// Executes a stdin document (runner + payload) as if on `host`.
    ///
    /// # Errors
    /// A [`RemoteError`] when the host is unknown or unreachable, the runner is not cmdeploy's,
    /// or the payload is malformed. Cmdlet failures are results, not errors.
    pub fn run_document(&self, host: &str, document: &str) -> Result<ScriptOutput, RemoteError> {
        self.run_document_for(Some(host), host, document)
    }

    /// Executes a stdin document as if on `host`, or, when `host` is `None` (a `lab serve` shell
    /// whose creator did not name its host), on the host the payload names, else on `fallback`.
    ///
    /// # Errors
    /// As [`Lab::run_document`].
    pub fn run_document_for(
        &self,
        host: Option<&str>,
        fallback: &str,
        document: &str,
    ) -> Result<ScriptOutput, RemoteError> {
        let named = host.unwrap_or(fallback);
        let (runner, payload) = split_stdin(document).map_err(|m| RemoteError::new(named, m))?;
        // Byte equality with our rendered runner: what its SHA-256 would prove, without hashing
        // 5 KB per Script.
        if runner != cmdeploy_providers::powershell::runner::runner() {
            return Err(RemoteError::new(
                named,
                "the runner on stdin is not cmdeploy's reviewed runner; refusing to execute",
            ));
        }
        let payload_text = payload;
        let payload: serde_json::Value = serde_json::from_str(payload)
            .map_err(|e| RemoteError::new(named, format!("malformed payload: {e}")))?;
        // The runner reads the payload with Windows PowerShell 5.1's ConvertFrom-Json.
        if let Some((a, b)) = crate::runner_model::case_duplicate_keys(&payload) {
            return Err(RemoteError::new(
                named,
                format!("ConvertFrom-Json : Cannot convert the JSON string because a dictionary that was converted from the string contains the duplicated keys '{a}' and '{b}'."),
            ));
        }
        let payload: crate::exec::Payload = serde_json::from_value(payload)
            .map_err(|e| RemoteError::new(named, format!("malformed payload: {e}")))?;
        let host = host.or(payload.host.as_deref()).unwrap_or(fallback);
        // Reads (every call a Get- cmdlet) leave the estate as it is: no rewrite of the file.
        // A write is journaled: replaying its payload on this host at this time redoes it.
        let at_ms = ccmsetup_service::now_ms();
        // A payload holding a secret (a password to hash) is never written to disk: that write
        // is persisted by writing the estate whole, which holds only the salted hash.
        let secret = payload.calls.iter().any(|c| {
            !c.secret.is_empty()
                || c.args.keys().any(|k| {
                    cmdeploy_providers::powershell::secret_parameters::is_secret(&c.cmdlet, k)
                })
        });
        let persist = if payload.calls.iter().all(|c| c.cmdlet.starts_with("Get-")) {
            Persist::No
        } else if secret {
            Persist::Whole
        } else {
            Persist::Journal(journal::Record {
                at_ms,
                host: host.into(),
                payload: payload_text.into(),
            })
        };
        // A call that waits for the ccmsetup service pauses the Script: the estate is let go
        // while it sleeps, and the rest runs at the time the wait ended (`ccmsetup_wait`). The
        // journal's line, written once, replays the whole Script (its waits included).
        let (mut run, mut at, mut persist) = (crate::exec::Run::default(), at_ms, Some(persist));
        loop {
            let first = persist.is_some();
            let mode = persist.take().unwrap_or(Persist::No);
            let pause = self
                .with_estate_mode(mode, |estate| -> Result<Option<i64>, RemoteError> {
                    if first {
                        estate.scripts_run = self.read_counter().unwrap_or(estate.scripts_run) + 1;
                    }
                    let session = crate::exec::Session::open(estate, host, &payload.target)?;
                    let done = run.results().len();
                    let pause = ccmsetup_service::at(at, || run.step(estate, &session, &payload));
                    let ran: Vec<_> = run.results()[done..]
                        .iter()
                        .filter_map(|r| payload.calls.iter().find(|c| c.id == r.id))
                        .map(|c| (c.cmdlet.clone(), c.args.clone(), c.secret.clone()))
                        .collect();
                    self.audit("script", host, &ran);
                    Ok(pause)
                })
                .map_err(|e| RemoteError::new(host, e.to_string()))??;
            let Some(until) = pause else { break };
            crate::ccmsetup_wait::sleep_until(until);
            at = until;
        }
        Ok(ScriptOutput {
            results: run.into_results(),
        })
    }
}

/// Reads from the start of `f` (without moving a cursor other users of the handle rely on).
fn read_at(f: &std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    #[cfg(unix)]
    return std::os::unix::fs::FileExt::read_at(f, buf, 0);
    #[cfg(windows)]
    return std::os::windows::fs::FileExt::seek_read(f, buf, 0);
}

/// Writes `bytes` at the start of `f`, in place.
fn write_at(f: &std::fs::File, bytes: &[u8]) -> std::io::Result<()> {
    #[cfg(unix)]
    return std::os::unix::fs::FileExt::write_all_at(f, bytes, 0);
    #[cfg(windows)]
    {
        let mut done = 0;
        while done < bytes.len() {
            done += std::os::windows::fs::FileExt::seek_write(f, &bytes[done..], done as u64)?;
        }
        Ok(())
    }
}
