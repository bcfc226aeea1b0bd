//! Man pages: one per command and subcommand (`cmdeploy(1)`, `cmdeploy-plan(1)`,
//! `cmdeploy-state-mv(1)`, ...), generated from the clap definition by clap_mangen, with the
//! EXIT STATUS and ENVIRONMENT sections that clap knows nothing about.
//!
//! Every command has an explicit entry in [`exit_status`] (a test walks the clap tree and fails
//! on a command without one), because an exit code is part of the command's contract: pipelines
//! branch on `plan --detailed-exitcode`'s 2 and `drift`'s 3.

use clap::CommandFactory;
use clap_mangen::roff::{bold, roman, Roff};

use crate::cli::Cli;

/// One rendered page.
#[derive(Debug, Clone)]
pub struct ManPage {
    /// The command words after `cmdeploy` (empty for the top-level page), e.g. `["state", "mv"]`.
    pub path: Vec<String>,
    /// The page's file name, e.g. `cmdeploy-state-mv.1`.
    pub file_name: String,
    /// The page in roff.
    pub roff: String,
}

/// Exit codes shared by most commands: success, and any error (usage errors included: clap's
/// own 2 would read as "changes" or "drift" in a pipeline).
const PLAIN: &[(&str, &str)] = &[
    ("0", "Success."),
    (
        "1",
        "An error: invalid manifests, a usage error (mistyped flag, missing argument), or a failure.",
    ),
];

/// The exit codes of the command at `path` (words after `cmdeploy`, space-separated: `""`,
/// `"plan"`, `"state mv"`), or `None` when the command is not documented here.
pub fn exit_status(path: &str) -> Option<&'static [(&'static str, &'static str)]> {
    Some(match path {
        "plan" => &[
            ("0", "Success; with --detailed-exitcode: no changes."),
            ("1", "An error, a usage error, or a resource that could not be read."),
            ("2", "With --detailed-exitcode only: the plan has changes."),
        ],
        "apply" => &[
            ("0", "Every change was applied (or there was nothing to do)."),
            (
                "1",
                "An error, a usage error, a failed change, a cancelled confirmation, or a saved \
                 plan that no longer matches the manifests, the state or the estate.",
            ),
            (
                "130",
                "Interrupted (Ctrl-C): the operations in flight finished and state was saved.",
            ),
        ],
        "drift" => &[
            ("0", "In sync (or only drift acknowledged in drift.ack.toml)."),
            ("1", "An error or a usage error."),
            ("2", "Drift: objects differ from what was applied or from the manifests."),
            ("3", "Some objects could not be read."),
        ],
        "validate" => &[
            ("0", "The manifests are valid (warnings allowed unless --strict)."),
            ("1", "Diagnostics (every one is printed), or a usage error."),
        ],
        "ccmsetup check" => &[
            ("0", "No error in the command line (warnings allowed)."),
            ("1", "An error in the command line, or a usage error."),
        ],
        "gpo inspect" => &[
            ("0", "The ConfigMgr policies of the file have no error."),
            ("1", "A policy with an error, an unreadable file, or a usage error."),
        ],
        "resolve" => &[
            ("0", "At least one boundary covers the address or AD site, and one site at most."),
            ("1", "Invalid manifests or a usage error."),
            (
                "2",
                "A warning: no boundary covers it, or groups assign it to different sites.",
            ),
        ],
        "show" => &[
            ("0", "The saved plan was printed."),
            ("1", "The file is missing or not a saved plan, or a usage error."),
        ],
        "state show" | "state rm" => &[
            ("0", "Success."),
            (
                "1",
                "The address is not in state (the nearest addresses are suggested), or another error.",
            ),
        ],
        "state mv" => &[
            ("0", "The entry was moved (or, with --dry-run, would be)."),
            (
                "1",
                "FROM is not in state, TO is in state already, the kinds differ, the state is \
                 locked, or a usage error.",
            ),
        ],
        "lab ad-subnet" | "lab ad-subnet add" | "lab ad-subnet set-site" | "lab ad-subnet remove" => &[
            ("0", "AD changed as asked."),
            (
                "1",
                "The subnet exists already (add) or does not (set-site, remove), the prefix is \
                 not one, the site does not exist, or another error.",
            ),
        ],
        "" | "ccmsetup" | "gpo" | "graph" | "import" | "state" | "state list" | "state lock"
        | "state unlock" | "schema" | "lab" | "lab reset" | "lab show" | "lab console"
        | "lab serve" | "lab generate" | "completions" | "man" => PLAIN,
        _ => return None,
    })
}

/// An environment variable and what it does.
type EnvVar = (&'static str, &'static str);

