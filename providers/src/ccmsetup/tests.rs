//! Unit tests for parsing, rules, contexts, rendering and the typed structs.

use super::codes;
use super::{check, parse, Context, Program, Property};

fn codes_of(text: &str, ctx: Option<Context>) -> Vec<(&'static str, bool)> {
    check(text, ctx)
        .1
        .iter()
        .map(|f| (f.code, f.is_error()))
        .collect()
}

fn has_error(text: &str, ctx: Option<Context>, code: &str) -> bool {
    codes_of(text, ctx).iter().any(|(c, e)| *c == code && *e)
}

fn has_warning(text: &str, ctx: Option<Context>, code: &str) -> bool {
    codes_of(text, ctx).iter().any(|(c, e)| *c == code && !*e)
}

fn clean(text: &str, ctx: Option<Context>) -> bool {
    codes_of(text, ctx).iter().all(|(_, e)| !*e)
}

#[test]
fn parses_program_parameters_properties_and_spans() {
    let text =
        r#"CCMSetup.exe /MP:mp1.contoso.com /usepkicert CCMCERTSTORE="Config Mgr" SMSSiteCode=ABC"#;
    let p = parse(text);
    let c = &p.command_line;
    assert_eq!(
        c.program,
        Program::Exe {
            path: "CCMSetup.exe".into()
        }
    );
    assert_eq!(p.program_span, Some(0..12));
    assert_eq!(c.parameters[0].name, "mp");
    assert_eq!(c.parameters[0].written.as_deref(), Some("MP"));
    assert_eq!(&text[c.parameters[0].span.clone()], "/MP:mp1.contoso.com");
    assert_eq!(c.parameters[1].name, "UsePKICert");
    assert_eq!(c.properties[0].value, "Config Mgr");
    assert_eq!(
        &text[c.properties[0].span.clone()],
        r#"CCMCERTSTORE="Config Mgr""#
    );
    assert_eq!(c.properties[1].name, "SMSSITECODE");
    assert_eq!(c.properties[1].written.as_deref(), Some("SMSSiteCode"));
}

