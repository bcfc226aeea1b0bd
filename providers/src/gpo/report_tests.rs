//! The gpreport.xml reader on Windows' own reports (../shared/corpus/registry_pol/*/gpreport.xml,
//! UTF-16LE) and on the shapes `Get-GPOReport -All` adds (a `<report>` root, `<LinksTo>`).

use std::path::PathBuf;

use serde_json::json;

use super::*;

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/corpus/registry_pol"
);

/// A corpus report's text, or `None` (with a message) when the corpus is not beside the repo.
fn corpus_report(case: &str) -> Option<String> {
    let path = PathBuf::from(CORPUS).join(case).join("gpreport.xml");
    if !PathBuf::from(CORPUS).is_dir() {
        eprintln!(
            "skipped: the corpus is missing at {CORPUS} (clone the repository beside `shared`)"
        );
        return None;
    }
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Some(decode_bytes(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

fn value_of<'a>(g: &'a ReportedGpo, name: &str) -> Option<&'a Value> {
    g.values.iter().find(|v| v.name == name).map(|v| &v.value)
}

#[test]
fn the_install_configmgr_client_gpo_reads_as_its_registry_pol_says() {
    let Some(text) = corpus_report("chadsimmons_install_configmgr_client_gpo") else {
        return;
    };
    let gpos = parse(&text).unwrap();
    assert_eq!(gpos.len(), 1);
    let g = &gpos[0];
    assert_eq!(g.id, "f28c3c29-e501-47e7-9e60-9a3d94715b70");
    assert_eq!(g.name, "Install ConfigMgr Client");
    assert_eq!(g.domain, "lab.net");
    assert!(g.links.is_empty(), "a backup's report has no links");
    // registry.decoded.tsv of the same GPO holds exactly these values.
    assert_eq!(
        value_of(g, "SetupParameters"),
        Some(
            &json!({"type": "String", "value": "/logon /mp:ConfigMgrMP.contoso.com SMSSITECODE=LAB SMSMP=ConfigMgrMP.contoso.com FSP=ConfigMgrFSP.contoso.com DNSSUFIX=contoso.com"})
        )
    );
    assert_eq!(
        value_of(g, "NoDefAutoAssign"),
        Some(&json!({"type": "DWord", "value": 1}))
    );
    assert_eq!(
        value_of(g, "GPRequestedSiteAssignmentCode"),
        Some(&json!({"type": "String", "value": "LAB"}))
    );
    assert_eq!(
        value_of(g, "GPSiteAssignmentRetryInterval(Min)"),
        Some(&json!({"type": "DWord", "value": 45}))
    );
    assert_eq!(
        value_of(g, "GPSiteAssignmentRetryDuration(Hour)"),
        Some(&json!({"type": "DWord", "value": 72}))
    );
    assert_eq!(g.values.len(), 5);
    let keys: Vec<&str> = g.values.iter().map(|v| v.key.as_str()).collect();
    assert_eq!(keys[..2], [CCMSETUP_KEY, CCMSETUP_KEY]);
}

#[test]
fn every_corpus_report_parses_and_only_configmgr_gpos_carry_values() {
    let Some(_) = corpus_report("chadsimmons_manage_wua_gpo") else {
        return;
    };
    let mut cases: Vec<PathBuf> = std::fs::read_dir(CORPUS)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("gpreport.xml").is_file())
        .collect();
    cases.sort();
    assert!(cases.len() >= 5, "{cases:?}");
    for case in cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let gpos = parse(&corpus_report(&name).unwrap()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(gpos.len(), 1, "{name}");
        let expect_values = name == "chadsimmons_install_configmgr_client_gpo";
        // The WUA GPO's intranet location policy is Not Configured: nothing to import.
        assert_eq!(
            !gpos[0].values.is_empty(),
            expect_values,
            "{name}: {:?}",
            gpos[0].values
        );
    }
}