const NO_COLOR: EnvVar = (
    "NO_COLOR",
    "When set (to anything), output is never coloured. Colour is used only on a terminal anyway.",
);
const LOG: EnvVar = (
    "CMDEPLOY_LOG",
    "The log filter when no -v is given (tracing's EnvFilter syntax: info, debug, trace, or \
     cmdeploy=debug,winrm=trace). Logs go to stderr, or to --log-file; never a secret.",
);
const FINGERPRINT_KEY: EnvVar = (
    "CMDEPLOY_FINGERPRINT_KEY",
    "The key (hex, 256 bits or more) of the secret fingerprints kept in state. Without it, \
     .cmdeploy/fingerprint.key is used (created on first use). Set it in CI so every runner \
     compares fingerprints alike.",
);
const MANIFEST_ENV: EnvVar = (
    "variables named by { env = \"NAME\" } in the manifests",
    "Secrets (passwords) and the PostgreSQL state URL. A reference to an unset variable is a \
     diagnostic of validate, at the reference.",
);
const LAB_LATENCY: EnvVar = (
    "CMDEPLOY_LAB_LATENCY_MS",
    "Milliseconds the lab transport waits before each Script (to try parallelism and timeouts).",
);
const LAB_SCRIPT_STARTUP: EnvVar = (
    "CMDEPLOY_LAB_SCRIPT_STARTUP_MS",
    "Milliseconds the lab transport sleeps per Script, as a site pays for a WinRM shell, \
     powershell.exe and the ConfigurationManager module import (benchmarks; default 0).",
);
const LAB_CMDLET: EnvVar = (
    "CMDEPLOY_LAB_CMDLET_MS",
    "Milliseconds the lab transport sleeps per cmdlet a Script ran (benchmarks; default 0).",
);
const SOURCE_DATE_EPOCH: EnvVar = (
    "SOURCE_DATE_EPOCH",
    "Seconds since 1970: the date written in the comments of imported tables (for reproducible files).",
);

/// The environment variables the command at `path` reads.
pub fn environment(path: &str) -> Vec<EnvVar> {
    let mut vars = vec![NO_COLOR, LOG];
    let first = path.split(' ').next().unwrap_or_default();
    match first {
        "plan" | "apply" | "drift" | "import" => {
            vars.extend([
                FINGERPRINT_KEY,
                MANIFEST_ENV,
                LAB_LATENCY,
                LAB_SCRIPT_STARTUP,
                LAB_CMDLET,
            ]);
            if first == "import" {
                vars.push(SOURCE_DATE_EPOCH);
            }
        }
        "validate" | "graph" => vars.push(MANIFEST_ENV),
        "state" | "show" => vars.push(MANIFEST_ENV),
        "lab" => vars.extend([LAB_LATENCY, LAB_SCRIPT_STARTUP, LAB_CMDLET]),
        "" => vars.extend([
            FINGERPRINT_KEY,
            MANIFEST_ENV,
            LAB_LATENCY,
            LAB_SCRIPT_STARTUP,
            LAB_CMDLET,
            SOURCE_DATE_EPOCH,
        ]),
        _ => {}
    }
    vars
}

/// Every page: the top-level one, then each subcommand's, depth first (clap's `help` left out).
///
/// # Errors
/// Only when roff cannot be written to memory (never in practice).
pub fn pages() -> std::io::Result<Vec<ManPage>> {
    let mut root = Cli::command().disable_help_subcommand(true);
    root.build();
    let mut out = Vec::new();
    walk(&root, &mut Vec::new(), &mut out)?;
    Ok(out)
}

/// The page of the command at `path` (e.g. `["state", "mv"]`), if there is such a command.
///
/// # Errors
/// As [`pages`].
pub fn page(path: &[String]) -> std::io::Result<Option<ManPage>> {
    Ok(pages()?.into_iter().find(|p| p.path == path))
}

fn walk(
    cmd: &clap::Command,
    path: &mut Vec<String>,
    out: &mut Vec<ManPage>,
) -> std::io::Result<()> {
    out.push(render(cmd, path)?);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        path.push(sub.get_name().to_string());
        walk(sub, path, out)?;
        path.pop();
    }
    Ok(())
}

fn render(cmd: &clap::Command, path: &[String]) -> std::io::Result<ManPage> {
    let key = path.join(" ");
    let man = clap_mangen::Man::new(cmd.clone())
        .manual("cmdeploy manual")
        .source(concat!("cmdeploy ", env!("CARGO_PKG_VERSION")));
    let mut buf = Vec::new();
    man.render_title(&mut buf)?;
    man.render_name_section(&mut buf)?;
    man.render_synopsis_section(&mut buf)?;
    man.render_description_section(&mut buf)?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut buf)?;
    }
    if cmd.has_subcommands() {
        man.render_subcommands_section(&mut buf)?;
    }
    let mut roff = Roff::default();
    roff.control("SH", ["EXIT STATUS"]);
    for (code, meaning) in exit_status(&key).unwrap_or(PLAIN) {
        roff.control("TP", [])
            .text([bold(*code)])
            .text([roman(*meaning)]);
    }
    roff.control("SH", ["ENVIRONMENT"]);
    for (name, meaning) in environment(&key) {
        roff.control("TP", [])
            .text([bold(name)])
            .text([roman(meaning)]);
    }
    let see_also = if path.is_empty() {
        "cmdeploy-plan(1), cmdeploy-apply(1), cmdeploy-drift(1), cmdeploy-state(1)".to_string()
    } else {
        let parent = std::iter::once("cmdeploy")
            .chain(path[..path.len() - 1].iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join("-");
        format!("{parent}(1)")
    };
    roff.control("SH", ["SEE ALSO"]).text([roman(see_also)]);
    roff.to_writer(&mut buf)?;
    if cmd.get_version().is_some() {
        man.render_version_section(&mut buf)?;
    }
    // Each section rendered alone repeats roff's two-line preamble: keep the first.
    let text = String::from_utf8_lossy(&buf);
    let mut seen = std::collections::BTreeSet::new();
    let roff = text
        .lines()
        .filter(|l| {
            !(l.starts_with(".ie \\n(.g") || l.starts_with(".el .ds Aq")) || seen.insert(*l)
        })
        .map(|l| format!("{l}\n"))
        .collect();
    Ok(ManPage {
        path: path.to_vec(),
        file_name: man.get_filename(),
        roff,
    })
}
