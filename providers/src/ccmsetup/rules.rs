//! Context-free rules: names, values and relations between items (§1, rule 18).

use super::catalog::{self, Kind, Spec, Status};
use super::codes;
use super::model::{CommandLine, Context, Finding, Program};

/// Unknown / undocumented / legacy / obsolete names, casing and duplicates.
pub(crate) fn names(cmd: &CommandLine, out: &mut Vec<Finding>) {
    for (i, p) in cmd.parameters.iter().enumerate() {
        match catalog::parameter(&p.name) {
            None => {
                let mut f = Finding::error(
                    codes::UNKNOWN_PARAMETER,
                    format!("unknown ccmsetup parameter `/{}`", p.name),
                )
                .with_span(p.span.clone());
                if let Some(s) = catalog::suggest(Kind::Parameter, &p.name) {
                    f = f.with_help(format!("did you mean `/{s}`?"));
                } else if let Some(s) = catalog::property(&p.name) {
                    f = f.with_help(format!(
                        "`{}` is a client.msi property: `{}=value`",
                        s.name, s.name
                    ));
                }
                out.push(f);
            }
            Some(spec) => {
                status(spec, &format!("/{}", spec.name), p.span.clone(), out);
                let dup = cmd.parameters[..i].iter().any(|q| q.name == p.name);
                if dup && !spec.repeatable {
                    out.push(
                        Finding::warning(
                            codes::DUPLICATE,
                            format!("`/{}` is given more than once", spec.name),
                        )
                        .with_span(p.span.clone()),
                    );
                }
            }
        }
    }
    for (i, p) in cmd.properties.iter().enumerate() {
        match catalog::property(&p.name) {
            None => {
                let mut f = Finding::error(
                    codes::UNKNOWN_PROPERTY,
                    format!("unknown client.msi property `{}`", p.name),
                )
                .with_span(p.span.clone());
                let mut help = Vec::new();
                if let Some(s) = catalog::suggest(Kind::Property, &p.name) {
                    help.push(format!("did you mean `{s}`?"));
                }
                if let Some(s) = catalog::parameter(&p.name) {
                    help.push(format!("`/{}:value` is a ccmsetup parameter", s.name));
                }
                if !help.is_empty() {
                    f = f.with_help(help.join(" "));
                }
                out.push(f);
            }
            Some(spec) => status(spec, spec.name, p.span.clone(), out),
        }
        if let Some(w) = &p.written {
            out.push(
                Finding::warning(
                    codes::PROPERTY_CASE,
                    format!("property `{w}` is not upper case"),
                )
                .with_help(format!(
                    "write `{}`; Windows Installer public properties are upper case",
                    p.name
                ))
                .with_span(p.span.clone()),
            );
        }
        if cmd.properties[..i].iter().any(|q| q.name == p.name) {
            out.push(
                Finding::error(
                    codes::DUPLICATE,
                    format!("property `{}` is given more than once", p.name),
                )
                .with_span(p.span.clone()),
            );
        }
    }
}

fn status(spec: &Spec, shown: &str, span: std::ops::Range<usize>, out: &mut Vec<Finding>) {
    let f = match spec.status {
        Status::Documented => return,
        Status::Undocumented(why) => Finding::warning(
            codes::UNDOCUMENTED,
            format!("`{shown}` is undocumented: {why}"),
        ),
        Status::Legacy(why) => {
            Finding::warning(codes::LEGACY, format!("`{shown}` is legacy: {why}"))
        }
        Status::Obsolete(why) => {
            Finding::error(codes::OBSOLETE, format!("`{shown}` is obsolete: {why}"))
                .with_help("remove it")
        }
    };
    out.push(f.with_span(span));
}

