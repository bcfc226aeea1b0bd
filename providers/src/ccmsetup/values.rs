//! Value rules: forms from the catalog and per-name checks (§1.2, §1.3, rules 1, 7, 18).

use super::catalog::{self, Spec, ValueKind};
use super::codes;
use super::model::{CommandLine, Finding};

fn empty(shown: &str, span: std::ops::Range<usize>) -> Finding {
    Finding::error(codes::EMPTY_VALUE, format!("`{shown}` needs a value"))
        .with_help(format!(
            "write `{shown}:<value>` with no space after the colon"
        ))
        .with_span(span)
}

/// Whether a value is an unexpanded template variable (`$(x)`, `$x`, `${x}`, `[x]`, `{{ x }}`).
pub(crate) fn is_placeholder(v: &str) -> bool {
    let b = v.as_bytes();
    let dollar = b
        .windows(2)
        .any(|w| w[0] == b'$' && (w[1] == b'(' || w[1] == b'{' || w[1].is_ascii_alphabetic()));
    dollar || v.contains("{{") || (v.starts_with('[') && v.contains(']'))
}

/// Value forms and per-name value rules.
pub(crate) fn values(cmd: &CommandLine, out: &mut Vec<Finding>) {
    for p in &cmd.parameters {
        let Some(spec) = catalog::parameter(&p.name) else {
            continue;
        };
        let shown = format!("/{}", spec.name);
        match (&spec.value, &p.value) {
            (ValueKind::None, Some(v)) => out.push(
                Finding::error(
                    codes::UNEXPECTED_VALUE,
                    format!("`{shown}` takes no value (got `{v}`)"),
                )
                .with_help(format!("write `{shown}`"))
                .with_span(p.span.clone()),
            ),
            (ValueKind::None, None) => {}
            (_, None) => out.push(empty(&shown, p.span.clone())),
            (_, Some(v)) if v.is_empty() => out.push(empty(&shown, p.span.clone())),
            (kind, Some(v)) => value(spec, &shown, *kind, v, p.span.clone(), out),
        }
    }
    for p in &cmd.properties {
        let Some(spec) = catalog::property(&p.name) else {
            continue;
        };
        if p.value.is_empty() {
            if spec.value != ValueKind::Flag {
                out.push(
                    Finding::error(codes::EMPTY_VALUE, format!("`{}` needs a value", spec.name))
                        .with_span(p.span.clone()),
                );
            }
            continue;
        }
        value(spec, spec.name, spec.value, &p.value, p.span.clone(), out);
    }
}

fn value(
    spec: &Spec,
    shown: &str,
    kind: ValueKind,
    v: &str,
    span: std::ops::Range<usize>,
    out: &mut Vec<Finding>,
) {
    let err = |code, msg: String| Finding::error(code, msg).with_span(span.clone());
    if v.len() >= 2 && v.starts_with('\'') && v.ends_with('\'') {
        out.push(
            err(
                codes::SINGLE_QUOTED,
                format!("`{shown}` value is wrapped in single quotes, which ccmsetup keeps"),
            )
            .with_help("use double quotes"),
        );
        return;
    }
    if is_placeholder(v) {
        out.push(
            Finding::warning(
                codes::PLACEHOLDER,
                format!("`{shown}` value `{v}` looks like an unexpanded template variable"),
            )
            .with_help("only the value's shape (scheme prefixes) was checked")
            .with_span(span.clone()),
        );
        if matches!(spec.name, "source" | "mp" | "CCMHOSTNAME") {
            specific(spec, shown, v, span, out);
        }
        return;
    }
    let ci = |set: &[&str], x: &str| set.iter().any(|s| s.eq_ignore_ascii_case(x));
    let no_effect = |msg: String| {
        Finding::warning(codes::NO_EFFECT, msg)
            .with_help("omit it")
            .with_span(span.clone())
    };
    match kind {
        ValueKind::None | ValueKind::Text | ValueKind::List => {}
        ValueKind::Enum(set) if !ci(set, v) => out.push(err(
            codes::INVALID_VALUE,
            format!("`{shown}` value `{v}` is not one of {}", set.join(", ")),
        )),
        ValueKind::Enum(_) => {}
        ValueKind::EnumList(set) => {
            for item in v.split(';').filter(|s| !s.is_empty()) {
                if !ci(set, item) {
                    out.push(err(
                        codes::INVALID_VALUE,
                        format!("`{shown}` item `{item}` is not one of {}", set.join(", ")),
                    ));
                }
            }
        }
        ValueKind::Int { min, max } => match v.parse::<u64>() {
            Err(_) => out.push(err(
                codes::RANGE,
                format!("`{shown}` needs a whole number (got `{v}`)"),
            )),
            Ok(n) if n < min || max.is_some_and(|m| n > m) => {
                let range = max.map_or(format!("at least {min}"), |m| format!("{min}–{m}"));
                out.push(err(
                    codes::RANGE,
                    format!("`{shown}={v}` is out of range ({range})"),
                ));
            }
            Ok(_) => {}
        },
        ValueKind::One => match v {
            "1" => {}
            "0" => out.push(no_effect(format!("`{shown}=0` has no effect"))),
            _ => out.push(err(
                codes::INVALID_VALUE,
                format!("`{shown}` takes `1` (got `{v}`)"),
            )),
        },
        ValueKind::True | ValueKind::Flag => {
            if v.eq_ignore_ascii_case("TRUE") || (kind == ValueKind::Flag && v == "1") {
            } else if v.eq_ignore_ascii_case("FALSE") || v == "0" {
                out.push(no_effect(format!("`{shown}={v}` has no effect")));
            } else {
                out.push(err(
                    codes::INVALID_VALUE,
                    format!("`{shown}` takes `TRUE` (got `{v}`)"),
                ));
            }
        }
    }
    specific(spec, shown, v, span, out);
}

