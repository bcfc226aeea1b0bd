//! Shell and command state: the shells clients created, the commands running in them, their
//! stdin and, once finished, their output.
//!
//! A command's output is produced all at once when it finishes (the lab runs a whole Script or
//! statement in one call), so a Receive either waits for it or times out. Output stays available
//! until the command is signalled or the shell deleted, so a client that lost a Receive response
//! (a dropped connection) can ask again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::codepage::CodePage;
pub use super::program::Outcome;
use super::program::Program;
use super::response::new_uuid;

/// Most shells open at once, all users together: the lab's own memory bound (Windows counts per
/// user, [`Limits::per_user`]).
const MAX_SHELLS: usize = 1024;
/// Most stdin bytes a command may receive.
const MAX_STDIN: usize = 64 * 1024 * 1024;

/// One command in a shell.
#[derive(Debug)]
pub struct Command {
    /// What it runs.
    pub program: Program,
    stdin: Mutex<Stdin>,
    done: watch::Sender<Option<Outcome>>,
}

#[derive(Debug, Default)]
struct Stdin {
    data: Vec<u8>,
    ended: bool,
}

impl Command {
    fn new(program: Program) -> Command {
        Command {
            program,
            stdin: Mutex::default(),
            done: watch::channel(None).0,
        }
    }

    /// Appends stdin. Returns the whole input when this chunk ends it (only once); a command
    /// given more than the stdin limit fails instead.
    pub fn push_stdin(&self, data: &[u8], end: bool) -> Option<Vec<u8>> {
        let mut stdin = self.stdin.lock().unwrap_or_else(|p| p.into_inner());
        if stdin.ended {
            return None;
        }
        if stdin.data.len() + data.len() > MAX_STDIN {
            stdin.ended = true;
            stdin.data = Vec::new();
            drop(stdin);
            self.finish(Outcome::failed_clixml(
                "stdin exceeds the lab's 64 MiB limit",
            ));
            return None;
        }
        stdin.data.extend_from_slice(data);
        if end {
            stdin.ended = true;
            return Some(std::mem::take(&mut stdin.data));
        }
        None
    }

    /// Records the outcome (the first one wins).
    pub fn finish(&self, outcome: Outcome) {
        self.done.send_if_modified(|slot| {
            if slot.is_none() {
                *slot = Some(outcome);
                true
            } else {
                false
            }
        });
    }

    /// The outcome, if finished.
    pub fn outcome(&self) -> Option<Outcome> {
        self.done.borrow().clone()
    }

    /// Waits up to `timeout` for the outcome; `None` when the command is still running.
    pub async fn wait(&self, timeout: Duration) -> Option<Outcome> {
        let mut rx = self.done.subscribe();
        let finished = tokio::time::timeout(timeout, async {
            rx.wait_for(Option::is_some).await.map(|v| v.clone())
        })
        .await;
        match finished {
            Ok(Ok(outcome)) => outcome,
            _ => self.outcome(),
        }
    }
}

/// Why a shell or command lookup failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    /// No shell with that id.
    Shell(String),
    /// No such command in the shell.
    Command(String),
    /// Too many shells open (the lab's bound).
    Full,
    /// The user has MaxShellsPerUser shells open (the quota).
    Quota(usize),
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Missing::Shell(id) => write!(
                f,
                "The request for the Windows Remote Shell with ShellId {id} failed because the shell was not found on the server. Possible causes are: the specified ShellId is incorrect or the shell no longer exists on the server."
            ),
            Missing::Command(id) => write!(f, "The command with CommandId {id} was not found in the shell."),
            Missing::Full => write!(f, "The WS-Management service cannot process the request: the maximum number of shells ({MAX_SHELLS}) is open."),
            Missing::Quota(max) => write!(f, "{}", super::faults::Fault::shell_quota(*max).message),
        }
    }
}

#[derive(Debug)]
struct Shell {
    host: String,
    /// The user who created it (`DOMAIN\user`): quotas count per user.
    owner: String,
    /// Its console code page.
    codepage: CodePage,
    /// Last request that named it (IdleTimeout counts from here).
    last_used: Instant,
    /// The creator named the host (`CMDEPLOY_HOST`); otherwise each Script's payload may.
    named: bool,
    commands: HashMap<String, Arc<Command>>,
    last: Option<String>,
}

/// The WinRS quotas shells are held to (see [`super::config::ServiceConfig`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// MaxShellsPerUser.
    pub per_user: usize,
    /// IdleTimeout: a shell no request named for this long is deleted.
    pub idle: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        let c = super::config::ServiceConfig::default();
        Limits {
            per_user: c.max_shells_per_user,
            idle: c.idle_timeout,
        }
    }
}

/// Who opens a shell and how.
#[derive(Debug, Clone)]
pub struct Opening<'a> {
    /// The host it acts as (or falls back to, when not `named`).
    pub host: &'a str,
    /// The creator named the host.
    pub named: bool,
    /// The authenticated user.
    pub owner: &'a str,
    /// Its console code page.
    pub codepage: CodePage,
}

/// Every open shell.
#[derive(Debug, Default)]
pub struct Shells {
    inner: Mutex<HashMap<String, Shell>>,
    limits: Limits,
}

impl Shells {
    /// No shells, held to `limits`.
    pub fn new(limits: Limits) -> Shells {
        Shells {
            inner: Mutex::default(),
            limits,
        }
    }

