//! Shell and command state: the shells clients created, the commands running in them, their
//! stdin and, once finished, their output.
//!
//! A command's output is produced all at once when it finishes (the lab runs a whole Script or
//! statement in one call), so a Receive either waits for it or times out. Output stays available
//! until the command is signalled or the shell deleted, so a client that lost a Receive response
//! (a dropped connection) can ask again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use super::program::{clixml_error, Program};
use super::response::new_uuid;

/// Most shells open at once; Create fails beyond it (Windows' MaxShellsPerUser is 30).
const MAX_SHELLS: usize = 256;
/// Most stdin bytes a command may receive.
const MAX_STDIN: usize = 64 * 1024 * 1024;

/// A finished command's output.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outcome {
    /// stdout bytes (console text, CRLF).
    pub stdout: Vec<u8>,
    /// stderr bytes (CLIXML for PowerShell errors).
    pub stderr: Vec<u8>,
    /// The process exit code.
    pub exit_code: i32,
}

impl Outcome {
    /// Success with `stdout`.
    pub fn ok(stdout: String) -> Outcome {
        Outcome {
            stdout: stdout.into_bytes(),
            ..Outcome::default()
        }
    }

    /// Failure (exit 1) with plain-text stderr, as cmd.exe writes it.
    pub fn failed_plain(stderr: &str) -> Outcome {
        Outcome {
            stdout: Vec::new(),
            stderr: stderr.as_bytes().to_vec(),
            exit_code: 1,
        }
    }

    /// Failure (exit 1) with a PowerShell error (CLIXML) on stderr.
    pub fn failed_clixml(message: &str) -> Outcome {
        Outcome {
            stdout: Vec::new(),
            stderr: clixml_error(message).into_bytes(),
            exit_code: 1,
        }
    }
}

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
    /// Too many shells open.
    Full,
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
        }
    }
}

#[derive(Debug)]
struct Shell {
    host: String,
    /// The creator named the host (`CMDEPLOY_HOST`); otherwise each Script's payload may.
    named: bool,
    commands: HashMap<String, Arc<Command>>,
    last: Option<String>,
}

/// Every open shell.
#[derive(Debug, Default)]
pub struct Shells {
    inner: Mutex<HashMap<String, Shell>>,
}

impl Shells {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Shell>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Opens a shell acting as `host`; returns its id.
    ///
    /// # Errors
    /// [`Missing::Full`] when too many shells are open.
    pub fn create(&self, host: &str) -> Result<String, Missing> {
        self.open(host, true)
    }

    /// Opens a shell whose creator did not name its host: it acts as `fallback` unless a Script's
    /// payload names one.
    ///
    /// # Errors
    /// [`Missing::Full`] when too many shells are open.
    pub fn create_unnamed(&self, fallback: &str) -> Result<String, Missing> {
        self.open(fallback, false)
    }

    fn open(&self, host: &str, named: bool) -> Result<String, Missing> {
        let mut shells = self.lock();
        if shells.len() >= MAX_SHELLS {
            return Err(Missing::Full);
        }
        let id = new_uuid();
        shells.insert(
            id.clone(),
            Shell {
                host: host.to_string(),
                named,
                commands: HashMap::new(),
                last: None,
            },
        );
        Ok(id)
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
