//! No value runs as code in a script cmdeploy writes. Hostile strings (every PowerShell quote,
//! U+2018–U+201B included, cmd's `%`, `!`, `^`, `&`, parentheses, line breaks and other control
//! characters) go into the values of every script kind: the logon script in both languages and the
//! offline bundle's install.cmd. Whenever a kind accepts the values, the `.ps1` parses under a
//! tree-sitter PowerShell grammar with each value as one single-quoted literal that reads back as
//! exactly the input (decoded by PowerShell's own rule, independently of the quoting code), and
//! every `.cmd` has the template's line structure, with no value able to start a command. When a
//! kind refuses, the input held a character its language cannot hold.

use cmdeploy_engine::diagnostics::SourceFile;
use cmdeploy_providers::artifact::files::FileSource;
use cmdeploy_providers::artifact::kind::{ArtifactSpec, RenderInput, Rendered};
use cmdeploy_providers::artifact::logon_script::LogonScriptSpec;
use cmdeploy_providers::artifact::offline_bundle::OfflineBundleSpec;
use proptest::prelude::*;

fn hostile() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just("'".to_string()),
        Just("''".to_string()),
        Just("\u{2018}".to_string()),
        Just("\u{2019}".to_string()),
        Just("\u{201A}".to_string()),
        Just("\u{201B}".to_string()),
        Just("\u{201C}".to_string()),
        Just("\"".to_string()),
        Just("; Remove-Item C:\\ -Recurse #".to_string()),
        Just("$(calc.exe)".to_string()),
        Just("`".to_string()),
        Just("%PATH%".to_string()),
        Just("!x!".to_string()),
        Just("^".to_string()),
        Just("&calc.exe".to_string()),
        Just("|".to_string()),
        Just(">".to_string()),
        Just(")".to_string()),
        Just("(".to_string()),
        Just("\r\ncalc.exe".to_string()),
        Just("\n".to_string()),
        Just("\u{0}".to_string()),
        Just("\u{85}".to_string()),
        Just("\u{2028}".to_string()),
        Just("#".to_string()),
        Just("<#".to_string()),
        Just(" ".to_string()),
        Just("é".to_string()),
        "[a-zA-Z0-9.]{1,6}",
    ];
    proptest::collection::vec(pieces, 1..6).prop_map(|v| v.concat())
}

fn input(dir: &std::path::Path) -> RenderInput {
    RenderInput {
        file: SourceFile::new(&dir.join("m.toml"), String::new()),
        span: 0..0,
        project_dir: dir.to_path_buf(),
        address: "logon_script.netlogon".into(),
        values: Default::default(),
    }
}

fn table(entries: &[(&str, toml::Value)]) -> String {
    let mut t = toml::Table::new();
    for (k, v) in entries {
        t.insert((*k).into(), v.clone());
    }
    toml::to_string(&t).unwrap()
}

fn properties(install_dir: &str, fsp: &str) -> toml::Value {
    let mut p = toml::Table::new();
    p.insert("SMSSITECODE".into(), "ABC".into());
    p.insert("CCMINSTALLDIR".into(), install_dir.into());
    p.insert("FSP".into(), fsp.into());
    toml::Value::Table(p)
}

fn text(r: &Rendered, name: &str) -> String {
    match r.artifact.files.get(name) {
        Some(FileSource::Text(t)) => t.clone(),
        _ => panic!("{name} not rendered"),
    }
}

// ---- PowerShell: one literal per value, read back by PowerShell's rule ----

const PS_QUOTES: [char; 5] = ['\'', '\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}'];

/// The content of a single-quoted literal (outer quotes included) as PowerShell's tokenizer reads
/// it: any of the five quote characters ends it unless another one follows (then it stands for
/// the second). `None` when it ends before its last character.
fn powershell_reads(literal: &str) -> Option<String> {
    let chars: Vec<char> = literal.chars().collect();
    if chars.len() < 2 || !PS_QUOTES.contains(&chars[0]) {
        return None;
    }
    let mut out = String::new();
    let mut i = 1;
    while i < chars.len() {
        let c = chars[i];
        if PS_QUOTES.contains(&c) {
            if i + 1 < chars.len() && PS_QUOTES.contains(&chars[i + 1]) {
                out.push(chars[i + 1]);
                i += 2;
                continue;
            }
            return (i == chars.len() - 1).then_some(out);
        }
        out.push(c);
        i += 1;
    }
    None
}

