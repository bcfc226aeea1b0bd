//! The `cmdeploy` binary: parse arguments, run the command, map the result to an exit code.

mod commands;
mod data_sources;
mod logging;
mod output;
mod progress;
mod session;

use clap::Parser;

use cmdeploy_engine::diagnostics::Diagnostics;

/// mimalloc instead of the system allocator: a plan allocates millions of small strings and maps
/// across the refresh's worker threads, and glibc's malloc and free took a fifth of a 100k-resource
/// plan's CPU (README, "Plan and apply at scale").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The clap definition lives in the library target, shared with the tests.
pub(crate) use cmdeploy::cli;

/// Why a command failed.
pub enum Failure {
    /// Manifest diagnostics (exit 1).
    Diagnostics(Diagnostics),
    /// Any other error (exit 1).
    Message(String),
}

/// Output piped into a reader that stopped (`cmdeploy state show ADDR | head`): end quietly with
/// 141 (128 + SIGPIPE), as Unix tools do, instead of a panic message. Rust ignores SIGPIPE, so a
/// closed stdout surfaces as a panic in `println!`; anything else keeps the default report. On
/// Windows a closed pipe is ERROR_NO_DATA (232, "The pipe is being closed") or
/// ERROR_BROKEN_PIPE (109).
fn quiet_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        let closed = if cfg!(windows) {
            message.contains("os error 232") || message.contains("os error 109")
        } else {
            message.contains("Broken pipe") || message.contains("os error 32")
        };
        if closed {
            std::process::exit(141);
        }
        default(info);
    }));
}

/// Parses the arguments. `--help` and `--version` print and exit 0; a usage error (a mistyped
/// flag, a missing argument) prints clap's message and exits 1, never clap's default 2, which
/// pipelines read as "changes" (`plan --detailed-exitcode`) or "drift".
fn parse() -> cli::Cli {
    match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // `use_stderr` is false exactly for the help and version displays.
            let code = if e.use_stderr() { USAGE_ERROR } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    }
}

/// The exit code of a usage error: the code of any error (2 means changes or drift).
const USAGE_ERROR: i32 = 1;

fn main() {
    // Before any thread starts: the loopback relays carry Scripts in the clear, so no proxy the
    // environment names may see them (see the function's module).
    if let Some(v) =
        cmdeploy_providers::transport::no_proxy::no_proxy_for_relays(|k| std::env::var(k).ok())
    {
        std::env::set_var("NO_PROXY", &v);
        std::env::set_var("no_proxy", &v);
    }
    quiet_broken_pipe();
    let cli = parse();
    let mut out = output::Output::detect(cli.no_color);
    match logging::init(cli.verbose, cli.log_file.as_deref(), out.color_err) {
        // Log lines on stderr and progress bars would overwrite each other.
        Ok(l) if l.verbose_stderr => out.interactive = false,
        Ok(_) => {}
        Err(m) => {
            eprintln!("error: {m}");
            std::process::exit(1);
        }
    }
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