const ALL: &str = r#"<?xml version="1.0" encoding="utf-16"?>
<report xmlns="http://www.microsoft.com/GroupPolicy/Settings" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <GPO>
    <Identifier>
      <Identifier xmlns="http://www.microsoft.com/GroupPolicy/Types">{0A1B2C3D-0000-4000-8000-000000000001}</Identifier>
      <Domain xmlns="http://www.microsoft.com/GroupPolicy/Types">Contoso.com</Domain>
    </Identifier>
    <Name>WSUS &amp; more</Name>
    <Computer>
      <ExtensionData>
        <Extension xmlns:q1="http://www.microsoft.com/GroupPolicy/Settings/Registry" xsi:type="q1:RegistrySettings">
          <q1:Policy>
            <q1:Name>Specify intranet Microsoft update service location</q1:Name>
            <q1:State>Enabled</q1:State>
            <q1:EditText><q1:Name>Set the intranet update service for detecting updates:</q1:Name><q1:State>Enabled</q1:State><q1:Value>http://sup.contoso.com:8530</q1:Value></q1:EditText>
            <q1:EditText><q1:Name>Set the intranet statistics server:</q1:Name><q1:State>Enabled</q1:State><q1:Value>http://sup.contoso.com:8530</q1:Value></q1:EditText>
          </q1:Policy>
          <q1:RegistrySetting>
            <q1:KeyPath>Software\Policies\Microsoft\ccmsetup</q1:KeyPath>
            <q1:AdmSetting>false</q1:AdmSetting>
            <q1:Value><q1:Name>SetupParameters</q1:Name><q1:String>SMSSITECODE=ABC</q1:String></q1:Value>
          </q1:RegistrySetting>
          <q1:RegistrySetting>
            <q1:KeyPath>Software\Other</q1:KeyPath>
            <q1:Value><q1:Name>X</q1:Name><q1:Number>1</q1:Number></q1:Value>
          </q1:RegistrySetting>
        </Extension>
      </ExtensionData>
    </Computer>
    <LinksTo><SOMName>Workstations</SOMName><SOMPath>contoso.com/Corp/Workstations</SOMPath><Enabled>true</Enabled><NoOverride>false</NoOverride></LinksTo>
    <LinksTo><SOMName>contoso</SOMName><SOMPath>contoso.com</SOMPath><Enabled>false</Enabled><NoOverride>false</NoOverride></LinksTo>
  </GPO>
  <GPO>
    <Identifier><Identifier xmlns="http://www.microsoft.com/GroupPolicy/Types">{0A1B2C3D-0000-4000-8000-000000000002}</Identifier></Identifier>
    <Name>Desktop wallpaper</Name>
  </GPO>
</report>"#;

#[test]
fn an_all_report_gives_every_gpo_with_links_and_extra_registry_settings() {
    let gpos = parse(ALL).unwrap();
    assert_eq!(gpos.len(), 2);
    let g = &gpos[0];
    assert_eq!(g.id, "0a1b2c3d-0000-4000-8000-000000000001");
    assert_eq!(g.name, "WSUS & more");
    assert_eq!(g.domain, "contoso.com");
    assert_eq!(
        g.links,
        [
            ReportedLink {
                som_path: "contoso.com/Corp/Workstations".into(),
                enabled: true
            },
            ReportedLink {
                som_path: "contoso.com".into(),
                enabled: false
            },
        ]
    );
    let names: Vec<&str> = g.values.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "WUServer",
            "WUStatusServer",
            "UseWUServer",
            "SetupParameters"
        ]
    );
    assert_eq!(g.values[2].key, WU_AU_KEY);
    assert!(gpos[1].values.is_empty() && gpos[1].links.is_empty());
}

#[test]
fn som_paths_become_distinguished_names() {
    let dn = |p| som_path_to_dn(p, "contoso.com");
    assert_eq!(
        dn("contoso.com/Workstations").as_deref(),
        Some("OU=Workstations,DC=contoso,DC=com")
    );
    assert_eq!(
        dn("Contoso.com/Corp/Lab PCs").as_deref(),
        Some("OU=Lab PCs,OU=Corp,DC=contoso,DC=com")
    );
    assert_eq!(dn("contoso.com").as_deref(), Some("DC=contoso,DC=com"));
    assert_eq!(
        dn("contoso.com/A\\/B, Inc").as_deref(),
        Some("OU=A/B\\, Inc,DC=contoso,DC=com")
    );
    assert_eq!(dn("Default-First-Site-Name"), None);
    for path in [
        "contoso.com/Workstations",
        "contoso.com/Corp/Lab PCs",
        "contoso.com",
        "contoso.com/A\\/B, Inc",
    ] {
        assert_eq!(dn_to_som_path(&dn(path).unwrap()).as_deref(), Some(path));
    }
    assert_eq!(dn_to_som_path("CN=Computers"), None);
    assert_eq!(dn("fabrikam.com/Workstations"), None);
}

#[test]
fn bad_reports_are_errors_not_panics() {
    for text in [
        "",
        "<report>",
        "<Other/>",
        "<GPO><Name>x</Name></GPO>",
        "<?xml",
        "\u{feff}<report><GPO></report>",
    ] {
        assert!(parse(text).is_err(), "{text:?}");
    }
    assert!(parse("<report/>").unwrap().is_empty());
    assert!(decode_bytes(&[0xFF, 0xFE, 0x41]).is_err());
    assert_eq!(decode_bytes(&[0xFF, 0xFE, 0x41, 0]).unwrap(), "A");
    assert_eq!(decode_bytes(b"\xEF\xBB\xBF<a/>").unwrap(), "<a/>");
}
