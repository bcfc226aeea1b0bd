//! The oracle: Windows' own `gpreport.xml` beside each corpus Registry.pol. For the ConfigMgr
//! (`Software\Policies\Microsoft\ccmsetup`, `Software\Microsoft\SMS\Mobile Client`) and Windows
//! Update (`Software\Policies\Microsoft\Windows\WindowsUpdate` and `\AU`) keys, what the reader
//! decodes must be exactly what the report's policies say, and nothing else.
//!
//! gpreport.xml lists administrative-template settings by display name (`<Policy><Name>`,
//! `<State>`, and parts such as `<EditText>`/`<Numeric>` with `<Name>` and `<Value>`), not by
//! registry value, so the mapping below comes from the templates: ConfigMgrInstallation.adm and
//! ConfigMgrAssignment.adm (../shared/corpus/adm/, configmgr.md §3.1, §3.2) and
//! WindowsUpdate.admx (configmgr.md §3.3). A "Disabled" policy's parts are `**del.<name>`
//! records (configmgr.md §3.5).

use std::collections::BTreeMap;
use std::path::Path;

use quick_xml::events::Event;
use quick_xml::Reader;

use super::corpus_tests::{all_pol_files, corpus};
use super::*;

/// An element of the report: local name, text, children.
#[derive(Debug, Default)]
struct Node {
    name: String,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    fn text_of(&self, name: &str) -> String {
        self.child(name)
            .map(|c| c.text.trim().to_string())
            .unwrap_or_default()
    }

    fn descendants<'a>(&'a self, name: &str, out: &mut Vec<&'a Node>) {
        for c in &self.children {
            if c.name == name {
                out.push(c);
            }
            c.descendants(name, out);
        }
    }
}

/// Decodes the UTF-16LE report and parses it with quick-xml into a tree.
fn parse_report(path: &Path) -> Node {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    let text = String::from_utf16(&units).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = Reader::from_str(text);
    let mut stack = vec![Node::default()];
    loop {
        let event = reader
            .read_event()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        match event {
            Event::Start(e) => stack.push(Node {
                name: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
                ..Node::default()
            }),
            Event::Empty(e) => {
                let node = Node {
                    name: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
                    ..Node::default()
                };
                if let Some(top) = stack.last_mut() {
                    top.children.push(node);
                }
            }
            Event::End(_) => {
                let node = stack.pop().expect("balanced");
                stack.last_mut().expect("root").children.push(node);
            }
            Event::Text(t) => {
                let s = t.decode().expect("utf-8");
                stack.last_mut().expect("root").text.push_str(&s);
            }
            Event::GeneralRef(r) => {
                let name = r.decode().expect("utf-8");
                let c = match name.as_ref() {
                    "amp" => '&',
                    "lt" => '<',
                    "gt" => '>',
                    "quot" => '"',
                    "apos" => '\'',
                    n => n
                        .strip_prefix("#x")
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                        .or_else(|| n.strip_prefix('#').and_then(|d| d.parse().ok()))
                        .and_then(char::from_u32)
                        .unwrap_or('\u{fffd}'),
                };
                stack.last_mut().expect("root").text.push(c);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    stack.pop().expect("root")
}

/// What the report says about one registry value.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expect {
    Set(RegValue),
    Deleted,
}

const CCMSETUP: &str = r"Software\Policies\Microsoft\ccmsetup";
const MOBILE_CLIENT: &str = r"Software\Microsoft\SMS\Mobile Client";
const WU: &str = r"Software\Policies\Microsoft\Windows\WindowsUpdate";
const WU_AU: &str = r"Software\Policies\Microsoft\Windows\WindowsUpdate\AU";

/// The keys this oracle covers.
const KEYS: [&str; 4] = [CCMSETUP, MOBILE_CLIENT, WU, WU_AU];

/// How a part's report value becomes registry data.
#[derive(Clone, Copy)]
enum Part {
    Text(&'static str, &'static str),
    Number(&'static str, &'static str),
}

/// One template policy: its display name, the value it writes itself (key, name, enabled and
/// disabled DWORD; `None` for disabled means `**del.`), and its parts (display name → key and
/// value name).
struct Template {
    name: &'static str,
    own: Option<(&'static str, &'static str, u32, Option<u32>)>,
    parts: &'static [(&'static str, Part)],
}

