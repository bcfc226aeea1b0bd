//! A lab on disk: the estate a project's Scripts run against.
//!
//! Seeded from the project's `lab.toml`, persisted as `.cmdeploy/lab/estate.json`. Each Script
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

use crate::model::Estate;
use cmdeploy_providers::powershell::runner::split_stdin;
use cmdeploy_providers::powershell::{CallResult, ScriptOutput};

/// Name of the seed file in a project directory.
pub const SEED_FILE: &str = "lab.toml";

/// A lab on disk.
#[derive(Clone)]
pub struct Lab {
    dir: PathBuf,
    project_dir: PathBuf,
    guard: Guard,
}

/// Lab errors: seed and storage problems.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// The seed file is missing or invalid.
    #[error("lab seed {path}: {message}")]
    Seed {
        /// Seed path.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// I/O on the lab directory.
    #[error("lab {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The estate file is corrupt.
    #[error("lab estate {path} is corrupt: {message}; run `cmdeploy lab reset`")]
    Corrupt {
        /// The file.
        path: String,
        /// Parser message.
        message: String,
    },
}

/// The estate as last read or written by this process, with the identity of the file it came
/// from: Scripts reuse it instead of parsing the whole estate again, unless another process (`lab
/// serve`, another CLI run) replaced the file since.
pub(crate) struct Cached {
    stamp: Stamp,
    estate: Estate,
}

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

fn guards() -> &'static Mutex<std::collections::HashMap<PathBuf, Guard>> {
    static G: std::sync::OnceLock<Mutex<std::collections::HashMap<PathBuf, Guard>>> =
        std::sync::OnceLock::new();
    G.get_or_init(Default::default)
}

impl Lab {
    /// The lab of a project (`<work_dir>/lab`, seeded from `<project_dir>/lab.toml`).
    pub fn open(project_dir: &Path, work_dir: &Path) -> Lab {
        let dir = work_dir.join("lab");
        let guard = guards()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(dir.clone())
            .or_default()
            .clone();
        Lab {
            dir,
            project_dir: project_dir.to_path_buf(),
            guard,
        }
    }

    /// The lab directory (`<work_dir>/lab`): estate, audit log, and `lab serve`'s CA file.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn estate_path(&self) -> PathBuf {
        self.dir.join("estate.json")
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
        self.save(&estate, &mut cache)?;
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
        std::fs::read_to_string(self.counter_path())
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// Writes the counter in place, zero-padded to a fixed width: no truncation, so the file
    /// system does not flush the file on close (ext4 does after a truncate), which made this
    /// write the dearest part of a Script.
    fn write_counter(&self, n: u64) -> Result<(), LabError> {
        use std::io::Write;
        let path = self.counter_path();
        OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .and_then(|mut f| f.write_all(format!("{n:020}").as_bytes()))
            .map_err(|e| self.io(&path, e))
    }

    /// The estate, from the cache when the file is unchanged since this process last read or
    /// wrote it. Call with both locks held.
    fn load<'c>(&self, cache: &'c mut Option<Cached>) -> Result<&'c mut Estate, LabError> {
        let path = self.estate_path();
        let current = stamp(&path);
        let fresh = matches!((cache.as_ref(), &current), (Some(c), Some(s)) if c.stamp == *s);
        if !fresh {
            *cache = None;
            let mut estate = match std::fs::read_to_string(&path) {
                Ok(text) => serde_json::from_str(&text).map_err(|e| LabError::Corrupt {
                    path: path.display().to_string(),
                    message: e.to_string(),
                })?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let estate = self.read_seed()?;
                    self.write_counter(0)?;
                    self.save(&estate, cache)?;
                    estate
                }
                Err(e) => return Err(self.io(&path, e)),
            };
            if let Some(n) = self.read_counter() {
                estate.scripts_run = n;
            }
            *cache = stamp(&path).map(|stamp| Cached { stamp, estate });
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
        if let Ok(mut f) = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.audit_path())
        {
            let _ = f.write_all(text.as_bytes());
        }
    }

    /// Writes the cached estate (after a change made in place) and records the new file's stamp.
    /// On failure the cache is dropped, so that the next Script reads what is on disk.
    fn flush(&self, cache: &mut Option<Cached>) -> Result<(), LabError> {
        let path = self.estate_path();
        let Some(c) = cache.as_mut() else {
            return Ok(());
        };
        let bytes = serde_json::to_vec(&c.estate).expect("estate serializes");
        let written = write_atomic(&path, &bytes).map_err(|e| self.io(&path, e));
        match (written, stamp(&path)) {
            (Ok(()), Some(s)) => {
                c.stamp = s;
                Ok(())
            }
            (result, _) => {
                *cache = None;
                result
            }
        }
    }

    fn save(&self, estate: &Estate, cache: &mut Option<Cached>) -> Result<(), LabError> {
        let path = self.estate_path();
        let bytes = serde_json::to_vec(estate).expect("estate serializes");
        write_atomic(&path, &bytes).map_err(|e| self.io(&path, e))?;
        *cache = stamp(&path).map(|stamp| Cached {
            stamp,
            estate: estate.clone(),
        });
        Ok(())
    }

    /// Runs `f` on the estate under the lab's locks and saves the result.
    ///
    /// # Errors
    /// Seed or I/O errors.
    pub fn with_estate<R>(&self, f: impl FnOnce(&mut Estate) -> R) -> Result<R, LabError> {
        self.with_estate_mode(true, f)
    }

    /// Runs `f` under the lab's locks; saves the estate only when `writes` (a read-only `f` must
    /// leave it unchanged, except for `scripts_run`, which is kept in its own file).
    fn with_estate_mode<R>(
        &self,
        writes: bool,
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
        if writes {
            self.flush(&mut cache)?;
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
        let writes = !payload.calls.iter().all(|c| c.cmdlet.starts_with("Get-"));
        let outcome = self
            .with_estate_mode(writes, |estate| -> Result<Vec<CallResult>, RemoteError> {
                estate.scripts_run = self.read_counter().unwrap_or(estate.scripts_run) + 1;
                let session = crate::exec::Session::open(estate, host, &payload.target)?;
                let results = crate::exec::run_payload(estate, &session, &payload);
                let ran: Vec<_> = payload
                    .calls
                    .iter()
                    .filter(|c| results.iter().any(|r| r.id == c.id))
                    .map(|c| (c.cmdlet.clone(), c.args.clone(), c.secret.clone()))
                    .collect();
                self.audit("script", host, &ran);
                Ok(results)
            })
            .map_err(|e| RemoteError::new(host, e.to_string()))??;
        Ok(ScriptOutput { results: outcome })
    }
}
