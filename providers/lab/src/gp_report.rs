//! Lab `Get-GPOReport -ReportType Xml`: a GPO report shaped like Windows' gpreport.xml, made from
//! the GPO's Registry.pol content and links.
//!
//! Each `<GPO>` has its `<Identifier>` (braced upper-case GUID and domain), `<Name>`, a
//! `<Computer>` section whose registry extension shows the ConfigMgr client-deployment policies by
//! their template display names (`<Policy>` with `<EditText>` / `<Numeric>` parts, as Windows does
//! when ConfigMgrInstallation.adm, ConfigMgrAssignment.adm and WindowsUpdate.admx are loaded) and
//! every other set value as an "extra registry setting" (`<RegistrySetting>`), and one
//! `<LinksTo>` per link with the container's canonical path (`contoso.com/Workstations`).
//! `-All` wraps the GPOs of the domain in a `<report>` root, as the GroupPolicy module does.

use cmdeploy_providers::gpo::policy::{ASSIGNMENT_KEY, CCMSETUP_KEY, WU_AU_KEY, WU_KEY};
use cmdeploy_providers::gpo::registry_pol::{Action, RegValue};
use cmdeploy_providers::gpo::report::{self as gpreport, ASSIGNMENT_PARTS, WSUS_PARTS};

use super::args::{Args, CmdError, CmdResult};
use super::gp_pol::{self, Half};
use super::model::{Estate, Gpo};
use super::serve::xml::escape;

const SETTINGS_NS: &str = "http://www.microsoft.com/GroupPolicy/Settings";
const TYPES_NS: &str = "http://www.microsoft.com/GroupPolicy/Types";
const REGISTRY_NS: &str = "http://www.microsoft.com/GroupPolicy/Settings/Registry";
const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
const CM_CATEGORY: &str = "Configuration Manager/Configuration Manager Client";

/// `Get-GPOReport` (lower-cased cmdlet already dispatched): `-All`, `-Name` or `-Guid` with
/// `-ReportType Xml`.
///
/// # Errors
/// An unknown GPO, `-ReportType Html` or `-Path` (the lab renders XML to the pipeline only), or a
/// corrupt Registry.pol.
pub fn get_report(estate: &Estate, domain: &str, a: &Args) -> CmdResult {
    a.accept(&["Domain", "Server"]);
    let all = a.opt_bool("All")?.unwrap_or(false);
    let name = a.opt_str("Name")?;
    let guid = a.opt_str("Guid")?;
    let report_type = a.str("ReportType")?;
    let path = a.opt_str("Path")?;
    a.finish()?;
    if !report_type.eq_ignore_ascii_case("Xml") {
        return Err(CmdError::new(
            "InvalidArgument",
            format!("Get-GPOReport: the lab renders -ReportType Xml only, not {report_type}."),
        ));
    }
    if path.is_some() {
        return Err(CmdError::new(
            "InvalidArgument",
            "Get-GPOReport: the lab writes reports to the pipeline only (no -Path).",
        ));
    }
    let in_domain = estate
        .gpos
        .iter()
        .filter(|g| g.domain.eq_ignore_ascii_case(domain));
    let header = "<?xml version=\"1.0\" encoding=\"utf-16\"?>\r\n";
    let ns = format!("xmlns:xsi=\"{XSI_NS}\" xmlns=\"{SETTINGS_NS}\"");
    if all {
        let mut body = String::new();
        for g in in_domain {
            body.push_str(&gpo_element(g, domain, None)?);
        }
        return Ok(format!("{header}<report {ns}>{body}</report>").into());
    }
    let wanted = |g: &&Gpo| match (&name, &guid) {
        (Some(n), _) => g.name.eq_ignore_ascii_case(n),
        (None, Some(id)) => {
            g.id.eq_ignore_ascii_case(id.trim_matches(|c| c == '{' || c == '}'))
        }
        (None, None) => false,
    };
    let Some(g) = in_domain.clone().find(wanted) else {
        let which = name.or(guid).unwrap_or_default();
        return Err(CmdError::new(
            "ObjectNotFound",
            format!("GPO with name or GUID {which} was not found in the {domain} domain."),
        ));
    };
    Ok(format!("{header}{}", gpo_element(g, domain, Some(&ns))?).into())
}