const TEMPLATES: &[Template] = &[
    // ConfigMgrInstallation.adm: POLICY !!SetCommandLineOptions, VALUENAME "NoDefAutoAssign",
    // PART CCMSetup EDITTEXT VALUENAME SetupParameters.
    Template {
        name: "Configure Configuration Manager Client Deployment Settings",
        own: Some((CCMSETUP, "NoDefAutoAssign", 1, None)),
        parts: &[("CCMSetup", Part::Text(CCMSETUP, "SetupParameters"))],
    },
    // ConfigMgrAssignment.adm: POLICY !!SetDefaultAutoAssignedSiteCode.
    Template {
        name: "Configure Configuration Manager Site Assignment",
        own: None,
        parts: &[
            (
                "Assigned Site",
                Part::Text(MOBILE_CLIENT, "GPRequestedSiteAssignmentCode"),
            ),
            (
                "Site Assignment Retry Interval (Mins)",
                Part::Number(MOBILE_CLIENT, "GPSiteAssignmentRetryInterval(Min)"),
            ),
            (
                "Site Assignment Retry Duration (Hours)",
                Part::Number(MOBILE_CLIENT, "GPSiteAssignmentRetryDuration(Hour)"),
            ),
        ],
    },
    // WindowsUpdate.admx AcceptTrustedPublisherCerts (enabledValue 1, disabledValue 0).
    Template {
        name: "Allow signed updates from an intranet Microsoft update service location",
        own: Some((WU, "AcceptTrustedPublisherCerts", 1, Some(0))),
        parts: &[],
    },
    // WindowsUpdate.admx DoNotConnectToWindowsUpdateInternetLocations.
    Template {
        name: "Do not connect to any Windows Update Internet locations",
        own: Some((
            WU,
            "DoNotConnectToWindowsUpdateInternetLocations",
            1,
            Some(0),
        )),
        parts: &[],
    },
    // WindowsUpdate.admx AutoUpdateCfg: NoAutoUpdate enabled 0 / disabled 1; its parts.
    Template {
        name: "Configure Automatic Updates",
        own: Some((WU_AU, "NoAutoUpdate", 0, Some(1))),
        parts: &[
            (
                "Configure automatic updating:",
                Part::Number(WU_AU, "AUOptions"),
            ),
            (
                "Install during automatic maintenance",
                Part::Number(WU_AU, "AutomaticMaintenanceEnabled"),
            ),
            (
                "Scheduled install day: ",
                Part::Number(WU_AU, "ScheduledInstallDay"),
            ),
            (
                "Scheduled install time:",
                Part::Number(WU_AU, "ScheduledInstallTime"),
            ),
        ],
    },
    // WindowsUpdate.admx CorpWuURL (configmgr.md §3.3): UseWUServer 1, WUServer, WUStatusServer.
    Template {
        name: "Specify intranet Microsoft update service location",
        own: Some((WU_AU, "UseWUServer", 1, None)),
        parts: &[
            (
                "Set the intranet update service for detecting updates:",
                Part::Text(WU, "WUServer"),
            ),
            (
                "Set the intranet statistics server:",
                Part::Text(WU, "WUStatusServer"),
            ),
        ],
    },
];

