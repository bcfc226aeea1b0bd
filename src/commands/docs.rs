//! `cmdeploy completions SHELL` and `cmdeploy man`: generated from the clap definition.

use std::io::Write;

use clap::CommandFactory;

use crate::cli::{Cli, ManArgs};
use crate::Failure;

/// Prints the completion script for `shell`.
pub fn completions(shell: clap_complete::Shell) -> Result<i32, Failure> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "cmdeploy", &mut buf);
    emit(&buf)
}

/// Prints the page of one command, or writes every page into `--out`.
pub fn man(args: &ManArgs) -> Result<i32, Failure> {
    let failed = |e: std::io::Error| Failure::Message(format!("cannot render the man pages: {e}"));
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir)
            .map_err(|e| Failure::Message(format!("cannot create {}: {e}", dir.display())))?;
        let pages = cmdeploy::man::pages().map_err(failed)?;
        for page in &pages {
            let path = dir.join(&page.file_name);
            std::fs::write(&path, &page.roff)
                .map_err(|e| Failure::Message(format!("cannot write {}: {e}", path.display())))?;
        }
        println!("Wrote {} man pages to {}.", pages.len(), dir.display());
        return Ok(0);
    }
    match cmdeploy::man::page(&args.command).map_err(failed)? {
        Some(page) => emit(page.roff.as_bytes()),
        None => Err(Failure::Message(format!(
            "no command `cmdeploy {}`: see `cmdeploy --help`",
            args.command.join(" ")
        ))),
    }
}

fn emit(bytes: &[u8]) -> Result<i32, Failure> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| Failure::Message(format!("cannot write to stdout: {e}")))?;
    Ok(0)
}