/// `$name = <rhs>` assignments of the script, with their right-hand sides' source text, and any
/// syntax error.
fn assignments(script: &str) -> (Vec<(String, String, &'static str)>, bool) {
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_powershell::LANGUAGE.into())
        .unwrap();
    let tree = parser.parse(script, None).unwrap();
    let mut out = Vec::new();
    let mut broken = false;
    let mut stack = vec![tree.root_node()];
    while let Some(node) = stack.pop() {
        broken |= node.is_error() || node.is_missing();
        if node.kind() == "assignment_expression" {
            let lhs = node.child(0).unwrap();
            let rhs = node.child((node.child_count() - 1) as u32).unwrap();
            // The right-hand side must be a single string literal: walk down single-child
            // wrappers (pipeline → command expression → ... → string literal).
            let mut leaf = rhs;
            while leaf.named_child_count() == 1 && leaf.kind() != "verbatim_string_characters" {
                leaf = leaf.named_child(0).unwrap();
            }
            let kind = if leaf.kind().contains("verbatim_string") {
                "verbatim"
            } else {
                "other"
            };
            out.push((
                script[lhs.byte_range()].to_string(),
                script[rhs.byte_range()].to_string(),
                kind,
            ));
        }
        let mut cursor = node.walk();
        stack.extend(node.children(&mut cursor));
    }
    (out, broken)
}

fn check_ps1(script: &str, exe: &str, args: &str) -> Result<(), TestCaseError> {
    let (found, broken) = assignments(script);
    prop_assert!(!broken, "syntax error in\n{script}");
    let lookup = |name: &str| found.iter().find(|(l, _, _)| l == name).cloned();
    for (name, want) in [("$ccmsetup", exe), ("$arguments", args)] {
        let (_, rhs, kind) = lookup(name)
            .ok_or_else(|| TestCaseError::fail(format!("{name} not assigned in\n{script}")))?;
        prop_assert_eq!(kind, "verbatim", "{} = {} is not one literal", name, rhs);
        let read = powershell_reads(&rhs);
        prop_assert_eq!(read.as_deref(), Some(want), "{} = {}", name, rhs);
    }
    prop_assert_eq!(found.len(), 3, "assignments: {:?}", found);
    Ok(())
}

// ---- cmd: the template's lines, no value able to start a command ----

/// Characters cmd acts on outside quotes.
const CMD_OPERATORS: [char; 9] = ['%', '!', '^', '&', '|', '<', '>', '(', ')'];

/// `raw` values are written outside quotes (cmd acts on its operators there), `quoted` ones
/// between the template's double quotes; `benign` is the same script rendered from plain values.
/// The structure holds when the lines are the template's (same count, each starting with the same
/// command, or a quoted program where the template has one) and no value can act on cmd.
fn check_cmd(
    script: &str,
    raw: &[&str],
    quoted: &[&str],
    benign: &str,
) -> Result<(), TestCaseError> {
    for v in raw {
        prop_assert!(
            !v.chars().any(|c| c.is_control()),
            "control character in {:?}",
            v
        );
        prop_assert!(
            !v.chars().any(|c| CMD_OPERATORS.contains(&c)),
            "cmd operator in a raw value {:?}",
            v
        );
    }
    for v in quoted {
        prop_assert!(
            !v.chars()
                .any(|c| c.is_control() || matches!(c, '"' | '%' | '!')),
            "unsafe in a quoted value {:?}",
            v
        );
    }
    let got: Vec<&str> = script.lines().collect();
    let want: Vec<&str> = benign.lines().collect();
    prop_assert_eq!(got.len(), want.len(), "line structure changed:\n{}", script);
    for (g, w) in got.iter().zip(&want) {
        let first = |l: &str| l.split_whitespace().next().unwrap_or("").to_string();
        if w.starts_with('"') {
            prop_assert!(g.starts_with('"'), "{:?} vs {:?}", g, w);
        } else {
            prop_assert_eq!(first(g), first(w), "{:?} vs {:?}", g, w);
        }
    }
    Ok(())
}

fn logon(
    shell: &str,
    source: &str,
    install_dir: &str,
    fsp: &str,
) -> (Result<Rendered, usize>, String) {
    let dir = tempfile::tempdir().unwrap();
    let spec: LogonScriptSpec = toml::from_str(&table(&[
        ("path", "out".into()),
        ("shell", shell.into()),
        ("source", source.into()),
        ("properties", properties(install_dir, fsp)),
    ]))
    .unwrap();
    let exe = format!("{}\\ccmsetup.exe", source.trim_end_matches('\\'));
    (spec.render(&input(dir.path())).map_err(|d| d.len()), exe)
}