fn specific(
    spec: &Spec,
    shown: &str,
    v: &str,
    span: std::ops::Range<usize>,
    out: &mut Vec<Finding>,
) {
    let err = |code, msg: String| Finding::error(code, msg).with_span(span.clone());
    match spec.name {
        "SMSSITECODE" => {
            const RESERVED: [&str; 6] = ["AUX", "CON", "NUL", "PRN", "SMS", "ENV"];
            if v.eq_ignore_ascii_case("AUTO") {
            } else if v.len() != 3 || !v.bytes().all(|b| b.is_ascii_alphanumeric()) {
                out.push(err(
                    codes::SITE_CODE,
                    format!("site code `{v}` must be 3 characters A–Z/0–9, or AUTO"),
                ));
            } else if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(v)) {
                out.push(err(
                    codes::SITE_CODE,
                    format!("site code `{v}` is reserved"),
                ));
            } else if v.bytes().any(|b| b.is_ascii_lowercase()) {
                // CCMSetup compares site codes without regard to case, so the line works; the
                // site shows and stores the code in upper case (rule 1).
                out.push(
                    Finding::warning(
                        codes::SITE_CODE,
                        format!("site code `{v}` is written in lower case"),
                    )
                    .with_span(span.clone())
                    .with_help(format!(
                        "write SMSSITECODE={}: site codes are case-insensitive and always shown in upper case",
                        v.to_ascii_uppercase()
                    )),
                );
            }
        }
        "SMSCACHEFLAGS" => {
            let has = |f: &str| v.split(';').any(|i| i.eq_ignore_ascii_case(f));
            if has("PERCENTDISKSPACE") && has("PERCENTFREEDISKSPACE") {
                out.push(err(
                    codes::CACHE_FLAGS_EXCLUSIVE,
                    "PERCENTDISKSPACE and PERCENTFREEDISKSPACE are mutually exclusive".into(),
                ));
            }
        }
        "CCMHOSTNAME" if v.contains("://") => out.push(
            err(
                codes::CCMHOSTNAME_SCHEME,
                format!("CCMHOSTNAME `{v}` must not carry a scheme"),
            )
            .with_help("drop the `https://` prefix (rule 7)"),
        ),
        "mp" => {
            for mp in v.split(';') {
                let lower = mp.to_ascii_lowercase();
                let cmg = lower.contains("ccm_proxy") || lower.contains(".cloudapp.");
                if cmg && !lower.starts_with("https://") {
                    out.push(
                        err(
                            codes::MP_CMG_SCHEME,
                            format!("CMG address `{mp}` in `{shown}` must start with https://"),
                        )
                        .with_help("write `/mp:https://<CMG address>` (rule 7)"),
                    );
                }
            }
        }
        "source" if v.contains("://") => out.push(
            Finding::warning(
                codes::SOURCE_PATH,
                format!("`/source:{v}` is a URL; the docs expect a local or UNC path"),
            )
            .with_span(span),
        ),
        "CCMCERTISSUERS" => {
            for ca in v.split('|') {
                for attr in ca.split(';') {
                    let comma_sep = attr.split(',').skip(1).any(|rest| {
                        let r = rest.trim_start();
                        r.find('=').is_some_and(|i| {
                            i > 0 && r[..i].bytes().all(|b| b.is_ascii_alphabetic())
                        })
                    });
                    if comma_sep {
                        out.push(
                            err(codes::CERT_ISSUERS_SEPARATOR, format!("CCMCERTISSUERS separates attributes with `,` in `{}`", attr.trim()))
                                .with_help("separate attributes with `;` (commas reportedly fail, SCCMdocs#2220)"),
                        );
                        return;
                    }
                }
            }
        }
        _ => {}
    }
}
