//! `cmdeploy completions SHELL` and `cmdeploy man`: generated from the clap definition.

use std::io::Write;

use clap::CommandFactory;

use crate::cli::Cli;
use crate::Failure;

/// Prints the completion script for `shell`.
pub fn completions(shell: clap_complete::Shell) -> Result<i32, Failure> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "cmdeploy", &mut buf);
    emit(&buf)
}

/// Prints the man page.
pub fn man() -> Result<i32, Failure> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut buf)
        .map_err(|e| Failure::Message(format!("cannot render the man page: {e}")))?;
    emit(&buf)
}

fn emit(bytes: &[u8]) -> Result<i32, Failure> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| Failure::Message(format!("cannot write to stdout: {e}")))?;
    Ok(0)
}