/// The registry values the report's Computer policies imply, keyed by (key, value name) in
/// lower case.
fn expected(report: &Node, case: &str) -> BTreeMap<(String, String), Expect> {
    let mut out = BTreeMap::new();
    let mut put = |key: &str, name: &str, e: Expect| {
        out.insert((key.to_lowercase(), name.to_lowercase()), e);
    };
    let mut computers = Vec::new();
    report.descendants("Computer", &mut computers);
    let Some(computer) = computers.first() else {
        return BTreeMap::new();
    };
    let mut policies = Vec::new();
    computer.descendants("Policy", &mut policies);
    for p in policies {
        let name = p.text_of("Name");
        let state = p.text_of("State");
        let Some(t) = TEMPLATES.iter().find(|t| t.name == name) else {
            continue;
        };
        match state.as_str() {
            "NotConfigured" => continue,
            "Enabled" | "Disabled" => {}
            other => panic!("{case}: policy {name:?} has state {other:?}"),
        }
        let enabled = state == "Enabled";
        if let Some((key, value, on, off)) = t.own {
            match (enabled, off) {
                (true, _) => put(key, value, Expect::Set(RegValue::DWord(on))),
                (false, Some(off)) => put(key, value, Expect::Set(RegValue::DWord(off))),
                (false, None) => put(key, value, Expect::Deleted),
            }
        }
        for (part_name, part) in t.parts {
            let (key, value) = match part {
                Part::Text(k, v) | Part::Number(k, v) => (*k, *v),
            };
            if !enabled {
                put(key, value, Expect::Deleted);
                continue;
            }
            let shown = p
                .children
                .iter()
                .find(|c| c.text_of("Name") == *part_name)
                .unwrap_or_else(|| panic!("{case}: {name:?} has no part {part_name:?}"));
            let v = shown.text_of("Value");
            let typed = match part {
                Part::Text(..) => RegValue::String(v),
                Part::Number(..) => RegValue::DWord(
                    v.parse()
                        .unwrap_or_else(|_| panic!("{case}: {part_name} = {v:?}")),
                ),
            };
            put(key, value, Expect::Set(typed));
        }
    }
    out
}

#[test]
fn configmgr_and_windows_update_values_match_gpreport() {
    let mut checked = BTreeMap::new();
    for path in all_pol_files() {
        let report_path = path.with_file_name("gpreport.xml");
        if !report_path.is_file() {
            continue;
        }
        let case = path
            .parent()
            .and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let report = parse_report(&report_path);
        let want = expected(&report, &case);
        let pol = read(&std::fs::read(&path).unwrap()).unwrap();
        let mut got = BTreeMap::new();
        for r in &pol.records {
            if !KEYS.iter().any(|k| k.eq_ignore_ascii_case(&r.key)) {
                continue;
            }
            let name = r.target_name().unwrap_or("").to_lowercase();
            let e = match r.action() {
                Action::DeleteValue(_) => Expect::Deleted,
                Action::Set(_) => Expect::Set(r.value().unwrap_or_else(|| panic!("{case}: {r:?}"))),
                other => panic!("{case}: unexpected {other:?} under {}", r.key),
            };
            got.insert((r.key.to_lowercase(), name), e);
        }
        assert_eq!(got, want, "{case}: Registry.pol vs gpreport.xml");
        checked.insert(case, got.len());
    }
    eprintln!("gpreport oracle: {checked:?}");
    assert_eq!(
        checked.get("chadsimmons_install_configmgr_client_gpo"),
        Some(&5)
    );
    assert_eq!(checked.get("chadsimmons_manage_wua_gpo"), Some(&7));
}

#[test]
fn the_configmgr_backup_decodes_as_its_report_shows() {
    let dir = corpus().join("chadsimmons_install_configmgr_client_gpo");
    let pol = read(&std::fs::read(dir.join("registry.pol")).unwrap()).unwrap();
    let setup = pol
        .find(CCMSETUP, "SetupParameters")
        .and_then(Record::value);
    assert_eq!(
        setup,
        Some(RegValue::String("/logon /mp:ConfigMgrMP.contoso.com SMSSITECODE=LAB SMSMP=ConfigMgrMP.contoso.com FSP=ConfigMgrFSP.contoso.com DNSSUFIX=contoso.com".into()))
    );
    assert_eq!(
        pol.find(CCMSETUP, "SetupParameters").and_then(|r| r.size),
        Some(262)
    );
    let wua = corpus().join("chadsimmons_manage_wua_gpo");
    let pol = read(&std::fs::read(wua.join("registry.pol")).unwrap()).unwrap();
    let del = pol.find(WU_AU, "AUOptions").expect("**del.AUOptions");
    assert_eq!(del.data.as_deref(), Some(&[0x20, 0, 0, 0][..]));
    assert_eq!(del.action(), Action::DeleteValue("AUOptions".into()));
}
