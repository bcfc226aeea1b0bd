//! Unit tests for contexts, rendering, the typed structs and the catalog.

use super::codes;
use super::{
    check, check_command_line, from_command_line, parse, push_installation_property,
    to_command_line, BitsPriority, CacheFlag, CcmsetupParameters, ClientMsiProperties, CommandLine,
    Context, Parameter, Program, Property,
};

fn clean(text: &str, ctx: Option<Context>) -> bool {
    check(text, ctx).1.iter().all(|f| !f.is_error())
}

#[test]
fn context_from_str_and_serde() {
    assert_eq!("Push".parse::<Context>().unwrap(), Context::Push);
    assert_eq!("intune".parse::<Context>().unwrap(), Context::Intune);
    assert!("lan".parse::<Context>().is_err());
    assert_eq!(
        serde_json::to_string(&Context::Workgroup).unwrap(),
        "\"workgroup\""
    );
    let c: Context = serde_json::from_str("\"gpo\"").unwrap();
    assert_eq!(c, Context::Gpo);
    assert_eq!(Context::Internet.to_string(), "internet");
}

#[test]
fn render_orders_and_quotes() {
    let c = CommandLine {
        program: Program::Exe {
            path: r"C:\Program Files\ccmsetup.exe".into(),
        },
        parameters: vec![
            Parameter::new("source", Some(r"\\srv\Client Files".into())),
            Parameter::new("UsePKICert", None),
        ],
        properties: vec![
            Property::new("SMSCACHEFLAGS", "NTFSONLY;COMPRESS"),
            Property::new("CCMADMINS", ""),
        ],
    };
    assert_eq!(
        c.render(),
        r#""C:\Program Files\ccmsetup.exe" /source:"\\srv\Client Files" /UsePKICert SMSCACHEFLAGS=NTFSONLY;COMPRESS CCMADMINS="""#
    );
    assert_eq!(parse(&c.render()).command_line, c);
}

fn sample() -> (CcmsetupParameters, ClientMsiProperties) {
    let toml_text = r#"
        [ccmsetup]
        UsePKICert = true
        source = ["C:\\ClientSource", "\\\\srv\\Client"]
        mp = ["mp1.contoso.com", "mp2.contoso.com"]
        NoCRLCheck = true
        BITSPriority = "HIGH"
        AlwaysExcludeUpgrade = false
        downloadtimeout = 60

        [properties]
        SMSSITECODE = "ABC"
        FSP = "FSPSERVER"
        DNSSUFFIX = "contoso.com"
        CCMHOSTNAME = "cmg.contoso.com/CCM_Proxy_MutualAuth/1"
        SMSSIGNCERT = "C:\\Certs\\site sign.cer"
        CCMALWAYSINF = true
        CCMFIRSTCERT = true
        CCMEVALINTERVAL = 60
        CCMENABLELOGGING = false
        SMSCACHEFLAGS = ["NTFSONLY", "COMPRESS"]
        CCMCERTNAMECHECK = false
    "#;
    #[derive(serde::Deserialize)]
    struct Manifest {
        ccmsetup: CcmsetupParameters,
        properties: ClientMsiProperties,
    }
    let m: Manifest = toml::from_str(toml_text).unwrap();
    (m.ccmsetup, m.properties)
}

#[test]
fn typed_round_trip_and_render() {
    let (params, props) = sample();
    assert_eq!(params.bits_priority, Some(BitsPriority::High));
    assert_eq!(
        props.sms_cache_flags,
        Some(vec![CacheFlag::NtfsOnly, CacheFlag::Compress])
    );
    let cmd = to_command_line(&params, &props);
    let text = cmd.render();
    assert!(text.starts_with("/AlwaysExcludeUpgrade:FALSE /BITSPriority:HIGH /downloadtimeout:60 /mp:mp1.contoso.com;mp2.contoso.com"), "{text}");
    assert!(
        text.contains("CCMALWAYSINF=1") && text.contains("CCMFIRSTCERT=1"),
        "{text}"
    );
    assert!(
        text.contains(r#"SMSSIGNCERT="C:\Certs\site sign.cer""#),
        "{text}"
    );
    assert!(
        text.contains("CCMCERTNAMECHECK=0 ") && text.contains("CCMENABLELOGGING=FALSE"),
        "{text}"
    );
    let findings = check_command_line(&cmd, Some(Context::Internet));
    assert!(findings.iter().all(|f| !f.is_error()), "{findings:#?}");
    let (p2, q2) = from_command_line(&parse(&text).command_line);
    assert_eq!(p2, params);
    assert_eq!(q2, props);
}

#[test]
fn typed_rejects_unknown_fields_and_has_schema() {
    let r: Result<ClientMsiProperties, _> = toml::from_str("DNSSUFIX = \"contoso.com\"");
    assert!(r.is_err());
    let schema = schemars::schema_for!(ClientMsiProperties);
    let json = serde_json::to_string(&schema).unwrap();
    assert!(json.contains("SMSSITECODE") && json.contains("CCMEVALINTERVAL"));
}

#[test]
fn push_property_keeps_only_the_subset() {
    let (params, props) = sample();
    let s = push_installation_property(&props, &params);
    assert!(s.starts_with("/AlwaysExcludeUpgrade:FALSE /BITSPriority:HIGH /downloadtimeout:60 /UsePKICert CCMALWAYSINF=1 "), "{s}");
    assert!(s.ends_with("SMSSITECODE=ABC"), "{s}");
    assert!(!s.contains("/mp") && !s.contains("/source") && !s.contains("/NoCRLCheck"));
    assert!(clean(&s, Some(Context::Push)));
}

#[test]
fn catalog_is_consistent() {
    use super::catalog::{Kind, PARAMETERS, PROPERTIES};
    for s in PARAMETERS {
        assert_eq!(s.kind, Kind::Parameter);
        assert_eq!(
            super::catalog::parameter(&s.name.to_ascii_uppercase())
                .unwrap()
                .name,
            s.name
        );
    }
    for s in PROPERTIES {
        assert_eq!(s.kind, Kind::Property);
        assert_eq!(s.name, s.name.to_ascii_uppercase());
    }
    let mut all = codes::ALL.to_vec();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), codes::ALL.len());
    // The one GPO-context finding carries the GPO code issue #5 names.
    assert!(codes::ALL
        .iter()
        .all(|c| c.starts_with("cmdeploy::ccmsetup::") || *c == codes::SETUP_PARAMETERS_TOO_LONG));
}
