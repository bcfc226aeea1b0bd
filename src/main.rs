//! The `cmdeploy` binary: parse arguments, run the command, map the result to an exit code.

mod commands;
mod output;
mod session;

use clap::Parser;

use cmdeploy_engine::diagnostics::Diagnostics;

/// The clap definition lives in the library target, shared with the tests.
pub(crate) use cmdeploy::cli;

/// Why a command failed.
pub enum Failure {
    /// Manifest diagnostics (exit 1).
    Diagnostics(Diagnostics),
    /// Any other error (exit 1).
    Message(String),
}

fn main() {
    let cli = cli::Cli::parse();
    let out = output::Output::detect(cli.no_color);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let code = match runtime.block_on(commands::run(cli, out)) {
        Ok(code) => code,
        Err(Failure::Diagnostics(d)) => {
            out.diagnostics(&d);
            1
        }
        Err(Failure::Message(m)) => {
            eprintln!("{} {m}", out.paint("\x1b[31;1m", "error:"));
            1
        }
    };
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    std::process::exit(code);
}
