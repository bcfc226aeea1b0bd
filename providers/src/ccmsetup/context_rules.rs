//! Rules that depend on where the command line is used ([`Context`]).

use std::ops::Range;

use super::catalog::{self, Push};
use super::codes;
use super::model::{CommandLine, Context, Finding, Program};

/// GPO `SetupParameters` editor limit (ConfigMgrInstallation.adm `MAXLEN 255`).
pub const GPO_MAXLEN: usize = 255;
/// Intune cap on the ccmsetup.msi command line.
pub const INTUNE_MAXLEN: usize = 1024;

pub(crate) fn check(
    cmd: &CommandLine,
    ctx: Option<Context>,
    text_chars: usize,
    program_span: Option<Range<usize>>,
    out: &mut Vec<Finding>,
) {
    let Some(ctx) = ctx else { return };
    let program_warning = |what: &str| {
        let mut f = Finding::warning(
            codes::PROGRAM_IN_CONTEXT,
            format!("{what} holds arguments only; drop the program name"),
        );
        if let Some(s) = program_span.clone() {
            f = f.with_span(s);
        }
        f
    };
    match ctx {
        Context::Push => {
            if cmd.program != Program::Bare {
                out.push(program_warning("the push installation property"));
            }
            for p in &cmd.parameters {
                let push = catalog::parameter(&p.name).map_or(Push::NotAllowed, |s| s.push);
                let f = match push {
                    Push::Allowed => continue,
                    Push::NotAllowed => Finding::error(
                        codes::PUSH_SUBSET,
                        format!("`/{}` is not allowed in client push installation properties", p.name),
                    )
                    .with_help(
                        "push allows /AllowMetered, /AlwaysExcludeUpgrade, /BITSPriority, /downloadtimeout, \
                         /ExcludeFeatures, /forceinstall, /forcereboot, /logon, /skipprereq, /UsePKICert and all properties",
                    ),
                };
                out.push(f.with_span(p.span.clone()));
            }
        }
        Context::Gpo => {
            if cmd.program != Program::Bare {
                out.push(program_warning("GPO SetupParameters"));
            }
            if text_chars > GPO_MAXLEN {
                out.push(
                    Finding::warning(
                        codes::SETUP_PARAMETERS_TOO_LONG,
                        format!("SetupParameters is {text_chars} characters; the ADM editor truncates at {GPO_MAXLEN}"),
                    )
                    .with_help("shorten it, or write it with Set-GPRegistryValue and don't edit it in GPMC"),
                );
            }
        }
        Context::Intune => {
            if text_chars > INTUNE_MAXLEN {
                out.push(Finding::error(
                    codes::INTUNE_MAXLEN,
                    format!("the command line is {text_chars} characters; Intune allows {INTUNE_MAXLEN}"),
                ));
            }
        }
        Context::Internet => internet(cmd, out),
        Context::Workgroup => {
            let explicit_site = cmd
                .property_value("SMSSITECODE")
                .is_some_and(|s| !s.eq_ignore_ascii_case("AUTO"));
            let locator = ["DNSSUFFIX", "SMSMP", "SMSMPLIST", "CCMHOSTNAME"]
                .iter()
                .any(|n| cmd.property(n).is_some())
                || cmd.has_parameter("mp");
            if !explicit_site && !locator {
                out.push(
                    Finding::error(
                        codes::WORKGROUP_REQUIRES,
                        "a workgroup computer can't use AD to find its site",
                    )
                    .with_help("give SMSSITECODE=<site> plus DNSSUFFIX, SMSMP or /mp (rule 8)"),
                );
            }
        }
        Context::Manual => {}
    }
}

/// Rule 6: internet-based clients.
fn internet(cmd: &CommandLine, out: &mut Vec<Finding>) {
    let req = |msg: &str| Finding::error(codes::INTERNET_REQUIRES, msg.to_string());
    match cmd.property_value("SMSSITECODE") {
        None => out.push(req(
            "an internet-based client needs an explicit SMSSITECODE",
        )),
        Some(s) if s.eq_ignore_ascii_case("AUTO") => out.push(
            req("an internet-based client can't use SMSSITECODE=AUTO").with_span(
                cmd.property("SMSSITECODE")
                    .map(|p| p.span.clone())
                    .unwrap_or(0..0),
            ),
        ),
        Some(_) => {}
    }
    if cmd.property("CCMHOSTNAME").is_none() {
        out.push(req(
            "an internet-based client needs CCMHOSTNAME (internet MP or CMG)",
        ));
    }
    if !cmd.has_parameter("UsePKICert") {
        out.push(req("an internet-based client needs /UsePKICert"));
    }
    if cmd.property("SMSSIGNCERT").is_none() {
        out.push(req(
            "an internet-based client needs SMSSIGNCERT (site server signing certificate)",
        ));
    }
    let sources: Vec<_> = cmd
        .parameters
        .iter()
        .filter(|p| p.name == "source")
        .collect();
    if sources.is_empty() {
        out.push(
            req("an internet-based client needs /source:<local copy>")
                .with_help("installing from the internet-facing MP isn't supported"),
        );
    }
    for s in sources {
        if s.value.as_deref().is_some_and(|v| v.contains("://")) {
            out.push(req("/source must be a local copy, not a URL").with_span(s.span.clone()));
        }
    }
}