fn el(name: &str, text: &str) -> String {
    format!("<{name}>{}</{name}>", escape(text))
}

fn gpo_element(g: &Gpo, domain: &str, ns: Option<&str>) -> Result<String, CmdError> {
    let open = match ns {
        Some(ns) => format!("<GPO {ns}>"),
        None => "<GPO>".to_string(),
    };
    let mut out = open;
    out.push_str(&format!(
        "<Identifier><Identifier xmlns=\"{TYPES_NS}\">{{{}}}</Identifier><Domain xmlns=\"{TYPES_NS}\">{}</Domain></Identifier>",
        escape(&g.id.to_uppercase()),
        escape(&g.domain.to_lowercase())
    ));
    out.push_str(&el("Name", &g.name));
    out.push_str(
        "<IncludeComments>true</IncludeComments><FilterDataAvailable>true</FilterDataAvailable>",
    );
    out.push_str("<Computer><Enabled>true</Enabled>");
    let settings = registry_settings(g)?;
    if !settings.is_empty() {
        out.push_str(&format!(
            "<ExtensionData><Extension xmlns:q1=\"{REGISTRY_NS}\" xsi:type=\"q1:RegistrySettings\">{settings}</Extension><Name>Registry</Name></ExtensionData>"
        ));
    }
    out.push_str("</Computer><User><Enabled>true</Enabled></User>");
    for l in &g.links {
        let Some(path) = gpreport::dn_to_som_path(&l.target) else {
            continue;
        };
        let som_name = path
            .rsplit('/')
            .next()
            .filter(|_| path.contains('/'))
            .unwrap_or(domain);
        out.push_str(&format!(
            "<LinksTo>{}{}<Enabled>{}</Enabled><NoOverride>{}</NoOverride></LinksTo>",
            el("SOMName", som_name),
            el("SOMPath", &path),
            l.enabled,
            l.enforced
        ));
    }
    out.push_str("</GPO>");
    Ok(out)
}

