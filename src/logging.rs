//! Logs, through tracing and tracing-subscriber: cmdeploy's events (one per Script run, target
//! `cmdeploy::script`; retries, `cmdeploy::retry`) and winrm-rs's own go through one subscriber.
//!
//! What is logged, and where:
//! * by default, warnings only, on stderr: what cmdeploy printed before logs existed;
//! * `-v` logs at info (each Script with its connection, cmdlets, duration and result), `-vv`
//!   at debug (winrm-rs's shells and commands too); otherwise `CMDEPLOY_LOG`, in EnvFilter
//!   syntax (`info`, `debug`, `cmdeploy::script=info,winrm_rs=debug`, `trace`);
//! * `--log-file FILE` appends them to FILE as plain text (no colour) with timestamps, and
//!   stderr keeps warnings only.
//!
//! Two kinds of winrm-rs events are always dropped: its SOAP request and response bodies
//! (trace), which carry the Script's stdin — the payload, secrets included, in base64 — and its
//! transport's warnings about the loopback relays cmdeploy drives it through: "Basic auth over
//! HTTP" (the transport warns itself when a connection really sends Basic over HTTP) and
//! "certificate verification disabled" (the client of a relay never speaks TLS; the relay
//! verifies the service).

use std::fs::OpenOptions;
use std::path::Path;
use std::sync::Mutex;

use tracing::{Level, Metadata};
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer};

/// The environment variable holding a log filter.
pub const LOG_VARIABLE: &str = "CMDEPLOY_LOG";

/// The default filter: warnings (winrm-rs's from `-v` on).
const QUIET: &str = "warn,winrm_rs=error";

/// What the logging set-up means for the rest of the output.
#[derive(Debug, Clone, Copy)]
pub struct Logging {
    /// Events below warnings are written to stderr (progress bars would garble them).
    pub verbose_stderr: bool,
}

/// Installs the subscriber: `verbose` is the count of `-v`, `log_file` the `--log-file`,
/// `color` whether stderr may be coloured.
///
/// # Errors
/// A message for an invalid `CMDEPLOY_LOG` filter or a log file that cannot be opened.
pub fn init(verbose: u8, log_file: Option<&Path>, color: bool) -> Result<Logging, String> {
    let from_env = std::env::var(LOG_VARIABLE)
        .ok()
        .filter(|v| !v.trim().is_empty());
    let chosen = match verbose {
        0 => from_env.clone().unwrap_or_else(|| QUIET.to_string()),
        1 => "info".to_string(),
        _ => "debug".to_string(),
    };
    let parse = |directives: &str| {
        EnvFilter::builder().parse(directives).map_err(|e| {
            format!("{LOG_VARIABLE}={directives}: not a log filter: {e} (try info, debug or trace)")
        })
    };
    let verbose_stderr = log_file.is_none() && (verbose > 0 || from_env.is_some());
    let stderr_filter = parse(if log_file.is_some() { QUIET } else { &chosen })?;
    let stderr = fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(color)
        .without_time()
        .with_filter(stderr_filter);
    let file = match log_file {
        Some(path) => {
            let f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| format!("cannot open the log file {}: {e}", path.display()))?;
            Some(
                fmt::layer()
                    .with_writer(Mutex::new(f))
                    .with_ansi(false)
                    .with_filter(parse(&chosen)?),
            )
        }
        None => None,
    };
    tracing_subscriber::registry()
        .with(filter_fn(keep))
        .with(stderr)
        .with(file)
        .try_init()
        .map_err(|e| format!("cannot start logging: {e}"))?;
    Ok(Logging { verbose_stderr })
}

/// False for the events no log may hold (see the module documentation).
fn keep(meta: &Metadata<'_>) -> bool {
    if !meta.target().starts_with("winrm_rs") {
        return true;
    }
    let fields = meta.fields();
    if fields.field("body").is_some() || fields.field("response").is_some() {
        return false;
    }
    let basic_over_http = meta.target() == "winrm_rs::transport"
        && *meta.level() == Level::WARN
        && meta.is_event()
        && fields.field("original").is_none();
    !basic_over_http
}