fn refusable(values: &[&str], extra: &[char]) -> bool {
    values.iter().any(|v| {
        v.chars().any(|c| {
            c.is_control()
                || matches!(c, '\u{2028}' | '\u{2029}' | '\u{2018}'..='\u{201F}')
                || extra.contains(&c)
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn powershell_logon_scripts_hold_each_value_as_one_literal(
        source in hostile(), install_dir in hostile(), fsp in hostile()
    ) {
        let (rendered, exe) = logon("powershell", &source, &install_dir, &fsp);
        // A refusal is fine here (the CCMSetup model refuses values for reasons of its own,
        // spaces in FSP...); what matters is that nothing unsafe is ever accepted.
        if let Ok(r) = rendered {
            let script = text(&r, "ccmsetup-logon.ps1");
            let args = r.command_line[exe.len() + 1..].to_string();
            check_ps1(&script, &exe, &args)?;
        }
    }

    #[test]
    fn cmd_logon_scripts_keep_their_structure(
        source in hostile(), install_dir in hostile(), fsp in hostile()
    ) {
        let (benign, _) = logon("cmd", "\\\\cm01\\SMS_ABC\\Client", "C:\\CCM", "fsp.contoso.com");
        let benign = text(&benign.unwrap(), "ccmsetup-logon.cmd");
        let (rendered, exe) = logon("cmd", &source, &install_dir, &fsp);
        match rendered {
            Ok(r) => {
                let script = text(&r, "ccmsetup-logon.cmd");
                let args = r.command_line[exe.len() + 1..].to_string();
                check_cmd(&script, &[&args], &[&exe], &benign)?;
            }
            Err(_) => prop_assert!(
                refusable(&[&source, &install_dir, &fsp], &['"', '%', '!', '^', '&', '|', '<', '>', '(', ')', ' ', '\'', '#', '$', '`', ';'])
                    || install_dir.is_empty() || fsp.is_empty(),
                "refused without cause"
            ),
        }
    }

    #[test]
    fn offline_install_cmd_keeps_its_structure(install_path in hostile(), fsp in hostile()) {
        let render = |install_path: &str, fsp: &str| {
            let dir = tempfile::tempdir().unwrap();
            std::fs::create_dir_all(dir.path().join("src")).unwrap();
            std::fs::write(dir.path().join("src/ccmsetup.exe"), "x").unwrap();
            std::fs::write(dir.path().join("src/ccmsetup.cab"), "x").unwrap();
            std::fs::write(dir.path().join("site.cer"), "x").unwrap();
            let mut props = toml::Table::new();
            props.insert("SMSSITECODE".into(), "ABC".into());
            props.insert("CCMHOSTNAME".into(), "mp.contoso.com".into());
            props.insert("FSP".into(), fsp.into());
            let mut params = toml::Table::new();
            params.insert("UsePKICert".into(), true.into());
            let spec: OfflineBundleSpec = toml::from_str(&table(&[
                ("path", "out".into()),
                ("client_source", "src".into()),
                ("install_path", install_path.into()),
                ("signing_certificate", "site.cer".into()),
                ("ccmsetup", toml::Value::Table(params)),
                ("properties", toml::Value::Table(props)),
            ]))
            .unwrap();
            spec.render(&input(dir.path()))
        };
        let parts = |r: &Rendered, install_path: &str| {
            let install = install_path.trim_end_matches('\\').to_string();
            let exe = format!("{install}\\ccmsetup.exe");
            let args = r.command_line[exe.len() + 1..].to_string();
            (text(r, "install.cmd"), install, args)
        };
        let benign = render("C:\\ccmsource", "fsp.contoso.com").expect("the plain bundle renders");
        let (benign, _, _) = parts(&benign, "C:\\ccmsource");
        if let Ok(r) = render(&install_path, &fsp) {
            let (script, install, args) = parts(&r, &install_path);
            check_cmd(&script, &[&args], &[&install], &benign)?;
        }
    }
}

#[test]
fn the_checks_catch_the_old_quoting() {
    // What the old `psquote` wrote for a curly quote: PowerShell ends the string early.
    let value = "C:\\x\u{2019}; Remove-Item C:\\ -Recurse #";
    let old = format!("'{}'", value.replace('\'', "''"));
    assert_eq!(powershell_reads(&old), None);
    let script = format!("$ccmsetup = {old}\n$arguments = 'a'\n$process = 1\n");
    let (found, _) = assignments(&script);
    assert!(found.iter().any(|(l, _, _)| l == "$ccmsetup"));
}

#[test]
fn a_curly_quote_in_a_powershell_logon_script_is_kept_as_text() {
    let (r, exe) = logon(
        "powershell",
        "\\\\cm01\\SMS_ABC\\Client\u{2019}; Remove-Item C:\\ -Recurse #",
        "C:\\CCM",
        "fsp.contoso.com",
    );
    let r = r.expect("accepted: the value is safe once quoted");
    let script = text(&r, "ccmsetup-logon.ps1");
    let (found, broken) = assignments(&script);
    assert!(!broken);
    let (_, rhs, _) = found.iter().find(|(l, _, _)| l == "$ccmsetup").unwrap();
    assert_eq!(powershell_reads(rhs).as_deref(), Some(exe.as_str()));
}

#[test]
fn a_line_break_in_a_value_is_refused_in_every_script_kind() {
    for shell in ["cmd", "powershell"] {
        let (r, _) = logon(
            shell,
            "\\\\cm01\\SMS_ABC\\Client",
            "C:\\CCM\r\ncalc.exe",
            "fsp",
        );
        assert!(r.is_err(), "{shell} accepted a line break");
        let (r, _) = logon(shell, "\\\\cm01\\SMS_ABC\r\ncalc.exe", "C:\\CCM", "fsp");
        assert!(r.is_err(), "{shell} accepted a line break in source");
    }
}