/// The machine Registry.pol's set values, the client-deployment policies first (as enabled
/// template policies when all their values are there), the rest as extra registry settings.
fn registry_settings(g: &Gpo) -> Result<String, CmdError> {
    let pol = gp_pol::load(g, Half::Machine)?;
    let mut values: Vec<(String, String, RegValue)> = pol
        .records
        .iter()
        .filter(|r| matches!(r.action(), Action::Set(_)))
        .filter_map(|r| {
            Some((
                format!("HKLM\\{}", r.key),
                r.target_name()?.to_string(),
                r.value()?,
            ))
        })
        .collect();
    let mut out = String::new();
    // ConfigMgrInstallation.adm: enabled = NoDefAutoAssign 1 with SetupParameters.
    if let (Some(RegValue::DWord(1)), Some(RegValue::String(setup))) = (
        peek(&values, CCMSETUP_KEY, "NoDefAutoAssign"),
        peek(&values, CCMSETUP_KEY, "SetupParameters"),
    ) {
        out.push_str(&policy(
            gpreport::INSTALLATION_POLICY,
            CM_CATEGORY,
            &[edit_text(gpreport::INSTALLATION_PART, &setup)],
        ));
        take(&mut values, CCMSETUP_KEY, "NoDefAutoAssign");
        take(&mut values, CCMSETUP_KEY, "SetupParameters");
    }
    // ConfigMgrAssignment.adm: all three parts.
    let parts: Vec<Option<RegValue>> = ASSIGNMENT_PARTS
        .iter()
        .map(|(_, n)| peek(&values, ASSIGNMENT_KEY, n))
        .collect();
    if let [Some(RegValue::String(code)), Some(RegValue::DWord(i)), Some(RegValue::DWord(d))] =
        parts.as_slice()
    {
        out.push_str(&policy(
            gpreport::ASSIGNMENT_POLICY,
            CM_CATEGORY,
            &[
                edit_text(ASSIGNMENT_PARTS[0].0, code),
                numeric(ASSIGNMENT_PARTS[1].0, *i),
                numeric(ASSIGNMENT_PARTS[2].0, *d),
            ],
        ));
        for (_, n) in ASSIGNMENT_PARTS {
            take(&mut values, ASSIGNMENT_KEY, n);
        }
    }
    // WindowsUpdate.admx: both servers and AU\UseWUServer = 1.
    let servers: Vec<Option<RegValue>> = WSUS_PARTS
        .iter()
        .map(|(_, n)| peek(&values, WU_KEY, n))
        .collect();
    let use_wu = peek(&values, WU_AU_KEY, "UseWUServer");
    if let (
        [Some(RegValue::String(server)), Some(RegValue::String(status))],
        Some(RegValue::DWord(1)),
    ) = (servers.as_slice(), use_wu)
    {
        out.push_str(&policy(
            gpreport::WSUS_POLICY,
            "Windows Components/Windows Update",
            &[
                edit_text(WSUS_PARTS[0].0, server),
                edit_text(WSUS_PARTS[1].0, status),
            ],
        ));
        for (_, n) in WSUS_PARTS {
            take(&mut values, WU_KEY, n);
        }
        take(&mut values, WU_AU_KEY, "UseWUServer");
    }
    for (key, name, v) in values {
        let path = key.strip_prefix("HKLM\\").unwrap_or(&key);
        let data = match v {
            RegValue::String(s) | RegValue::ExpandString(s) => el("q1:String", &s),
            RegValue::DWord(n) => el("q1:Number", &n.to_string()),
            RegValue::QWord(n) => el("q1:Number", &n.to_string()),
            _ => String::new(),
        };
        out.push_str(&format!(
            "<q1:RegistrySetting>{}<q1:AdmSetting>false</q1:AdmSetting><q1:Value>{}{data}</q1:Value></q1:RegistrySetting>",
            el("q1:KeyPath", path),
            el("q1:Name", &name)
        ));
    }
    Ok(out)
}

fn peek(values: &[(String, String, RegValue)], key: &str, name: &str) -> Option<RegValue> {
    values
        .iter()
        .find(|(k, n, _)| k.eq_ignore_ascii_case(key) && n.eq_ignore_ascii_case(name))
        .map(|(_, _, v)| v.clone())
}

fn take(values: &mut Vec<(String, String, RegValue)>, key: &str, name: &str) {
    values.retain(|(k, n, _)| !(k.eq_ignore_ascii_case(key) && n.eq_ignore_ascii_case(name)));
}

fn policy(name: &str, category: &str, parts: &[String]) -> String {
    format!(
        "<q1:Policy>{}<q1:State>Enabled</q1:State>{}{}</q1:Policy>",
        el("q1:Name", name),
        el("q1:Category", category),
        parts.concat()
    )
}

fn edit_text(name: &str, value: &str) -> String {
    format!(
        "<q1:EditText>{}<q1:State>Enabled</q1:State>{}</q1:EditText>",
        el("q1:Name", name),
        el("q1:Value", value)
    )
}

