//! The lab: a simulated enterprise that runs cmdeploy's Scripts with ConfigMgr's documented rules.
//!
//! Seeded from the project's `lab.toml`, persisted as `.cmdeploy/lab/estate.json`. Each Script
//! arrives as the stdin document a Windows host would receive (runner + payload); the lab checks
//! that the runner is exactly cmdeploy's, then executes the payload's calls one by one against the
//! estate under a lock (a process mutex and an exclusive file lock, so `lab serve` and in-process
//! runs share one estate), and answers with the runner's JSON result document.

pub mod args;
pub mod cm_boundary;
pub mod cm_site;
pub mod console;
pub mod exec;
pub mod generate;
pub mod gp;
pub mod host;
pub mod model;
pub mod show;

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use fs2::FileExt;

use cmdeploy_engine::provider::RemoteError;
use cmdeploy_engine::state::write_atomic;

use crate::powershell::runner::{runner_sha256, split_stdin};
use crate::powershell::{CallResult, ScriptOutput};
use model::Estate;

/// Name of the seed file in a project directory.
pub const SEED_FILE: &str = "lab.toml";

/// A lab on disk.
#[derive(Clone)]
pub struct Lab {
    dir: PathBuf,
    project_dir: PathBuf,
    guard: Arc<Mutex<()>>,
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

fn guards() -> &'static Mutex<std::collections::HashMap<PathBuf, Arc<Mutex<()>>>> {
    static G: std::sync::OnceLock<Mutex<std::collections::HashMap<PathBuf, Arc<Mutex<()>>>>> =
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
        model::prepare_seed(estate, &self.project_dir).map_err(seed_err)
    }

    /// Re-seeds the lab from `lab.toml`, discarding every change.
    ///
    /// # Errors
    /// Seed or I/O errors.
    pub fn reset(&self) -> Result<Estate, LabError> {
        let _g = self.guard.lock().unwrap_or_else(|p| p.into_inner());
        let _f = self.file_lock()?;
        let estate = self.read_seed()?;
        self.save(&estate)?;
        Ok(estate)
    }

    fn file_lock(&self) -> Result<std::fs::File, LabError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| self.io(&self.dir, e))?;
        let path = self.dir.join("estate.lock");
        let f = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| self.io(&path, e))?;
        FileExt::lock_exclusive(&f).map_err(|e| self.io(&path, e))?;
        Ok(f)
    }

    fn load(&self) -> Result<Estate, LabError> {
        let path = self.estate_path();
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| LabError::Corrupt {
                path: path.display().to_string(),
                message: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let estate = self.read_seed()?;
                self.save(&estate)?;
                Ok(estate)
            }
            Err(e) => Err(self.io(&path, e)),
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
            for name in secret {
                args.insert(
                    name.clone(),
                    serde_json::Value::String("(sensitive)".into()),
                );
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

    fn save(&self, estate: &Estate) -> Result<(), LabError> {
        let path = self.estate_path();
        let bytes = serde_json::to_vec_pretty(estate).expect("estate serializes");
        write_atomic(&path, &bytes).map_err(|e| self.io(&path, e))
    }

    /// Runs `f` on the estate under the lab's locks and saves the result.
    ///
    /// # Errors
    /// Seed or I/O errors.
    pub fn with_estate<R>(&self, f: impl FnOnce(&mut Estate) -> R) -> Result<R, LabError> {
        let _g = self.guard.lock().unwrap_or_else(|p| p.into_inner());
        let _f = self.file_lock()?;
        let mut estate = self.load()?;
        let r = f(&mut estate);
        self.save(&estate)?;
        Ok(r)
    }

    /// Reads the estate without changing it.
    ///
    /// # Errors
    /// Seed or I/O errors.
    pub fn snapshot(&self) -> Result<Estate, LabError> {
        let _g = self.guard.lock().unwrap_or_else(|p| p.into_inner());
        let _f = self.file_lock()?;
        self.load()
    }

    /// Executes a stdin document (runner + payload) as if on `host`.
    ///
    /// # Errors
    /// A [`RemoteError`] when the host is unknown or unreachable, the runner is not cmdeploy's,
    /// or the payload is malformed. Cmdlet failures are results, not errors.
    pub fn run_document(&self, host: &str, document: &str) -> Result<ScriptOutput, RemoteError> {
        let (runner, payload) = split_stdin(document).map_err(|m| RemoteError::new(host, m))?;
        let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(runner.as_bytes()));
        if digest != runner_sha256() {
            return Err(RemoteError::new(
                host,
                "the runner on stdin is not cmdeploy's reviewed runner; refusing to execute",
            ));
        }
        let payload: exec::Payload = serde_json::from_str(payload)
            .map_err(|e| RemoteError::new(host, format!("malformed payload: {e}")))?;
        let outcome = self
            .with_estate(|estate| -> Result<Vec<CallResult>, RemoteError> {
                estate.scripts_run += 1;
                let session = exec::Session::open(estate, host, &payload.target)?;
                let results = exec::run_payload(estate, &session, &payload);
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