#[test]
fn parses_msi_nested_command_line_with_spans() {
    let text = r#"ccmsetup.msi CCMSETUPCMD="/mp:https://mp.contoso.com CCMINSTALLDIR=""C:\Config Mgr"" SMSSITECODE=ABC""#;
    let p = parse(text);
    assert!(p.findings.is_empty(), "{:?}", p.findings);
    let c = &p.command_line;
    assert_eq!(
        c.program,
        Program::Msi {
            path: Some("ccmsetup.msi".into())
        }
    );
    assert_eq!(
        c.parameters[0].value.as_deref(),
        Some("https://mp.contoso.com")
    );
    assert_eq!(
        &text[c.parameters[0].span.clone()],
        "/mp:https://mp.contoso.com"
    );
    assert_eq!(c.properties[0].value, r"C:\Config Mgr");
    assert_eq!(&text[c.properties[1].span.clone()], "SMSSITECODE=ABC");
    assert_eq!(parse(&c.render()).command_line, *c);
    let bare = parse(r#"CCMSETUPCMD="SMSSITECODE=ABC""#).command_line;
    assert_eq!(bare.program, Program::Msi { path: None });
    assert_eq!(bare.properties, vec![Property::new("SMSSITECODE", "ABC")]);
}

#[test]
fn tcf_and_bare_forms() {
    let c = parse("Install=INSTALL=ALL SMSSITECODE=ABC").command_line;
    assert_eq!(c.program, Program::Tcf);
    assert!(has_error(
        "Install=INSTALL=ALL /logon SMSSITECODE=ABC",
        None,
        codes::TCF_PARAMETER
    ));
    assert!(has_warning(
        "CCMSetup.exe CCMALLOWSILENTREBOOT",
        None,
        codes::BARE_PROPERTY
    ));
    assert!(clean("CCMSetup.exe CCMALLOWSILENTREBOOT", None));
}

#[test]
fn order_and_syntax() {
    assert!(has_error("SMSSITECODE=ABC /logon", None, codes::ORDER));
    let (cmd, f) = check(r"CCMSetup.exe /source: D:\Clients SMSSITECODE=ABC", None);
    assert!(cmd.is_none());
    assert!(f.iter().any(|f| f.code == codes::EMPTY_VALUE));
    let stray = f.iter().find(|f| f.code == codes::STRAY_TOKEN).unwrap();
    assert!(stray
        .help
        .as_deref()
        .unwrap()
        .contains(r"/source:D:\Clients"));
    assert!(has_error(
        r#"CCMSetup.exe CCMINSTALLDIR="C:\x"#,
        None,
        codes::UNTERMINATED_QUOTE
    ));
    assert!(has_error("CCMSetup.exe / =x", None, codes::SYNTAX));
    assert!(has_error(
        "CCMSetup.exe CCMSETUPCMD=\"/logon\"",
        None,
        codes::SYNTAX
    ));
}

#[test]
fn unknown_names_suggest() {
    let f = check("SMSSITECODE=ABC DNSSUFIX=contoso.com", None).1;
    let u = f
        .iter()
        .find(|f| f.code == codes::UNKNOWN_PROPERTY)
        .unwrap();
    assert!(u.help.as_deref().unwrap().contains("DNSSUFFIX"), "{u:?}");
    let f = check("MANGEDINSTALLER=1", None).1;
    assert!(f[0].help.as_deref().unwrap().contains("MANAGEDINSTALLER"));
    let f = check("/UsePKICrt", None).1;
    assert!(f[0].help.as_deref().unwrap().contains("UsePKICert"));
    assert!(has_error("/foo", None, codes::UNKNOWN_PARAMETER));
}

#[test]
fn value_rules() {
    for bad in [
        "CCMEVALINTERVAL=0",
        "CCMEVALINTERVAL=1441",
        "CCMEVALHOUR=24",
        "CCMLOGLEVEL=4",
        "CCMLOGMAXSIZE=9999",
        "CCMEVALHOUR=noon",
    ] {
        assert!(has_error(bad, None, codes::RANGE), "{bad}");
    }
    for ok in [
        "CCMEVALINTERVAL=1440",
        "CCMEVALHOUR=0",
        "CCMLOGLEVEL=3",
        "CCMLOGMAXSIZE=10000",
    ] {
        assert!(clean(ok, None), "{ok}");
    }
    assert!(has_error(
        "/BITSPriority:URGENT",
        None,
        codes::INVALID_VALUE
    ));
    assert!(clean("/BITSPriority:high", None));
    assert!(has_error(
        "/ExcludeFeatures:Foo",
        None,
        codes::INVALID_VALUE
    ));
    assert!(has_error("/logon:yes", None, codes::UNEXPECTED_VALUE));
    assert!(has_error("/mp", None, codes::EMPTY_VALUE));
    assert!(has_error("SMSSITECODE=", None, codes::EMPTY_VALUE));
    assert!(has_error(
        "SMSCACHEFLAGS=PERCENTDISKSPACE;PERCENTFREEDISKSPACE",
        None,
        codes::CACHE_FLAGS_EXCLUSIVE
    ));
    assert!(has_error(
        "SMSCACHEFLAGS=NTFSONLY;BOGUS",
        None,
        codes::INVALID_VALUE
    ));
    assert!(has_error("SMSSITECODE=ABCD", None, codes::SITE_CODE));
    assert!(has_error("SMSSITECODE=A-C", None, codes::SITE_CODE));
    assert!(has_error("SMSSITECODE=SMS", None, codes::SITE_CODE));
    assert!(clean("SMSSITECODE=AUTO", None));
    assert!(has_error(
        "CCMHOSTNAME=https://cmg.contoso.com SMSSITECODE=ABC",
        None,
        codes::CCMHOSTNAME_SCHEME
    ));
    assert!(has_error(
        "/mp:cmg.cloudapp.net/CCM_Proxy_MutualAuth/1",
        None,
        codes::MP_CMG_SCHEME
    ));
    assert!(has_warning("CCMALWAYSINF=0", None, codes::NO_EFFECT));
    assert!(has_error("CCMALWAYSINF=yes", None, codes::INVALID_VALUE));
    assert!(has_error("/source:'C:\\x'", None, codes::SINGLE_QUOTED));
    assert!(has_error(
        "SMSDIRECTORYLOOKUP=NOWINS",
        None,
        codes::OBSOLETE
    ));
    assert!(has_error(
        "SMSSITECODE=ABC SMSSITECODE=DEF",
        None,
        codes::DUPLICATE
    ));
    assert!(clean("/source:C:\\a /source:D:\\b", None));
}

#[test]
fn relation_rules() {
    assert!(has_error(
        "SMSPUBLICROOTKEY=0602",
        None,
        codes::REQUIRES_SITE_CODE
    ));
    assert!(has_error(
        "SMSROOTKEYPATH=C:\\key.txt",
        None,
        codes::REQUIRES_SITE_CODE
    ));
    assert!(clean("SMSROOTKEYPATH=C:\\key.txt", Some(Context::Push)));
    assert!(has_error(
        "/mp:https://x /regtoken:abc SMSSITECODE=ABC",
        None,
        codes::REGTOKEN_REQUIRES
    ));
    let full = "/regtoken:abc CCMHOSTNAME=cmg.contoso.com SMSSITECODE=ABC SMSMP=https://mp";
    assert!(clean(full, None));
    assert!(has_warning(full, None, codes::REGTOKEN_REQUIRES));
    assert!(has_warning(
        "CCMSetup.exe PROVISIONTS=PRI20001",
        None,
        codes::PROVISIONTS_MSI
    ));
    assert!(!has_warning(
        "ccmsetup.msi CCMSETUPCMD=\"PROVISIONTS=PRI20001\"",
        None,
        codes::PROVISIONTS_MSI
    ));
    assert!(!has_warning(
        "PROVISIONTS=PRI20001",
        Some(Context::Intune),
        codes::PROVISIONTS_MSI
    ));
    assert!(has_warning(
        "/UsePKICert AADCLIENTAPPID=x",
        None,
        codes::PKI_WITH_ENTRA
    ));
    assert!(has_error(
        "CCMHOSTNAME=cmg SMSSITECODE=AUTO",
        None,
        codes::AUTO_WITH_CCMHOSTNAME
    ));
    assert!(has_warning(
        "CCMALWAYSINF=1",
        None,
        codes::ALWAYSINF_REQUIRES
    ));
    assert!(has_error(
        "SMSCACHEFLAGS=PERCENTDISKSPACE SMSCACHESIZE=150",
        None,
        codes::RANGE
    ));
}

#[test]
fn context_rules() {
    assert!(has_error(
        "/mp:x SMSSITECODE=ABC",
        Some(Context::Push),
        codes::PUSH_SUBSET
    ));
    assert!(has_error(
        "/source:x",
        Some(Context::Push),
        codes::PUSH_SUBSET
    ));
    // Seed 000 lists /forceinstall among the CCMSetup properties client push accepts.
    assert!(clean("/forceinstall SMSSITECODE=ABC", Some(Context::Push)));
    assert!(clean(
        "/UsePKICert /logon /BITSPriority:LOW SMSSITECODE=ABC",
        Some(Context::Push)
    ));
    assert!(has_warning(
        "CCMSetup.exe SMSSITECODE=ABC",
        Some(Context::Push),
        codes::PROGRAM_IN_CONTEXT
    ));
    let long = format!("SMSSITECODE=ABC CCMINSTALLDIR={}", "x".repeat(300));
    assert!(has_warning(
        &long,
        Some(Context::Gpo),
        codes::SETUP_PARAMETERS_TOO_LONG
    ));
    assert!(!has_warning(&long, None, codes::SETUP_PARAMETERS_TOO_LONG));
    let longer = format!("SMSSITECODE=ABC CCMINSTALLDIR={}", "x".repeat(1100));
    assert!(has_error(
        &longer,
        Some(Context::Intune),
        codes::INTUNE_MAXLEN
    ));
    let inet = "/UsePKICert /source:C:\\src CCMHOSTNAME=cmg SMSSITECODE=ABC SMSSIGNCERT=C:\\s.cer";
    assert!(clean(inet, Some(Context::Internet)));
    let f = check("/UsePKICert SMSSITECODE=AUTO", Some(Context::Internet)).1;
    assert!(
        f.iter()
            .filter(|f| f.code == codes::INTERNET_REQUIRES)
            .count()
            >= 4
    );
    assert!(has_error(
        "/logon",
        Some(Context::Workgroup),
        codes::WORKGROUP_REQUIRES
    ));
    assert!(clean(
        "SMSSITECODE=ABC DNSSUFFIX=contoso.com",
        Some(Context::Workgroup)
    ));
    assert!(clean("SMSMP=mp1", Some(Context::Workgroup)));
}

#[test]
fn quoted_names_round_trip() {
    // Found by proptest: a quoted `:` inside a parameter name.
    for text in [r#"/":""#, r#""A B"=1"#, r#""/X"=1"#, r#"/"a b":"c d""#] {
        let first = parse(text);
        assert!(!first.has_syntax_error(), "{text}: {:?}", first.findings);
        let again = parse(&first.command_line.render()).command_line;
        assert_eq!(again, first.command_line, "{text}");
    }
}