fn numeric(name: &str, value: u32) -> String {
    format!(
        "<q1:Numeric>{}<q1:State>Enabled</q1:State><q1:Value>{value}</q1:Value></q1:Numeric>",
        el("q1:Name", name)
    )
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Map, Value};

    use super::super::model::{Domain, GpoLink, RegistrySetting};
    use super::*;
    use cmdeploy_providers::gpo::report::parse;

    fn setting(key: &str, name: &str, t: &str, v: Value) -> RegistrySetting {
        RegistrySetting {
            key: key.into(),
            value_name: name.into(),
            value_type: t.into(),
            value: v,
            state: "Set".into(),
        }
    }

    fn report(e: &Estate, args: Value) -> Result<String, CmdError> {
        let map: Map<String, Value> = serde_json::from_value(args).unwrap();
        let v = get_report(e, "contoso.com", &Args::new("Get-GPOReport", &map))?;
        Ok(v.as_str().unwrap().to_string())
    }

    #[test]
    fn the_report_reads_back_as_the_registry_pol_and_links() {
        let mut g = Gpo {
            id: "0a1b2c3d-0000-4000-8000-000000000001".into(),
            name: "Client <install>".into(),
            domain: "contoso.com".into(),
            links: vec![GpoLink {
                target: "OU=Workstations,OU=Corp,DC=contoso,DC=com".into(),
                enabled: true,
                enforced: false,
            }],
            ..Gpo::default()
        };
        g.values = vec![
            setting(
                CCMSETUP_KEY,
                "SetupParameters",
                "String",
                json!("SMSSITECODE=ABC"),
            ),
            setting(CCMSETUP_KEY, "NoDefAutoAssign", "DWord", json!(1)),
            setting(
                ASSIGNMENT_KEY,
                "GPRequestedSiteAssignmentCode",
                "String",
                json!("ABC"),
            ),
            setting(
                ASSIGNMENT_KEY,
                "GPSiteAssignmentRetryInterval(Min)",
                "DWord",
                json!(30),
            ),
            setting(
                ASSIGNMENT_KEY,
                "GPSiteAssignmentRetryDuration(Hour)",
                "DWord",
                json!(12),
            ),
            // Half of the WSUS policy: shown as an extra registry setting.
            setting(WU_KEY, "WUServer", "String", json!("http://sup:8530")),
            setting(r"HKLM\Software\Other", "X", "DWord", json!(7)),
        ];
        gp_pol::absorb_values(&mut g).unwrap();
        let e = Estate {
            domains: vec![Domain {
                name: "contoso.com".into(),
                ..Domain::default()
            }],
            gpos: vec![g],
            ..Estate::default()
        };
        let text = report(
            &e,
            json!({"All": true, "ReportType": "Xml", "Domain": "contoso.com"}),
        )
        .unwrap();
        assert!(text.contains("<report "), "{text}");
        assert!(
            text.contains("<q1:Name>Configure Configuration Manager Site Assignment</q1:Name>"),
            "{text}"
        );
        let gpos = parse(&text).unwrap();
        assert_eq!(gpos.len(), 1);
        let r = &gpos[0];
        assert_eq!(
            (r.id.as_str(), r.name.as_str()),
            ("0a1b2c3d-0000-4000-8000-000000000001", "Client <install>")
        );
        assert_eq!(r.links[0].som_path, "contoso.com/Corp/Workstations");
        let got: Vec<(String, Value)> = r
            .values
            .iter()
            .map(|v| (v.name.clone(), v.value["value"].clone()))
            .collect();
        assert_eq!(
            got,
            [
                ("NoDefAutoAssign".to_string(), json!(1)),
                ("SetupParameters".into(), json!("SMSSITECODE=ABC")),
                ("GPRequestedSiteAssignmentCode".into(), json!("ABC")),
                ("GPSiteAssignmentRetryInterval(Min)".into(), json!(30)),
                ("GPSiteAssignmentRetryDuration(Hour)".into(), json!(12)),
                ("WUServer".into(), json!("http://sup:8530")),
            ]
        );
        let one = report(&e, json!({"Name": "client <INSTALL>", "ReportType": "Xml"})).unwrap();
        assert_eq!(parse(&one).unwrap(), gpos);
        let err = report(&e, json!({"All": true, "ReportType": "Html"})).unwrap_err();
        assert_eq!(err.category, "InvalidArgument");
        let err = report(&e, json!({"Name": "nope", "ReportType": "Xml"})).unwrap_err();
        assert_eq!(err.category, "ObjectNotFound");
    }
}