    /// Locks the table after deleting the shells idle for longer than IdleTimeout at `now`,
    /// as the WinRM service does (windows-runtime.md §1, §4.7).
    fn lock_at(&self, now: Instant) -> std::sync::MutexGuard<'_, HashMap<String, Shell>> {
        let mut shells = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let idle = self.limits.idle;
        shells.retain(|_, s| now.saturating_duration_since(s.last_used) <= idle);
        shells
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Shell>> {
        self.lock_at(Instant::now())
    }

    /// Opens a shell; returns its id.
    ///
    /// # Errors
    /// [`Missing::Quota`] when the owner has MaxShellsPerUser shells open, [`Missing::Full`]
    /// at the lab's own bound.
    pub fn open(&self, opening: &Opening<'_>) -> Result<String, Missing> {
        self.open_at(opening, Instant::now())
    }

    /// [`Shells::open`] at a given time (for tests of IdleTimeout without waiting).
    ///
    /// # Errors
    /// As [`Shells::open`].
    pub fn open_at(&self, opening: &Opening<'_>, now: Instant) -> Result<String, Missing> {
        let mut shells = self.lock_at(now);
        let owned = shells
            .values()
            .filter(|s| s.owner.eq_ignore_ascii_case(opening.owner))
            .count();
        if owned >= self.limits.per_user {
            return Err(Missing::Quota(self.limits.per_user));
        }
        if shells.len() >= MAX_SHELLS {
            return Err(Missing::Full);
        }
        let id = new_uuid();
        shells.insert(
            id.clone(),
            Shell {
                host: opening.host.to_string(),
                owner: opening.owner.to_string(),
                codepage: opening.codepage,
                last_used: now,
                named: opening.named,
                commands: HashMap::new(),
                last: None,
            },
        );
        Ok(id)
    }

    /// Notes activity on a shell at `now` (a request named it).
    ///
    /// # Errors
    /// [`Missing::Shell`], also for a shell that expired.
    pub fn touch_at(&self, shell_id: &str, now: Instant) -> Result<(), Missing> {
        let mut shells = self.lock_at(now);
        let shell = shells
            .get_mut(shell_id)
            .ok_or_else(|| Missing::Shell(shell_id.to_string()))?;
        shell.last_used = now;
        Ok(())
    }

    /// A shell's console code page.
    ///
    /// # Errors
    /// [`Missing::Shell`].
    pub fn codepage(&self, shell_id: &str) -> Result<CodePage, Missing> {
        self.lock()
            .get(shell_id)
            .map(|s| s.codepage)
            .ok_or_else(|| Missing::Shell(shell_id.to_string()))
    }

    /// The host a shell acts as.
    ///
    /// # Errors
    /// [`Missing::Shell`].
    pub fn host(&self, shell_id: &str) -> Result<String, Missing> {
        self.lock()
            .get(shell_id)
            .map(|s| s.host.clone())
            .ok_or_else(|| Missing::Shell(shell_id.to_string()))
    }

    /// Whether the shell's creator named its host.
    ///
    /// # Errors
    /// [`Missing::Shell`].
    pub fn named(&self, shell_id: &str) -> Result<bool, Missing> {
        self.lock()
            .get(shell_id)
            .map(|s| s.named)
            .ok_or_else(|| Missing::Shell(shell_id.to_string()))
    }

    /// Starts a command (with the client's id, or a new one); returns its id and handle.
    ///
    /// # Errors
    /// [`Missing::Shell`].
    pub fn start(
        &self,
        shell_id: &str,
        command_id: Option<String>,
        program: Program,
    ) -> Result<(String, Arc<Command>), Missing> {
        let mut shells = self.lock();
        let shell = shells
            .get_mut(shell_id)
            .ok_or_else(|| Missing::Shell(shell_id.to_string()))?;
        let id = command_id
            .filter(|c| !c.trim().is_empty())
            .unwrap_or_else(new_uuid);
        let command = Arc::new(Command::new(program));
        shell.commands.insert(id.clone(), command.clone());
        shell.last = Some(id.clone());
        Ok((id, command))
    }

    /// A command of a shell: the one named, or the latest when no id is given.
    ///
    /// # Errors
    /// [`Missing::Shell`] or [`Missing::Command`].
    pub fn command(
        &self,
        shell_id: &str,
        command_id: Option<&str>,
    ) -> Result<(String, Arc<Command>), Missing> {
        let shells = self.lock();
        let shell = shells
            .get(shell_id)
            .ok_or_else(|| Missing::Shell(shell_id.to_string()))?;
        let id = command_id
            .map(str::to_string)
            .or_else(|| shell.last.clone())
            .ok_or_else(|| Missing::Command(String::new()))?;
        let command = shell
            .commands
            .get(&id)
            .cloned()
            .ok_or_else(|| Missing::Command(id.clone()))?;
        Ok((id, command))
    }

    /// Forgets a command (after a Signal). Unknown commands are ignored.
    ///
    /// # Errors
    /// [`Missing::Shell`].
    pub fn end_command(&self, shell_id: &str, command_id: Option<&str>) -> Result<(), Missing> {
        let mut shells = self.lock();
        let shell = shells
            .get_mut(shell_id)
            .ok_or_else(|| Missing::Shell(shell_id.to_string()))?;
        if let Some(id) = command_id {
            shell.commands.remove(id);
        }
        Ok(())
    }

    /// Deletes a shell and its commands.
    ///
    /// # Errors
    /// [`Missing::Shell`].
    pub fn delete(&self, shell_id: &str) -> Result<(), Missing> {
        self.lock()
            .remove(shell_id)
            .map(|_| ())
            .ok_or_else(|| Missing::Shell(shell_id.to_string()))
    }

    /// How many shells are open.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no shell is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