/// Rules between items: root key and site code, /regtoken, PROVISIONTS, PKI and Entra,
/// CCMHOSTNAME and AUTO, CCMALWAYSINF, tcf lines, percentage cache size.
pub(crate) fn relations(cmd: &CommandLine, ctx: Option<Context>, out: &mut Vec<Finding>) {
    let site = cmd.property_value("SMSSITECODE");
    let auto = site.is_some_and(|s| s.eq_ignore_ascii_case("AUTO"));
    let span_of = |name: &str| cmd.property(name).map(|p| p.span.clone()).unwrap_or(0..0);
    if ctx != Some(Context::Push) && site.is_none() {
        for key in ["SMSPUBLICROOTKEY", "SMSROOTKEYPATH"] {
            if cmd.property(key).is_some() {
                out.push(
                    Finding::error(
                        codes::REQUIRES_SITE_CODE,
                        format!("{key} also needs SMSSITECODE"),
                    )
                    .with_span(span_of(key)),
                );
            }
        }
    }
    if let Some(rt) = cmd.parameter("regtoken") {
        let missing: Vec<&str> = ["CCMHOSTNAME", "SMSSITECODE", "SMSMP"]
            .into_iter()
            .filter(|n| cmd.property(n).is_none())
            .collect();
        if !missing.is_empty() {
            out.push(
                Finding::error(
                    codes::REGTOKEN_REQUIRES,
                    format!("/regtoken also needs {}", missing.join(", ")),
                )
                .with_span(rt.span.clone()),
            );
        }
        if !cmd.has_parameter("mp") {
            out.push(
                Finding::warning(
                    codes::REGTOKEN_REQUIRES,
                    "/regtoken is documented together with /mp",
                )
                .with_help("fine if ccmsetup returned 0x87d0027e with /mp (memdocs#1565)")
                .with_span(rt.span.clone()),
            );
        }
    }
    if cmd.property("PROVISIONTS").is_some()
        && !matches!(cmd.program, Program::Msi { .. })
        && ctx != Some(Context::Intune)
    {
        out.push(
            Finding::warning(
                codes::PROVISIONTS_MSI,
                "PROVISIONTS is documented for ccmsetup.msi only",
            )
            .with_help(
                "use `ccmsetup.msi CCMSETUPCMD=\"...\"`; a 2020 doc example used ccmsetup.exe",
            )
            .with_span(span_of("PROVISIONTS")),
        );
    }
    if let Some(pki) = cmd.parameter("UsePKICert") {
        if cmd.property("AADRESOURCEURI").is_some() || cmd.property("AADCLIENTAPPID").is_some() {
            out.push(
                Finding::warning(
                    codes::PKI_WITH_ENTRA,
                    "/UsePKICert with Entra ID authentication properties",
                )
                .with_help("Entra-authenticated clients don't use /UsePKICert")
                .with_span(pki.span.clone()),
            );
        }
    }
    if auto && cmd.property("CCMHOSTNAME").is_some() {
        out.push(
            Finding::error(
                codes::AUTO_WITH_CCMHOSTNAME,
                "CCMHOSTNAME can't be used with SMSSITECODE=AUTO",
            )
            .with_help("give the explicit site code")
            .with_span(span_of("SMSSITECODE")),
        );
    }
    if cmd.property_value("CCMALWAYSINF") == Some("1")
        && (cmd.property("CCMHOSTNAME").is_none() || site.is_none() || auto)
    {
        out.push(
            Finding::warning(
                codes::ALWAYSINF_REQUIRES,
                "CCMALWAYSINF=1 needs CCMHOSTNAME and an explicit SMSSITECODE",
            )
            .with_span(span_of("CCMALWAYSINF")),
        );
    }
    if cmd.program == Program::Tcf {
        for p in &cmd.parameters {
            out.push(
                Finding::error(
                    codes::TCF_PARAMETER,
                    format!("`/{}` on an Install=INSTALL=ALL line", p.name),
                )
                .with_help("a /config file line holds client.msi properties only")
                .with_span(p.span.clone()),
            );
        }
    }
    let percent = cmd.property_value("SMSCACHEFLAGS").is_some_and(|v| {
        v.split(';')
            .any(|f| f.to_ascii_uppercase().starts_with("PERCENT"))
    });
    if let (true, Some(size)) = (
        percent,
        cmd.property_value("SMSCACHESIZE")
            .and_then(|s| s.parse::<u64>().ok()),
    ) {
        if size > 100 {
            out.push(
                Finding::error(
                    codes::RANGE,
                    format!("SMSCACHESIZE={size} is a percentage with a PERCENT flag (1–100)"),
                )
                .with_span(span_of("SMSCACHESIZE")),
            );
        }
    }
}
